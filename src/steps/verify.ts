// A condition the run must end up meeting: OSPF neighbours Full, a route present, a port open.
// It is probed with everything else, so when it already holds it costs nothing; otherwise apply
// polls until it holds or the timeout passes, and then says what is still missing.

import { setTimeout as sleep } from 'node:timers/promises'
import { ANYTHING, StepError, type ProbeResult, type Step } from './step.ts'

export interface VerifyOptions {
  /** A read-only shell command; it passes when it exits 0 and `expect` (if given) accepts its stdout. */
  command: string
  /** Returns true when satisfied, or a sentence saying what is missing. */
  expect?: (stdout: string) => true | string
  /** Seconds to wait for the condition (a `hold` comes on top). Default 30. */
  timeout?: number
  /** Seconds between polls. Default 1. */
  interval?: number
  /**
   * Seconds the condition must keep holding, after a run changed something on the host, before it
   * counts. An OSPF neighbour stays Full for a dead interval after a bad key stops its hellos, so
   * "Full right after the reload" proves nothing; "Full for longer than the dead interval" does.
   */
  hold?: number
  /**
   * What must be seen to change while the condition holds, for a condition one look cannot prove
   * (packet counters that must grow): `first` is the first output of this apply's polls that
   * `expect` accepted, `now` the latest; it returns true once `now` shows the change, or a sentence
   * saying what did not move. Only apply's polls use it: a plan, a drift check and the health check
   * see one output, and judge `expect` alone. Like `hold`, it makes a run that changed anything on
   * the host apply this step, so the change is watched after every such run.
   */
  moving?: (first: string, now: string) => true | string
}

export function verify(name: string, opts: VerifyOptions): Step<Record<string, never>> {
  // `expect` sees stdout alone, as the batched probe gives it (a warning on stderr must not break
  // a JSON parse while polling); stderr only explains a failure.
  const verdict = (probe: ProbeResult, stderr = ''): true | string => {
    const said = `${probe.stdout}\n${stderr}`.trim()
    if (probe.code !== 0)
      return `\`${opts.command}\` exited ${probe.code}${said ? `: ${said.split('\n').slice(-3).join(' / ')}` : ''}`
    return opts.expect ? opts.expect(probe.stdout) : true
  }
  return {
    kind: 'verify',
    name,
    notify: [],
    touches: [],
    // Whatever changed before it may be what it waits for.
    reads: [ANYTHING],
    probe: () => opts.command,
    check(probe) {
      const v = verdict(probe)
      return v === true ? [] : [{ summary: `wait until ${name} (now: ${v})` }]
    },
    holdAfterChange: opts.hold !== undefined || opts.moving !== undefined,
    afterHandlers: true,
    healthCheck: true,
    waits: (opts.timeout ?? 30) + (opts.hold ?? 0),
    record: () => ({}),
    async apply({ $ }) {
      const timeout = (opts.timeout ?? 30) + (opts.hold ?? 0)
      const deadline = Date.now() + timeout * 1000
      const hold = (opts.hold ?? 0) * 1000
      let since: number | undefined
      let last: true | string = 'not yet checked'
      let first: string | undefined
      for (;;) {
        const out = await $`sh -c ${opts.command}`.nothrow()
        last = verdict({ stdout: out.stdout, code: out.exitCode ?? 1 }, out.stderr)
        // The first accepted poll is judged against itself: nothing has moved yet.
        if (last === true && opts.moving) last = opts.moving((first ??= out.stdout), out.stdout)
        since = last === true ? (since ?? Date.now()) : undefined
        if (since !== undefined && Date.now() - since >= hold) return
        // Give up now if the next poll would come after the deadline anyway.
        const interval = (opts.interval ?? 1) * 1000
        if (Date.now() + interval > deadline) {
          // The engine names the step.
          throw new StepError(
            `not satisfied after ${timeout} s: ${last === true ? `it held for ${((Date.now() - since!) / 1000).toFixed(1)} s of the ${opts.hold} s asked` : last}`,
          )
        }
        await sleep(interval)
      }
    },
    async undo() {},
  }
}
