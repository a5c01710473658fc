// Golden plans: a whole runbook run by the real engine against a simulated host. The host is a
// function from each step's probe to the facts it would print (a bare FreeBSD box, say), and every
// command the engine sends is recorded, so a test compares the full plan, in order, with no host.
import { HostRunner } from '../../src/engine/host.ts'
import type { HostOutcome } from '../../src/engine/outcome.ts'
import { buildSteps } from '../../src/engine/build.ts'
import { loadRunbook } from '../../src/engine/load.ts'
import { platformFor } from '../../src/platform/platform.ts'
import { recordingShell } from '../../src/shell/recording.ts'
import type { Inventory } from '../../src/inventory/types.ts'
import type { ProbeResult, Step } from '../../src/steps/step.ts'
import { ROOT } from '../fixtures/seeds/inventories.ts'
import type { Fixture } from './harness.ts'

/**
 * What the simulated host answers to a step's probe, given the steps that have changed something
 * so far and the files written. Steps with the same probe (a service and its reload handler) get
 * the first one's facts.
 */
export type Facts = (step: Step, changed: readonly Step[], files: Readonly<Record<string, string>>) => Fixture

export interface Plan {
  outcome: HostOutcome
  /** Every command sent after the probes, each line of a multi-line script on its own. */
  commands: string[]
  /** Files written, by path, with the content sent on stdin. */
  files: Record<string, string>
}

/** `sh -c WORD` → the script: WORD's POSIX quoting (`'…'`, and `\\'` between quoted runs) undone. */
const unwrap = (cmd: string) =>
  cmd.startsWith("sh -c '") ? cmd.slice(6).replace(/'([^']*)'|\\(.)/g, (_, quoted, escaped) => quoted ?? escaped) : cmd

const asProbe = (f: Fixture): ProbeResult => (typeof f === 'string' ? { stdout: f, code: 0 } : f)

/** Runs `runbook` for one inventory host, every probe answered by `facts`. */
export async function runPlan(
  runbookName: string,
  inventory: Inventory,
  hostName: string,
  facts: Facts,
): Promise<Plan> {
  const { runbook } = await loadRunbook(runbookName, ROOT)
  const host = inventory.hosts.find((h) => h.name === hostName)!
  const [plan] = await buildSteps(runbook, inventory, [host], {})
  const platform = platformFor(host.os!)
  const bySnippet = new Map<string, Step>()
  for (const s of [...plan!.steps, ...Object.values(plan!.handlers)])
    if (!bySnippet.has(s.probe(platform))) bySnippet.set(s.probe(platform), s)
  const changed: Step[] = []

  const commands: string[] = []
  const files: Record<string, string> = {}
  // The probe script (see src/engine/probe.ts): each snippet between its begin and end markers.
  const answer = (cmd: string, input: string): ProbeResult => {
    // A step may look again just before it changes something (probeNow): the same facts.
    const again = bySnippet.get(unwrap(cmd))
    if (again) return asProbe(facts(again, changed, files))
    if (cmd !== 'sh -s') return { stdout: '', code: 0 }
    const token = /'(ferry-probe-[0-9a-f]+):begin:0'/.exec(input)![1]!
    const parts = input.split(`printf '%s\\n' '${token}:begin:`).slice(1)
    const out = parts.map((part, i) => {
      const snippet = part.slice(part.indexOf('\n( ') + 3, part.indexOf('\n) </dev/null'))
      const step = bySnippet.get(snippet)
      if (!step) throw new Error(`no step has this probe:\n${snippet}`)
      const r = asProbe(facts(step, changed, files))
      return `${token}:begin:${i}\n${r.stdout}\n${token}:end:${i}:${r.code}\n`
    })
    return { stdout: out.join(''), code: 0 }
  }
  const $ = recordingShell(answer, (cmd, input) => {
    if (cmd === 'sh -s') return
    // A file step's write (replaceFile, its content on stdin) is one line of the plan, with its
    // mode and validator; the content goes to files.
    const script = unwrap(cmd)
    const written = /^f=(\S+); \( umask 077;.*\{ cat; \} > "\.\/\$n"/.exec(script)
    // A directory step's (makeDir), likewise one line, with its mode.
    const made = /^f=(\S+); \( umask 077;.*mkdir "\.\/\$n" && .*chmod (\d+) "\.\/\$n" && mv "\.\/\$n" \.\./.exec(script)
    if (written) {
      files[written[1]!] = input
      const check = /if ! out=\$\((.*) 2>&1\); then/.exec(script)?.[1]?.replaceAll('"./$n"', '%s')
      commands.push(`write ${written[1]} ${/chmod (\d+) "\.\/\$n"/.exec(script)![1]}${check ? ` after ${check}` : ''}`)
    } else if (made) {
      commands.push(`make directory ${made[1]} ${made[2]}`)
    } else if (!bySnippet.has(unwrap(cmd)))
      commands.push(
        ...unwrap(cmd)
          .split('\n')
          .filter((l) => l !== 'set -e'),
      )
  })
  // A verify's hold is waited out in real time; here the facts are already converged and steady.
  const steps = plan!.steps.map((s) => (s.holdAfterChange ? { ...s, holdAfterChange: false } : s))
  const all = [...steps, ...Object.values(plan!.handlers)]
  const events = {
    step: (o: { name: string; status: string }) =>
      void (o.status === 'changed' && changed.push(all.find((s) => s.name === o.name.replace(/ \(handler\)$/, ''))!)),
  }
  const runner = new HostRunner({
    host,
    $,
    probe$: $,
    steps,
    handlers: plan!.handlers,
    dryRun: false,
    rollbackOnFailure: false,
    events,
  })
  const outcome = await runner.execute()
  return { outcome, commands, files }
}

/** Package names out of a pkg probe (`for p in a 'b c'; do`; names have no spaces), for a host that has none of them. */
export const packagesIn = (snippet: string) =>
  (/^for p in (.*); do$/m.exec(snippet)?.[1] ?? '').split(' ').map((n) => n.replace(/^'(.*)'$/, '$1'))
