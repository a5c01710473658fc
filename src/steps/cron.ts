// One entry of a crontab, found by the comment line above it, `#ferry: NAME`, as Ansible's cron
// module finds `#Ansible: NAME`: in a user's crontab (root's unless `user` says), or with `file`
// in a file of the platform's cron.d, whose lines name the user that runs them. The entry is that
// line, its `env` lines (NAME=value), then the job line; `disabled` comments out all but the
// first. Every other line stays byte for byte, and any later entry of the same name goes.
//
// crontab(1) replaces a user's crontab whole (`crontab -u USER -`, the new one on stdin, never in
// argv). So apply lists it again, edits its own entry, keeps the old crontab in a 0600 backup on
// the host (/var/backups/ferry, named after the spool file, pruned as `file`'s are) and installs
// the result; undo installs the backup. A crontab may hold secrets, in env lines above all: none
// of it goes to the journal, and diffs show only the entry, its env values masked. A cron.d file
// is written as `line` writes a file, through `replaceFile`, and goes when its last entry does.

import { unifiedDiff } from '../report/diff.ts'
import { quote } from '../shell/quote.ts'
import {
  backupPath,
  dropBackup,
  file,
  fileProbe,
  masked,
  parseFileProbe,
  pruneBackups,
  restoreFile,
  restoreUnlessPruned,
  type FileRecord,
} from './file.ts'
import { checkBackups } from './fs.ts'
import { ACCOUNT_NAME } from './group.ts'
import { probeNow, run, runWithInput } from './script.ts'
import { dirOf, replaceFile } from '../platform/common.ts'
import type { Platform } from '../platform/platform.ts'
import {
  ANYTHING,
  StepError,
  notifyList,
  type Change,
  type CheckContext,
  type CommonOptions,
  type ProbeResult,
  type Step,
} from './step.ts'

export interface CronOptions extends CommonOptions {
  /**
   * The command, run by the user's shell as cron runs it: a `%` in it is a newline to cron, and
   * what follows goes to the command's stdin, unless written `\%`. Required unless absent.
   */
  job?: string
  /** Cron syntax: `*`, `5`, `1-5`, `*\/15`, `0-30/10`, lists of these; month and weekday also take one name (`jan`, `mon`). Default `*`. */
  minute?: string
  hour?: string
  day?: string
  month?: string
  /** 0-7, 0 and 7 both Sunday. */
  weekday?: string
  /** `@reboot`, `@daily`… instead of the five fields, where the OS's cron knows it (checked at plan time). */
  special?: string
  /** Whose crontab holds the entry or, with `file`, who runs it. Default `root`. */
  user?: string
  /**
   * A file of the platform's cron.d (`/etc/cron.d/NAME` on Linux and FreeBSD; OpenBSD has none)
   * instead of the user's crontab: letters, digits, `_` and `-` only, the names Debian's cron reads.
   */
  file?: string
  /**
   * Lines above the job that set its environment (`MAILTO`). As anywhere in a crontab they hold
   * for every line below them too. Their values are masked in diffs.
   */
  env?: Record<string, string>
  /** Default `present`. */
  state?: 'present' | 'absent'
  /** Kept, commented out. */
  disabled?: boolean
  /** Old copies of the crontab or file kept in /var/backups/ferry (default 3, at least 1). */
  backups?: number
}

/** What undo needs: whether the crontab (or file) was there, and where apply keeps its old copy. */
export type CronRecord = FileRecord

const FILE = /^[A-Za-z0-9_-]+$/
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
// No control characters but tab: a newline would end the line, and the rest are trouble on a terminal.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

/** The five time fields: name, lowest and highest value, and the names the field takes. */
const FIELDS = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day', 1, 31],
  ['month', 1, 12, MONTHS],
  ['weekday', 0, 7, DAYS],
] as const

/**
 * Whether a time field is one every Vixie cron reads the same: a list of `*`, `N`, `N-M`, each
 * of the last two in range, `*` and ranges with a `/STEP`; or one name alone (crontab(5): "ranges
 * or lists of names are not allowed").
 */
