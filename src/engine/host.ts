// One host's run, phase by phase: lock the host and probe every step at once; plan (plan.ts);
// a dry run stops there. Otherwise apply in order, with the handlers (apply.ts), under
// commit-confirmed when a change is risky (confirm.ts); on failure, roll back (rollback.ts);
// then let go of the lock. Every undo record reaches the journal before its change does.
// Nothing here knows which OS it is on, or what any step does.

import { platformFor, osFromKernel, platforms } from '../platform/platform.ts'
import { StepError, type ProbeResult } from '../steps/step.ts'
import { applyAll } from './apply.ts'
import { applyConfirmed } from './confirm.ts'
import { lockScript, ownerOf, unlockScript, whenLocked } from './lock.ts'
import type { HostOutcome } from './outcome.ts'
import { dryRun, plan } from './plan.ts'
import { probeGated, type Snippets } from './probe.ts'
import { clearScript } from './revert-job.ts'
import { rollback } from './rollback.ts'
import { Session, applyGuards, type HostRun } from './session.ts'

export class HostRunner {
  private readonly s: Session
  /** Whether this run holds the host lock, so release() must let go of it. */
  private locked = false

  constructor(run: HostRun) {
    this.s = new Session(run)
  }

  get outcome(): HostOutcome {
    return this.s.outcome
  }

  /** Whether the host has applied steps to undo (`--rollback all`, after other hosts failed). */
  hasApplied(): boolean {
    return this.s.applied.length > 0
  }

  async execute(): Promise<HostOutcome> {
    const { s } = this
    try {
      await this.firstProbe()
      plan(s)
      if (s.run.dryRun) {
        await dryRun(s)
        return s.outcome
      }
      // A change that notifies a risky handler (an sshd restart, say) is as risky as the handler.
      const { handlers, confirm } = s.run
      const risky = s.runs.filter(
        (r) => r.changes.length && (r.step.risky || r.step.notify.some((n) => handlers[n]?.risky)),
      )
      if (risky.length && confirm) await applyConfirmed(s, risky, () => applyAll(s))
      else await applyAll(s)
    } catch (err) {
      await this.fail(err as Error)
    }
    return s.outcome
  }

  /** Undoes every applied step of this host, newest first. Returns false if any undo failed. */
  rollback(): Promise<boolean> {
    return rollback(this.s)
  }

  /**
   * Lets go of the host lock; the last thing a run does on the host, after any rollback. The
   * housekeeping of the changes that stay (`kept`: old backups pruned) and the revert job's
   * directory go in the same command.
   */
  async release(): Promise<void> {
    const { s } = this
    const kept = s.applied.flatMap((r) => r.step.kept?.(r.record) ?? [])
    const lines = [
      ...kept.map((c) => `( ${c}\n) >/dev/null 2>&1`),
      ...(s.jobArmed ? [clearScript(s.run.runId!)] : []),
      ...(this.locked ? [unlockScript(s.run.runId!)] : []),
    ]
    this.locked = false
    if (lines.length) await s.$`sh -c ${lines.join('\n')}`.nothrow()
  }

  private async fail(err: Error): Promise<void> {
    const { s } = this
    s.outcome.status = 'failed'
    s.outcome.error = err.message
    if (s.run.rollbackOnFailure && (s.applied.length || s.jobReverted)) await rollback(s)
  }

  /**
   * Every step's probe in one round trip, behind the host lock when the run takes one (a held
   * lock is waited for with `--lock-wait`, or refused). A host whose OS the inventory does not
   * give gets the probes of every OS ferry knows, and its own `uname -s` picks: no round trip of
   * its own for that either.
   */
  private async firstProbe(): Promise<void> {
    const { s } = this
    const { lock, runId, host, events, dryRun: dry, steps } = s.run
    const gate = lock && !dry ? lockScript(ownerOf(runId!), lock.breakIt) : undefined
    // A step may have nothing to say on some OS (it throws there); that matters only on that OS.
    const unfit = new Map<string, Error>()
    let snippets: Snippets
    if (host.os) {
      s.platform = platformFor(host.os)
      snippets = steps.map((step) => step.probe(s.platform))
    } else {
      const perKernel: Record<string, string[]> = {}
      for (const p of platforms) {
        try {
          perKernel[p.kernel] = steps.map((step) => step.probe(p))
        } catch (err) {
          unfit.set(p.kernel, err as Error)
        }
      }
      snippets = perKernel
    }
    // Held or not, release() is then due: it removes the lock only if this run holds it, and a
    // probe that failed after the gate passed must not leave it behind.
    this.locked = gate !== undefined
    const probe = () => probeGated(gate === undefined ? s.probe$ : s.$, snippets, gate)
    const r =
      gate === undefined
        ? await probe()
        : await whenLocked(host.name, lock!.wait, probe, (line) => events?.progress?.(line))
    if (!host.os) {
      const os = osFromKernel(r.kernel!)
      if (!os)
        throw new StepError(
          `unsupported OS "${r.kernel}" (ferry knows FreeBSD, OpenBSD and Linux); or give the host's os: in the inventory`,
        )
      const err = unfit.get(r.kernel!)
      if (err) throw err
      s.platform = platformFor(os)
    }
    const probes: ProbeResult[] = await applyGuards(steps, r.results!, { ...s.context(false), $: s.probe$ })
    probes.forEach((p, i) => (s.runs[i]!.probe = p))
  }
}
