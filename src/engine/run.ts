// A whole run across hosts, once every host's steps are built (build.ts): hosts run in parallel
// (at most `forks` at once), in `serial` batches, and the rollout stops once more than `maxFail`
// of the hosts so far have failed.

import type { Host } from '../inventory/types.ts'
import type { Transport } from '../transport/transport.ts'
import { UnreachableError } from '../transport/errors.ts'
import { mapLimit } from '../transport/slots.ts'
import type { HostSteps } from './build.ts'
import { HostRunner } from './host.ts'
import type { HostOutcome } from './outcome.ts'
import type { HostEvents } from './session.ts'

export type RollbackPolicy = 'host' | 'all' | 'none'

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

export async function runHosts(built: HostSteps[], opts: RunOptions, hooks: RunHooks): Promise<RunResult> {
  const result: RunResult = { hosts: [], notRun: [], rollbackFailed: false }
  const runners: HostRunner[] = []
  const size = batchSize(opts.serial, built.length)
  const limit = opts.maxFail === undefined ? undefined : parsePercent(opts.maxFail)
  let stopped = false

  try {
    for (let at = 0; at < built.length; at += size) {
      const batch = built.slice(at, at + size)
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
            host,
            $: transport.$,
            probe$: transport.probe$,
            steps,
            handlers,
            dryRun: opts.dryRun,
            signal: opts.signal,
            rollbackOnFailure: opts.rollback !== 'none',
            events: hooks.events?.(host),
            connect: hooks.connect,
            runId: opts.runId,
            lock: opts.lock,
            confirm:
              opts.confirmTimeout !== undefined && reconnect
                ? { timeout: opts.confirmTimeout, reconnect: () => reconnect(host) }
                : undefined,
          })
          outcome = await runner.execute()
          if (outcome.rollbackError) result.rollbackFailed = true
          runners.push(runner)
        } catch (err) {
          const unreachable = err instanceof UnreachableError
          outcome = {
            name: host.name,
            status: unreachable ? 'unreachable' : 'failed',
            steps: [],
            error: unreachable ? err.detail : (err as Error).message,
          }
        }
        hooks.hostFinished?.(outcome, transport)
        return outcome
      })
      result.hosts.push(...outcomes)
      const failed = result.hosts.filter((h) => h.status !== 'ok' && h.status !== 'changed').length
      if (limit !== undefined && failed / result.hosts.length > limit) stopped = true
    }

    // `--rollback all`: one host's failure takes every host back, including those that finished.
    const anyFailed = result.hosts.some(
      (h) =>
        h.status === 'failed' || h.status === 'rolled-back' || h.status === 'unreachable' || h.status === 'reverted',
    )
    if (opts.rollback === 'all' && anyFailed && !opts.dryRun) {
      for (const runner of runners) {
        if (runner.hasApplied() && !(await runner.rollback())) result.rollbackFailed = true
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
  const n = serial.endsWith('%') ? Math.ceil(total * parsePercent(serial)) : Number(serial)
  return Math.max(1, n)
}

function parsePercent(value: string): number {
  return Number(value.replace(/%$/, '')) / (value.endsWith('%') ? 100 : 1)
}
