// A whole file: content, mode, owner, an optional validator. Written atomically: a temp file in
// the same directory gets its mode and owner first, then the content (on stdin, never argv),
// then the validator runs on it, then it is renamed over the target. The previous file is copied
// to /var/backups/ferry on the host, so the journal never holds its content (it may hold secrets).

import { randomBytes } from 'node:crypto'
import { unifiedDiff } from '../report/diff.ts'
import { quote } from '../shell/quote.ts'
import { dirOf } from '../platform/common.ts'
import { StepError, notifyList, riskyPath, type Change, type CommonOptions, type ProbeResult, type Step } from './step.ts'

export interface FileOptions extends CommonOptions {
  path: string
  content: string
  /** Octal, e.g. 0o600. Default 0o644. */
  mode?: number
  /** `user` or `user:group`. Default: an existing file keeps its owner; a new one gets the login user's. */
  owner?: string
  /** Run on the uploaded temp file before it replaces the target; `%s` is its path. */
  validate?: string
  /**
   * Where the file holds secrets, shown as ******** in diffs: a match's first group (or the whole
   * match). Output redaction knows only the inventory's current secrets, so without this a
   * rotated key's old value would show in the diff's removed lines, and reach the journal.
   */
  mask?: RegExp[]
}

/** The content as diffs show it, with every `mask` match blanked. */
export function masked(content: string, mask: RegExp[] | undefined): string {
  return (mask ?? []).reduce((text, re) => {
    // The group's own offsets (flag d): a key equal to other text of the match ("1", "md5")
    // must not leave the key shown and mask the other text.
    const flags = [...new Set(`${re.flags}gd`)].join('')
    let out = ''
    let at = 0
    for (const m of text.matchAll(new RegExp(re.source, flags))) {
      const [start, end] = m.indices?.[1] ?? m.indices![0]!
      out += `${text.slice(at, start)}********`
      at = end
    }
    return out + text.slice(at)
  }, content)
}

export interface FileRecord {
  existed: boolean
  mode?: number
  owner?: string
  /** Where apply keeps the old file on the host. */
  backup: string
}

export const BACKUP_DIR = '/var/backups/ferry'

export interface FileState { mode: number; owner: string; content: string }

/** The probe's output: `PERMS USER GROUP`, then the content; non-zero when there is no file. */
export function parseFileProbe(probe: ProbeResult): FileState | undefined {
  if (probe.code !== 0) return undefined
  const eol = probe.stdout.indexOf('\n')
  const [perms = '', user = '', group = ''] = probe.stdout.slice(0, eol).split(' ')
  return { mode: modeFromLs(perms), owner: `${user}:${group}`, content: probe.stdout.slice(eol + 1) }
}

export function file(name: string, opts: FileOptions): Step<FileRecord> {
  const path = opts.path
  const mode = opts.mode ?? 0o644
  if (!path.startsWith('/')) throw new StepError(`${name}: path must be absolute, got ${path}`)
  const p = quote(path)

  return {
    kind: 'file',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky ?? riskyPath(path),
    touches: [`file:${path}`],
    reads: [`file:${path}`],

    // `ls -lLd` is the one POSIX way to read mode and owner on every OS (stat's flags differ).
    probe: () => `if [ -f ${p} ]; then set -- $(ls -lLd ${p}); printf '%s %s %s\\n' "$1" "$3" "$4"; cat ${p}; else exit 1; fi`,

    check(probe) {
      const cur = parseFileProbe(probe)
      const changes: Change[] = []
      if (cur?.content !== opts.content) {
        const [before, after] = [masked(cur?.content ?? '', opts.mask), masked(opts.content, opts.mask)]
        changes.push({
          summary: !cur ? `create ${path} (mode ${octal(mode)})` : before === after ? `content of ${path}: a masked secret` : `content of ${path}`,
          diff: unifiedDiff(cur ? path : '/dev/null', path, before, after),
        })
      }
      if (cur && cur.mode !== mode) changes.push({ summary: `mode of ${path}: ${octal(cur.mode)} → ${octal(mode)}` })
      if (cur && opts.owner && !sameOwner(cur.owner, opts.owner)) changes.push({ summary: `owner of ${path}: ${cur.owner} → ${opts.owner}` })
      return changes
    },

    record(probe) {
      const cur = parseFileProbe(probe)
      return { existed: !!cur, mode: cur?.mode, owner: cur?.owner, backup: `${BACKUP_DIR}/${randomBytes(6).toString('hex')}-${path.replaceAll('/', '_')}` }
    },

    async apply({ $ }, _changes, record) {
      const validate = opts.validate ? opts.validate.replaceAll('%s', '"$tmp"') : 'true'
      const script = [
        'set -e',
        `tmp=$(mktemp ${quote(`${dirOf(path)}/.ferry.XXXXXX`)})`,
        "trap 'rm -f \"$tmp\"' EXIT",
        `chmod ${octal(mode)} "$tmp"`,
        // Without an owner, an existing file keeps its own rather than becoming the login user's.
        opts.owner ?? record.owner ? `chown ${quote((opts.owner ?? record.owner)!)} "$tmp"` : ':',
        'cat > "$tmp"',
        `if ! out=$(${validate} 2>&1); then printf 'validation failed: %s\\n%s\\n' ${quote(opts.validate ?? '')} "$out" >&2; exit 3; fi`,
        record.existed ? `mkdir -p ${BACKUP_DIR} && cp -p ${p} ${quote(record.backup)}` : ':',
        `mv -f "$tmp" ${p}`,
        'trap - EXIT',
      ].join('\n')
      const out = await $({ input: opts.content })`sh -c ${script}`.nothrow()
      if (out.exitCode !== 0) throw new StepError(`${name}: ${out.stderr.trim() || `exit ${out.exitCode}`}`)
    },

    async undo({ $ }, record) {
      if (!record.existed) return void (await $`rm -f ${path}`)
      await $`sh -c ${restoreFile(path, record)}`
    },

    revert: (record) => [restoreFile(path, record)],
  }
}

/** Puts the file back as the record saw it: from its backup, or gone if it did not exist. */
export function restoreFile(path: string, record: FileRecord): string {
  const p = quote(path)
  if (!record.existed) return `rm -f ${p}`
  const b = quote(record.backup)
  // No backup means apply stopped before touching the file: only mode and owner may differ.
  return [
    `if [ -f ${b} ]; then tmp=$(mktemp ${quote(`${dirOf(path)}/.ferry.XXXXXX`)}) && cp -p ${b} "$tmp" && mv -f "$tmp" ${p} && rm -f ${b}; fi`,
    // The last backup out leaves no empty directory behind.
    `{ rmdir ${BACKUP_DIR} 2>/dev/null || true; }`,
    `chmod ${octal(record.mode!)} ${p}`,
    `chown ${quote(record.owner!)} ${p}`,
  ].join(' && ')
}

export function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`
}

function sameOwner(current: string, wanted: string): boolean {
  return wanted.includes(':') ? current === wanted : current.split(':')[0] === wanted
}

/** `-rwsr-x---` → 0o4750. */
export function modeFromLs(perms: string): number {
  let mode = 0
  const bits = perms.slice(1, 10)
  for (let i = 0; i < 9; i++) {
    const c = bits[i]
    const on = c !== '-' && c !== 'S' && c !== 'T'
    if (on) mode |= 1 << (8 - i)
  }
  if (/[sS]/.test(bits[2] ?? '')) mode |= 0o4000
  if (/[sS]/.test(bits[5] ?? '')) mode |= 0o2000
  if (/[tT]/.test(bits[8] ?? '')) mode |= 0o1000
  return mode
}
