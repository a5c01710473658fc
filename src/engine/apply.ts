// Applying, in order: each step is checked again against its latest probe (earlier steps have
// happened by now, so nothing is pending any more) and applied if it still has changes, its undo
// record journalled first. A step whose probe an applied step may have outdated is probed again,
// with every other such step, in one round trip. Then the handlers that were notified, then the
// steps that wait for them (verify).

import { ANYTHING, type Change, type Step } from '../steps/step.ts'
import type { Session, StepRun } from './session.ts'

/** Applies the steps, the notified handlers, then the steps that come after handlers. */
export async function applyAll(s: Session): Promise<void> {
  const last = s.runs.filter((r) => r.step.afterHandlers)
  const notified = await applyInOrder(
    s,
    s.runs.filter((r) => !r.step.afterHandlers),
  )
  await runHandlers(s, notified)
  await applyInOrder(s, last)
  s.outcome.status = s.applied.length ? 'changed' : 'ok'
}

/** Returns the handlers the applied steps notified. */
async function applyInOrder(s: Session, order: StepRun[]): Promise<Set<string>> {
  const notified = new Set<string>()
  for (const [at, r] of order.entries()) {
    s.stopIfAsked()
    if (r.stale) {
      const again = order.slice(at).filter((o) => o.stale)
      const probes = await s.probe(again.map((o) => o.step))
      again.forEach((o, k) => {
        o.probe = probes[k]!
        o.stale = false
      })
    }
    const changes = s.check(r.step, r.probe)
    if (!changes.length && r.step.holdAfterChange && s.applied.length)
      changes.push({ summary: `make sure ${r.step.name} holds` })
    if (!changes.length) {
      s.report(r, 'ok', [])
      continue
    }
    await applyStep(s, r, changes)
    r.step.notify.forEach((n) => notified.add(n))
  }
  return notified
}

/** The notified handlers, in the runbook's order, each checked first: a reload of a stopped daemon has nothing to do. */
async function runHandlers(s: Session, notified: Set<string>): Promise<void> {
  const handlers = Object.entries(s.run.handlers)
    .filter(([name]) => notified.has(name))
    .map(([, h]) => h)
  if (!handlers.length) return
  const probes = await s.probe(handlers)
  for (const [k, handler] of handlers.entries()) {
    s.stopIfAsked()
    const changes = s.check(handler, probes[k]!)
    if (!changes.length) continue
    const index = s.runs.length
    const r: StepRun = {
      step: handler,
      outcome: { index, name: `${handler.name} (handler)`, kind: handler.kind, status: 'skipped', changes: [] },
      probe: probes[k]!,
      changes,
      stale: false,
      armed: false,
    }
    s.runs.push(r)
    s.outcome.steps.push(r.outcome)
    await applyStep(s, r, changes)
  }
}

async function applyStep(s: Session, r: StepRun, changes: Change[]): Promise<void> {
  const { step, outcome } = r
  // A risky step's record was taken when the revert job was armed: the job restores from it.
  if (!r.armed) r.record = step.record(r.probe, s.checkContext())
  s.run.events?.recordUndo?.(outcome.index, step, r.record)
  s.applied.push(r)
  try {
    await step.apply(s.context(), changes, r.record)
  } catch (err) {
    s.report(r, 'failed', changes, (err as Error).message)
    throw new Error(`${step.name}: ${(err as Error).message}`)
  }
  s.report(r, 'changed', changes)
  for (const later of s.runs) {
    if (later !== r && later.outcome.status === 'skipped' && affects(step, later.step)) later.stale = true
  }
}

/** Whether applying `a` can change what `b`'s probe saw. */
export function affects(a: Step, b: Step): boolean {
  if (a.touches.includes(ANYTHING)) return true
  if (b.reads.includes(ANYTHING)) return a.touches.length > 0
  return a.touches.some((t) => b.reads.includes(t))
}
