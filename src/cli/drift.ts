import { Command, Option, InvalidArgumentError } from '@commander-js/extra-typings'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { REDACTED, SelectionError, loadInventory, selectHosts } from '../inventory/index.ts'
import { loadRunbook, runbookPath } from '../engine/load.ts'
import type { Runbook } from '../runbook.ts'
import type { Inventory } from '../inventory/types.ts'
import { Journal, defaultStateDir } from '../journal/journal.ts'
import { Connector } from '../transport/connect.ts'
import { buildChecks, checkDrift, type DriftRunbook } from '../drift/check.ts'
import { exitCode, summarize, type DriftReport } from '../drift/report.ts'
import * as formats from '../drift/formats.ts'
import { notify, settleNotifications } from '../drift/notify.ts'
import { schedule } from '../drift/schedule.ts'
import { installTimer } from '../drift/timer.ts'
import { useColor } from '../report/diff.ts'
import { printable } from '../report/printable.ts'
import { EXIT, UsageError } from './exit.ts'
import {
  MAX_SECONDS,
  SAFETY_DEFAULTS,
  TOO_LONG,
  inventoryOptions,
  persistFor,
  persistOption,
  positiveInt,
} from './options.ts'
import { executeRun } from './run.ts'

const fileMode = (value: string) => {
  if (!/^0?[0-7]{3}$/.test(value)) throw new InvalidArgumentError('expected an octal mode such as 0640')
  return parseInt(value, 8)
}

// Text, JSON and JUnit reports hold diffs, which may show what a file on a host holds: only the
// user may read them. A Prometheus or Nagios report holds names and counts, and its collector
// often runs as another user.
const OUTPUT_MODE = { text: 0o600, json: 0o600, junit: 0o600, prometheus: 0o644, nagios: 0o644 } as const

const webhook = (value: string) => {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol))
    throw new InvalidArgumentError('expected an http:// or https:// URL')
  return value
}

const count = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a count of drifted steps, e.g. 1')
  return Number(value)
}

