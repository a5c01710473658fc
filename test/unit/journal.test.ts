// The run journal against a real SQLite file in a temp dir.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { Journal, defaultStateDir, type RunInfo } from '../../src/journal/journal.ts'
import { historyCommand, renderRun, renderRuns } from '../../src/cli/history.ts'
import { colorDiff } from '../../src/report/diff.ts'
import { UsageError } from '../../src/cli/exit.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const identity = (s: string) => s

const INFO: RunInfo = {
  runbook: 'deploy-mesh',
  runbookPath: 'runbooks/deploy-mesh.ts',
  inventory: 'prod',
  limit: 'dc1',
  params: { jail: 'www' },
  dryRun: false,
  argv: ['ferry', 'run', 'deploy-mesh', '-i', 'prod'],
}

const DIFF =
  '--- a/etc/frr/frr.conf\n+++ b/etc/frr/frr.conf\n@@ -1,2 +1,2 @@\n hostname r1\n-router ospf\n+router ospf6\n'

let dir: string
let journal: Journal | undefined

beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'ferry-journal-')), 'state')
})

afterEach(() => {
  journal?.close()
  journal = undefined
  rmSync(join(dir, '..'), { recursive: true, force: true })
})

function open(redact = identity): Journal {
  journal = Journal.open(dir, redact)
  return journal
}

describe('defaultStateDir', () => {
  it('honours FERRY_STATE_DIR, then an absolute XDG_STATE_HOME, then ~/.local/state', () => {
    expect(defaultStateDir({ FERRY_STATE_DIR: '/x/y', XDG_STATE_HOME: '/s' })).toBe('/x/y')
    expect(defaultStateDir({ XDG_STATE_HOME: '/s' })).toBe('/s/ferry')
    expect(defaultStateDir({ XDG_STATE_HOME: 'relative' })).toMatch(/\.local\/state\/ferry$/)
    expect(defaultStateDir({})).toMatch(/\.local\/state\/ferry$/)
  })
})

