// Planning: every step's check against the batched probe, in order. Each step sees what the
// earlier ones will change (`pending`), so a bare host shows its whole plan: a service whose
// package is only about to be installed, say. A dry run stops here, with the commands each
// built-in step would send.

import { recordingShell } from '../shell/recording.ts'
import type { Change } from '../steps/step.ts'
import type { Session, StepRun } from './session.ts'

/** Checks every step against its probe, in order. */
export function plan(s: Session): void {
  const pending = new Set<string>()
  for (const r of s.runs) {
    r.pending = new Set(pending)
    r.changes = s.check(r.step, r.probe, pending)
    if (r.changes.length) r.step.touches.forEach((t) => pending.add(t))
  }
}

/** A dry run's outcome: each step's changes, and the commands it would send. */
export async function dryRun(s: Session): Promise<void> {
  for (const r of s.runs) {
    const { changes } = r
    if (changes.length) r.outcome.commands = await preview(s, r, changes)
    s.report(r, changes.length ? 'changed' : 'ok', changes)
  }
  s.outcome.status = s.runs.some((r) => r.changes.length) ? 'changed' : 'ok'
}

/**
 * What a step's apply would send, run against a shell that only records. A file's diff already
 * says more than its write script; `command` and `verify` run the runbook's own code, which
 * may do anything, so for them the plan's summary has to do.
 */
async function preview(s: Session, r: StepRun, changes: Change[]): Promise<string[] | undefined> {
  if (!r.step.previewCommands) return undefined
  const sent: string[] = []
  const snippet = r.step.probe(s.platform)
  const $ = recordingShell(
    (cmd) => (cmd === snippet ? r.probe : { stdout: '', code: 0 }),
    (cmd) => void (cmd !== snippet && sent.push(cmd)),
  )
  try {
    await r.step.apply({ ...s.context(false), $ }, changes, r.step.record(r.probe, s.checkContext()))
  } catch {
    // The real host's answers would have steered it; what was sent so far is still the plan.
  }
  return sent
}
