// One host's run: lock the host and probe everything at once, plan, apply in order (probing
// again only what an applied step may have changed), run the handlers that were notified, then
// the steps that wait for them (verify). Risky changes apply under commit-confirmed: a revert job
// armed on the host first (confirm.ts), disarmed only over a new connection.
// Every undo record reaches the journal before its change does; on failure the applied steps are
// undone in reverse. Nothing here knows which OS it is on, or what any step does.

import { setTimeout as sleep } from 'node:timers/promises'
import type { Shell } from 'zx/core'
import type { Host } from '../inventory/types.ts'
import { platformFor, osFromKernel, platforms, type Platform } from '../platform/platform.ts'
import { ANYTHING, StepError, type Change, type CheckContext, type ProbeResult, type Step, type StepContext } from '../steps/step.ts'
import { probeAll, probeGated, type Snippets } from './probe.ts'
import { recordingShell } from '../shell/recording.ts'
import type { Transport } from '../transport/transport.ts'
import { arm, clearScript, parseSettled, revertScript, settle, settleScript, type RevertStep, type Settled } from './revert-job.ts'
import { lockScript, ownerOf, unlockScript, whenLocked } from './lock.ts'

export type HostStatus = 'ok' | 'changed' | 'failed' | 'rolled-back' | 'unreachable' | 'reverted'
export type StepStatus = 'ok' | 'changed' | 'failed' | 'rolled-back' | 'skipped'

export interface StepOutcome {
  index: number
  name: string
  kind: string
  status: StepStatus
  changes: Change[]
  /** In a dry run, the commands the step would send (built-in step types only). */
  commands?: string[]
  error?: string
}

export interface HostOutcome {
  name: string
  status: HostStatus
  steps: StepOutcome[]
  error?: string
  /** Set when an undo failed: the host is in neither its old nor its new state. */
  rollbackError?: string
  /** Its risky changes were confirmed over a new connection, and the revert job disarmed. */
  confirmed?: boolean
}

/** What the engine tells the journal and the UI as it goes. */
export interface HostEvents {
  step?(outcome: StepOutcome): void
  /** Called before the change is made; it must be durable when it returns. */
  recordUndo?(index: number, step: Step, record: unknown): void
  undone?(index: number): void
  /** A step's progress line, for the UI. */
  progress?(line: string): void
}

export interface HostRun {
  host: Host
  /** zx $ on the host. */
  $: Shell
  /** The host's $ for read-only probes (and guards): what a dry run is limited to. */
  probe$: Shell
  steps: Step[]
  handlers: Record<string, Step>
  dryRun: boolean
  /** Checked between steps: an interrupted run stops applying and rolls back. */
  signal?: AbortSignal
  /** Undo this host's applied steps if it fails (the `--rollback host|all` policies). */
  rollbackOnFailure: boolean
  events?: HostEvents
  /** Connects to other hosts, for steps that work on two; without it, such steps fail. */
  connect?(host: Host): Promise<Transport>
  /** Names the lock's holder and the revert job. */
  runId?: string
  /** Hold the host lock for the run (real runs): wait up to `wait` seconds for it, or break it. */
  lock?: { wait: number; breakIt: boolean }
  /** Commit-confirmed for risky changes; without it they apply like any other. */
  confirm?: Confirm
}

export interface Confirm {
  /** Seconds from arming until the host reverts by itself. */
  timeout: number
  /** Drops this host's connection and opens a new one: what proves the host is still reachable. */
  reconnect(): Promise<Transport>
}

/** What a host applied, kept so that `--rollback all` can undo it after other hosts failed. */
export interface Applied {
  index: number
  step: Step
  record: unknown
}

