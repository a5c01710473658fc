// An escape hatch: any zx code, made idempotent by guards and reversible by an explicit undo.
// Shell-string guards (`creates`, `unless`) go into the batched probe and cost nothing; a
// function guard needs its own round trip, so prefer the strings where they will do.

import { quote } from '../shell/quote.ts'
import { ANYTHING, notifyList, type CommonOptions, type Resource, type Step, type StepContext } from './step.ts'

export interface CommandOptions extends CommonOptions {
  /** Skip when this path exists. */
  creates?: string
  /** Skip when this shell command exits 0, or when this function resolves true. The function's
   * $ runs probes only: in a dry run it is the one $ that works. */
  unless?: string | ((ctx: StepContext) => Promise<boolean>)
  /** Reverses `run`. Without it, rollback reports the step as not undoable. */
  undo?: (ctx: StepContext) => Promise<void>
  /** What `run` may change; by default anything, so every later step is probed again. */
  touches?: Resource[]
  /** As a handler: run again after a rollback instead of being undone (a reload); needs no `undo`. */
  repeatOnRollback?: boolean
  /**
   * The shell form of `undo` (of the command itself, for a `repeatOnRollback` handler), for the
   * commit-confirmed revert job; a risky command needs it. It must be harmless if run never ran.
   */
  revert?: string
}

export interface CommandRecord {
  undoable: boolean
}

export function command(
  name: string,
  run: (ctx: StepContext) => Promise<void>,
  opts: CommandOptions = {},
): Step<CommandRecord> {
  const guards = [
    opts.creates ? `test -e ${quote(opts.creates)}` : undefined,
    typeof opts.unless === 'string' ? opts.unless : undefined,
  ].filter(Boolean)
  const unlessFn = typeof opts.unless === 'function' ? opts.unless : undefined
  return {
    kind: 'command',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky,
    repeatOnRollback: opts.repeatOnRollback,
    touches: opts.touches ?? [ANYTHING],
    reads: opts.creates ? [`file:${opts.creates}`] : [ANYTHING],
    // Exit 0 means "already done". With no guard the command always runs, like a plain shell task.
    probe: () => (guards.length ? `{ ${guards.map((g) => `( ${g} )`).join(' || ')}; } >/dev/null 2>&1` : 'exit 1'),
    guard: unlessFn,
    check: (probe) => (probe.code === 0 ? [] : [{ summary: `run: ${name}` }]),
    record: () => ({ undoable: !!opts.undo || !!opts.repeatOnRollback }),
    apply: (ctx) => run(ctx),
    async undo(ctx, record) {
      if (opts.repeatOnRollback) return // rollback repeats it after restoring what it read
      if (record.undoable && opts.undo) await opts.undo(ctx)
      else throw new Error(`"${name}" has no undo; its effect is left in place`)
    },
    // A repeat keeps its guards: the reload of a daemon that is not running has nothing to do.
    revert:
      opts.revert === undefined
        ? undefined
        : () => [
            opts.repeatOnRollback && guards.length
              ? `if ! { ${guards.map((g) => `( ${g}\n)`).join(' || ')}; } >/dev/null 2>&1; then\n${opts.revert}\nfi`
              : opts.revert!,
          ],
  }
}
