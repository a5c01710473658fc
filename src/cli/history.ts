import { Command } from '@commander-js/extra-typings'
import { existsSync } from 'node:fs'
import {
  Journal,
  controllerAlive,
  defaultStateDir,
  journalPath,
  type RunDetail,
  type RunSummary,
} from '../journal/journal.ts'
import { UsageError } from './exit.ts'
import { positiveInt } from './options.ts'
import { colorDiff, useColor, red, green, yellow, bold } from '../report/diff.ts'
import { printable } from '../report/printable.ts'

const STATE_DIR_HELP =
  'where the journal lives (default: $FERRY_STATE_DIR, $XDG_STATE_HOME/ferry or ~/.local/state/ferry)'

export function historyCommand() {
  const history = new Command('history')
    .description('List past runs from the journal, newest first. `history show <run-id>` shows one run in full.')
    .option('--json', 'print JSON instead of a table')
    .option('-n, --limit <n>', 'show at most this many runs', positiveInt, 20)
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .addHelpText(
      'after',
      `
The journal is a SQLite file, journal.db, in the state directory. A run whose status is still
"running" is in progress, or its controller died mid-apply: \`ferry rollback <run-id>\` undoes it.
Diffs and errors are stored with secrets replaced by <secret>.

Examples:
  ferry history
  ferry history --limit 5 --json
  ferry history show 20261121-121530-3f9a0c6e1b2d7485
  ferry history show 20261121-121530-3f9a0c6e1b2d7485 --json | jq '.hosts[] | {name, status}'

Exit codes: 0 ok, 64 bad invocation or unknown run id.`,
    )
    .action((opts) => {
      const stateDir = opts.stateDir ?? defaultStateDir()
      const runs = withJournal(stateDir, (j) => j.runs(opts.limit)) ?? []
      process.stdout.write(
        opts.json ? `${JSON.stringify({ runs }, null, 2)}\n` : renderRuns(runs, journalPath(stateDir)),
      )
    })

  history.addCommand(
    new Command('show')
      .description('Show one run: each host with its steps, their status and diffs, and the undo records.')
      .argument('<run-id>', 'as listed by `ferry history`')
      .option('--json', 'print JSON instead of text')
      .option('--state-dir <dir>', STATE_DIR_HELP)
      // main() sets exitOverride on top-level commands only; without this a missing <run-id>
      // would process.exit(1) instead of reaching main's exit code 64.
      .exitOverride()
      .addHelpText(
        'after',
        `
Examples:
  ferry history show 20261121-121530-3f9a0c6e1b2d7485
  ferry history show 20261121-121530-3f9a0c6e1b2d7485 --json`,
      )
      .action((runId, _opts, cmd) => {
        // `history` has --json and --state-dir too, and commander gives them to it wherever they
        // stand on the command line: merge both.
        const opts = cmd.optsWithGlobals()
        const stateDir = opts.stateDir ?? defaultStateDir()
        const found = withJournal(stateDir, (j) => ({ run: j.show(runId), latest: j.runs(5) }))
        if (!found?.run) throw new UsageError(unknownRun(runId, journalPath(stateDir), found?.latest ?? []))
        process.stdout.write(opts.json ? `${JSON.stringify(found.run, null, 2)}\n` : renderRun(found.run, useColor()))
      }),
  )
  return history
}

/** Reading never creates a journal: with none yet, `fn` is not called. */
function withJournal<T>(stateDir: string, fn: (j: Journal) => T): T | undefined {
  if (!existsSync(journalPath(stateDir))) return undefined
  // What is stored is already redacted; nothing new is written.
  const journal = Journal.open(stateDir, (s) => s)
  try {
    return fn(journal)
  } finally {
    journal.close()
  }
}

function unknownRun(runId: string, file: string, latest: RunSummary[]): string {
  if (latest.length === 0) return `no run "${runId}": no runs are recorded in ${file}`
  const lines = latest.map((r) => `  ${r.id}  ${time(r.started)}  ${r.runbook}  ${r.status}`)
  return `no run "${runId}" in ${file}. Latest runs:\n${lines.join('\n')}`
}

