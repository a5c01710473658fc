import { setMaxListeners } from 'node:events'
import { Command, Option, InvalidArgumentError } from '@commander-js/extra-typings'
import { loadInventory, selectHosts } from '../inventory/index.ts'
import type { Host, Inventory } from '../inventory/types.ts'
import type { Runbook } from '../runbook.ts'
import { loadRunbook } from '../engine/load.ts'
import { buildSteps, type HostSteps } from '../engine/build.ts'
import { runHosts, type RunResult, type RollbackPolicy } from '../engine/run.ts'
import { runExit, runStatus, summarize, type HostOutcome, type StepOutcome, type Summary } from '../engine/outcome.ts'
import { Journal, defaultStateDir } from '../journal/journal.ts'
import { Connector } from '../transport/connect.ts'
import { readOnly, type Transport } from '../transport/transport.ts'
import { renderHosts } from '../report/text.ts'
import { useColor } from '../report/diff.ts'
import { printable } from '../report/printable.ts'
import { listr, listrAsk, paramFields, resolveParams } from './params.ts'
import { UsageError } from './exit.ts'
import { SAFETY_DEFAULTS, inventoryOptions, persistFor, persistOption, positiveInt, seconds } from './options.ts'

const collect = (value: string, previous: string[]) => [...previous, value]
const batch = (value: string) => {
  if (!/^\d+%?$/.test(value) || /^0+%?$/.test(value))
    throw new InvalidArgumentError('expected a count (2) or a share of the hosts (25%)')
  return value
}
const percent = (value: string) => {
  if (!/^\d+(\.\d+)?%$/.test(value)) throw new InvalidArgumentError('expected a percentage, e.g. 20%')
  return value
}

export function runCommand() {
  const [inventory, limit] = inventoryOptions()
  return new Command('run')
    .description('Bring hosts to the state a runbook describes: probe, plan, apply, handlers, verify.')
    .argument('[runbook]', 'a name in runbooks/ (deploy-mesh) or a path to a .ts file')
    .addOption(inventory)
    .addOption(limit)
    .option(
      '-n, --dry-run',
      'show what would change (diffs, old → new) and change nothing; exit 2 when changes are pending',
    )
    .option('-p, --param <key=value>', 'a runbook param; repeat for more', collect, [] as string[])
    .addOption(
      new Option('--rollback <policy>', 'on failure undo: the failing host, all hosts, or nothing')
        .choices(['host', 'all', 'none'] as const)
        .default('host' as const),
    )
    .option('-f, --forks <n>', 'hosts at once', positiveInt, 20)
    .option('--serial <n|n%>', 'roll out in batches of this many hosts (or this share of them)', batch)
    .option('--max-fail <n%>', 'stop starting batches once more than this share of hosts has failed', percent)
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json'] as const).default('text' as const),
    )
    .option('--stats', 'print SSH round trips per host')
    .option(
      '--confirm-timeout <seconds>',
      `risky changes: the host reverts by itself unless confirmed over a new connection within this (default: the runbook's, else ${SAFETY_DEFAULTS.confirmTimeout})`,
      seconds(1),
    )
    .option(
      '--lock-wait <seconds>',
      'wait this long for a host another run holds, instead of refusing it at once',
      seconds(0),
      SAFETY_DEFAULTS.lockWait,
    )
    .option('--break-lock', 'take over a host lock another run left behind (say, its controller died)')
    .option('--accept-new', 'trust and record host keys not yet in known_hosts')
    .option('--state-dir <dir>', 'where the journal lives', defaultStateDir())
    .addOption(persistOption())
    .option('-y, --yes', 'do not ask before applying (ferry does not ask yet; accepted for scripts)')
    .addHelpText(
      'after',
      `
ferry run RUNBOOK --help also lists that runbook's params.

Examples:
  ferry run deploy-mesh -i prod --dry-run            the plan, with diffs; nothing is changed
  ferry run deploy-mesh -i prod --serial 1 --max-fail 0%
  ferry run migrate-jail -i prod --param jail=web --param to=server4
  ferry run pf-rules -i prod --confirm-timeout 300   risky steps: revert unless confirmed in 5 min

Risky steps (firewall, interfaces, routing daemons, sshd, or marked risky: true) are applied under
commit-confirmed: a job armed on the host reverts them after --confirm-timeout unless ferry
confirms over a new connection. Each host is locked for the run (/var/run/ferry.lock).

Exit codes: 0 applied or nothing to do, 1 a host failed (and was rolled back as --rollback says),
2 --dry-run found changes, 3 a rollback failed or a host reverted itself, 4 hosts unreachable,
64 bad invocation, inventory, runbook or params (nothing contacted), 130 interrupted (in-flight
hosts rolled back).`,
    )
    .action(async (name, opts) => {
      if (!name) throw new UsageError('which runbook? e.g. ferry run deploy-mesh -i lab')
      const { runbook, path } = await loadRunbook(name)
      const inv = await loadInventory(opts.inventory)
      const interactive = !!process.stdin.isTTY && !!process.stdout.isTTY && opts.format === 'text'
      const connector = new Connector(inv, { acceptNew: opts.acceptNew, readOnly: !!opts.dryRun, ...persistFor(opts) })
      let params: unknown
      let built: HostSteps[]
      let hosts: Host[]
      try {
        const prepare = runbook.prepare
        params = await resolveParams(
          runbook.params,
          opts.param,
          interactive,
          prepare &&
            ((given) =>
              prepare({
                inventory: inv,
                params: given,
                interactive,
                dryRun: !!opts.dryRun,
                ask: listrAsk,
                connect: async (host) => readOnly(await connector.connect(host)),
                warn: (line) => process.stderr.write(`ferry: ${printable(inv.secrets.redact(line))}\n`),
              })),
        )
        const pattern = typeof runbook.hosts === 'function' ? runbook.hosts(params) : (runbook.hosts ?? 'all')
        hosts = selectHosts(inv, opts.limit, pattern)
        if (!hosts.length)
          throw new UsageError(
            `runbook ${runbook.name} targets "${pattern}", and with --limit ${opts.limit ?? '(none)'} that selects no hosts`,
          )
        built = await buildSteps(runbook, inv, hosts, params)
      } catch (err) {
        await connector.close()
        throw err
      }

      process.exitCode = await executeRun(
        { runbook, path, inventory: inv, built, params, connector },
        {
          ...opts,
          dryRun: !!opts.dryRun,
          stats: !!opts.stats,
          breakLock: !!opts.breakLock,
        },
      )
    })
}

