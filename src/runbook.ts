// defineRunbook: a runbook is data (name, description, params and vars schemas) plus a function
// from one host to its steps. Params and vars are zod schemas, so the steps function is typed by
// them, and bad input is caught before any host is contacted.

import { z } from 'zod'
import type { Host, Inventory } from './inventory/types.ts'
import type { Step } from './steps/step.ts'

export interface StepsContext<P, V> {
  host: Host
  /** The host's effective vars, parsed by the runbook's `vars` schema. */
  vars: V
  params: P
  inventory: Inventory
  /** A secret's value, from the inventory's `secrets:` (redacted in all output). */
  secret(name: string): Promise<string>
}

export interface RunbookDefinition<P extends z.ZodType, V extends z.ZodType> {
  name: string
  description: string
  /** Host pattern, as for --limit; default `all`. */
  hosts?: string
  params?: P
  vars?: V
  steps(ctx: StepsContext<z.output<P>, z.output<V>>): Step[] | Promise<Step[]>
  /**
   * Steps run once per host, after its steps, when a step that `notify`s them changed. After a
   * rollback, those marked `repeatOnRollback` (reloads) run again, so daemons reread the restored
   * files. A function gets the same context as `steps`, for per-host handlers (one per tunnel).
   */
  handlers?: Record<string, Step> | ((ctx: StepsContext<z.output<P>, z.output<V>>) => Record<string, Step> | Promise<Record<string, Step>>)
}

export interface Runbook<P extends z.ZodType = z.ZodType, V extends z.ZodType = z.ZodType> extends RunbookDefinition<P, V> {
  readonly kind: 'ferry-runbook'
}

export function defineRunbook<P extends z.ZodType = z.ZodObject<{}>, V extends z.ZodType = z.ZodObject<{}>>(
  definition: RunbookDefinition<P, V>,
): Runbook<P, V> {
  return { kind: 'ferry-runbook', ...definition }
}