export class HostRunner {
  readonly outcome: HostOutcome
  readonly applied: Applied[] = []
  private platform!: Platform
  private readonly outcomes: StepOutcome[]
  /** Steps whose probe an applied step may have outdated. */
  private readonly stale = new Set<number>()
  /** The host's shells: a reconnect (commit-confirmed) replaces them. */
  private $: Shell
  private probe$: Shell
  private locked = false
  /** A revert job was armed: its directory on the host goes with the lock. */
  private armed = false
  /** The revert job put the risky steps back (after a failure the controller saw). */
  private jobReverted = false
  /** Records taken when the revert job was armed, which apply must use: the job restores from them. */
  private readonly armedRecords = new Map<number, unknown>()
  /** Risky handlers whose revert commands the job runs: once it has, they are not undone again. */
  private readonly armedHandlers = new Set<Step>()
  /** Stops an apply that ran past the revert job's timeout: its commands, and the steps after. */
  private readonly cutOff = new AbortController()

  /** What stops the apply: an interrupt of the run, or the cut-off. */
  private get signal(): AbortSignal | undefined {
    return this.run.signal ? AbortSignal.any([this.run.signal, this.cutOff.signal]) : this.cutOff.signal
  }

  constructor(private readonly run: HostRun) {
    this.outcomes = run.steps.map((s, index) => ({ index, name: s.name, kind: s.kind, status: 'skipped', changes: [] }))
    this.outcome = { name: run.host.name, status: 'ok', steps: this.outcomes }
    this.$ = run.$
    this.probe$ = run.probe$
  }

  async execute(): Promise<HostOutcome> {
    const { steps, dryRun } = this.run
    try {
      const probes = await this.firstProbe(steps)
      // Steps plan in order, each seeing what the earlier ones will change, so a bare host shows
      // its whole plan (a service whose package is only about to be installed, say).
      const pending = new Set<string>()
      const plans = steps.map((step, i) => {
        const changes = this.check(step, probes[i]!, pending)
        if (changes.length) step.touches.forEach((r) => pending.add(r))
        return changes
      })
      if (dryRun) {
        for (const [i, changes] of plans.entries()) {
          if (changes.length) this.outcomes[i]!.commands = await this.preview(steps[i]!, probes[i]!, changes)
          this.report(i, changes.length ? 'changed' : 'ok', changes)
        }
        this.outcome.status = plans.some((c) => c.length) ? 'changed' : 'ok'
        return this.outcome
      }
      // A change that notifies a risky handler (an sshd restart, say) is as risky as the handler.
      const { handlers } = this.run
      const risky = [...steps.keys()].filter((i) => plans[i]!.length && (steps[i]!.risky || steps[i]!.notify.some((n) => handlers[n]?.risky)))
      const apply = async () => {
        const order = [...steps.keys()].filter((i) => !steps[i]!.afterHandlers)
        const last = [...steps.keys()].filter((i) => steps[i]!.afterHandlers)
        const notified = await this.applyInOrder(order, probes)
        await this.runHandlers(notified)
        await this.applyInOrder(last, probes)
        this.outcome.status = this.applied.length ? 'changed' : 'ok'
      }
      if (risky.length && this.run.confirm) await this.applyConfirmed(risky, probes, apply)
      else await apply()
    } catch (err) {
      await this.fail(err as Error)
    }
    return this.outcome
  }

  /**
   * Lets go of the host lock; the last thing a run does on the host, after any rollback. The
   * housekeeping of the changes that stay (`kept`: old backups pruned) goes in the same command.
   */
  async release(): Promise<void> {
    const kept = this.applied.flatMap(({ step, record }) => step.kept?.(record) ?? [])
    const lines = [
      ...kept.map((c) => `( ${c}\n) >/dev/null 2>&1`),
      ...(this.armed ? [clearScript(this.run.runId!)] : []),
      ...(this.locked ? [unlockScript(this.run.runId!)] : []),
    ]
    this.locked = false
    if (lines.length) await this.$`sh -c ${lines.join('\n')}`.nothrow()
  }