export interface RunTarget {
  runbook: Runbook
  path: string
  inventory: Inventory
  built: HostSteps[]
  params: unknown
  /** Closed when the run ends. */
  connector: Connector
}

export interface RunSettings {
  dryRun: boolean
  forks: number
  serial?: string
  maxFail?: string
  rollback: RollbackPolicy
  format: 'text' | 'json'
  stats: boolean
  stateDir: string
  limit?: string
  /** Seconds a risky change has to be confirmed in; default the runbook's, else 120. */
  confirmTimeout?: number
  /** Seconds to wait for a host another run holds. */
  lockWait: number
  breakLock: boolean
}

/**
 * Runs hosts whose steps are built, with the journal, the progress UI, ^C handling and the report: `ferry run`,
 * and `ferry drift --fix` for the drifted hosts. Returns the exit code.
 */
export async function executeRun(
  { runbook, path, inventory: inv, built, params, connector }: RunTarget,
  opts: RunSettings,
): Promise<number> {
  const hosts = built.map((p) => p.host)
  const redact = (s: string) => inv.secrets.redact(s)
  const journal = Journal.open(opts.stateDir, redact)
  const runId = journal.startRun({
    runbook: runbook.name,
    runbookPath: path,
    inventory: inv.file,
    limit: opts.limit,
    params: params as Record<string, unknown>,
    dryRun: opts.dryRun,
    argv: process.argv.slice(2),
  })
  const transports = new Map<string, Transport>()
  const steps = stepWriter(journal, runId)
  const abort = new AbortController()
  // Every command in flight listens on it: hundreds at once is the normal case, not a leak.
  setMaxListeners(0, abort.signal)
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(130) // a second ^C: the journal still has the undo records
    process.stderr.write(
      `\nferry: interrupted; stopping and rolling back in-flight hosts (run ${runId}); ^C again to quit now\n`,
    )
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const progress =
    opts.format === 'text' && process.stdout.isTTY && hosts.length > TASK_LIST_HOSTS
      ? countsUi(hosts)
      : await progressUi(hosts, opts.format === 'json', (s) => printable(redact(s)))
  let result: RunResult
  try {
    result = await runHosts(
      built,
      {
        dryRun: opts.dryRun,
        forks: opts.forks,
        serial: opts.serial,
        maxFail: opts.maxFail,
        rollback: opts.rollback,
        signal: abort.signal,
        runId,
        lock: { wait: opts.lockWait, breakIt: opts.breakLock },
        confirmTimeout: opts.confirmTimeout ?? runbook.confirmTimeout ?? SAFETY_DEFAULTS.confirmTimeout,
      },
      {
        connect: (host) => connector.connect(host),
        reconnect: (host) => connector.reconnect(host),
        hostStarted: (host) => progress.started(host),
        events: (host) => ({
          step: (s) => {
            steps.write(host.name, s)
            progress.step(host, s.name, s.status)
          },
          recordUndo: (index, step, record) =>
            journal.recordUndo(runId, host.name, index, step.name, step.kind, record),
          undone: (index) => journal.markUndone(runId, host.name, index),
          progress: (line) => progress.note(host, line),
        }),
        hostFinished: (outcome, transport) => {
          if (transport) transports.set(outcome.name, transport)
          steps.flush(outcome.name)
          journal.setHost(runId, outcome.name, outcome.status, outcome.error)
          progress.finished(outcome)
        },
      },
    )
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await progress.done()
    await connector.close()
  }

  const summary = summarize(result.hosts)
  const facts = { dryRun: opts.dryRun, aborted: abort.signal.aborted, rollbackFailed: result.rollbackFailed }
  journal.finishRun(runId, runStatus(summary, facts), summary)
  journal.close()

  printRun({ runId, runbook: runbook.name, result, summary, transports }, opts, redact)
  return runExit(summary, facts)
}

