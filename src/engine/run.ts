// A whole run across hosts: every host's vars are validated and its steps built before anything
// is contacted, then hosts run in parallel (at most `forks` at once), in `serial` batches, and
// the rollout stops once more than `maxFail` of the hosts so far have failed.

import type { z } from 'zod'
import type { Host, Inventory, Location } from '../inventory/types.ts'
import { InventoryError, type Problem } from '../inventory/errors.ts'
import type { Step } from '../steps/step.ts'
import type { Transport } from '../transport/transport.ts'
import { UnreachableError } from '../transport/errors.ts'
import { mapLimit } from '../transport/slots.ts'
import type { Runbook } from '../runbook.ts'
import { RunbookError } from './load.ts'
import { HostRunner, type HostEvents, type HostOutcome } from './host.ts'

export type RollbackPolicy = 'host' | 'all' | 'none'

export interface Plan {
  host: Host
  steps: Step[]
  handlers: Record<string, Step>
}

export interface RunOptions {
  dryRun: boolean
  forks: number
  /** Hosts per batch: a count, or a percentage of the selected hosts. */
  serial?: string
  /** Stop starting new batches once more than this share of hosts has failed, e.g. `20%`. */
  maxFail?: string
  rollback: RollbackPolicy
  signal?: AbortSignal
  /** Names the host locks' holder and the revert jobs. */
  runId?: string
  /** Hold each host's lock for the run (not in a dry run). */
  lock?: { wait: number; breakIt: boolean }
  /** Seconds a risky change has to be confirmed in; without it, risky steps apply like others. */
  confirmTimeout?: number
}

export interface RunHooks {
  connect(host: Host): Promise<Transport>
  /** Drops the host's connection and opens a new one (commit-confirmed). */
  reconnect?(host: Host): Promise<Transport>
  events?(host: Host): HostEvents
  hostStarted?(host: Host): void
  hostFinished?(outcome: HostOutcome, transport?: Transport): void
}

export interface RunResult {
  hosts: HostOutcome[]
  /** Hosts never started because --max-fail stopped the rollout. */
  notRun: string[]
  /** An undo failed somewhere, or a host could not be restored. */
  rollbackFailed: boolean
}

/** Builds each host's steps, validating its vars with the runbook's schema (exit 64 on error). */
export async function planHosts(runbook: Runbook, inventory: Inventory, hosts: Host[], params: unknown): Promise<Plan[]> {
  const problems: Problem[] = []
  const plans: Plan[] = []
  for (const host of hosts) {
    const parsed = runbook.vars ? runbook.vars.safeParse(host.vars) : { success: true as const, data: host.vars }
    if (!parsed.success) {
      for (const issue of (parsed.error as z.ZodError).issues) {
        const key = issue.path as (string | number)[]
        const at = varLocation(inventory, host, key) ?? inventory.locate(['hosts', host.name]) ?? { file: inventory.file, line: 1, col: 1 }
        problems.push({ ...at, message: `${host.name}: var ${key.join('.') || '(vars)'}: ${issue.message} (required by runbook ${runbook.name})` })
      }
      continue
    }
    const ctx = { host, vars: parsed.data, params, inventory, secret: (name: string) => inventory.secrets.get(name) }
    // A step that changes nothing (a verify) cannot cut anything, so it is never risky.
    const steps = (await building(runbook, host, () => runbook.steps(ctx))).map((s) => (runbook.risky && s.touches.length ? { ...s, risky: true } : s))
    const handlers = await building(runbook, host, () => (typeof runbook.handlers === 'function' ? runbook.handlers(ctx) : (runbook.handlers ?? {})))
    const names = new Set<string>()
    for (const s of [...steps, ...Object.values(handlers)]) {
      // Names key the journal's undo records, so `ferry rollback` can find each step again.
      if (names.has(s.name)) throw new RunbookError(`runbook ${runbook.name}: two steps are named "${s.name}" (for ${host.name}); step and handler names must be unique`)
      names.add(s.name)
    }
    plans.push({ host, steps, handlers })
  }
  if (problems.length) throw new InventoryError(problems)
  return plans
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
    throw new RunbookError(`runbook ${runbook.name}, host ${host.name}: ${err instanceof Error ? err.message : String(err)}`)
  }
}

export async function runPlans(plans: Plan[], opts: RunOptions, hooks: RunHooks): Promise<RunResult> {
  const result: RunResult = { hosts: [], notRun: [], rollbackFailed: false }
  const runners: HostRunner[] = []
  const size = batchSize(opts.serial, plans.length)
  const limit = opts.maxFail === undefined ? undefined : parsePercent(opts.maxFail)
  let stopped = false

  try {
    for (let at = 0; at < plans.length; at += size) {
      const batch = plans.slice(at, at + size)
      if (stopped || opts.signal?.aborted) {
        result.notRun.push(...batch.map((p) => p.host.name))
        continue
      }
      const outcomes = await mapLimit(batch, opts.forks, async ({ host, steps, handlers }) => {
        hooks.hostStarted?.(host)
        let transport: Transport | undefined
        let outcome: HostOutcome
        try {
          transport = await hooks.connect(host)
          const { reconnect } = hooks
          const runner = new HostRunner({
            host, $: transport.$, probe$: transport.probe$, steps, handlers, dryRun: opts.dryRun, signal: opts.signal,
            rollbackOnFailure: opts.rollback !== 'none', events: hooks.events?.(host), connect: hooks.connect,
            runId: opts.runId, lock: opts.lock,
            confirm: opts.confirmTimeout !== undefined && reconnect ? { timeout: opts.confirmTimeout, reconnect: () => reconnect(host) } : undefined,
          })
          outcome = await runner.execute()
          if (outcome.rollbackError) result.rollbackFailed = true
          runners.push(runner)
        } catch (err) {
          const unreachable = err instanceof UnreachableError
          outcome = { name: host.name, status: unreachable ? 'unreachable' : 'failed', steps: [], error: unreachable ? err.detail : (err as Error).message }
        }
        hooks.hostFinished?.(outcome, transport)
        return outcome
      })
      result.hosts.push(...outcomes)
      const failed = result.hosts.filter((h) => h.status !== 'ok' && h.status !== 'changed').length
      if (limit !== undefined && failed / result.hosts.length > limit) stopped = true
    }

    // `--rollback all`: one host's failure takes every host back, including those that finished.
    const anyFailed = result.hosts.some((h) => h.status === 'failed' || h.status === 'rolled-back' || h.status === 'unreachable' || h.status === 'reverted')
    if (opts.rollback === 'all' && anyFailed && !opts.dryRun) {
      for (const runner of runners) {
        if (runner.applied.length && !(await runner.rollback())) result.rollbackFailed = true
      }
    }
  } finally {
    // The locks go last, after any rollback: until then the hosts are still this run's.
    await Promise.all(runners.map((r) => r.release().catch(() => {})))
  }
  return result
}

function batchSize(serial: string | undefined, total: number): number {
  if (!serial) return Math.max(total, 1)
  const n = serial.endsWith('%') ? Math.ceil((total * parsePercent(serial))) : Number(serial)
  return Math.max(1, n)
}

function parsePercent(value: string): number {
  return Number(value.replace(/%$/, '')) / (value.endsWith('%') ? 100 : 1)
}