  /**
   * Every step's probe in one round trip, behind the host lock when the run takes one (a held
   * lock is waited for with `--lock-wait`, or refused). A host whose OS the inventory does not
   * give gets the probes of every OS ferry knows, and its own `uname -s` picks: no round trip of
   * its own for that either.
   */
  private async firstProbe(steps: Step[]): Promise<ProbeResult[]> {
    const { lock, runId, host, events, dryRun } = this.run
    const gate = lock && !dryRun ? lockScript(ownerOf(runId!), lock.breakIt) : undefined
    // A step may have nothing to say on some OS (it throws there); that matters only on that OS.
    const unfit = new Map<string, Error>()
    let snippets: Snippets
    if (host.os) {
      this.platform = platformFor(host.os)
      snippets = steps.map((s) => s.probe(this.platform))
    } else {
      const perKernel: Record<string, string[]> = {}
      for (const p of platforms) {
        try {
          perKernel[p.kernel] = steps.map((s) => s.probe(p))
        } catch (err) {
          unfit.set(p.kernel, err as Error)
        }
      }
      snippets = perKernel
    }
    // Held or not, release() is then due: it removes the lock only if this run holds it, and a
    // probe that failed after the gate passed must not leave it behind.
    this.locked = gate !== undefined
    const probe = () => probeGated(gate === undefined ? this.probe$ : this.$, snippets, gate)
    const r = gate === undefined ? await probe() : await whenLocked(host.name, lock!.wait, probe, (line) => events?.progress?.(line))
    if (!host.os) {
      const os = osFromKernel(r.kernel!)
      if (!os) throw new StepError(`unsupported OS "${r.kernel}" (ferry knows FreeBSD, OpenBSD and Linux); or give the host's os: in the inventory`)
      const err = unfit.get(r.kernel!)
      if (err) throw err
      this.platform = platformFor(os)
    }
    return applyGuards(steps, r.results!, { ...this.context(false), $: this.probe$ })
  }

