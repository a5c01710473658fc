// A drift check: the plan half of a run, for every host of every given runbook, through the
// same batched probes and read-only transport as `ferry run --dry-run`. What a run would change
// is what has drifted; nothing is ever changed here.

import type { Inventory, Host } from '../inventory/types.ts'
import { selectHosts } from '../inventory/select.ts'
import type { Runbook } from '../runbook.ts'
import { buildSteps, type HostSteps } from '../engine/build.ts'
import { runHosts } from '../engine/run.ts'
import type { HostOutcome } from '../engine/outcome.ts'
import type { Transport } from '../transport/transport.ts'
import { RunbookError } from '../engine/load.ts'
import type { DriftHost, DriftStep } from './report.ts'

export interface DriftOptions {
  limit?: string
  forks: number
  connect(host: Host): Promise<Transport>
  signal?: AbortSignal
  redact(text: string): string
}

export interface DriftRunbook {
  hosts: HostSteps[]
  /** The runbook's params, its defaults: what a --fix run of it is journalled with. */
  params: unknown
}

/** Builds every runbook's hosts' steps; a runbook that needs params cannot be checked unattended. */
export async function buildChecks(
  inventory: Inventory,
  runbooks: Runbook[],
  limit: string | undefined,
): Promise<Map<Runbook, DriftRunbook>> {
  const checks = new Map<Runbook, DriftRunbook>()
  for (const runbook of runbooks) {
    if (typeof runbook.hosts === 'function' || runbook.prepare) {
      throw new RunbookError(
        `runbook ${runbook.name} chooses its hosts from params: it is a procedure, not a state to check for drift`,
      )
    }
    const parsed = runbook.params ? runbook.params.safeParse({}) : { success: true as const, data: {} }
    if (!parsed.success)
      throw new RunbookError(
        `runbook ${runbook.name} needs params (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}): drift checks runbooks that have defaults for all of them`,
      )
    const hosts = selectHosts(inventory, limit, runbook.hosts ?? 'all')
    // Checking nothing must not read as "all in sync".
    if (!hosts.length)
      throw new RunbookError(
        `runbook ${runbook.name} targets "${runbook.hosts ?? 'all'}", and with --limit ${limit ?? '(none)'} that selects no hosts`,
      )
    checks.set(runbook, { hosts: await buildSteps(runbook, inventory, hosts, parsed.data), params: parsed.data })
  }
  return checks
}

/** Checks every host of every runbook; one report entry per host, its steps tagged by runbook. */
export async function checkDrift(checks: Map<Runbook, DriftRunbook>, opts: DriftOptions): Promise<DriftHost[]> {
  const hosts = new Map<string, DriftHost>()
  for (const [runbook, { hosts: built }] of checks) {
    const started = new Map<string, number>()
    await runHosts(
      built,
      { dryRun: true, forks: opts.forks, rollback: 'none', signal: opts.signal },
      {
        connect: opts.connect,
        hostStarted: (host) => started.set(host.name, performance.now()),
        hostFinished: (outcome) =>
          merge(
            hosts,
            runbook.name,
            outcome,
            (performance.now() - (started.get(outcome.name) ?? performance.now())) / 1000,
            opts.redact,
          ),
      },
    )
  }
  return [...hosts.values()].sort((a, b) => naturalOrder(a.name, b.name))
}

/**
 * lab2 before lab10, and the same on every machine. Not localeCompare: starting ICU's collator
 * costs a command ~10 ms.
 */
export function naturalOrder(a: string, b: string): number {
  const [x, y] = [a.split(/(\d+)/), b.split(/(\d+)/)]
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const [p, q] = [x[i]!, y[i]!]
    if (p === q) continue
    // split() with a group puts the digit runs at the odd places.
    if (i % 2 === 1 && Number(p) !== Number(q)) return Number(p) - Number(q)
    return p < q ? -1 : 1
  }
  return x.length - y.length
}

function merge(
  hosts: Map<string, DriftHost>,
  runbook: string,
  outcome: HostOutcome,
  seconds: number,
  redact: (s: string) => string,
): void {
  const host = hosts.get(outcome.name) ?? { name: outcome.name, status: 'in-sync', duration: 0, steps: [] }
  hosts.set(outcome.name, host)
  host.duration += seconds
  if (
    outcome.status === 'unreachable' ||
    (outcome.status === 'failed' && !outcome.steps.some((s) => s.status !== 'skipped'))
  ) {
    // Nothing of this runbook could be looked at on the host.
    host.status = outcome.status === 'unreachable' ? 'unreachable' : worst(host.status, 'error')
    host.error = [host.error, redact(`${runbook}: ${outcome.error ?? outcome.status}`)].filter(Boolean).join('; ')
    return
  }
  // A step left unchecked (the host failed before reaching it) is neither in sync nor drifted.
  for (const s of outcome.steps.filter((x) => x.status !== 'skipped')) {
    const step: DriftStep = {
      runbook,
      step: redact(s.name),
      status: s.status === 'changed' ? 'drifted' : s.status === 'failed' ? 'error' : 'in-sync',
    }
    if (step.status === 'drifted') step.diff = redact(s.changes.map((c) => c.diff ?? c.summary).join('\n'))
    if (s.error) step.error = redact(s.error)
    host.steps.push(step)
    host.status = worst(host.status, step.status === 'in-sync' ? 'in-sync' : step.status)
  }
  if (outcome.status === 'failed' && outcome.error) {
    host.status = worst(host.status, 'error')
    host.error = [host.error, redact(`${runbook}: ${outcome.error}`)].filter(Boolean).join('; ')
  }
}

const RANK = { 'in-sync': 0, drifted: 1, error: 2, unreachable: 3 } as const
const worst = (a: DriftHost['status'], b: DriftHost['status']): DriftHost['status'] => (RANK[b] > RANK[a] ? b : a)
