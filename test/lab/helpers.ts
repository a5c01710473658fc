// What the lab tests share: a way to run the real CLI, throwaway inventories pointing at lab
// hosts with whatever twist a test needs (another key, another user, a bad port), the runner and
// JSON report types of the step tests, a shell on a lab host, polling, and the journal's bytes
// for secret scans.
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { expect, it } from 'vitest'
import { STATE_DIR, exec } from '../../lab/lab.ts'

export const ROOT = resolve(import.meta.dirname, '../..')
export const LAB_KEY = '/run/ferry-lab/id_ed25519'
export const LAB_KNOWN_HOSTS = join(ROOT, 'inventory/lab.known_hosts')
export const ADDRESSES: Record<string, string> = {
  lab1: '198.18.0.11',
  lab2: '198.18.0.12',
  lab3: '198.18.0.13',
  lab4: '198.18.0.14',
  lab5: '198.18.0.15',
  far1: '198.18.1.21',
}

/** `it`, skipped only outside CI when the lab cannot run here (setup.ts decides; in CI it throws). */
export const labIt = it.skipIf(process.env.FERRY_LAB_SKIP === '1')

export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs a script with `sh -c` on a lab host (from outside: nsenter; a UML host over ssh); its stdout. Throws if it fails. */
export const sh = (host: string, script: string, input?: string): string => exec(host, ['sh', '-c', script], { input })

/** SSH connections a lab host's sshd has accepted so far, from its log (test commands enter by nsenter, not SSH). */
export const accepted = (host: string): number =>
  (readFileSync(join(STATE_DIR, 'hosts', host, 'log'), 'utf8').match(/^Accepted publickey/gm) ?? []).length

/**
 * Calls ok() every `every` ms (default 100) until it holds: the ms that took, or undefined once
 * `ms` have passed. A throw from ok() counts as "not yet", unless `throws` is set, when it ends
 * the wait and propagates.
 */
export async function waitFor(
  ms: number,
  ok: () => boolean | Promise<boolean>,
  opts: { every?: number; throws?: boolean } = {},
): Promise<number | undefined> {
  const started = Date.now()
  for (;;) {
    try {
      if (await ok()) return Date.now() - started
    } catch (e) {
      if (opts.throws) throw e
    }
    if (Date.now() - started > ms) return undefined
    await sleep(opts.every ?? 100)
  }
}

/**
 * The bytes of a state directory's journal (journal.db, and journal.db-wal if there is one), for
 * scans that a secret is *not* there. Such a scan proves nothing of a journal that is missing or
 * holds nothing of the run, so the file must exist and hold the run's id (the journal stores it
 * as text in `runs.id`): the positive control.
 */
export function journalBytes(stateDir: string, runId: string): Buffer {
  const db = join(stateDir, 'journal.db')
  expect(existsSync(db), `${db} exists`).toBe(true)
  const bytes = Buffer.concat([db, `${db}-wal`].filter(existsSync).map((f) => readFileSync(f)))
  expect(runId, 'a run id to look for').toMatch(/\S/)
  expect(bytes.includes(runId), `the journal in ${stateDir} holds run ${runId}`).toBe(true)
  return bytes
}

/** Runs the CLI; `timeout` (ms) sends it SIGTERM, as an operator's ^C would, so a hung run cannot outlive its test. */
export function ferry(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; wrap?: string[]; timeout?: number } = {},
): Promise<Run> & { pid: number } {
  const argv = [...(opts.wrap ?? []), process.execPath, join(ROOT, 'bin/ferry.mjs'), ...args]
  let done!: (r: Run) => void
  const finished = new Promise<Run>((resolve) => (done = resolve))
  const child = execFile(
    argv[0]!,
    argv.slice(1),
    { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...opts.env }, maxBuffer: 64 << 20, timeout: opts.timeout },
    (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
  )
  // The pid, to signal this run and nothing else (as a test of interruption does).
  return Object.assign(finished, { pid: child.pid! })
}

