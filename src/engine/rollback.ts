// The one rollback: undo records run newest first, every one tried even after one fails, then
// the handlers the undone steps had notified run again where a reload is what undoes them. A
// run's own rollback (a failed host, `--rollback all`, a revert the controller saw) and
// `ferry rollback RUN` (a finished run, or one whose controller died) both go through `undo`.

import type { Shell } from 'zx/core'
import type { Host } from '../inventory/types.ts'
import { platformFor, osFromKernel, type Platform } from '../platform/platform.ts'
import { StepError, type Step, type StepContext } from '../steps/step.ts'
import type { Transport } from '../transport/transport.ts'
import { lockScript, ownerOf, unlockScript, whenLocked } from './lock.ts'
import { clearScript, settle } from './revert-job.ts'
import { probeSteps, type Session } from './session.ts'

/** An applied step, as its undo needs it. */
export interface Undoable {
  index: number
  step: Step
  record: unknown
}

/**
 * Undoes `entries` (newest first) and repeats the reloads they had notified. Returns the errors;
 * `undone` hears of each entry put back.
 */
export async function undo(
  ctx: StepContext,
  probe$: Shell,
  handlers: Record<string, Step>,
  entries: Undoable[],
  undone: (e: Undoable) => void,
): Promise<string[]> {
  const errors: string[] = []
  const notified = new Set<string>()
  for (const e of entries) {
    try {
      await e.step.undo(ctx, e.record)
      e.step.notify.forEach((n) => notified.add(n))
      undone(e)
    } catch (err) {
      errors.push(`${e.step.name}: ${(err as Error).message}`)
    }
  }
  errors.push(...(await rerunHandlers(ctx, probe$, handlers, notified)))
  return errors
}

/** A host's run undone: everything it applied, newest first. Returns false if any undo failed. */
export async function rollback(s: Session): Promise<boolean> {
  const entries = [...s.applied].reverse().map((r) => ({ index: r.outcome.index, step: r.step, record: r.record }))
  s.applied.length = 0
  const errors = await undo(s.context(false), s.probe$, s.run.handlers, entries, ({ index }) => {
    const r = s.runs[index]!
    s.run.events?.undone?.(index)
    s.report(r, 'rolled-back', r.outcome.changes, r.outcome.error)
  })
  if (errors.length) {
    s.outcome.rollbackError = errors.join('; ')
    return false
  }
  s.outcome.status = 'rolled-back'
  return true
}

/**
 * After a rollback, the `repeatOnRollback` handlers its undone steps had notified run again, so a
 * daemon rereads the file that was just put back (a reload cannot be undone, only repeated); the
 * others were undone like any step. Each still checks first: a reload of a daemon that is no
 * longer running has nothing to do. Returns the errors.
 */
export async function rerunHandlers(
  ctx: StepContext,
  probe$: Shell,
  handlers: Record<string, Step>,
  notified: ReadonlySet<string>,
): Promise<string[]> {
  const due = Object.entries(handlers)
    .filter(([name, h]) => notified.has(name) && h.repeatOnRollback)
    .map(([, h]) => h)
  if (!due.length) return []
  const errors: string[] = []
  try {
    const probes = await probeSteps(due, { ...ctx, $: probe$ })
    for (const [i, handler] of due.entries()) {
      try {
        const check = { host: ctx.host, platform: ctx.platform, pending: new Set<string>() }
        const changes = handler.check(probes[i]!, check)
        if (changes.length) await handler.apply(ctx, changes, handler.record(probes[i]!, check))
      } catch (err) {
        errors.push(`${handler.name} (handler, after rollback): ${(err as Error).message}`)
      }
    }
  } catch (err) {
    errors.push(`handlers after rollback: ${(err as Error).message}`)
  }
  return errors
}

/** A finished run's undo records on one host, as the journal keeps them (newest first). */
export interface RecordedRun {
  host: Host
  transport: Transport
  runId: string
  /** The host lock is taken as the run itself, whose killed controller may have left it. */
  lock: { wait: number; breakIt: boolean }
  steps: Step[]
  handlers: Record<string, Step>
  entries: { index: number; step: string; record: unknown }[]
  connect(host: Host): Promise<Transport>
  progress(line: string): void
  undone(e: Undoable): void
}

/** `ferry rollback RUN` on one host: under its lock, the revert job disarmed first. Throws if an undo failed. */
export async function rollbackRecorded(r: RecordedRun): Promise<void> {
  const { host, transport: t, runId } = r
  try {
    const gate = lockScript(ownerOf(runId), r.lock.breakIt)
    await whenLocked(
      host.name,
      r.lock.wait,
      async () => {
        const out = await t.$`sh -c ${gate}`.nothrow()
        return { refused: out.exitCode !== 0, said: out.stdout }
      },
      r.progress,
    )
    // A run whose controller died may have left its revert job armed: it must not fire in the
    // middle of this undo, which puts back everything, risky steps included. (No job, or one that
    // already fired: the undo goes ahead all the same.)
    await settle(t.$, runId, 'confirm').catch(() => {})
    // The runbook must describe the same steps as when it ran: checked before anything is undone.
    const entries = r.entries.map((e) => ({ index: e.index, record: e.record, step: stepFor(e, r.steps, r.handlers) }))
    const ctx = { host, platform: await detectPlatform(host, t.probe$), $: t.$, connect: r.connect, progress: () => {} }
    const errors = await undo(ctx, t.probe$, r.handlers, entries, r.undone)
    if (errors.length) throw new Error(errors.join('; '))
  } finally {
    // The host lock a dead controller left is this run's, and goes with its undo; so does its job's directory.
    await t.$`sh -c ${`${clearScript(runId)}\n${unlockScript(runId)}`}`.nothrow()
  }
}

/** The step an undo record belongs to, checked by name: the runbook must not have changed since. */
function stepFor(entry: { index: number; step: string }, steps: Step[], handlers: Record<string, Step>): Step {
  // Handlers are numbered after the steps, in the order they ran.
  const step =
    entry.index < steps.length ? steps[entry.index] : Object.values(handlers).find((h) => h.name === entry.step)
  if (step?.name !== entry.step) {
    throw new Error(
      `the runbook has changed since the run: step ${entry.index} was "${entry.step}", now "${step?.name ?? 'missing'}"`,
    )
  }
  return step
}

/** The inventory's `os:` saves a round trip; without it, ask the host. */
export async function detectPlatform(host: Host, $: Shell): Promise<Platform> {
  if (host.os) return platformFor(host.os)
  const kernel = (await $`uname -s`).stdout
  const os = osFromKernel(kernel)
  if (!os) throw new StepError(`unsupported OS "${kernel.trim()}" (ferry knows FreeBSD, OpenBSD and Linux)`)
  return platformFor(os)
}
