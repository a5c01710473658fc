// drift --install-timer: a systemd service and timer, or a crontab line, that run a check on a
// schedule, and the environment file they read.

import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { loadInventory } from '../inventory/index.ts'
import { parseSource } from '../inventory/secrets.ts'
import { quoteArgv } from '../shell/quote.ts'
import { writeAtomically } from './formats.ts'
import { ScheduleError } from './schedule.ts'

const NAME = 'ferry-drift'

export interface Timer {
  /** The check each tick runs, as an argv. */
  command: string[]
  /** --every as given, and its seconds when it is an interval rather than a cron expression. */
  every: string
  seconds: number | undefined
  /** Where the systemd units go; none where there is no systemd, for a crontab line instead. */
  unitDir: string | undefined
  /** Where the environment file goes for cron. */
  stateDir: string
  inventory: string
  notify?: string
}

/** Writes the units, or works out the crontab line, and the environment file; returns what to tell the user. */
export async function installTimer(timer: Timer): Promise<string> {
  const { every, seconds, unitDir } = timer
  if (unitDir === undefined) {
    if (seconds !== undefined && (seconds % 60 !== 0 || seconds > 3600 * 24))
      throw new ScheduleError(
        `--every ${every}: cron runs at most once a minute; give minutes, hours or a cron expression`,
      )
    if (seconds !== undefined && seconds >= 3600 && seconds % 3600 !== 0)
      throw new ScheduleError(`--every ${every}: cron takes whole hours above an hour`)
  } else if (seconds === undefined)
    throw new ScheduleError(`--every ${every}: a systemd timer takes 30s, 15m, 1h or 1d, not a cron expression`)

  const environment = await timerEnvironment(timer.inventory, timer.notify)
  const envFile = environment && join(unitDir ?? timer.stateDir, `${NAME}.env`)
  if (envFile) {
    mkdirSync(dirname(envFile), { recursive: true, mode: 0o700 })
    writeAtomically(
      envFile,
      `# ${NAME}'s environment, from ferry drift --install-timer. It holds secrets: keep it 0600.\n${environment}`,
      0o600,
    )
  }
  return unitDir === undefined ? crontabLine(timer, envFile) : writeUnits(unitDir, seconds!, timer.command, envFile)
}

function crontabLine({ every, seconds, command }: Timer, envFile: string): string {
  const spec =
    seconds === undefined ? every : seconds < 3600 ? `*/${seconds / 60} * * * *` : `0 */${seconds / 3600} * * *`
  const line = [
    `cd ${quoteArgv([process.cwd()])}`,
    ...(envFile ? [`set -a`, `. ${quoteArgv([envFile])}`, `set +a`] : []),
    quoteArgv(command),
  ].join(' && ')
  // cron reads an unescaped % as the end of the command.
  return `# no systemd here: add this line with crontab -e${envFile ? ` (it reads ${envFile})` : ''}\n${spec} ${line.replaceAll('%', '\\%')}\n`
}

function writeUnits(unitDir: string, seconds: number, command: string[], envFile: string): string {
  mkdirSync(unitDir, { recursive: true })
  writeFileSync(
    join(unitDir, `${NAME}.service`),
    [
      '[Unit]',
      'Description=ferry drift check',
      'Wants=network-online.target',
      'After=network-online.target',
      '',
      '[Service]',
      'Type=oneshot',
      `WorkingDirectory=${process.cwd().replaceAll('%', '%%')}`,
      ...(envFile ? [`EnvironmentFile=${envFile.replaceAll('%', '%%')}`] : []),
      `ExecStart=${command.map(systemdWord).join(' ')}`,
      // Drift (2) and unreachable hosts (4) are findings, not a failed unit.
      'SuccessExitStatus=2 4',
      '',
    ].join('\n'),
  )
  writeFileSync(
    join(unitDir, `${NAME}.timer`),
    [
      '[Unit]',
      'Description=ferry drift check, on a schedule',
      '',
      '[Timer]',
      `OnBootSec=${seconds}s`,
      `OnUnitActiveSec=${seconds}s`,
      '',
      '[Install]',
      'WantedBy=timers.target',
      '',
    ].join('\n'),
  )
  const files = [`${NAME}.service`, `${NAME}.timer`, ...(envFile ? [`${NAME}.env`] : [])].map((f) => join(unitDir, f))
  return `wrote ${files.join(', ')}; enable with: systemctl daemon-reload && systemctl enable --now ${NAME}.timer\n`
}

/**
 * What the check takes from this shell's environment, which neither systemd nor cron passes on:
 * the inventory's env: secrets (its loader has checked they are set) and --notify's URL. As
 * NAME="value" lines, which systemd's EnvironmentFile= and sh's `.` read alike.
 */
async function timerEnvironment(inventory: string, notify: string | undefined): Promise<string> {
  const inv = await loadInventory(inventory)
  const sources = inv.secrets.names().map((n) => parseSource(inv.secrets.source(n)))
  const vars = [...new Set(sources.filter((s) => s.scheme === 'env').map((s) => s.rest))].map((v): [string, string] => [
    v,
    process.env[v]!,
  ])
  if (notify) vars.push(['FERRY_NOTIFY_URL', notify])
  return vars.map(([k, v]) => `${k}="${v.replace(/[\\"$`]/g, '\\$&')}"\n`).join('')
}

/** One word of ExecStart=, which has its own quoting, and expands % (specifiers) and $ (variables). */
function systemdWord(word: string): string {
  if (/^[A-Za-z0-9_/.,:=@+-]+$/.test(word)) return word
  return `"${word.replace(/[\\"]/g, '\\$&').replaceAll('\n', '\\n').replaceAll('%', '%%').replaceAll('$', '$$$$')}"`
}
