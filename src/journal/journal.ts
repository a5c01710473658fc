// The run journal: one SQLite file on the controller with every run, each host's and step's
// result (diffs included), and the undo records that `--rollback` and `ferry rollback` replay.
//
// Durability: WAL with synchronous = FULL, and every write is its own transaction, so when a
// method returns its row is on disk. The engine records an undo entry *before* it changes a host;
// if the controller is then killed, the entry and a run still marked 'running' are what
// `ferry rollback` finds.
//
// Secrets: every text that goes in (params, argv, diffs, summaries, errors, undo records) passes
// through the `redact` given to open() first, so no secret the controller has resolved ever lands
// in the file. Redaction is one-way: an undo record must not need a secret's value to undo.

import Database from 'better-sqlite3'
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { homedir } from 'node:os'
import path from 'node:path'

// The statuses are the engine's vocabulary (DESIGN.md's JSON shape); the journal records them.
import type { HostStatus, StepStatus } from '../engine/outcome.ts'
import type { DriftHost, DriftHostStatus } from '../drift/report.ts'
export type { HostStatus, StepStatus }
/** 'running' until finishRun: a run still 'running' with no live controller died mid-apply. */
export type RunStatus =
  'running' | 'ok' | 'changed' | 'failed' | 'pending' | 'rolled-back' | 'interrupted' | 'reverted' | DriftHostStatus

export interface RunInfo {
  runbook: string
  runbookPath: string
  inventory: string
  limit?: string
  params: Record<string, unknown>
  dryRun: boolean
  argv: string[]
  /** A drift check is journalled as a run of kind 'drift'. */
  kind?: 'run' | 'drift'
}

export interface StepResult {
  name: string
  kind: string
  status: StepStatus
  changes?: { summary: string; diff?: string }[]
  error?: string
}

export interface UndoEntry {
  host: string
  index: number
  step: string
  kind: string
  record: unknown
  undone: boolean
}

export interface RunSummary {
  id: string
  runbook: string
  inventory: string
  /** ISO 8601, UTC. */
  started: string
  finished?: string
  status: RunStatus
  dryRun: boolean
  /**
   * What finishRun recorded; for a run that never finished, host statuses counted so far.
   * Keys follow `--format json`: ok, changed, failed, unreachable, rolledBack, reverted.
   */
  summary: Record<string, number>
  /** The controller's process id, to tell a run in progress from one whose controller died. */
  pid: number
}

/**
 * Whether a run's controller is still alive. EPERM means the process exists under another user
 * (a root run seen by a normal one): alive, so nothing treats its run as abandoned.
 */
export function controllerAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface StepDetail extends Required<Pick<StepResult, 'name' | 'kind' | 'status' | 'changes'>> {
  index: number
  error?: string
}

export interface HostDetail {
  name: string
  /** Unset while the host is still being worked on (or its controller died). */
  status?: HostStatus
  error?: string
  steps: StepDetail[]
}

export interface RunDetail extends RunSummary, Omit<RunInfo, 'runbook' | 'inventory' | 'dryRun'> {
  hosts: HostDetail[]
  /** In order of application. */
  undo: UndoEntry[]
}

export const JOURNAL_FILE = 'journal.db'