describe('journal', () => {
  it('creates the state dir 0700 and journal.db 0600, in WAL mode with a schema version', () => {
    open()
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(statSync(join(dir, 'journal.db')).mode & 0o777).toBe(0o600)
    journal!.startRun(INFO) // the first write creates the WAL
    expect(statSync(join(dir, 'journal.db-wal')).mode & 0o777).toBe(0o600)
    journal!.close()
    journal = undefined
    const raw = readFileSync(join(dir, 'journal.db'))
    expect(raw.readUInt32BE(60)).toBe(2) // user_version: two migrations
    expect(raw[18]).toBe(2) // file format 2: WAL
    open() // reopening an up-to-date journal migrates nothing and loses nothing
    expect(journal!.runs()).toHaveLength(1)
  })

  it('records a run from start to finish', () => {
    const j = open()
    const id = j.startRun(INFO)
    expect(id).toMatch(/^\d{8}-\d{6}-[0-9a-f]{16}$/)
    expect(j.unfinished().map((r) => r.id)).toEqual([id])
    expect(j.runs()[0]).toMatchObject({ id, status: 'running', summary: {}, pid: process.pid })

    j.setSteps(id, 'r1', [{ index: 0, name: 'install frr', kind: 'package', status: 'ok' }])
    j.setSteps(id, 'r1', [
      {
        index: 1,
        name: '/etc/frr/frr.conf',
        kind: 'file',
        status: 'changed',
        changes: [{ summary: 'content', diff: DIFF }],
      },
    ])
    j.setHost(id, 'r1', 'changed')
    j.setHost(id, 'r2', 'unreachable', 'connect ECONNREFUSED')
    // A running run's counts come from its hosts so far.
    expect(j.runs()[0]!.summary).toEqual({ changed: 1, unreachable: 1 })

    j.finishRun(id, 'changed', { ok: 0, changed: 1, failed: 0, unreachable: 1, rolledBack: 0 })
    expect(j.unfinished()).toEqual([])
    const [run] = j.runs()
    expect(run).toMatchObject({ id, runbook: 'deploy-mesh', inventory: 'prod', status: 'changed', dryRun: false })
    expect(run!.summary).toEqual({ ok: 0, changed: 1, failed: 0, unreachable: 1, rolledBack: 0 })
    expect(Date.parse(run!.finished!)).toBeGreaterThanOrEqual(Date.parse(run!.started))

    const detail = j.show(id)!
    expect(detail).toMatchObject({
      runbookPath: 'runbooks/deploy-mesh.ts',
      limit: 'dc1',
      params: { jail: 'www' },
      argv: INFO.argv,
    })
    expect(detail.hosts).toEqual([
      {
        name: 'r1',
        status: 'changed',
        steps: [
          { index: 0, name: 'install frr', kind: 'package', status: 'ok', changes: [] },
          {
            index: 1,
            name: '/etc/frr/frr.conf',
            kind: 'file',
            status: 'changed',
            changes: [{ summary: 'content', diff: DIFF }],
          },
        ],
      },
      { name: 'r2', status: 'unreachable', error: 'connect ECONNREFUSED', steps: [] },
    ])
    expect(j.show('20000101-000000-0000')).toBeUndefined()
  })

  it('draws 64 random bits per run id, so that two runs never share one (a host lock admits its run by id)', () => {
    const j = open()
    const ids = Array.from({ length: 200 }, () => j.startRun(INFO))
    expect(new Set(ids).size).toBe(200)
    for (const id of ids) expect(id).toMatch(/^\d{8}-\d{6}-[0-9a-f]{16}$/)
  })

  it('still finds runs recorded with the old 4-digit ids, for history show and rollback', () => {
    const j = open()
    const id = j.startRun(INFO)
    j.recordUndo(id, 'r1', 0, 'f', 'file', { existed: false })
    j.close()
    journal = undefined
    // Renamed to an id as an older ferry drew them.
    const db = new Database(join(dir, 'journal.db'))
    db.pragma('foreign_keys = OFF')
    db.prepare('UPDATE runs SET id = ? WHERE id = ?').run('20261121-121530-3f9a', id)
    db.prepare('UPDATE undo SET run_id = ? WHERE run_id = ?').run('20261121-121530-3f9a', id)
    db.close()
    const again = open()
    expect(again.show('20261121-121530-3f9a')).toMatchObject({
      id: '20261121-121530-3f9a',
      undo: [{ host: 'r1', step: 'f' }],
    })
    expect(again.pendingUndo('20261121-121530-3f9a')).toHaveLength(1)
  })

  it('lists runs newest first, up to a limit', () => {
    const j = open()
    const ids = [1, 2, 3].map(() => j.startRun({ ...INFO, dryRun: true }))
    expect(new Set(ids).size).toBe(3)
    expect(j.runs().map((r) => r.id)).toEqual(ids.reverse())
    expect(j.runs(2)).toHaveLength(2)
    expect(j.runs()[0]!.dryRun).toBe(true)
  })

  it('gives pending undo records last-applied first, per host or for the whole run', () => {
    const j = open()
    const id = j.startRun(INFO)
    j.recordUndo(id, 'r1', 0, 'pkg', 'package', { installed: false })
    j.recordUndo(id, 'r2', 0, 'pkg', 'package', { installed: false })
    j.recordUndo(id, 'r1', 1, 'conf', 'file', { existed: true, backup: '/var/backups/x' })
    j.recordUndo(id, 'r1', 2, 'svc', 'service', { running: false })

    const order = (host?: string) => j.pendingUndo(id, host).map((u) => `${u.host}#${u.index}`)
    expect(order()).toEqual(['r1#2', 'r1#1', 'r2#0', 'r1#0'])
    expect(order('r1')).toEqual(['r1#2', 'r1#1', 'r1#0'])
    expect(j.pendingUndo(id, 'r1')[1]).toEqual({
      host: 'r1',
      index: 1,
      step: 'conf',
      kind: 'file',
      record: { existed: true, backup: '/var/backups/x' },
      undone: false,
    })

    j.markUndone(id, 'r1', 2)
    expect(order('r1')).toEqual(['r1#1', 'r1#0'])
    expect(j.show(id)!.undo.map((u) => [`${u.host}#${u.index}`, u.undone])).toEqual([
      ['r1#0', false],
      ['r2#0', false],
      ['r1#1', false],
      ['r1#2', true],
    ])
    expect(() => j.markUndone(id, 'r1', 9)).toThrow(/no undo record/)
    expect(j.pendingUndo(id, 'nosuchhost')).toEqual([])
    // A host that only has undo records (its controller died before any setStep) is still listed.
    expect(j.show(id)!.hosts.map((h) => [h.name, h.status])).toEqual([
      ['r1', undefined],
      ['r2', undefined],
    ])
  })

  it('never writes a secret to the db or its WAL', () => {
    const secrets = ['sup3r-s3cret-md5-key', 'pa"ss\\wo\nrd-42']
    const redact = (s: string) => secrets.reduce((t, x) => t.split(x).join('<secret>'), s)
    const j = open(redact)
    const [s1, s2] = secrets as [string, string]
    const id = j.startRun({
      ...INFO,
      params: { key: s1, nested: { list: [s2] }, [s1]: 1 },
      argv: ['ferry', '--param', `key=${s1}`],
    })
    j.setSteps(id, 'r1', [
      {
        index: 0,
        name: 'ospfd.conf',
        kind: 'file',
        status: 'failed',
        changes: [
          { summary: `auth key → ${s1}`, diff: `-  message-digest-key 1 md5 old\n+  message-digest-key 1 md5 ${s1}\n` },
        ],
        error: `ospfd -n: bad key ${s2}`,
      },
    ])
    j.setHost(id, 'r1', 'failed', `step failed: ${s1}`)
    j.recordUndo(id, 'r1', 0, 'ospfd.conf', 'file', { previous: `key ${s1}`, argv: [s2], [s2]: true })

    const files = () =>
      ['journal.db', 'journal.db-wal'].filter((f) => existsSync(join(dir, f))).map((f) => readFileSync(join(dir, f)))
    const leaks = (bufs: Buffer[]) =>
      secrets
        .flatMap((s) => [s, JSON.stringify(s).slice(1, -1)])
        .filter((needle) => bufs.some((b) => b.includes(needle)))
    const before = files()
    expect(before.length).toBe(2) // the rows are in the WAL until a checkpoint
    expect(before.some((b) => b.includes('message-digest-key 1 md5 <secret>'))).toBe(true) // sanity: the search sees the data
    expect(leaks(before)).toEqual([])
    j.close()
    journal = undefined
    expect(leaks(files())).toEqual([]) // after the checkpoint into journal.db

    const detail = open().show(id)!
    expect(detail.params).toEqual({ key: '<secret>', nested: { list: ['<secret>'] }, '<secret>': 1 })
    expect(detail.undo[0]!.record).toEqual({ previous: 'key <secret>', argv: ['<secret>'], '<secret>': true })
  })

  it('survives a controller SIGKILLed right after recordUndo returns', async () => {
    // The child opens the journal, starts a run, records an undo entry and kills itself: no
    // finishRun, no close, no checkpoint.
    const script = `
      import { createJiti } from 'jiti'
      const jiti = createJiti(${JSON.stringify(join(ROOT, 'bin/ferry.mjs'))})
      const { Journal } = await jiti.import('../src/journal/journal.ts')
      const j = Journal.open(process.argv[1], (s) => s)
      const id = j.startRun({ runbook: 'rb', runbookPath: 'rb.ts', inventory: 'lab', params: {}, dryRun: false, argv: [] })
      j.setSteps(id, 'r1', [{ index: 0, name: 'conf', kind: 'file', status: 'changed' }])
      j.recordUndo(id, 'r1', 1, 'svc', 'service', { wasRunning: false })
      process.stdout.write(id + '\\n', () => process.kill(process.pid, 'SIGKILL'))
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const signal = await new Promise((done) => child.on('close', (_code, sig) => done(sig)))
    expect(stderr).toBe('')
    expect(signal).toBe('SIGKILL')
    const id = stdout.trim()
    expect(existsSync(join(dir, 'journal.db-wal'))).toBe(true) // left behind by the dead controller

    const j = open()
    expect(j.unfinished().map((r) => [r.id, r.status])).toEqual([[id, 'running']])
    expect(j.pendingUndo(id)).toEqual([
      { host: 'r1', index: 1, step: 'svc', kind: 'service', record: { wasRunning: false }, undone: false },
    ])
    expect(j.show(id)!.hosts[0]!.steps[0]!.status).toBe('changed')
  }, 30_000)
})

describe('ferry history', () => {
  let out: string
  beforeEach(() => {
    out = ''
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk)
      return true
    })
  })
  afterEach(() => vi.restoreAllMocks())

  function history(...args: string[]) {
    const cmd = historyCommand().exitOverride()
    for (const c of [cmd, ...cmd.commands]) c.configureOutput({ writeErr: () => {} })
    return cmd.parseAsync([...args, '--state-dir', dir], { from: 'user' })
  }

  function seed(): { finished: string; dead: string } {
    const j = open()
    const finished = j.startRun(INFO)
    j.setSteps(finished, 'r1', [
      {
        index: 0,
        name: '/etc/frr/frr.conf',
        kind: 'file',
        status: 'changed',
        changes: [{ summary: 'content', diff: DIFF }],
      },
    ])
    j.setSteps(finished, 'r1', [
      {
        index: 1,
        name: 'verify ospf',
        kind: 'verify',
        status: 'failed',
        error: 'neighbour 10.0.0.2 not Full after 60s',
      },
    ])
    j.setHost(finished, 'r1', 'rolled-back')
    j.setHost(finished, 'r2', 'ok')
    j.recordUndo(finished, 'r1', 0, '/etc/frr/frr.conf', 'file', { backup: '/var/backups/frr.conf' })
    j.markUndone(finished, 'r1', 0)
    j.finishRun(finished, 'failed', { ok: 1, changed: 0, failed: 1, unreachable: 0, rolledBack: 1 })
    const dead = j.startRun({ ...INFO, runbook: 'migrate-jail', dryRun: true })
    j.close()
    journal = undefined
    return { finished, dead }
  }

  it('says so when there is no journal yet, without creating one', async () => {
    await history()
    expect(out).toContain('No runs recorded yet')
    expect(existsSync(dir)).toBe(false)
    out = ''
    await history('--json')
    expect(JSON.parse(out)).toEqual({ runs: [] })
  })

  it('lists runs as a table, newest first', async () => {
    const { finished, dead } = seed()
    await history()
    const lines = out.trimEnd().split('\n')
    expect(lines[0]).toMatch(
      /^ID\s+STARTED \(UTC\)\s+RUNBOOK\s+INVENTORY\s+DRY-RUN\s+STATUS\s+OK\s+CHANGED\s+FAILED\s+UNREACHABLE$/,
    )
    expect(lines[1]).toMatch(
      new RegExp(
        `^${dead}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+migrate-jail\\s+prod\\s+yes\\s+running\\s+0\\s+0\\s+0\\s+0$`,
      ),
    )
    expect(lines[2]).toMatch(new RegExp(`^${finished}\\s.*deploy-mesh\\s+prod\\s+no\\s+failed\\s+1\\s+0\\s+1\\s+0$`))
    expect(renderRuns([], '/x/journal.db')).toContain('/x/journal.db')
  })

  it('--json and --limit', async () => {
    const { dead } = seed()
    await history('--json', '--limit', '1')
    const { runs } = JSON.parse(out)
    expect(runs).toHaveLength(1)
    expect(runs[0]).toMatchObject({ id: dead, runbook: 'migrate-jail', status: 'running', dryRun: true })
    await expect(history('--limit', '0')).rejects.toThrow(/whole number/)
  })

  it('show prints each host with its steps, diffs and undo records', async () => {
    const { finished } = seed()
    await history('show', finished)
    expect(out).toContain(`run ${finished}: deploy-mesh on prod --limit dc1`)
    expect(out).toContain('status    failed')
    expect(out).toMatch(/^r1: rolled-back$/m)
    expect(out).toMatch(/^  changed {2}\/etc\/frr\/frr\.conf \[file\]$/m)
    expect(out).toContain('        -router ospf\n        +router ospf6\n')
    expect(out).toContain('error: neighbour 10.0.0.2 not Full after 60s')
    expect(out).toMatch(/^r2: ok$/m)
    expect(out).toContain('(0 of 1 not undone)')
    expect(out).toMatch(/^ {2}undone {3}r1 {2}#0 \/etc\/frr\/frr\.conf \[file\]$/m)
    expect(out).not.toContain('\x1b[') // stdout is not a TTY here
  })

  it('show --json gives the whole run; --state-dir may come before show', async () => {
    const { dead } = seed()
    await historyCommand().parseAsync(['--state-dir', dir, 'show', dead, '--json'], { from: 'user' })
    expect(JSON.parse(out)).toMatchObject({ id: dead, status: 'running', dryRun: true, hosts: [], undo: [] })
  })

  it('show marks a run still running as in progress', async () => {
    const { dead } = seed()
    await history('show', dead)
    expect(out).toContain(`running (controller pid ${process.pid} is still running)`)
  })

  it('an unknown run id is a usage error that lists the latest runs', async () => {
    const { finished, dead } = seed()
    const err = await history('show', 'nope').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UsageError)
    expect((err as Error).message).toMatch(
      new RegExp(`no run "nope" in .*journal\\.db\\. Latest runs:\\n  ${dead} .*\\n  ${finished} `),
    )
  })

  it('a missing run id is a commander error, not a process.exit', async () => {
    await expect(history('show')).rejects.toMatchObject({ code: 'commander.missingArgument', exitCode: 1 })
  })

  it('--help has examples', async () => {
    let help = ''
    const cmd = historyCommand()
      .exitOverride()
      .configureOutput({ writeOut: (s) => (help += s) })
    await expect(cmd.parseAsync(['--help'], { from: 'user' })).rejects.toMatchObject({ exitCode: 0 })
    expect(help).toContain('Examples:')
    expect(help).toContain('ferry history show')
  })
})

describe('rendering', () => {
  it('colorDiff: headers bold, + green, - red, @@ cyan, context untouched', () => {
    expect(colorDiff(DIFF).split('\n')).toEqual([
      '\x1b[1m--- a/etc/frr/frr.conf\x1b[22m',
      '\x1b[1m+++ b/etc/frr/frr.conf\x1b[22m',
      '\x1b[36m@@ -1,2 +1,2 @@\x1b[39m',
      ' hostname r1',
      '\x1b[31m-router ospf\x1b[39m',
      '\x1b[32m+router ospf6\x1b[39m',
      '',
    ])
  })

  it('renderRun colours diffs and statuses only when asked', () => {
    const run = {
      id: 'x',
      runbook: 'rb',
      runbookPath: 'rb.ts',
      inventory: 'lab',
      params: {},
      argv: [],
      dryRun: false,
      pid: 1,
      started: '2026-11-21T12:15:30.000Z',
      finished: '2026-11-21T12:16:00.000Z',
      status: 'changed' as const,
      summary: {},
      hosts: [
        {
          name: 'r1',
          status: 'changed' as const,
          steps: [
            { index: 0, name: 'f', kind: 'file', status: 'changed' as const, changes: [{ summary: 's', diff: DIFF }] },
          ],
        },
      ],
      undo: [],
    }
    expect(renderRun(run, false)).not.toContain('\x1b[')
    expect(renderRun(run, true)).toContain('\x1b[32m+router ospf6\x1b[39m')
    expect(renderRun(run, false)).toContain('started   2026-11-21 12:15:30 UTC, finished 2026-11-21 12:16:00 UTC')
  })

  it('renderRun shows what hosts said (diffs, errors) escaped, coloured or not', () => {
    const run = {
      id: 'x',
      runbook: 'rb',
      runbookPath: 'rb.ts',
      inventory: 'lab',
      params: {},
      argv: [],
      dryRun: false,
      pid: 1,
      started: '2026-11-21T12:15:30.000Z',
      finished: '2026-11-21T12:16:00.000Z',
      status: 'failed' as const,
      summary: {},
      hosts: [
        {
          name: 'r1',
          status: 'failed' as const,
          error: 'host \x1b]0;pwned\x07',
          steps: [
            {
              index: 0,
              name: 'motd',
              kind: 'file',
              status: 'failed' as const,
              error: 'step \x1b[2J\r',
              changes: [{ summary: 'content \x9b31m', diff: '--- a\n+++ b\n-old \x1b[8mhidden\n+new\n' }],
            },
          ],
        },
      ],
      undo: [],
    }
    for (const color of [false, true]) {
      const out = renderRun(run, color).replace(/\x1b\[\d+m/g, '') // the colours ferry adds
      expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/)
      for (const shown of [
        String.raw`host \x1b]0;pwned\x07`,
        String.raw`step \x1b[2J\x0d`,
        String.raw`content \x9b31m`,
        String.raw`-old \x1b[8mhidden`,
      ])
        expect(out).toContain(shown)
    }
  })
})