export function validField(value: string, lo: number, hi: number, names: readonly string[] = []): boolean {
  if (names.includes(value.toLowerCase())) return true
  const inRange = (n: string) => Number(n) >= lo && Number(n) <= hi
  return value.split(',').every((part) => {
    const m = /^(?:\*|(\d+)-(\d+))(?:\/(\d+))?$|^(\d+)$/.exec(part)
    if (!m) return false
    const [, from, to, step, single] = m
    if (single !== undefined) return inRange(single)
    if (step !== undefined && Number(step) < 1) return false
    return from === undefined || (inRange(from) && inRange(to!) && Number(from) <= Number(to))
  })
}

// What makes up an entry below its name line, ferry's or edited by hand: env lines, then a job
// line, each maybe commented out. A job's first three fields have no letters, so that a comment
// such as `# the backup runs at night` is not taken for a disabled job.
const ENV_LINE = /^#?\s*[A-Za-z_][A-Za-z0-9_]*\s*=/
const JOB_LINE = /^#?\s*(?:@\w+|[0-9*,/-]+\s+[0-9*,/-]+\s+[0-9*,/-]+\s+[0-9A-Za-z*,/-]+\s+[0-9A-Za-z*,/-]+)\s+\S/
/** An env line's value, what diffs mask. */
const ENV_VALUE = /^#?\s*[A-Za-z_][A-Za-z0-9_]*\s*=\s*(.+)$/m

/** Where an entry starting at its name line `at` ends (exclusive). */
function entryEnd(lines: readonly string[], at: number): number {
  let i = at + 1
  while (i < lines.length && ENV_LINE.test(lines[i]!)) i++
  return i < lines.length && JOB_LINE.test(lines[i]!) ? i + 1 : i
}

interface Edit {
  /** The crontab with the entry as wanted. */
  content: string
  /** The entry's lines as they were (every entry of the name), and as they will be. */
  before: string[]
  after: string[]
}

/**
 * Puts `entry` (no lines: removes it) in place of the first entry named by `marker`, dropping
 * any later ones, or appends it. An unchanged crontab comes back byte for byte, missing final
 * newline and all; a changed one ends with a newline, as crontab(1) requires.
 */
export function editCrontab(content: string, marker: string, entry: readonly string[]): Edit {
  const lines = content === '' ? [] : content.replace(/\n$/, '').split('\n')
  const out: string[] = []
  const before: string[] = []
  let placed = false
  for (let i = 0; i < lines.length;) {
    if (lines[i]!.trimEnd() !== marker) {
      out.push(lines[i++]!)
      continue
    }
    const end = entryEnd(lines, i)
    before.push(...lines.slice(i, end))
    if (!placed) out.push(...entry)
    placed = true
    i = end
  }
  if (!placed) out.push(...entry)
  const same = out.length === lines.length && out.every((l, i) => l === lines[i])
  return { content: same ? content : out.length ? `${out.join('\n')}\n` : '', before, after: [...entry] }
}

/** What the probe saw. */
interface Tab {
  user: boolean
  /** crontab(1) is there, or the cron.d directory. */
  crontab: boolean
  /** The crontab (or cron.d file) as it is; undefined when there is none. */
  content?: string
  /** A cron.d file's. */
  mode?: number
  owner?: string
}

/** The `key=0|1` lines that open a probe's output, and what follows them. */
function flags(stdout: string, keys: readonly string[]): { on: Map<string, boolean>; rest: string } {
  const on = new Map<string, boolean>()
  let at = 0
  for (const key of keys) {
    const eol = stdout.indexOf('\n', at)
    const m = new RegExp(`^${key}=([01])$`).exec(stdout.slice(at, eol < 0 ? undefined : eol))
    if (!m) break
    on.set(key, m[1] === '1')
    at = eol < 0 ? stdout.length : eol + 1
  }
  return { on, rest: stdout.slice(at) }
}

/**
 * `cron('nightly backup', { hour: '3', minute: '30', job: '/usr/local/bin/backup', env: { MAILTO: 'ops@example.com' } })`:
 * an entry `#ferry: nightly backup` in root's crontab.
 */
