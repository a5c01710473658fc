// What a drift check found: per host, per runbook step, whether it still matches its runbook.
// The formats (text, json, nagios, prometheus, junit) all render this one shape.

export type DriftStepStatus = 'in-sync' | 'drifted' | 'error'
export type DriftHostStatus = 'in-sync' | 'drifted' | 'error' | 'unreachable'

export interface DriftStep {
  runbook: string
  step: string
  status: DriftStepStatus
  /** For a drifted step: what changed, a unified diff for files or `old → new` lines otherwise. Secrets redacted. */
  diff?: string
  error?: string
  /** ISO time of the first check, in an unbroken series up to this one, that found this step drifted. */
  firstSeen?: string
}

export interface DriftHost {
  name: string
  status: DriftHostStatus
  /** Why the host could not be checked (unreachable) or failed as a whole. */
  error?: string
  /** Seconds the host's check took. */
  duration: number
  steps: DriftStep[]
}

export interface DriftReport {
  /** The journal's id for this check. */
  checkId: string
  /** ISO time the check started. */
  startedAt: string
  /** Seconds the whole check took. */
  duration: number
  runbooks: string[]
  hosts: DriftHost[]
}

export interface DriftSummary {
  hosts: number
  inSync: number
  drifted: number
  errors: number
  unreachable: number
  driftedSteps: number
}

export function summarize(report: DriftReport): DriftSummary {
  const count = (s: DriftHostStatus) => report.hosts.filter((h) => h.status === s).length
  return {
    hosts: report.hosts.length,
    inSync: count('in-sync'),
    drifted: count('drifted'),
    errors: count('error'),
    unreachable: count('unreachable'),
    driftedSteps: report.hosts.reduce((n, h) => n + h.steps.filter((s) => s.status === 'drifted').length, 0),
  }
}

/**
 * DESIGN.md's drift exit codes: 0 in sync, 2 drift, 1 error, 4 unreachable. When several apply,
 * an error wins (the check itself is in doubt), then drift (something to act on), then
 * unreachable hosts.
 */
export function exitCode(report: DriftReport): 0 | 1 | 2 | 4 {
  const s = summarize(report)
  return s.errors ? 1 : s.drifted ? 2 : s.unreachable ? 4 : 0
}
