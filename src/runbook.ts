// defineRunbook: a runbook is data (name, description, params and vars schemas) plus a function
// from one host to its steps. Params and vars are zod schemas, so the steps function is typed by
// them, and bad input is caught before any host is contacted.

import { z } from 'zod'
import type { Host, Inventory } from './inventory/types.ts'
import type { Step } from './steps/step.ts'
import type { Transport } from './transport/transport.ts'

export interface StepsContext<P, V> {
  host: Host
  /** The host's effective vars, parsed by the runbook's `vars` schema. */
  vars: V
  params: P
  inventory: Inventory
  /** A secret's value, from the inventory's `secrets:` (redacted in all output). */
  secret(name: string): Promise<string>
}

/** Thrown for params that are missing or wrong: ferry stops before planning, with exit 64. */
export class ParamError extends Error {
  override name = 'ParamError'
}

/** The prompts a runbook's `prepare` may show; the CLI runs them through listr2. */
export interface Ask {
  select<T>(config: { message: string; choices: Choice<T>[] }): Promise<T>
  /** A select that filters its choices as the operator types. */
  search<T>(config: { message: string; choices: Choice<T>[] }): Promise<T>
  confirm(config: { message: string; default?: boolean }): Promise<boolean>
}

export interface Choice<T> {
  value: T
  name: string
  description?: string
}

export interface PrepareContext {
  inventory: Inventory
  /** The --param values given, converted by type but not yet validated. */
  params: Record<string, unknown>
  /** A terminal is there to ask on; otherwise whatever is missing is a ParamError. */
  interactive: boolean
  /** Only a plan is wanted (--dry-run): nothing to confirm. */
  dryRun: boolean
  ask: Ask
  /** Read-only: prepare looks, it never changes a host. */
  connect(host: Host): Promise<Transport>
  /** Lines for the operator: what discovery skipped, and why. */
  warn(line: string): void
}

export interface RunbookDefinition<P extends z.ZodType, V extends z.ZodType> {
  name: string
  description: string
  /** Host pattern, as for --limit; default `all`. From the params when they decide (migrate-jail: the jail's host). */
  hosts?: string | ((params: z.output<P>) => string)
  params?: P
  vars?: V
  /** `ferry drift` with no runbook named checks those marked so. */
  drift?: boolean
  /**
   * Seconds its risky changes get to be confirmed in when --confirm-timeout is not given (default
   * 120): longer than its apply and verify steps can take on a slow host.
   */
  confirmTimeout?: number
  /** Every step that changes something is risky: applied under commit-confirmed (see `Step.risky`). */
  risky?: boolean
  /**
   * Completes the params from the hosts themselves before anything is planned: discovery, and
   * choices offered on a terminal (which jail, to where). Returns the params to validate.
   */
  prepare?(ctx: PrepareContext): Promise<Record<string, unknown>>
  steps(ctx: StepsContext<z.output<P>, z.output<V>>): Step[] | Promise<Step[]>
  /**
   * Steps run once per host, after its steps, when a step that `notify`s them changed. After a
   * rollback, those marked `repeatOnRollback` (reloads) run again, so daemons reread the restored
   * files. A function gets the same context as `steps`, for per-host handlers (one per tunnel).
   */
  handlers?:
    | Record<string, Step>
    | ((ctx: StepsContext<z.output<P>, z.output<V>>) => Record<string, Step> | Promise<Record<string, Step>>)
}

export interface Runbook<P extends z.ZodType = z.ZodType, V extends z.ZodType = z.ZodType> extends RunbookDefinition<
  P,
  V
> {
  readonly kind: 'ferry-runbook'
}

export function defineRunbook<P extends z.ZodType = z.ZodObject<{}>, V extends z.ZodType = z.ZodObject<{}>>(
  definition: RunbookDefinition<P, V>,
): Runbook<P, V> {
  return { kind: 'ferry-runbook', ...definition }
}