export function driftCommand() {
  const [inventory, limit] = inventoryOptions()
  return new Command('drift')
    .description(
      'Report every host whose state no longer matches its runbooks: the check phase of `run`, changing nothing.',
    )
    .argument('[runbooks...]', 'runbooks to check (names in runbooks/ or paths); default: those marked drift: true')
    .addOption(inventory)
    .addOption(limit)
    .addOption(
      new Option('--format <format>', 'report format')
        .choices(['text', 'json', 'nagios', 'prometheus', 'junit'] as const)
        .default('text' as const),
    )
    .option(
      '-o, --output <file>',
      'write the report to this file (atomically) instead of stdout; for the Prometheus textfile collector',
    )
    .option(
      '--output-mode <mode>',
      "the --output file's mode (default: 0600, 0644 for prometheus and nagios)",
      fileMode,
    )
    .option('--warning <n>', 'nagios: WARNING when more than this many steps drifted', count, 0)
    .option('--critical <n>', 'nagios: CRITICAL when more than this many steps drifted', count, 0)
    .option('--fix', 'then converge the drifted hosts: a run of each runbook there, rolled back as --rollback says')
    .addOption(
      new Option('--rollback <policy>', 'with --fix, on failure undo: the failing host, all hosts, or nothing')
        .choices(['host', 'all', 'none'] as const)
        .default('host' as const),
    )
    .option(
      '--every <interval|cron>',
      'keep checking: 30s, 15m, 1h or a cron expression ("*/15 * * * *"); never two checks at once; SIGTERM stops',
    )
    .addOption(
      new Option(
        '--notify <url>',
        'POST a JSON summary to this URL when drift appears or clears (retried with backoff; never delays the check)',
      )
        .env('FERRY_NOTIFY_URL')
        .argParser(webhook),
    )
    .option(
      '--install-timer',
      'install a systemd service and timer running this check (--every, default 15m), or print a crontab line where there is no systemd',
    )
    .option('--unit-dir <dir>', 'with --install-timer: where the units go', '/etc/systemd/system')
    .option('-f, --forks <n>', 'hosts at once', positiveInt, 20)
    .option('--accept-new', 'trust and record host keys not yet in known_hosts')
    .option('--state-dir <dir>', 'where the journal lives', defaultStateDir())
    .addOption(persistOption())
    .addHelpText(
      'after',
      `
Every check is journalled: \`ferry history\` lists it, \`ferry history show ID\` shows its diffs,
and each drifted step keeps the time it was first seen drifted.

Examples:
  ferry drift -i prod                                 every drift: true runbook, a table and diffs
  ferry drift -i prod deploy-mesh --format nagios     one status line with perfdata, plugin exit codes
  ferry drift -i prod --format prometheus -o /var/lib/node_exporter/ferry.prom --every 15m
  ferry drift -i prod --fix                           converge what drifted
  ferry drift -i prod --every 15m --install-timer     a systemd timer (or a crontab line)

--install-timer writes the inventory's env: secrets and --notify's URL (FERRY_NOTIFY_URL) to an
environment file, mode 0600, that the unit (or the crontab line) reads: ferry-drift.env beside
the units, or in the state dir for cron. Install again after changing them.
-o writes text, JSON and JUnit reports, which hold diffs, 0600; Prometheus and Nagios ones 0644,
for a collector running as another user; --output-mode 0640 (say) sets another mode.

Exit codes: 0 in sync, 1 error, 2 drift found, 4 hosts unreachable (an error wins, then drift),
64 bad invocation, inventory or runbook. --format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
With --fix, the fix's: 0 converged, 1 a host failed, 3 a rollback failed.`,
    )
    .action(async (names, opts) => {
      if (opts.fix && (opts.every || opts.installTimer))
        throw new UsageError('--fix on a schedule would change hosts unattended; run --fix by hand')
      if (opts.fix && opts.format !== 'text')
        throw new UsageError(
          `--fix reports its run as text; with --format ${opts.format} the output would mix two reports`,
        )
      if (opts.installTimer) return installTimerFor(opts)
      if (opts.output && !existsSync(dirname(resolve(opts.output))))
        throw new UsageError(`--output ${opts.output}: directory ${dirname(resolve(opts.output))} does not exist`)
      const runbooks = await chooseRunbooks(names)
      if (!opts.every) {
        try {
          process.exitCode = await checkOnce(runbooks, opts)
        } catch (err) {
          // A Nagios plugin that cannot check says UNKNOWN, on its one line.
          if (opts.format !== 'nagios') throw err
          process.stdout.write(`FERRY DRIFT UNKNOWN - ${printable((err as Error).message.split('\n')[0]!)}\n`)
          process.exitCode = 3
        }
        await settleNotifications()
        return
      }
      const warm = new WarmConnections(opts.acceptNew)
      try {
        await schedule(opts.every, intervalSeconds(opts.every), (signal) => checkOnce(runbooks, opts, signal, warm))
        await settleNotifications(300)
        process.exitCode = EXIT.ok
      } finally {
        await warm.close()
      }
    })
}

type DriftOpts = {
  inventory: string
  limit?: string
  format: 'text' | 'json' | 'nagios' | 'prometheus' | 'junit'
  output?: string
  outputMode?: number
  warning: number
  critical: number
  fix?: boolean
  rollback: 'host' | 'all' | 'none'
  notify?: string
  forks: number
  acceptNew?: boolean
  stateDir: string
  persist?: number
}

/** A runbook to check; `marked` when found by its drift: true mark rather than named. */
type Checked = { runbook: Runbook; path: string; marked?: boolean }

async function chooseRunbooks(names: string[]): Promise<Checked[]> {
  if (names.length) return Promise.all(names.map((n) => loadRunbook(n)))
  const dir = join(process.cwd(), 'runbooks')
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.ts'))
        .sort()
    : []
  const marked = (await Promise.all(files.map((f) => loadRunbook(runbookPath(f.slice(0, -3)))))).filter(
    (r) => r.runbook.drift,
  )
  if (!marked.length) throw new UsageError(`no runbook in ${dir} is marked drift: true; name the runbooks to check`)
  return marked.map((r) => ({ ...r, marked: true }))
}

/**
 * The runbooks that apply to this inventory. One found by its mark may be for another part of the
 * fleet (deploy-ha-vpn's `ha-vpn` group is not in a mesh's inventory): when its hosts pattern
 * names nothing here it is left out, and said so. A runbook named on the command line is always
 * checked, so a typo in its pattern or the inventory still fails loudly.
 */
function applicable(candidates: Checked[], inv: Inventory): Checked[] {
  const chosen = candidates.filter(({ runbook, marked }) => {
    if (!marked || typeof runbook.hosts === 'function') return true
    try {
      return selectHosts(inv, undefined, runbook.hosts ?? 'all').length > 0
    } catch (err) {
      if (err instanceof SelectionError) return false
      throw err
    }
  })
  for (const { runbook } of candidates.filter((c) => !chosen.includes(c)))
    process.stderr.write(
      `ferry drift: ${runbook.name} not checked: its hosts (${printable(String(runbook.hosts))}) are not in ${inv.file}\n`,
    )
  if (!chosen.length) throw new UsageError(`no runbook marked drift: true has hosts in ${inv.file}`)
  return chosen
}