export function tempDir(prefix = 'ferry-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Writes an inventory into a fresh directory and returns its path. */
export function writeInventory(yaml: string, dir = tempDir()): string {
  const file = join(dir, 'inventory.yaml')
  writeFileSync(file, yaml)
  return file
}

/** YAML for some lab hosts with the lab's key and known_hosts, plus extra `defaults` lines. */
export function labYaml(
  hosts: string[],
  extra: { defaults?: string; hostLines?: Record<string, string>; tail?: string } = {},
): string {
  const lines = [
    'defaults:',
    `  identity: ${LAB_KEY}`,
    `  known_hosts: ${LAB_KNOWN_HOSTS}`,
    '  connect_timeout: 5',
    ...(extra.defaults ? [extra.defaults] : []),
    'hosts:',
    ...hosts.map(
      (h) => `  ${h}: { address: ${ADDRESSES[h]}${h === 'far1' ? ', jump: lab1' : ''}${extra.hostLines?.[h] ?? ''} }`,
    ),
  ]
  return `${lines.join('\n')}\n${extra.tail ?? ''}`
}

/** A step in `ferry run --format json`'s report (diff, commands and error only when there are some). */
export interface StepReport {
  name: string
  status: string
  diff?: string
  commands?: string[]
  error?: string
}
/** `ferry run --format json`'s report, as far as the lab tests read it. */
export interface Report {
  runId: string
  dryRun: boolean
  hosts: { name: string; status: string; error?: string; steps: StepReport[] }[]
  summary: Record<string, number>
}
export type RunOut = Run & { report: Report }

/** A run's output with its JSON report parsed; a run that printed no JSON fails here, showing what it printed. */
export function withReport(r: Run): RunOut {
  try {
    return { ...r, report: JSON.parse(r.stdout) as Report }
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`)
  }
}

/**
 * The runner of the lab's step tests: `ferry run RUNBOOK --format json` on lab hosts (os: linux,
 * plus the inventory's `tail` if given, as for secrets), with a journal of its own in `state`,
 * and `--param only=…` when `only` picks one step of the runbook; `env` goes to every ferry call.
 * run(...flags) adds the flags and parses the report; rollback(runId) must exit 0 having undone
 * something on each host.
 */
export function runbookRunner(
  runbook: string,
  hosts: string | string[],
  opts: { only?: string; tail?: string; env?: NodeJS.ProcessEnv } = {},
) {
  const names = typeof hosts === 'string' ? [hosts] : hosts
  const inv = writeInventory(labYaml(names, { defaults: '  os: linux', tail: opts.tail }))
  const state = tempDir()
  const only = opts.only === undefined ? [] : ['--param', `only=${opts.only}`]
  return {
    state,
    async run(...flags: string[]): Promise<RunOut> {
      const args = ['run', runbook, '-i', inv, ...only, '--format', 'json', '--state-dir', state, ...flags]
      return withReport(await ferry(args, { env: opts.env }))
    },
    async rollback(runId: string): Promise<void> {
      const r = await ferry(['rollback', runId, '--state-dir', state], { env: opts.env })
      expect(r.code, r.stdout + r.stderr).toBe(0)
      for (const h of names) expect(r.stdout).toContain(`${h}: undid `)
    },
  }
}

export function labKnownHostsLine(host: string): string {
  const line = readFileSync(LAB_KNOWN_HOSTS, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${ADDRESSES[host]} `))
  if (!line) throw new Error(`no known_hosts line for ${host}`)
  return line
}

// A stand-in daemon for a host without systemd: an LSB init script that update-rc.d accepts,
// running `sleep` with a pidfile, and `status` exiting 3 when stopped, as LSB says. It names
// itself after the name it is run by, less an rc.d link's S01/K01 (and says so, for ferry's
// instances): run through a link ferry-dummy@two, it is a second daemon with its own pidfile.
const DUMMY_INIT = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ferry-dummy
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: stand-in daemon for ferry's lab tests
# X-Ferry-Instances: yes
### END INIT INFO
NAME=\${0##*/}
NAME=\${NAME#[SK][0-9][0-9]}
PIDFILE=/run/$NAME.pid
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
case "$1" in
  start) running || { setsid sleep 100000 </dev/null >/dev/null 2>&1 & echo $! > "$PIDFILE"; } ;;
  stop) if running; then kill "$(cat "$PIDFILE")"; fi; rm -f "$PIDFILE" ;;
  restart) "$0" stop && "$0" start ;;
  reload) running ;;
  status) if running; then echo "$NAME is running"; else echo "$NAME is not running"; exit 3; fi ;;
  *) echo "usage: $0 {start|stop|status|reload|restart}" >&2; exit 2 ;;
esac
`

/** Installs the stand-in service (not enabled, not running) on a lab host. */
export function installDummyService(host: string): void {
  sh(host, 'cat > /etc/init.d/ferry-dummy && chmod 755 /etc/init.d/ferry-dummy', DUMMY_INIT)
}

/** Stops and removes it, whatever state a test left it in. */
export function removeDummyService(host: string): void {
  sh(
    host,
    '[ ! -f /run/ferry-dummy.pid ] || kill "$(cat /run/ferry-dummy.pid)" 2>/dev/null; rm -f /run/ferry-dummy.pid; update-rc.d ferry-dummy remove >/dev/null 2>&1; rm -f /etc/init.d/ferry-dummy',
  )
}

/** tmux, for tests that need a real terminal (prompts, listr2's live lines). */
export const tmux = (...args: string[]) => execFileSync('tmux', args).toString()

/**
 * Waits until a tmux session's screen shows `text` (or matches it), and returns that screen; a
 * tmux that fails (the session gone) ends the wait at once.
 */
export async function screenShows(session: string, text: string | RegExp, ms = 30_000, every = 100): Promise<string> {
  let screen = ''
  const seen = (s: string) => (typeof text === 'string' ? s.includes(text) : text.test(s))
  const saw = await waitFor(ms, () => seen((screen = tmux('capture-pane', '-p', '-t', session))), {
    throws: true,
    every,
  })
  if (saw === undefined) throw new Error(`never saw ${String(text)}; the screen was:\n${screen}`)
  return screen
}

/**
 * What `ferry graph --live` says of each host beyond its name and address: the lines its node's
 * label adds (a gateway pair's role, its BGP sessions), e.g. `{ gw1a: ['active', 'BGP 1/1 Established'] }`.
 */
export async function graphedNodes(inventory: string): Promise<Record<string, string[]>> {
  const r = await ferry(['graph', '-i', inventory, '--live'], { timeout: 120_000 })
  if (r.code !== 0) throw new Error(`ferry graph --live: exit ${r.code}: ${r.stderr}`)
  const nodes = r.stdout.matchAll(/^ +"([\w.-]+)" \[label="([^"]*)"/gm)
  return Object.fromEntries([...nodes].map(([, host, label]) => [host!, label!.split('\\n').slice(2)]))
}
