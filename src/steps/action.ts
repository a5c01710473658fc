// A phase of a procedure rather than a state to converge to: it runs whenever its runbook runs
// (a migration's seed, cut-over, clean-up). Its probe goes out with every other step's, and what
// undo will need is taken from that probe and journalled before apply starts, like any step's.

import { StepError, type Change, type ProbeResult, type Resource, type Step, type StepContext } from './step.ts'

export interface ActionOptions<R> {
  /** What the plan says it will do; from the probe, where that helps (sizes). */
  summary: string | ((probe: ProbeResult) => string)
  /** Read-only snippet on the step's host; its output feeds `summary` and `record`. */
  probe?: string
  /** Refuse to go on, from what the probe saw, before anything in the run has changed. */
  refuse?(probe: ProbeResult): string | undefined
  record?(probe: ProbeResult): R
  apply(ctx: StepContext, record: R): Promise<void>
  /** Must cope with an apply that stopped half-way: it runs for the step that failed too. */
  undo?(ctx: StepContext, record: R): Promise<void>
  touches?: Resource[]
}

export function action<R = Record<string, never>>(name: string, opts: ActionOptions<R>): Step<R> {
  return {
    kind: 'action',
    name,
    notify: [],
    touches: opts.touches ?? [],
    reads: [],
    probe: () => opts.probe ?? 'true',
    check(probe): Change[] {
      const refusal = opts.refuse?.(probe)
      if (refusal) throw new StepError(refusal)
      return [{ summary: typeof opts.summary === 'string' ? opts.summary : opts.summary(probe) }]
    },
    record: (probe) => (opts.record ? opts.record(probe) : ({} as R)),
    apply: (ctx, _changes, record) => opts.apply(ctx, record),
    undo: async (ctx, record) => opts.undo?.(ctx, record),
  }
}