/**
 * `--every` keeps its SSH connections open from one check to the next, as OpenSSH's ControlPersist
 * does for Ansible, for as long as the inventory file stays the same. A connection that dropped
 * in between is dialled again by the pool.
 */
class WarmConnections {
  private current?: { source: string; connector: Connector }

  constructor(private readonly acceptNew?: boolean) {}

  for(inv: Inventory): Connector {
    const source = readFileSync(inv.file, 'utf8')
    if (this.current?.source !== source) {
      void this.current?.connector.close()
      this.current = { source, connector: new Connector(inv, { acceptNew: this.acceptNew, readOnly: true }) }
    }
    return this.current.connector
  }

  close(): Promise<void> {
    return this.current?.connector.close() ?? Promise.resolve()
  }
}

/** One check: plan, probe read-only, journal, report; then notify and fix. Returns the exit code. */
async function checkOnce(
  candidates: Checked[],
  opts: DriftOpts,
  signal?: AbortSignal,
  warm?: WarmConnections,
): Promise<number> {
  // The check's duration covers all of it: inventory, steps, probes and the journal.
  const startedAt = new Date()
  const inv = await loadInventory(opts.inventory)
  const runbooks = applicable(candidates, inv)
  // A webhook URL is often a token: the journal's copy of the command line must not hold it.
  const redact = (s: string) =>
    opts.notify ? inv.secrets.redact(s).split(opts.notify).join(REDACTED) : inv.secrets.redact(s)
  const checks = await buildChecks(
    inv,
    runbooks.map((r) => r.runbook),
    opts.limit,
  )
  const label = `drift: ${runbooks.map((r) => r.runbook.name).join(', ')}`
  const journal = Journal.open(opts.stateDir, redact)
  const checkId = journal.startRun({
    kind: 'drift',
    runbook: label,
    runbookPath: runbooks.map((r) => r.path).join(','),
    inventory: inv.file,
    limit: opts.limit,
    params: {},
    dryRun: true,
    argv: process.argv.slice(2),
  })
  const connector =
    warm?.for(inv) ?? new Connector(inv, { acceptNew: opts.acceptNew, readOnly: true, ...persistFor(opts) })
  let report: DriftReport
  try {
    const hosts = await checkDrift(checks, { forks: opts.forks, connect: (h) => connector.connect(h), signal, redact })
    report = {
      checkId,
      startedAt: startedAt.toISOString(),
      duration: (Date.now() - startedAt.getTime()) / 1000,
      runbooks: runbooks.map((r) => r.runbook.name),
      hosts,
    }
    journal.recordDrift(checkId, inv.file, hosts, report.startedAt)
    const before = journal.previousDrift(inv.file, label, checkId)
    // Keyed as runs' summaries are, so `ferry history` counts a check's hosts in its columns.
    const s = summarize(report)
    journal.finishRun(checkId, overall(report), {
      ok: s.inSync,
      changed: s.drifted,
      failed: s.errors,
      unreachable: s.unreachable,
      driftedSteps: s.driftedSteps,
    })
    report.duration = (Date.now() - startedAt.getTime()) / 1000
    if (opts.notify) notify(opts.notify, report, inv.file, before)
  } catch (err) {
    journal.finishRun(checkId, signal?.aborted ? 'interrupted' : 'error', {})
    throw err
  } finally {
    journal.close()
    if (!warm) await connector.close()
  }

  let code: number = exitCode(report)
  const out = render(report, opts)
  if (opts.format === 'nagios') code = out.code!
  if (opts.output) formats.writeAtomically(resolve(opts.output), out.text, opts.outputMode ?? OUTPUT_MODE[opts.format])
  else process.stdout.write(out.text)

  if (opts.fix && report.hosts.some((h) => h.status === 'drifted'))
    code = await fix(inv, runbooks, checks, report, opts)
  return code
}

/** The check's status in the journal: what its exit code says. */
const OVERALL = { 0: 'in-sync', 1: 'error', 2: 'drifted', 4: 'unreachable' } as const
const overall = (report: DriftReport) => OVERALL[exitCode(report)]