  /**
   * Arms the revert job, applies, then confirms over a new connection: the host is reachable and
   * the runbook's verify steps pass, or the job reverts it. The changes must be confirmed before
   * the job's timeout: a run still applying then is cut off, and the host reverts.
   */
  private async applyConfirmed(risky: number[], probes: ProbeResult[], apply: () => Promise<void>): Promise<void> {
    const { steps, handlers, confirm, runId, host, events } = this.run
    // The reloads the risky steps would trigger, so the daemons reread what the job put back; a
    // risky handler always, since only its revert undoes what it did with the changed files.
    const notified = new Set(risky.flatMap((i) => steps[i]!.notify))
    const reloads = Object.entries(handlers).filter(([name, h]) => notified.has(name) && (h.repeatOnRollback || h.risky)).map(([, h]) => h)
    const missing = [...risky.map((i) => steps[i]!), ...reloads.filter((h) => h.risky)].find((s) => !s.revert)
    if (missing) throw new StepError(`${missing.name}: it is risky, but a ${missing.kind} step has no revert commands for the commit-confirmed job${missing.kind === 'command' ? ' (give it `revert:`)' : ''}`)
    const check = this.checkContext(new Set())
    const reverts: RevertStep[] = risky.map((i) => {
      const record = steps[i]!.record(probes[i]!, check)
      this.armedRecords.set(i, record)
      return { name: steps[i]!.name, commands: steps[i]!.revert!(record, this.platform) }
    }).reverse()
    for (const h of reloads) if (h.revert) reverts.push({ name: h.name, commands: h.revert(undefined, this.platform) })
    reloads.filter((h) => h.risky).forEach((h) => this.armedHandlers.add(h))
    const armedAt = Date.now()
    this.armed = true
    await arm(this.$, this.platform, runId!, confirm!.timeout, revertScript(reverts, `ferry run ${runId} on ${host.name}: revert job for ${risky.length} risky step(s)`))
    events?.progress?.(`revert job armed: ${host.name} reverts in ${confirm!.timeout} s unless confirmed`)

    // The apply must be done a second short of the job (half a short timeout): past that it is
    // cut off, its commands killed and no further step started, so the host is left to the job.
    const cutoff = Math.max(confirm!.timeout * 1000 - 1000, confirm!.timeout * 500)
    const timer = setTimeout(() => this.cutOff.abort(), cutoff)
    const applying = apply().then(() => undefined, (err: Error) => err)
    const cut = new Promise<'cut'>((resolve) => this.cutOff.signal.addEventListener('abort', () => resolve('cut'), { once: true }))
    let failure = await Promise.race([applying, cut])
    clearTimeout(timer)
    if (failure === 'cut') {
      // A command on a connection the change cut cannot even be killed: give it a moment, then
      // move on; the reconnect below drops that connection.
      await Promise.race([applying, sleep(3000)])
      failure = new Error(`not confirmed within --confirm-timeout ${confirm!.timeout} s`)
    }

    // Nothing more goes over the connection the risky changes may have cut. The confirmation
    // over a new one must be done by the job's deadline (a few seconds' grace): a link that
    // died under it leaves its commands hanging, and the job decides then anyway.
    const deadline = armedAt + confirm!.timeout * 1000
    let disarmAsked = false
    if (!failure) {
      try {
        const fresh = await bounded(confirm!.reconnect(), deadline + 5000, 'opening a new connection')
        const unhealthy = await bounded(this.health(fresh), deadline + 5000, 'the health check')
        if (unhealthy === undefined) {
          this.use(fresh)
          disarmAsked = true
          const settled = await bounded(settle(fresh.$, runId!, 'confirm'), deadline + 5000, 'disarming the revert job')
          if (settled.state === 'disarmed') return void (this.outcome.confirmed = true)
          return this.reverted(settled, 'the revert job fired before the changes were confirmed')
        }
        failure = new Error(`health check over a new connection failed: ${unhealthy}`)
      } catch (err) {
        failure = new Error(disarmAsked ? `the connection died while disarming the revert job: ${(err as Error).message}` : `the changes could not be confirmed over a new connection: ${(err as Error).message}`)
      }
    }
    const cause = failure
    // --rollback none: a failed run on a host still reachable keeps what it applied, unless the
    // job has already put it back.
    const settled = await this.settleWhenReachable(deadline, this.run.rollbackOnFailure ? 'revert' : 'confirm')
    if (!settled) {
      this.outcome.status = 'unreachable'
      this.outcome.error = `${cause.message}; still unreachable after the revert job should have run`
      return
    }
    // The disarm went through before its answer was lost: the changes were confirmed after all.
    if (settled.state === 'disarmed' && disarmAsked) return void (this.outcome.confirmed = true)
    if (settled.state === 'disarmed') throw cause
    if (settled.by === 'controller') {
      // The host was still reachable, so this is a rollback like any other: the risky steps by
      // the job, fired early by the controller, the rest by undo.
      // The job's own failures are not counted: it also reverts risky steps this run never got
      // to, whose commands may fail harmlessly (an address that was never added).
      this.reportReverted()
      const errors = await this.repeatUnrevertedHandlers()
      if (errors.length) this.outcome.rollbackError = errors.join('; ')
      throw cause
    }
    await this.reverted(settled, cause.message)
  }

