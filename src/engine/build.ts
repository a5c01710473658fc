// Building a run, before anything is contacted: each host's vars are validated with the
// runbook's schema (a bad one is exit 64 at its file:line:col), then its steps and handlers are
// built, and their names checked unique (they key the journal's undo records).

import type { z } from 'zod'
import type { Host, Inventory, Location } from '../inventory/types.ts'
import { InventoryError, type Problem } from '../inventory/errors.ts'
import type { Step } from '../steps/step.ts'
import type { Runbook } from '../runbook.ts'
import { RunbookError } from './load.ts'

export interface HostSteps {
  host: Host
  steps: Step[]
  handlers: Record<string, Step>
}

/** Builds each host's steps, validating its vars with the runbook's schema (exit 64 on error). */
export async function buildSteps(
  runbook: Runbook,
  inventory: Inventory,
  hosts: Host[],
  params: unknown,
): Promise<HostSteps[]> {
  const problems: Problem[] = []
  const built: HostSteps[] = []
  for (const host of hosts) {
    const parsed = runbook.vars ? runbook.vars.safeParse(host.vars) : { success: true as const, data: host.vars }
    if (!parsed.success) {
      for (const issue of (parsed.error as z.ZodError).issues) {
        const key = issue.path as (string | number)[]
        const at = varLocation(inventory, host, key) ??
          inventory.locate(['hosts', host.name]) ?? { file: inventory.file, line: 1, col: 1 }
        problems.push({
          ...at,
          message: `${host.name}: var ${key.join('.') || '(vars)'}: ${issue.message} (required by runbook ${runbook.name})`,
        })
      }
      continue
    }
    const ctx = { host, vars: parsed.data, params, inventory, secret: (name: string) => inventory.secrets.get(name) }
    // A step that changes nothing (a verify) cannot cut anything, so it is never risky.
    const steps = (await building(runbook, host, () => runbook.steps(ctx))).map((s) =>
      runbook.risky && s.touches.length ? { ...s, risky: true } : s,
    )
    const handlers = await building(runbook, host, () =>
      typeof runbook.handlers === 'function' ? runbook.handlers(ctx) : (runbook.handlers ?? {}),
    )
    const names = new Set<string>()
    for (const s of [...steps, ...Object.values(handlers)]) {
      // Names key the journal's undo records, so `ferry rollback` can find each step again.
      if (names.has(s.name))
        throw new RunbookError(
          `runbook ${runbook.name}: two steps are named "${s.name}" (for ${host.name}); step and handler names must be unique`,
        )
      names.add(s.name)
    }
    built.push({ host, steps, handlers })
  }
  if (problems.length) throw new InventoryError(problems)
  return built
}

/**
 * Where the var at `path` of a host's effective vars is written: in the host's own vars, else in
 * the last of its groups that sets it, else in defaults (the order the inventory merges them in).
 */
function varLocation(inventory: Inventory, host: Host, path: (string | number)[]): Location | undefined {
  if (!path.length) return inventory.locate(['hosts', host.name, 'vars'])
  const sources = [['hosts', host.name], ...[...host.groups].reverse().map((g) => ['groups', g]), ['defaults']]
  const source = sources.find((s) => inventory.locate([...s, 'vars', path[0]!]))
  return source && (inventory.locate([...source, 'vars', ...path]) ?? inventory.locate([...source, 'vars', path[0]!]))
}

/**
 * Builds a host's steps or handlers. Nothing has been contacted yet, so whatever the runbook
 * throws (a template refusing a secret, a link it cannot build) is a bad runbook or inventory:
 * exit 64 with one line, not a stack trace. Errors that already say so pass through as they are.
 */
async function building<T>(runbook: Runbook, host: Host, build: () => T | Promise<T>): Promise<T> {
  try {
    return await build()
  } catch (err) {
    // By name: a runbook loaded from the sources may carry its own copy of these classes.
    if (err instanceof Error && ['InventoryError', 'ParamError', 'RunbookError'].includes(err.name)) throw err
    throw new RunbookError(
      `runbook ${runbook.name}, host ${host.name}: ${err instanceof Error ? err.message : String(err)}`,
    )
  }
}