/**
 * Writes a run's steps to the journal as they finish. Steps found in sync wait to be written with
 * the host's next write: a no-op run costs one fsync per host, not one per step. Anything that
 * changed is written at once.
 */
function stepWriter(journal: Journal, runId: string) {
  const inSync = new Map<string, StepOutcome[]>()
  return {
    write(host: string, s: StepOutcome): void {
      const held = inSync.get(host) ?? []
      if (s.status === 'ok') inSync.set(host, [...held, { ...s }])
      else {
        journal.setSteps(runId, host, [...held, s])
        inSync.delete(host)
      }
    },
    /** The host has finished: its steps still held are written. */
    flush(host: string): void {
      const held = inSync.get(host)
      if (held) journal.setSteps(runId, host, held)
      inSync.delete(host)
    },
  }
}

/** The run's report: JSON on stdout, or the hosts as text on stdout and the counts on stderr. */
function printRun(
  {
    runId,
    runbook,
    result,
    summary,
    transports,
  }: { runId: string; runbook: string; result: RunResult; summary: Summary; transports: Map<string, Transport> },
  opts: RunSettings,
  redact: (s: string) => string,
): void {
  const stats = Object.fromEntries(
    [...transports].map(([h, t]) => [
      h,
      {
        roundTrips: t.stats.channels + 1,
        commands: t.stats.channels,
        inSession: t.stats.session,
        loginShells: t.stats.shells,
        kept: !!t.stats.kept,
      },
    ]),
  )
  if (opts.format === 'json') {
    const hostsJson = result.hosts.map((h) => ({
      name: h.name,
      status: h.status,
      ...(h.confirmed ? { confirmed: true } : {}),
      ...(h.error ? { error: redact(h.error) } : {}),
      ...(h.rollbackError ? { rollbackError: redact(h.rollbackError) } : {}),
      steps: h.steps.map((s) => ({
        name: redact(s.name),
        status: s.status,
        ...(s.changes.length ? { diff: redact(s.changes.map((c) => c.diff ?? c.summary).join('\n')) } : {}),
        ...(s.commands ? { commands: s.commands.map(redact) } : {}),
        ...(s.error ? { error: redact(s.error) } : {}),
      })),
    }))
    process.stdout.write(
      `${JSON.stringify({ runId, runbook, dryRun: opts.dryRun, hosts: hostsJson, summary, notRun: result.notRun, ...(opts.stats ? { stats } : {}) }, null, 2)}\n`,
    )
  } else {
    process.stdout.write(renderHosts(result.hosts, { dryRun: opts.dryRun, color: useColor(), redact }))
    if (result.notRun.length)
      process.stdout.write(`not run (--max-fail ${opts.maxFail} reached): ${result.notRun.join(', ')}\n`)
    if (opts.stats)
      for (const [h, s] of Object.entries(stats))
        process.stdout.write(
          `${h}: ${s.roundTrips} round trips (${s.kept ? 'check the kept connection' : 'connect'} + ${s.commands} commands: ${s.inSession} in the session shell, ${s.commands - s.inSession} on channels of their own); ${s.loginShells} login ${s.loginShells === 1 ? 'shell' : 'shells'} started\n`,
        )
    process.stderr.write(
      `run ${runId}: ${summary.ok} ok, ${summary.changed} ${opts.dryRun ? 'with changes pending' : 'changed'}, ${summary.failed} failed, ${summary.rolledBack} rolled back, ${summary.unreachable} unreachable${summary.reverted ? `, ${summary.reverted} reverted by their revert job` : ''}\n`,
    )
  }
}