  /**
   * Reads how the revert job ended (or fires it early: `revert`), over a new connection. A host
   * that does not answer is waited for: the job brings it back at the deadline, if the change
   * cut it off. A connection that dies again mid-way is dialled again: settling says the same
   * when asked twice. Undefined when the host never answers.
   */
  private async settleWhenReachable(deadline: number, how: 'confirm' | 'revert'): Promise<Settled | undefined> {
    const { confirm, runId, host, events } = this.run
    for (let tries = 0; tries < 12; tries++) {
      const fresh = await confirm!.reconnect().catch(() => undefined)
      if (fresh) {
        // Settling may wait up to five minutes for a job caught mid-revert. Only a connection
        // that fails is tried again; what the host answers is the answer.
        const out = await bounded(fresh.$`sh -c ${settleScript(runId!, how)}`.nothrow(), Date.now() + 330_000, 'settling the revert job').catch(() => undefined)
        if (out?.exitCode === 0) {
          this.use(fresh)
          return parseSettled(out.stdout)
        }
      } else if (Date.now() < deadline + 2000) {
        // Cut off: the host reverts by itself at the deadline, and must then take a connection.
        events?.progress?.(`${host.name} does not answer: waiting for its revert job (${confirm!.timeout} s from arming)`)
        await sleep(deadline + 2000 - Date.now())
        continue
      }
      await sleep(3000)
    }
    return undefined
  }

  /** The reloads the job could not repeat (handlers with no revert commands), repeated now. */
  private repeatUnrevertedHandlers(): Promise<string[]> {
    const notified = new Set([...this.armedRecords.keys()].flatMap((i) => this.run.steps[i]!.notify))
    const unrepeated = Object.fromEntries(Object.entries(this.run.handlers).filter(([, h]) => !h.revert))
    return rerunHandlers(this.context(false), this.probe$, unrepeated, notified)
  }

  /** Reachability (a command ran over the new connection) and the runbook's verify steps. */
  private async health(t: Transport): Promise<string | undefined> {
    const verifies = this.run.steps.filter((s) => s.kind === 'verify')
    const results = await probeAll(t.probe$, ['true', ...verifies.map((s) => s.probe(this.platform))])
    if (results[0]!.code !== 0) return 'the host did not run `true`'
    for (const [k, v] of verifies.entries()) {
      const changes = v.check(results[k + 1]!, this.checkContext(new Set()))
      if (changes.length) return `${v.name}: ${changes.map((c) => c.summary).join('; ')}`
    }
    return undefined
  }

  private use(t: Transport): void {
    this.$ = t.$
    this.probe$ = t.probe$
  }

  /** The job has put the risky steps back; the rest of what was applied is undone as a rollback would. */
  private async reverted(settled: Settled, why: string): Promise<void> {
    this.reportReverted()
    if (this.run.rollbackOnFailure && this.applied.length) await this.rollback()
    const errors = await this.repeatUnrevertedHandlers()
    this.outcome.status = 'reverted'
    const job = settled.state === 'reverted' && !settled.ok ? `; the revert job reported: ${settled.log.split('\n').slice(-3).join(' / ')}` : ''
    this.outcome.error = `${why}${job}${errors.length ? `; ${errors.join('; ')}` : ''}`
  }

  /** The job put the risky steps back: they are rolled back, and undo must not do them again. */
  private reportReverted(): void {
    const risky = this.armedRecords
    this.jobReverted = true
    for (let k = this.applied.length - 1; k >= 0; k--) {
      const { index, step } = this.applied[k]!
      if (!risky.has(index) && !this.armedHandlers.has(step)) continue
      this.applied.splice(k, 1)
      this.run.events?.undone?.(index)
      this.report(index, 'rolled-back', this.outcomes[index]!.changes, this.outcomes[index]!.error)
    }
  }

  /** Undoes every applied step of this host, newest first. Returns false if any undo failed. */
  async rollback(): Promise<boolean> {
    const ctx = this.context(false)
    const errors: string[] = []
    const notified = new Set<string>()
    for (const { index, step, record } of [...this.applied].reverse()) {
      try {
        await step.undo(ctx, record)
        step.notify.forEach((n) => notified.add(n))
        this.run.events?.undone?.(index)
        this.report(index, 'rolled-back', this.outcomes[index]!.changes, this.outcomes[index]!.error)
      } catch (err) {
        errors.push(`${step.name}: ${(err as Error).message}`)
      }
    }
    this.applied.length = 0
    errors.push(...(await rerunHandlers(ctx, this.probe$, this.run.handlers, notified)))
    if (errors.length) {
      this.outcome.rollbackError = errors.join('; ')
      return false
    }
    this.outcome.status = 'rolled-back'
    return true
  }