/** `$FERRY_STATE_DIR`, else `$XDG_STATE_HOME/ferry`, else `~/.local/state/ferry`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FERRY_STATE_DIR) return path.resolve(env.FERRY_STATE_DIR)
  const xdg = env.XDG_STATE_HOME
  // The XDG spec says a relative value is invalid and must be ignored.
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.local/state'), 'ferry')
}

export function journalPath(stateDir: string): string {
  return path.join(stateDir, JOURNAL_FILE)
}

// Schema migrations: entry i takes user_version i to i + 1. Append, never edit a shipped one.
const MIGRATIONS = [
  `
  CREATE TABLE IF NOT EXISTS runs (
    id           TEXT PRIMARY KEY,
    runbook      TEXT NOT NULL,
    runbook_path TEXT NOT NULL,
    inventory    TEXT NOT NULL,
    limit_hosts  TEXT,
    params       TEXT NOT NULL,           -- JSON
    dry_run      INTEGER NOT NULL,
    argv         TEXT NOT NULL,           -- JSON
    pid          INTEGER NOT NULL,
    started      TEXT NOT NULL,
    finished     TEXT,
    status       TEXT NOT NULL DEFAULT 'running',
    summary      TEXT                     -- JSON, set by finishRun
  );
  CREATE INDEX IF NOT EXISTS runs_status ON runs (status);
  CREATE TABLE IF NOT EXISTS hosts (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    host   TEXT NOT NULL,
    status TEXT,
    error  TEXT,
    PRIMARY KEY (run_id, host)
  );
  CREATE TABLE IF NOT EXISTS steps (
    run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    host    TEXT NOT NULL,
    idx     INTEGER NOT NULL,
    name    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    status  TEXT NOT NULL,
    changes TEXT NOT NULL,                -- JSON: [{ summary, diff? }]
    error   TEXT,
    PRIMARY KEY (run_id, host, idx)
  );
  CREATE TABLE IF NOT EXISTS undo (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,  -- order of application
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    host   TEXT NOT NULL,
    idx    INTEGER NOT NULL,
    step   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    record TEXT NOT NULL,                 -- JSON
    undone INTEGER NOT NULL DEFAULT 0,
    UNIQUE (run_id, host, idx)
  );
  `,
  // Drift checks are runs too (so `ferry history` lists them), of kind 'drift'; each drifted
  // step remembers since when it has been drifted.
  `
  ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'run';
  ALTER TABLE steps ADD COLUMN first_seen TEXT;
  CREATE INDEX IF NOT EXISTS steps_host_name ON steps (host, name);
  `,
]

interface RunRow {
  id: string
  runbook: string
  runbook_path: string
  inventory: string
  limit_hosts: string | null
  params: string
  dry_run: number
  argv: string
  pid: number
  started: string
  finished: string | null
  status: RunStatus
  summary: string | null
}

interface UndoRow {
  host: string
  idx: number
  step: string
  kind: string
  record: string
  undone: number
}

const SUMMARY_KEY: Record<HostStatus, string> = {
  ok: 'ok',
  changed: 'changed',
  failed: 'failed',
  unreachable: 'unreachable',
  'rolled-back': 'rolledBack',
  reverted: 'reverted',
}

export class Journal {
  private constructor(
    private readonly db: Database.Database,
    private readonly redact: (text: string) => string,
  ) {}

  /** Opens (creating if need be: the directory 0700, the file 0600) `<stateDir>/journal.db`. */
  static open(stateDir: string, redact: (text: string) => string): Journal {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 })
    const file = journalPath(stateDir)
    // Create the file ourselves so it is born 0600; SQLite gives -wal and -shm the same mode.
    closeSync(openSync(file, 'a', 0o600))
    const db = new Database(file)
    try {
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = FULL')
      db.pragma('foreign_keys = ON')
      db.pragma('busy_timeout = 5000') // a drift timer and a run may share the journal
      migrate(db)
    } catch (err) {
      db.close()
      throw err
    }
    return new Journal(db, redact)
  }

  startRun(info: RunInfo): string {
    const now = new Date()
    const insert = this.db.prepare(
      `INSERT INTO runs (id, runbook, runbook_path, inventory, limit_hosts, params, dry_run, argv, pid, started, kind)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const id = runId(now)
    insert.run(
      id,
      this.text(info.runbook),
      this.text(info.runbookPath),
      this.text(info.inventory),
      info.limit === undefined ? null : this.text(info.limit),
      this.json(info.params),
      info.dryRun ? 1 : 0,
      this.json(info.argv),
      process.pid,
      now.toISOString(),
      info.kind ?? 'run',
    )
    return id
  }

  setHost(runId: string, host: string, status: HostStatus, error?: string): void {
    this.db
      .prepare(
        `INSERT INTO hosts (run_id, host, status, error) VALUES (?, ?, ?, ?)
         ON CONFLICT (run_id, host) DO UPDATE SET status = excluded.status, error = excluded.error`,
      )
      .run(runId, host, status, this.optional(error))
  }

  /** Several steps of one host in one transaction (one fsync). */
  setSteps(runId: string, host: string, steps: (StepResult & { index: number })[]): void {
    const insert = this.db.prepare(
      `INSERT INTO steps (run_id, host, idx, name, kind, status, changes, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, host, idx) DO UPDATE SET
         name = excluded.name, kind = excluded.kind, status = excluded.status,
         changes = excluded.changes, error = excluded.error`,
    )
    this.db.transaction(() => {
      this.touchHost(runId, host)
      for (const step of steps) {
        const changes = (step.changes ?? []).map((c) =>
          c.diff === undefined ? { summary: c.summary } : { summary: c.summary, diff: c.diff },
        )
        insert.run(
          runId,
          host,
          step.index,
          this.text(step.name),
          step.kind,
          step.status,
          this.json(changes),
          this.optional(step.error),
        )
      }
    })()
  }

  /** Durable when it returns. Recording the same step again replaces its record (and un-marks it). */
  recordUndo(runId: string, host: string, index: number, step: string, kind: string, record: unknown): void {
    this.db.transaction(() => {
      this.touchHost(runId, host)
      this.db
        .prepare(
          `INSERT INTO undo (run_id, host, idx, step, kind, record) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, host, idx) DO UPDATE SET
             step = excluded.step, kind = excluded.kind, record = excluded.record, undone = 0`,
        )
        .run(runId, host, index, this.text(step), kind, this.json(record))
    })()
  }

  markUndone(runId: string, host: string, index: number): void {
    const { changes } = this.db
      .prepare('UPDATE undo SET undone = 1 WHERE run_id = ? AND host = ? AND idx = ?')
      .run(runId, host, index)
    if (changes === 0) throw new Error(`journal: run ${runId} has no undo record for ${host} step ${index}`)
  }

  finishRun(runId: string, status: Exclude<RunStatus, 'running'>, summary: Record<string, number>): void {
    const { changes } = this.db
      .prepare('UPDATE runs SET status = ?, finished = ?, summary = ? WHERE id = ?')
      .run(status, new Date().toISOString(), JSON.stringify(summary), runId)
    if (changes === 0) throw new Error(`journal: no run ${runId}`)
  }

  /**
   * Stores a drift check's findings, one transaction for all hosts, and fills in each drifted
   * step's firstSeen: carried over from the last check that saw the step on this inventory when
   * it was drifted then too, else now.
   */
  recordDrift(checkId: string, inventory: string, hosts: DriftHost[], now: string): void {
    const previous = this.db.prepare<
      [string, string, string, string],
      { status: string; first_seen: string | null; started: string }
    >(
      `SELECT s.status, s.first_seen, r.started FROM steps s JOIN runs r ON r.id = s.run_id
       WHERE r.kind = 'drift' AND r.inventory = ? AND s.host = ? AND s.name = ? AND r.id != ?
       ORDER BY r.started DESC, r.rowid DESC LIMIT 1`,
    )
    const host = this.db.prepare('INSERT INTO hosts (run_id, host, status, error) VALUES (?, ?, ?, ?)')
    const step = this.db.prepare(
      'INSERT INTO steps (run_id, host, idx, name, kind, status, changes, error, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    this.db.transaction(() => {
      for (const h of hosts) {
        host.run(checkId, h.name, h.status, this.optional(h.error))
        h.steps.forEach((st, i) => {
          const name = this.text(`${st.runbook} › ${st.step}`)
          if (st.status === 'drifted') {
            const before = previous.get(this.text(inventory), h.name, name, checkId)
            st.firstSeen = before?.status === 'drifted' ? (before.first_seen ?? before.started) : now
          }
          const changes = st.diff === undefined ? [] : [{ summary: 'drifted', diff: st.diff }]
          step.run(
            checkId,
            h.name,
            i,
            name,
            'drift',
            st.status,
            this.json(changes),
            this.optional(st.error),
            st.firstSeen ?? null,
          )
        })
      }
    })()
  }

  /** The latest finished drift check of this inventory and runbooks before `checkId`: how many hosts had drifted. */
  previousDrift(inventory: string, runbook: string, checkId: string): { drifted: number } | undefined {
    const row = this.db
      .prepare<[string, string, string], { summary: string | null }>(
        `SELECT summary FROM runs WHERE kind = 'drift' AND inventory = ? AND runbook = ? AND id != ? AND finished IS NOT NULL
         ORDER BY started DESC, rowid DESC LIMIT 1`,
      )
      .get(this.text(inventory), this.text(runbook), checkId)
    // Drift checks' summaries count drifted hosts under `changed`, as runs count changed ones.
    return row && { drifted: Number((JSON.parse(row.summary ?? '{}') as { changed?: number }).changed ?? 0) }
  }

  /** Newest first. */
  runs(limit = 20): RunSummary[] {
    return this.db
      .prepare<[number], RunRow>('SELECT * FROM runs ORDER BY started DESC, rowid DESC LIMIT ?')
      .all(limit)
      .map((r) => this.summaryOf(r))
  }

  /** Runs still 'running', oldest first: in progress elsewhere, or their controller died. */
  unfinished(): RunSummary[] {
    return this.db
      .prepare<[], RunRow>(`SELECT * FROM runs WHERE status = 'running' ORDER BY started, rowid`)
      .all()
      .map((r) => this.summaryOf(r))
  }

  show(runId: string): RunDetail | undefined {
    const row = this.db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = ?').get(runId)
    if (!row) return undefined
    const hosts = this.db
      .prepare<[string], { host: string; status: HostStatus | null; error: string | null }>(
        'SELECT host, status, error FROM hosts WHERE run_id = ? ORDER BY rowid',
      )
      .all(runId)
    const steps = this.db.prepare<
      [string, string],
      { idx: number; name: string; kind: string; status: StepStatus; changes: string; error: string | null }
    >('SELECT idx, name, kind, status, changes, error FROM steps WHERE run_id = ? AND host = ? ORDER BY idx')
    return {
      ...this.summaryOf(row),
      runbookPath: row.runbook_path,
      ...(row.limit_hosts === null ? {} : { limit: row.limit_hosts }),
      params: JSON.parse(row.params) as Record<string, unknown>,
      argv: JSON.parse(row.argv) as string[],
      hosts: hosts.map((h) => ({
        name: h.host,
        ...(h.status === null ? {} : { status: h.status }),
        ...(h.error === null ? {} : { error: h.error }),
        steps: steps.all(runId, h.host).map((s) => ({
          index: s.idx,
          name: s.name,
          kind: s.kind,
          status: s.status,
          changes: JSON.parse(s.changes) as StepDetail['changes'],
          ...(s.error === null ? {} : { error: s.error }),
        })),
      })),
      undo: this.db
        .prepare<[string], UndoRow>('SELECT * FROM undo WHERE run_id = ? ORDER BY seq')
        .all(runId)
        .map(undoEntry),
    }
  }

  /** Records not yet undone, last applied first: what a rollback must undo, in that order. */
  pendingUndo(runId: string, host?: string): UndoEntry[] {
    const rows =
      host === undefined
        ? this.db
            .prepare<[string], UndoRow>('SELECT * FROM undo WHERE run_id = ? AND undone = 0 ORDER BY seq DESC')
            .all(runId)
        : this.db
            .prepare<[string, string], UndoRow>(
              'SELECT * FROM undo WHERE run_id = ? AND host = ? AND undone = 0 ORDER BY seq DESC',
            )
            .all(runId, host)
    return rows.map(undoEntry)
  }

  close(): void {
    this.db.close()
  }

  private summaryOf(r: RunRow): RunSummary {
    return {
      id: r.id,
      runbook: r.runbook,
      inventory: r.inventory,
      started: r.started,
      ...(r.finished === null ? {} : { finished: r.finished }),
      status: r.status,
      dryRun: r.dry_run === 1,
      summary: r.summary === null ? this.hostCounts(r.id) : (JSON.parse(r.summary) as Record<string, number>),
      pid: r.pid,
    }
  }

  private hostCounts(runId: string): Record<string, number> {
    const rows = this.db
      .prepare<[string], { status: HostStatus; n: number }>(
        'SELECT status, count(*) AS n FROM hosts WHERE run_id = ? AND status IS NOT NULL GROUP BY status',
      )
      .all(runId)
    return Object.fromEntries(rows.map((r) => [SUMMARY_KEY[r.status] ?? r.status, r.n]))
  }

  /** A host row with no status yet, so show() lists a host whose controller died mid-way. */
  private touchHost(runId: string, host: string): void {
    this.db.prepare('INSERT OR IGNORE INTO hosts (run_id, host) VALUES (?, ?)').run(runId, host)
  }

  private text(s: string): string {
    return this.redact(s)
  }

  private optional(s: string | undefined): string | null {
    return s === undefined ? null : this.redact(s)
  }

  /** Every string inside (keys too) is redacted before serialising, and the JSON text after. */
  private json(value: unknown): string {
    return this.redact(JSON.stringify(redactDeep(value, this.redact)) ?? 'null')
  }
}

function redactDeep(value: unknown, redact: (s: string) => string): unknown {
  if (typeof value === 'string') return redact(value)
  if (value === null || typeof value !== 'object') return value
  // Let toJSON (Date, Buffer) pick the representation first, so its strings get redacted too.
  const plain =
    typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : value
  if (plain !== value) return redactDeep(plain, redact)
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact))
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redactDeep(v, redact)]))
}

function undoEntry(r: UndoRow): UndoEntry {
  return {
    host: r.host,
    index: r.idx,
    step: r.step,
    kind: r.kind,
    record: JSON.parse(r.record) as unknown,
    undone: r.undone === 1,
  }
}

/**
 * `20261121-121530-3f9a0c6e1b2d7485`: UTC time, then 64 random bits. Sorts by time to the second.
 * A host's lock admits the run holding it, by id, so no two runs, from this controller or another,
 * may share one: 16 random bits were as likely as not to collide among 300 runs started in one
 * second, 64 bits among 5 billion. Ids are looked up whole, so the old, shorter ones still work.
 */
function runId(now: Date): string {
  const t = now.toISOString() // 2026-11-21T12:15:30.123Z
  return `${t.slice(0, 10).replaceAll('-', '')}-${t.slice(11, 19).replaceAll(':', '')}-${randomBytes(8).toString('hex')}`
}

function migrate(db: Database.Database): void {
  // IMMEDIATE takes the write lock first, so two controllers opening a fresh journal at once
  // cannot both run a migration.
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number
    if (version > MIGRATIONS.length) {
      throw new Error(
        `journal: schema version ${version} was written by a newer ferry (this one knows ${MIGRATIONS.length})`,
      )
    }
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!)
    if (version !== MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`)
  }).immediate()
}