function render(report: DriftReport, opts: DriftOpts): { text: string; code?: 0 | 1 | 2 | 3 } {
  switch (opts.format) {
    case 'json':
      return { text: formats.json(report) }
    case 'nagios':
      return formats.nagios(report, { warning: opts.warning, critical: opts.critical })
    case 'prometheus':
      return { text: formats.prometheus(report) }
    case 'junit':
      return { text: formats.junit(report) }
    default:
      return { text: formats.text(report, { color: !opts.output && useColor() }) }
  }
}

/**
 * Runs each runbook again on its drifted hosts only; in sync steps cost a probe and nothing else.
 * The check's inventory is used, whose redaction knows the secrets the checks resolved.
 */
async function fix(
  inv: Inventory,
  runbooks: { runbook: Runbook; path: string }[],
  checks: Map<Runbook, DriftRunbook>,
  report: DriftReport,
  opts: DriftOpts,
): Promise<number> {
  let worst = 0
  for (const { runbook, path } of runbooks) {
    const drifted = new Set(
      report.hosts
        .filter((h) => h.steps.some((s) => s.runbook === runbook.name && s.status === 'drifted'))
        .map((h) => h.name),
    )
    const { hosts: all, params } = checks.get(runbook)!
    const mine = all.filter((p) => drifted.has(p.host.name))
    if (!mine.length) continue
    process.stderr.write(`ferry: fixing ${runbook.name} on ${mine.map((p) => p.host.name).join(', ')}\n`)
    const code = await executeRun(
      {
        runbook,
        path,
        inventory: inv,
        built: mine,
        params,
        connector: new Connector(inv, { acceptNew: opts.acceptNew, ...persistFor(opts) }),
      },
      {
        dryRun: false,
        forks: opts.forks,
        rollback: opts.rollback,
        format: 'text',
        stats: false,
        stateDir: opts.stateDir,
        limit: opts.limit,
        // The runbook's confirm timeout, else the default.
        lockWait: SAFETY_DEFAULTS.lockWait,
        breakLock: SAFETY_DEFAULTS.breakLock,
      },
    )
    if (code === 130) return code // interrupted: leave the other runbooks alone
    // 3 (a rollback failed) outranks 1 (a host failed), which outranks 0.
    worst = Math.max(worst, code === EXIT.unreachable ? EXIT.failed : code)
  }
  return worst
}

/** `30s`, `15m`, `1h`, `1d` → seconds; anything else is taken for a cron expression. */
export function intervalSeconds(every: string): number | undefined {
  const m = /^(\d+)(s|m|h|d)$/.exec(every.trim())
  if (!m) return undefined
  const n = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's']
  if (n < 1) throw new UsageError(`--every ${every}: must be at least 1s`)
  if (n > MAX_SECONDS) throw new UsageError(`--every ${every}: ${TOO_LONG}`)
  return n
}

/** --install-timer: a timer that runs this same check once per tick. */
async function installTimerFor(opts: {
  unitDir: string
  every?: string
  inventory: string
  notify?: string
  stateDir: string
}): Promise<void> {
  const command = [process.execPath, resolve(process.argv[1]!), ...absolutePaths(unscheduled(process.argv.slice(2)))]
  const every = opts.every ?? '15m'
  const seconds = intervalSeconds(every)
  const systemd =
    existsSync('/run/systemd/system') || process.argv.some((a) => a === '--unit-dir' || a.startsWith('--unit-dir='))
  process.stdout.write(
    await installTimer({
      command,
      every,
      seconds,
      unitDir: systemd ? opts.unitDir : undefined,
      stateDir: opts.stateDir,
      inventory: opts.inventory,
      notify: opts.notify,
    }),
  )
}

/**
 * The check's argv as the timer runs it: without the scheduling flags, and with --notify's URL in
 * its environment file rather than on its command line.
 */
function unscheduled(argv: string[]): string[] {
  const keep: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--install-timer') continue
    if (a === '--every' || a === '--unit-dir' || a === '--notify') {
      i++
      continue
    }
    if (/^--(every|unit-dir|notify)=/.test(a)) continue
    keep.push(a)
  }
  return keep
}

/**
 * The unit runs with the current directory as its working directory; its output and state paths
 * are made absolute all the same, and so is an inventory given as a path (a name stays a name).
 */
function absolutePaths(argv: string[]): string[] {
  return argv.map((a, i) => {
    const flag = argv[i - 1] ?? ''
    if (['-o', '--output', '--state-dir'].includes(flag)) return resolve(a)
    if (['-i', '--inventory'].includes(flag) && /[/\\]|\.ya?ml$/.test(a)) return resolve(a)
    return a
  })
}