  private async fail(err: Error): Promise<void> {
    this.outcome.status = 'failed'
    this.outcome.error = err.message
    if (this.run.rollbackOnFailure && (this.applied.length || this.jobReverted)) await this.rollback()
  }

  private async applyInOrder(order: number[], probes: ProbeResult[]): Promise<Set<string>> {
    const { steps } = this.run
    const notified = new Set<string>()
    for (const [at, i] of order.entries()) {
      if (this.signal?.aborted) throw new Error(this.cutOff.signal.aborted ? 'cut off' : 'interrupted')
      const step = steps[i]!
      if (this.stale.has(i)) {
        // Everything an applied step may have affected is probed again, together, in one round trip.
        const again = order.slice(at).filter((j) => this.stale.has(j))
        const fresh = await this.probe(again.map((j) => steps[j]!))
        again.forEach((j, k) => {
          probes[j] = fresh[k]!
          this.stale.delete(j)
        })
      }
      // Earlier steps have now happened, so nothing is pending any more.
      const changes = this.check(step, probes[i]!, new Set())
      if (!changes.length && step.holdAfterChange && this.applied.length) changes.push({ summary: `make sure ${step.name} holds` })
      if (!changes.length) {
        this.report(i, 'ok', [])
        continue
      }
      await this.applyStep(i, step, probes[i]!, changes)
      step.notify.forEach((n) => notified.add(n))
    }
    return notified
  }

  private async applyStep(index: number, step: Step, probe: ProbeResult, changes: Change[]): Promise<void> {
    const ctx = this.context()
    const record = this.armedRecords.has(index) ? this.armedRecords.get(index) : step.record(probe, this.checkContext(new Set()))
    this.run.events?.recordUndo?.(index, step, record)
    this.applied.push({ index, step, record })
    try {
      await step.apply(ctx, changes, record)
    } catch (err) {
      this.report(index, 'failed', changes, (err as Error).message)
      throw new Error(`${step.name}: ${(err as Error).message}`)
    }
    this.report(index, 'changed', changes)
    this.run.steps.forEach((later, j) => {
      if (j !== index && this.outcomes[j]?.status === 'skipped' && affects(step, later)) this.stale.add(j)
    })
  }

  private async runHandlers(notified: Set<string>): Promise<void> {
    const handlers = Object.entries(this.run.handlers).filter(([name]) => notified.has(name))
    if (!handlers.length) return
    const probes = await this.probe(handlers.map(([, h]) => h))
    for (const [k, [, handler]] of handlers.entries()) {
      if (this.signal?.aborted) throw new Error(this.cutOff.signal.aborted ? 'cut off' : 'interrupted')
      const changes = this.check(handler, probes[k]!, new Set())
      if (!changes.length) continue
      const index = this.outcomes.length
      this.outcomes.push({ index, name: `${handler.name} (handler)`, kind: handler.kind, status: 'skipped', changes: [] })
      await this.applyStep(index, handler, probes[k]!, changes)
    }
  }

  /**
   * What a step's apply would send, run against a shell that only records. A file's diff already
   * says more than its write script; `command` and `verify` run the runbook's own code, which
   * may do anything, so for them the plan's summary has to do.
   */
  private async preview(step: Step, probe: ProbeResult, changes: Change[]): Promise<string[] | undefined> {
    if (!step.previewCommands) return undefined
    const sent: string[] = []
    const snippet = step.probe(this.platform)
    const $ = recordingShell((cmd) => (cmd === snippet ? probe : { stdout: '', code: 0 }), (cmd) => void (cmd !== snippet && sent.push(cmd)))
    const ctx = { ...this.context(false), $ }
    try {
      await step.apply(ctx, changes, step.record(probe, this.checkContext(new Set())))
    } catch {
      // The real host's answers would have steered it; what was sent so far is still the plan.
    }
    return sent
  }

