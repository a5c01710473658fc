// One host's run as the phases share it (planning, applying, commit-confirmed, rollback): the
// host's shells and platform, one record per step from its probe to its outcome, and what has
// been applied so far, in order. The phases are functions over a session, each in its own file;
// host.ts puts them in order.

import type { Shell } from 'zx/core'
import type { Host } from '../inventory/types.ts'
import type { Platform } from '../platform/platform.ts'
import {
  StepError,
  type Change,
  type CheckContext,
  type ProbeResult,
  type Step,
  type StepContext,
} from '../steps/step.ts'
import type { Transport } from '../transport/transport.ts'
import type { HostOutcome, StepOutcome, StepStatus } from './outcome.ts'
import { probeAll } from './probe.ts'

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

/** One step of the run (or a handler, once notified), from its probe to its outcome. */
export interface StepRun {
  readonly step: Step
  /** Its index, name and status, as the journal and the report see them. */
  readonly outcome: StepOutcome
  probe: ProbeResult
  /** What its check says must change, when planned (the outcome shows them once it has run). */
  changes: Change[]
  /** What the earlier steps would change, as the plan saw it (their `touches`). */
  pending?: ReadonlySet<string>
  /** An applied step changed what it reads: it is probed again before it applies. */
  stale: boolean
  /** What undo needs, taken before apply (or when the revert job was armed: the job restores from it). */
  record?: unknown
  /** The commit-confirmed job reverts it if the job fires: undo must not do it again then. */
  armed: boolean
}

export class Session {
  platform!: Platform
  /** The host's shells: a reconnect (commit-confirmed) replaces them. */
  $: Shell
  probe$: Shell
  readonly outcome: HostOutcome
  /** The runbook's steps, then each handler as it applies. */
  readonly runs: StepRun[]
  /** What has been applied, in order: what a rollback undoes, newest first. */
  readonly applied: StepRun[] = []
  /** A revert job was armed: its directory on the host goes with the lock. */
  jobArmed = false
  /** The revert job put the risky steps back (after a failure the controller saw). */
  jobReverted = false
  /** Stops an apply that ran past the revert job's timeout: its commands, and the steps after. */
  readonly cutOff = new AbortController()

  constructor(readonly run: HostRun) {
    this.runs = run.steps.map((step, index) => ({
      step,
      outcome: { index, name: step.name, kind: step.kind, status: 'skipped', changes: [] },
      probe: { stdout: '', code: 0 },
      changes: [],
      stale: false,
      armed: false,
    }))
    this.outcome = { name: run.host.name, status: 'ok', steps: this.runs.map((r) => r.outcome) }
    this.$ = run.$
    this.probe$ = run.probe$
  }

  /** What stops the apply: an interrupt of the run, or the cut-off. */
  get signal(): AbortSignal {
    return this.run.signal ? AbortSignal.any([this.run.signal, this.cutOff.signal]) : this.cutOff.signal
  }

  /** Throws if the run was interrupted or cut off: no further step starts. */
  stopIfAsked(): void {
    if (this.signal.aborted) throw new Error(this.cutOff.signal.aborted ? 'cut off' : 'interrupted')
  }

  /** Commands go over this connection from now on. */
  use(t: Transport): void {
    this.$ = t.$
    this.probe$ = t.probe$
  }

  /** Steps get a $ that an interrupt aborts at once; undo must run to the end regardless. */
  context(interruptible = true): StepContext {
    const { host, connect, events } = this.run
    const { signal } = this
    return {
      host,
      platform: this.platform,
      $: interruptible ? this.$({ signal }) : this.$,
      signal: interruptible ? signal : undefined,
      connect:
        connect ??
        (async (other) => {
          throw new StepError(`cannot connect to ${other.name}: this run connects to its own host only`)
        }),
      progress: (line) => events?.progress?.(line),
    }
  }

  checkContext(pending: ReadonlySet<string> = new Set()): CheckContext {
    return { host: this.run.host, platform: this.platform, pending }
  }

  /** The step's changes against a probe; its own errors name it. */
  check(step: Step, probe: ProbeResult, pending?: ReadonlySet<string>): Change[] {
    try {
      return step.check(probe, this.checkContext(pending))
    } catch (err) {
      throw err instanceof StepError ? new StepError(`${step.name}: ${err.message}`) : err
    }
  }

  /** Probes the steps again, in one round trip over the probe $ (a function guard costs one more). */
  probe(steps: Step[]): Promise<ProbeResult[]> {
    return probeSteps(steps, { ...this.context(false), $: this.probe$ })
  }

  report(r: StepRun, status: StepStatus, changes: Change[], error?: string): void {
    Object.assign(r.outcome, { status, changes, error })
    this.run.events?.step?.(r.outcome)
  }
}

/** Probes the steps in one round trip, through `ctx.$`; a function guard costs one more. */
export async function probeSteps(steps: Step[], ctx: StepContext): Promise<ProbeResult[]> {
  return applyGuards(
    steps,
    await probeAll(
      ctx.$,
      steps.map((s) => s.probe(ctx.platform)),
    ),
    ctx,
  )
}

/** A guard that says a step's work is done already turns its probe into a pass. */
export async function applyGuards(steps: Step[], results: ProbeResult[], ctx: StepContext): Promise<ProbeResult[]> {
  await Promise.all(
    steps.map(async (s, i) => {
      if (s.guard && results[i]!.code !== 0 && (await s.guard(ctx))) results[i] = { stdout: '', code: 0 }
    }),
  )
  return results
}