export function cron(name: string, opts: CronOptions): Step<CronRecord> {
  const user = opts.user ?? 'root'
  const state = opts.state ?? 'present'
  const backups = opts.backups ?? 3
  const special = opts.special?.replace(/^@/, '')
  const env = Object.entries(opts.env ?? {})
  // Refused as the runbook is built: the engine names the step in plan and apply errors itself.
  const fail = (why: string) => new StepError(`${name}: ${why}`)

  if (name !== name.trim() || name === '' || CONTROL.test(name))
    throw fail('the name marks the entry in the crontab: one line, without blanks at either end')
  if (!ACCOUNT_NAME.test(user)) throw fail(`not a user name: ${JSON.stringify(user)}`)
  if (opts.file !== undefined && !FILE.test(opts.file))
    throw fail(
      `a cron.d file is named with letters, digits, _ and - only (cron ignores others): ${JSON.stringify(opts.file)}`,
    )
  checkBackups(name, backups)
  if (state === 'present') {
    if (opts.job === undefined || opts.job.trim() === '' || CONTROL.test(opts.job))
      throw fail('job must be one line of command')
    // Vixie cron reads at most MAX_COMMAND - 1 bytes of a command and silently drops the rest.
    if (Buffer.byteLength(opts.job) > 999) throw fail('job is longer than the 999 bytes cron reads of a command')
    if (special !== undefined && FIELDS.some(([f]) => opts[f] !== undefined))
      throw fail(`special (@${special}) stands for minute, hour, day, month and weekday: give one or the other`)
    if (special !== undefined && !/^[a-z_]+$/.test(special)) throw fail(`not a cron @keyword: ${opts.special}`)
    for (const [f, lo, hi, names] of FIELDS) {
      const v = opts[f]
      if (v !== undefined && !validField(v, lo, hi, names))
        throw fail(`${f} ${JSON.stringify(v)} is not cron syntax for ${lo}-${hi} (*, N, N-M, */S, N-M/S, lists)`)
    }
    for (const [k, v] of env) {
      if (!ENV_NAME.test(k)) throw fail(`not an environment variable name: ${JSON.stringify(k)}`)
      if (CONTROL.test(v) || v !== v.trim())
        throw fail(`${k}: an env value is one line without blanks at either end (cron would trim them)`)
    }
  }

  const inDir = opts.file !== undefined
  const marker = `#ferry: ${name}`
  const off = opts.disabled ? '#' : ''
  const when = special !== undefined ? `@${special}` : FIELDS.map(([f]) => opts[f] ?? '*').join(' ')
  const entry =
    state === 'absent'
      ? []
      : [
          marker,
          // An empty value is written "" (MAILTO="" turns mail off), which every cron reads so.
          ...env.map(([k, v]) => `${off}${k}=${v === '' ? '""' : v}`),
          `${off}${when} ${inDir ? `${user} ` : ''}${opts.job}`,
        ]

  // A cron.d file is read as `file` reads one, in a directory that must exist (the probe says),
  // and written with `file`'s record and undo.
  const pathOf = (p: Platform) => `${p.cron.dir}/${opts.file}`
  const fileStep = (p: Platform) => file(name, { path: pathOf(p), content: '', backups })
  const where = (p: Platform) => (inDir ? pathOf(p) : `${user}'s crontab`)

  const dirProbe = (p: Platform) =>
    `if id ${quote(user)} >/dev/null 2>&1; then echo user=1; else echo user=0; fi\n` +
    `if [ -d ${quote(p.cron.dir!)} ]; then echo crontab=1; else echo crontab=0; fi\n` +
    fileProbe(pathOf(p))

  const probe = (p: Platform): string => {
    if (!inDir) return p.cron.probe(user)
    return p.cron.dir === undefined ? 'true' : dirProbe(p)
  }

  function parse(result: ProbeResult, p: Platform): Tab {
    const { on, rest } = flags(result.stdout, inDir ? ['user', 'crontab'] : ['user', 'crontab', 'tab'])
    const base = { user: on.get('user') === true, crontab: on.get('crontab') === true }
    if (inDir) return { ...base, ...parseFileProbe({ stdout: rest, code: result.code }, pathOf(p)) }
    if (result.code !== 0)
      throw new StepError(`${user}'s crontab is there but could not be listed (${p.cron.list(user)})`)
    return { ...base, content: on.get('tab') ? rest : undefined }
  }

  /** The probe, with everything that would make apply fail refused here, at plan time. */
  function read(result: ProbeResult, { platform: p, pending }: CheckContext): Tab {
    if (inDir && p.cron.dir === undefined)
      throw new StepError(`${p.os}'s cron reads no cron.d directory: leave out file, for an entry in ${user}'s crontab`)
    if (state === 'present' && special !== undefined && !p.cron.specials.includes(special))
      throw new StepError(
        `${p.os}'s cron has no @${special} (it has ${p.cron.specials.map((s) => `@${s}`).join(', ')})`,
      )
    const tab = parse(result, p)
    if (state === 'absent') return tab
    if (!tab.user && !pending.has(ANYTHING) && !pending.has(`user:${user}`))
      throw new StepError(`there is no user ${user}`)
    // An earlier step that may install cron (a package) lets the plan go on without it.
    if (!tab.crontab && !pending.has(ANYTHING))
      throw new StepError(
        inDir ? `${p.cron.dir} is missing (is cron installed?)` : 'crontab(1) is missing (is cron installed?)',
      )
    return tab
  }

  const edit = (content: string | undefined) => editCrontab(content ?? '', marker, entry)

  // Diffs show the entry alone, its env values masked: the rest of a crontab is not the step's.
  const show = (lines: string[]) => masked(lines.map((l) => `${l}\n`).join(''), [ENV_VALUE])

  /** Backs up and replaces a user's crontab, the new one on stdin; an empty one is removed. */
  function replaceTab(p: Platform, next: string, record: CronRecord): string {
    return [
      'set -e',
      'umask 077',
      ...(record.existed
        ? [
            `mkdir -p ${quote(dirOf(record.backup))}`,
            `${replaceFile(record.backup, { content: p.cron.list(user), mode: 0o600 })} </dev/null`,
          ]
        : []),
      next === '' ? p.cron.remove(user) : p.cron.install(user),
    ].join('\n')
  }

  /** Puts a user's crontab back as the record saw it: the backup installed, or none. */
  function restoreTab(p: Platform, record: CronRecord): string {
    if (!record.existed) return `if [ -f ${quote(`${p.cron.spool}/${user}`)} ]; then ${p.cron.remove(user)}; fi`
    const b = quote(record.backup)
    return `if [ -f ${b} ]; then ${p.cron.install(user)} <${b} && ${dropBackup(record.backup)}; fi`
  }

  return {
    kind: 'cron',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky,
    touches: [inDir ? `cron.d:${opts.file}` : `crontab:${user}`],
    // A user an earlier step creates (`user:NAME`) makes this probe stale.
    reads: [inDir ? `cron.d:${opts.file}` : `crontab:${user}`, `user:${user}`],

    probe,

    check(result, ctx) {
      const tab = read(result, ctx)
      const { content, before, after } = edit(tab.content)
      if (content === (tab.content ?? '')) return []
      const at = where(ctx.platform)
      const [was, will] = [show(before), show(after)]
      const what = !before.length
        ? `add cron entry "${name}" to ${at}`
        : !after.length
          ? `remove cron entry "${name}" from ${at}`
          : `change cron entry "${name}" in ${at}${was === will ? ': a masked env value' : ''}`
      const change: Change = { summary: what }
      if (was !== will) change.diff = unifiedDiff(at, at, was, will)
      return [change]
    },

    record(result, ctx) {
      if (inDir)
        return fileStep(ctx.platform).record({ ...result, stdout: flags(result.stdout, ['user', 'crontab']).rest }, ctx)
      return {
        existed: parse(result, ctx.platform).content !== undefined,
        backup: backupPath(`${ctx.platform.cron.spool}/${user}`),
      }
    },

    // The crontab is read again rather than kept in the record, which is journaled.
    async apply({ $, platform: p }, _changes, record) {
      const now = parse(await probeNow($, probe(p)), p)
      const { content } = edit(now.content)
      if (content === (now.content ?? '')) return
      const script = inDir
        ? replaceFile(pathOf(p), {
            content: 'cat',
            mode: now.mode ?? 0o644,
            owner: now.owner,
            backup: record.existed ? record.backup : undefined,
            removeIfEmpty: true,
          })
        : replaceTab(p, content, record)
      await runWithInput($, script, content)
    },

    async undo(ctx, record) {
      if (inDir) return fileStep(ctx.platform).undo(ctx, record)
      if (!record.existed) return run(ctx.$, [restoreTab(ctx.platform, record)])
      await restoreUnlessPruned(ctx.$, where(ctx.platform), record.backup, restoreTab(ctx.platform, record), backups)
    },

    revert: (record, p) => [inDir ? restoreFile(pathOf(p), record) : restoreTab(p, record)],

    kept: (record) => (record.existed ? [pruneBackups(record.backup, backups)] : []),
  }
}