  private check(step: Step, probe: ProbeResult, pending: Set<string>): Change[] {
    try {
      return step.check(probe, this.checkContext(pending))
    } catch (err) {
      throw err instanceof StepError ? new StepError(`${step.name}: ${err.message}`) : err
    }
  }

  private probe(steps: Step[]): Promise<ProbeResult[]> {
    return probeSteps(steps, { ...this.context(false), $: this.probe$ })
  }

  /** Steps get a $ that an interrupt aborts at once; undo must run to the end regardless. */
  private context(interruptible = true): StepContext {
    const { host, connect, events } = this.run
    const { signal } = this
    const $ = this.$
    return {
      host,
      platform: this.platform,
      $: interruptible && signal ? $({ signal }) : $,
      signal: interruptible ? signal : undefined,
      connect: connect ?? (async (other) => { throw new StepError(`cannot connect to ${other.name}: this run connects to its own host only`) }),
      progress: (line) => events?.progress?.(line),
    }
  }

  private checkContext(pending: ReadonlySet<string>): CheckContext {
    return { host: this.run.host, platform: this.platform, pending }
  }

  private report(index: number, status: StepStatus, changes: Change[], error?: string): void {
    const outcome = this.outcomes[index]!
    Object.assign(outcome, { status, changes, error })
    this.run.events?.step?.(outcome)
  }
}

/** Probes the steps in one round trip, through `ctx.$` (the probe $); a function guard costs one more. */
async function probeSteps(steps: Step[], ctx: StepContext): Promise<ProbeResult[]> {
  return applyGuards(steps, await probeAll(ctx.$, steps.map((s) => s.probe(ctx.platform))), ctx)
}

async function applyGuards(steps: Step[], results: ProbeResult[], ctx: StepContext): Promise<ProbeResult[]> {
  await Promise.all(
    steps.map(async (s, i) => {
      if (s.guard && results[i]!.code !== 0 && (await s.guard(ctx))) results[i] = { stdout: '', code: 0 }
    }),
  )
  return results
}

/**
 * After a rollback, the `repeatOnRollback` handlers its undone steps had notified run again, so a
 * daemon rereads the file that was just put back (a reload cannot be undone, only repeated); the
 * others were undone like any step. Each still checks first: a reload of a daemon that is no
 * longer running has nothing to do. Returns the errors.
 */
export async function rerunHandlers(ctx: StepContext, probe$: Shell, handlers: Record<string, Step>, notified: ReadonlySet<string>): Promise<string[]> {
  const due = Object.entries(handlers).filter(([name, h]) => notified.has(name) && h.repeatOnRollback).map(([, h]) => h)
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

/** Whether applying `a` can change what `b`'s probe saw. */
export function affects(a: Step, b: Step): boolean {
  if (a.touches.includes(ANYTHING)) return true
  if (b.reads.includes(ANYTHING)) return a.touches.length > 0
  return a.touches.some((r) => b.reads.includes(r))
}

/** The inventory's `os:` saves a round trip; without it, ask the host. */
export async function detectPlatform(host: Host, $: Shell): Promise<Platform> {
  if (host.os) return platformFor(host.os)
  const kernel = (await $`uname -s`).stdout
  const os = osFromKernel(kernel)
  if (!os) throw new StepError(`unsupported OS "${kernel.trim()}" (ferry knows FreeBSD, OpenBSD and Linux)`)
  return platformFor(os)
}

/**
 * `work`, or an error once `until` (a time) has passed. A command on a connection whose link
 * died would wait for TCP to give up; the work left behind is dropped with that connection.
 */
function bounded<T>(work: Promise<T>, until: number, what: string): Promise<T> {
  work.catch(() => {})
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in time`)), Math.max(0, until - Date.now()))
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}