/** `ferry run NAME --help`: the runbook's own description and params, after the generic help. */
export async function runbookHelp(name: string): Promise<string> {
  const { runbook, path } = await loadRunbook(name)
  const fields = paramFields(runbook.params)
  const lines = [
    `Runbook ${runbook.name} (${path})`,
    `  ${runbook.description}`,
    `  hosts: ${typeof runbook.hosts === 'function' ? 'chosen from the params' : (runbook.hosts ?? 'all')}`,
    '',
    'Params:',
  ]
  if (!fields.length) lines.push('  (none)')
  for (const f of fields) {
    const type = f.kind === 'enum' ? f.options!.join('|') : f.kind
    const extra = [
      f.required ? 'required' : f.default !== undefined ? `default ${JSON.stringify(f.default)}` : 'optional',
      f.description,
    ]
      .filter(Boolean)
      .join('; ')
    lines.push(`  --param ${f.name}=<${type}>`.padEnd(40) + extra)
  }
  return `${lines.join('\n')}\n`
}

/** Beyond this many hosts a terminal gets one line of counts instead of a line per host. */
const TASK_LIST_HOSTS = 40

/**
 * One status line of counts, redrawn at most five times a second. listr2 redraws every host's
 * line on each event, which grows with the square of the hosts: 500 hosts took minutes of CPU
 * and starved SSH handshakes past their timeout.
 */
function countsUi(hosts: Host[]): ProgressUi {
  const done = new Map<string, string>()
  let started = 0
  let timer: NodeJS.Timeout | undefined
  const draw = () => {
    timer = undefined
    const by = new Map<string, number>()
    for (const status of done.values()) by.set(status, (by.get(status) ?? 0) + 1)
    const counts = [...by].map(([status, n]) => `${n} ${status}`).join(', ')
    process.stderr.write(
      `\r\x1b[Kferry: ${done.size}/${hosts.length} hosts done${counts ? ` (${counts})` : ''}, ${started - done.size} running`,
    )
  }
  const later = () => void (timer ??= setTimeout(draw, 200))
  return {
    started: () => {
      started++
      later()
    },
    step: () => {},
    note: () => {},
    finished(outcome: HostOutcome) {
      done.set(outcome.name, outcome.status)
      later()
    },
    async done() {
      clearTimeout(timer)
      draw()
      process.stderr.write('\n')
    },
  }
}

interface ProgressUi {
  started(host: Host): void
  step(host: Host, step: string, status: string): void
  note(host: Host, line: string): void
  finished(outcome: HostOutcome): void
  done(): Promise<void>
}

/**
 * listr2 shows one task per host. The engine drives the run; the tasks only mirror its events,
 * so a host's task title says which step it is on. Off a terminal, listr2's simple renderer
 * prints each update on its own line, and every title starts with the host name.
 */
async function progressUi(hosts: Host[], silent: boolean, show: (s: string) => string): Promise<ProgressUi> {
  // Loaded here: `drift` and `--help` never draw a task list.
  const { Listr } = listr()
  type Task = { title: string } // all the engine's events need of a listr2 task
  const tasks = new Map<string, Task>()
  const outcomes = new Map<string, HostOutcome | undefined>()
  const waiting = new Map<string, () => void>()
  const settle = (name: string) => {
    const task = tasks.get(name)
    const o = outcomes.get(name)
    if (!task || !outcomes.has(name)) return
    // An error can quote a secret back (a daemon refusing the config line that holds it), and
    // what a host said goes to the terminal.
    task.title = o ? `${name}: ${o.status}${o.error ? ` (${show(o.error.split('\n')[0]!)})` : ''}` : `${name}: not run`
    waiting.get(name)?.()
  }
  const list = new Listr(
    hosts.map((host) => ({
      title: `${host.name}: waiting`,
      task: (_: unknown, task: Task) =>
        new Promise<void>((resolve) => {
          tasks.set(host.name, task)
          waiting.set(host.name, resolve)
          settle(host.name) // the host may have finished before listr2 got here
        }),
    })),
    {
      concurrent: true,
      exitOnError: false,
      // listr2 would exit(127) on ^C; ferry must first roll back the hosts it is changing.
      registerSignalListeners: false,
      silentRendererCondition: silent,
      fallbackRendererCondition: !process.stdout.isTTY,
      rendererOptions: { collapseSubtasks: false },
    },
  )
  const running = list.run().catch(() => {})
  const title = (name: string, text: string) => {
    const t = tasks.get(name)
    if (t) t.title = `${name}: ${text}`
  }
  return {
    started: (host: Host) => title(host.name, 'connecting'),
    step: (host: Host, step: string, status: string) =>
      title(host.name, show(`${step}${status === 'ok' ? '' : ` (${status})`}`)),
    /** A running step's progress line (bytes sent, rate, ETA); the next step report replaces it. */
    note: (host: Host, line: string) => title(host.name, show(line)),
    finished(outcome: HostOutcome) {
      outcomes.set(outcome.name, outcome)
      settle(outcome.name)
    },
    async done() {
      // Hosts that never started (--max-fail, ^C) still hold a task open.
      for (const h of hosts)
        if (!outcomes.has(h.name)) {
          outcomes.set(h.name, undefined)
          settle(h.name)
        }
      await running
    },
  }
}