// ---- rendering ---------------------------------------------------------------------------------

/** Colour only for a person: stdout is a terminal and NO_COLOR is unset or empty. */
function paintStatus(status: string, color: boolean): string {
  if (!color) return status
  if (status === 'failed' || status === 'unreachable' || status === 'reverted') return red(status)
  if (status === 'changed' || status === 'pending' || status === 'running' || status === 'interrupted')
    return yellow(status)
  if (status === 'ok') return green(status)
  return status
}

/** `2026-11-21T12:15:30.123Z` → `2026-11-21 12:15:30` (UTC). */
function time(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  )
}

export function renderRuns(runs: RunSummary[], file: string): string {
  if (runs.length === 0) return `No runs recorded yet (journal: ${file}).\n`
  const count = (r: RunSummary, k: string) => String(r.summary[k] ?? 0)
  return table([
    ['ID', 'STARTED (UTC)', 'RUNBOOK', 'INVENTORY', 'DRY-RUN', 'STATUS', 'OK', 'CHANGED', 'FAILED', 'UNREACHABLE'],
    ...runs.map((r) => [
      r.id,
      time(r.started),
      r.runbook,
      r.inventory,
      r.dryRun ? 'yes' : 'no',
      r.status,
      count(r, 'ok'),
      count(r, 'changed'),
      count(r, 'failed'),
      count(r, 'unreachable'),
    ]),
  ])
}

export function renderRun(run: RunDetail, color = false): string {
  const out: string[] = []
  // Errors and diffs hold what hosts said, and step names and params what a runbook made of it.
  const indent = (text: string, pad: string) =>
    text
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => pad + l)
      .join('\n')
  const head = color ? bold : (s: string) => s

  out.push(
    head(
      `run ${run.id}: ${run.runbook} on ${run.inventory}${run.limit ? ` --limit ${run.limit}` : ''}${run.dryRun ? ' (dry run)' : ''}`,
    ),
  )
  out.push(`  runbook   ${run.runbookPath}`)
  out.push(`  started   ${time(run.started)} UTC${run.finished ? `, finished ${time(run.finished)} UTC` : ''}`)
  out.push(`  status    ${paintStatus(run.status, color)}${run.status === 'running' ? ` ${controllerNote(run)}` : ''}`)
  if (Object.keys(run.params).length) out.push(`  params    ${printable(JSON.stringify(run.params))}`)
  if (run.argv.length) out.push(`  command   ${run.argv.join(' ')}`)

  for (const host of run.hosts) {
    out.push('', head(`${host.name}: ${paintStatus(host.status ?? 'unfinished', color)}`))
    if (host.error) out.push(indent(printable(host.error), '  error: '))
    const width = Math.max(0, ...host.steps.map((s) => s.status.length))
    for (const step of host.steps) {
      const pad = ' '.repeat(width - step.status.length)
      out.push(`  ${paintStatus(step.status, color)}${pad}  ${printable(step.name)} [${step.kind}]`)
      for (const change of step.changes) {
        out.push(`      ${printable(change.summary)}`)
        if (change.diff)
          out.push(indent(color ? colorDiff(printable(change.diff)) : printable(change.diff), '        '))
      }
      if (step.error) out.push(indent(printable(step.error), '      error: '))
    }
  }

  if (run.undo.length) {
    const pending = run.undo.filter((u) => !u.undone).length
    out.push('', head(`undo records, in order applied (${pending} of ${run.undo.length} not undone):`))
    for (const u of run.undo)
      out.push(
        `  ${(u.undone ? 'undone' : 'pending').padEnd(7)}  ${u.host}  #${u.index} ${printable(u.step)} [${u.kind}]`,
      )
  }
  return out.join('\n') + '\n'
}

function controllerNote(run: RunSummary): string {
  return controllerAlive(run.pid)
    ? `(controller pid ${run.pid} is still running)`
    : `(its controller, pid ${run.pid}, is gone: \`ferry rollback ${run.id}\` undoes what it applied)`
}
