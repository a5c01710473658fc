// What a run comes to, as the journal, the report, drift and the CLI read it: each step's and each
// host's outcome, the run's status, and its exit code. The rules are tables, read top down: the
// first that holds decides.

import { EXIT_USAGE } from '../inventory/errors.ts'
import type { Change } from '../steps/step.ts'

export type HostStatus = 'ok' | 'changed' | 'failed' | 'rolled-back' | 'unreachable' | 'reverted'
export type StepStatus = 'ok' | 'changed' | 'failed' | 'rolled-back' | 'skipped'
export type RunStatus = 'ok' | 'changed' | 'pending' | 'failed' | 'rolled-back' | 'reverted' | 'interrupted'

export interface StepOutcome {
  index: number
  name: string
  kind: string
  status: StepStatus
  changes: Change[]
  /** In a dry run, the commands the step would send (built-in step types only). */
  commands?: string[]
  error?: string
}

export interface HostOutcome {
  name: string
  status: HostStatus
  steps: StepOutcome[]
  error?: string
  /** Set when an undo failed: the host is in neither its old nor its new state. */
  rollbackError?: string
  /** Its risky changes were confirmed over a new connection, and the revert job disarmed. */
  confirmed?: boolean
}

/** Hosts by status, as `--format json`'s `summary` gives them. */
export type Summary = {
  ok: number
  changed: number
  failed: number
  unreachable: number
  rolledBack: number
  reverted: number
}

export function summarize(hosts: readonly HostOutcome[]): Summary {
  const count = (status: HostStatus) => hosts.filter((h) => h.status === status).length
  return {
    ok: count('ok'),
    changed: count('changed'),
    failed: count('failed'),
    unreachable: count('unreachable'),
    rolledBack: count('rolled-back'),
    reverted: count('reverted'),
  }
}

/** What else decides a run's status and exit code besides its hosts. */
export interface RunFacts {
  dryRun: boolean
  /** ^C or SIGTERM stopped it. */
  aborted: boolean
  /** An undo failed somewhere (exit 3 even where the host's status does not say so). */
  rollbackFailed: boolean
}

type Rule<T> = [when: (s: Summary, f: RunFacts) => boolean, then: T]
const decide = <T>(rules: Rule<T>[], s: Summary, f: RunFacts): T => rules.find(([when]) => when(s, f))![1]
const failed = (s: Summary) => s.failed + s.rolledBack > 0

const STATUS: Rule<RunStatus>[] = [
  [(_, f) => f.aborted, 'interrupted'],
  [(s) => s.reverted > 0, 'reverted'],
  [(s) => s.rolledBack > 0, 'rolled-back'],
  [(s) => s.failed > 0, 'failed'],
  [(s, f) => s.changed > 0 && f.dryRun, 'pending'],
  [(s) => s.changed > 0, 'changed'],
  [() => true, 'ok'],
]

/** The run's status, as the journal records it. */
export const runStatus = (s: Summary, f: RunFacts): RunStatus => decide(STATUS, s, f)

/** The exit codes of the CLI contract (DESIGN.md): `run` and `rollback`'s, and bad input's. */
export const EXIT = {
  ok: 0,
  failed: 1,
  pending: 2,
  rollbackFailed: 3,
  unreachable: 4,
  usage: EXIT_USAGE,
  interrupted: 130,
} as const

// A host that reverted itself is exit 3, as a failed rollback is: in neither case did the run
// leave the host as planned, nor put it back by its own undo.
const EXIT_RULES: Rule<number>[] = [
  [(_, f) => f.aborted, EXIT.interrupted],
  [(s, f) => f.rollbackFailed || s.reverted > 0, EXIT.rollbackFailed],
  [(s) => failed(s), EXIT.failed],
  [(s) => s.unreachable > 0, EXIT.unreachable],
  [(s, f) => f.dryRun && s.changed > 0, EXIT.pending],
  [() => true, EXIT.ok],
]

/** `ferry run`'s exit code. */
export const runExit = (s: Summary, f: RunFacts): number => decide(EXIT_RULES, s, f)
