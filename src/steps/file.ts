// A whole file: content, mode, owner, an optional validator. Written by `replaceFile`: a new
// file beside the target gets its owner and mode first, then the content (on stdin, never argv),
// then the validator runs on it, then it is renamed over the target; nothing on the way follows
// a name that the directory's owner could swap. The previous file is copied to
// /var/backups/ferry/PATH/ on the host (0600), so the journal never holds its content (it may
// hold secrets); once a run is over and kept, only the newest `backups` copies of it stay.

import { randomBytes } from 'node:crypto'
import type { Shell } from 'zx/core'
import { unifiedDiff } from '../report/diff.ts'
import { quote } from '../shell/quote.ts'
import { dirOf, octal, replaceFile } from '../platform/common.ts'
import {
  StepError,
  notifyList,
  riskyPath,
  type Change,
  type CommonOptions,
  type ProbeResult,
  type Step,
} from './step.ts'

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
  /** How many old copies of the file the host keeps in /var/backups/ferry (default 3, at least 1). */
  backups?: number
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

/**
 * Where this run keeps PATH's old copy: a directory per file, the path spelled so that no two
 * paths share it (`/` and `%` escaped), and names that sort by when they were taken.
 */
export function backupPath(path: string, at = new Date()): string {
  const dir = path.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
  return `${BACKUP_DIR}/${dir}/${at.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`
}

/** Keeps the newest `keep` copies in a backup's directory (their names sort by time). */
export function pruneBackups(backup: string, keep: number): string {
  return `cd ${quote(dirOf(backup))} 2>/dev/null && ls | sort -r | sed 1,${keep}d | while read -r b; do rm -f "./$b"; done; true`
}

export interface FileState {
  mode: number
  owner: string
  content: string
}

/** The probe's output: `PERMS USER GROUP`, then the content; 1 when there is no file, 2 for a link. */
export function parseFileProbe(probe: ProbeResult, path: string): FileState | undefined {
  if (probe.code === 2)
    throw new StepError(`${path} is a symbolic link: ferry replaces regular files only (give the path it points to)`)
  if (probe.code !== 0) return undefined
  const eol = probe.stdout.indexOf('\n')
  const [perms = '', user = '', group = ''] = probe.stdout.slice(0, eol).split(' ')
  return { mode: modeFromLs(perms), owner: `${user}:${group}`, content: probe.stdout.slice(eol + 1) }
}

export function file(name: string, opts: FileOptions): Step<FileRecord> {
  const path = opts.path
  const mode = opts.mode ?? 0o644
  const backups = opts.backups ?? 3
  if (!path.startsWith('/')) throw new StepError(`${name}: path must be absolute, got ${path}`)
  if (!Number.isInteger(backups) || backups < 1)
    throw new StepError(`${name}: backups must be a whole number of at least 1, got ${backups}`)
  const p = quote(path)

  return {
    kind: 'file',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky ?? riskyPath(path),
    touches: [`file:${path}`],
    reads: [`file:${path}`],

    // `ls -ld` is the one POSIX way to read mode and owner on every OS (stat's flags differ).
    probe: () =>
      `if [ -h ${p} ]; then exit 2; elif [ -f ${p} ]; then set -- $(ls -ld ${p}); printf '%s %s %s\\n' "$1" "$3" "$4"; cat ${p}; else exit 1; fi`,

    check(probe) {
      const cur = parseFileProbe(probe, path)
      const changes: Change[] = []
      if (cur?.content !== opts.content) {
        const [before, after] = [masked(cur?.content ?? '', opts.mask), masked(opts.content, opts.mask)]
        changes.push({
          summary: !cur
            ? `create ${path} (mode ${octal(mode)})`
            : before === after
              ? `content of ${path}: a masked secret`
              : `content of ${path}`,
          diff: unifiedDiff(cur ? path : '/dev/null', path, before, after),
        })
      }
      if (cur && cur.mode !== mode) changes.push({ summary: `mode of ${path}: ${octal(cur.mode)} → ${octal(mode)}` })
      if (cur && opts.owner && !sameOwner(cur.owner, opts.owner))
        changes.push({ summary: `owner of ${path}: ${cur.owner} → ${opts.owner}` })
      return changes
    },

    record(probe) {
      const cur = parseFileProbe(probe, path)
      return { existed: !!cur, mode: cur?.mode, owner: cur?.owner, backup: backupPath(path) }
    },

    async apply({ $ }, _changes, record) {
      const script = replaceFile(path, {
        content: 'cat',
        mode,
        // Without an owner, an existing file keeps its own rather than becoming the login user's.
        owner: opts.owner ?? record.owner,
        validate: opts.validate,
        backup: record.existed ? record.backup : undefined,
      })
      const out = await $({ input: opts.content })`sh -c ${script}`.nothrow()
      if (out.exitCode !== 0) throw new StepError(out.stderr.trim() || `exit ${out.exitCode}`)
    },

    async undo({ $ }, record) {
      if (!record.existed) return void (await $`rm -f ${path}`)
      await restoreUnlessPruned($, path, record.backup, restoreFile(path, record), backups)
    },

    revert: (record) => [restoreFile(path, record)],

    kept: (record) => (record.existed ? [pruneBackups(record.backup, backups)] : []),
  }
}

/**
 * Puts the file back as the record saw it: from its backup, or gone if it did not exist. No
 * backup means apply stopped before it replaced the file, which it does only after the backup.
 */
export function restoreFile(path: string, record: FileRecord): string {
  if (!record.existed) return `rm -f ${quote(path)}`
  const b = quote(record.backup)
  const put = replaceFile(path, { content: `cat ${b}`, mode: record.mode!, owner: record.owner })
  // The last backup out leaves no empty directory behind.
  return `if [ -f ${b} ]; then ${put} && rm -f ${b} && { rmdir ${quote(dirOf(record.backup))} ${BACKUP_DIR} 2>/dev/null || true; }; fi`
}

/**
 * Runs `restore`, which puts back what `backup` holds, unless that backup was pruned: missing,
 * with newer ones beside it, because later runs changed `what` since and the host keeps only the
 * newest `backups`. Then it says so rather than restoring something older.
 */
export async function restoreUnlessPruned(
  $: Shell,
  what: string,
  backup: string,
  restore: string,
  backups: number,
): Promise<void> {
  const name = backup.slice(backup.lastIndexOf('/') + 1)
  const pruned = `[ ! -f ${quote(backup)} ] && ls ${quote(dirOf(backup))} 2>/dev/null | awk -v me=${quote(name)} '$0 > me { f = 1 } END { exit !f }'`
  const out = await $`sh -c ${`if ${pruned}; then exit 4; fi; ${restore}`}`.nothrow()
  if (out.exitCode === 4)
    throw new StepError(
      `${what} was not restored: its backup from this run was pruned, since later runs changed it (the host keeps the newest ${backups})`,
    )
  if (out.exitCode !== 0) throw new StepError(out.stderr.trim() || `exit ${out.exitCode}`)
}

export { octal }

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
