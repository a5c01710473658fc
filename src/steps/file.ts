// A whole file: content, mode, owner, an optional validator. Written by `replaceFile`: a new
// file beside the target gets its owner and mode first, then the content (on stdin, never argv),
// then the validator runs on it, then it is renamed over the target; nothing on the way follows
// a name that the directory's owner could swap. The previous file is copied to
// /var/backups/ferry/PATH/ on the host (0600), so the journal never holds its content (it may
// hold secrets); once a run is over and kept, only the newest `backups` copies of it stay.
// Missing parent directories are made first (see fs.ts for where, and why only there), and
// undone with the file; `state: 'absent'` removes the file, backed up the same way (its plan
// shows no diff: the old content may be a secret, such as a removed key).

import { randomBytes } from 'node:crypto'
import type { Shell } from 'zx/core'
import { unifiedDiff } from '../report/diff.ts'
import { quote } from '../shell/quote.ts'
import { dirOf, makeParents, octal, removeParents, replaceFile } from '../platform/common.ts'
import { run, runWithInput } from './script.ts'
import {
  checkBackups,
  checkOwner,
  checkOwners,
  checkPath,
  ownedAs,
  ownParents,
  ownerResources,
  ownersProbe,
  parentResources,
  parentsProbe,
  planParents,
  splitHeader,
} from './fs.ts'
import {
  StepError,
  notifyList,
  riskyPath,
  type Change,
  type CommonOptions,
  type ProbeResult,
  type Step,
} from './step.ts'

/** Present (the default) with its content, or absent. */
export type FileOptions = FileCommon &
  ({ state?: 'present'; content: string } | { state: 'absent'; content?: undefined })

interface FileCommon extends CommonOptions {
  path: string
  /** Octal, e.g. 0o600. Default 0o644. */
  mode?: number
  /**
   * `user`, `user:group` or `:group`, names or numbers. What it leaves out an existing file keeps
   * (all of its owner without one); a new file gets the login user's.
   */
  owner?: string
  /** The mode of parent directories ferry makes. Default 0o755. */
  dirMode?: number
  /** Their owner, `user` or `user:group`. Default: the login user's (root's). */
  dirOwner?: string
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
  /** The parent directories apply makes (outermost first), which undo removes if they are empty. */
  created?: string[]
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

/** Removes a backup that has been put back, and its directory and BACKUP_DIR if that leaves them empty. */
export function dropBackup(backup: string): string {
  return `rm -f ${quote(backup)} && { rmdir ${quote(dirOf(backup))} ${BACKUP_DIR} 2>/dev/null || true; }`
}

/** Keeps the newest `keep` copies in a backup's directory (their names sort by time). */
export function pruneBackups(backup: string, keep: number): string {
  return `cd ${quote(dirOf(backup))} 2>/dev/null && ls | sort -r | sed 1,${keep}d | while read -r b; do rm -f "./$b"; done; true`
}

export interface FileState {
  mode: number
  /** `user:group`, as `ls -l` names them. */
  owner: string
  /** `uid:gid`, as `ls -n` numbers them. */
  ids: string
  content: string
}

/**
 * Reads a file: `PERMS USER GROUP UID GID`, then the content; exit 1 when there is no file, 2 for
 * a link. `ls -ld` and `ls -ldn` are the one POSIX way to read mode and owner on every OS (stat's
 * flags differ).
 */
export function fileProbe(path: string): string {
  const p = quote(path)
  return `if [ -h ${p} ]; then exit 2; elif [ -f ${p} ]; then set -- $(ls -ld ${p}); m=$1 u=$3 g=$4; set -- $(ls -ldn ${p}); printf '%s %s %s %s %s\\n' "$m" "$u" "$g" "$3" "$4"; cat ${p}; else exit 1; fi`
}

/** What `fileProbe` printed (after any fs.ts header lines). */
export function parseFileProbe(probe: ProbeResult, path: string): FileState | undefined {
  if (probe.code === 2)
    throw new StepError(`${path} is a symbolic link: ferry replaces regular files only (give the path it points to)`)
  if (probe.code !== 0) return undefined
  const { rest } = splitHeader(probe.stdout)
  const eol = rest.indexOf('\n')
  const [perms = '', user = '', group = '', uid = '', gid = ''] = rest.slice(0, eol).split(' ')
  return { mode: modeFromLs(perms), owner: `${user}:${group}`, ids: `${uid}:${gid}`, content: rest.slice(eol + 1) }
}

export function file(name: string, opts: FileOptions): Step<FileRecord> {
  const path = opts.path
  const mode = opts.mode ?? 0o644
  const backups = opts.backups ?? 3
  const absent = opts.state === 'absent'
  const dirs = { mode: opts.dirMode ?? 0o755, owner: opts.dirOwner }
  checkPath(name, path)
  checkOwner(name, 'owner', opts.owner)
  checkOwner(name, 'dirOwner', opts.dirOwner)
  checkBackups(name, backups)
  const owners = absent ? [] : [opts.owner, opts.dirOwner]
  const p = quote(path)

  return {
    kind: 'file',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky ?? riskyPath(path),
    touches: [`file:${path}`, ...(absent ? [] : parentResources(path))],
    reads: [`file:${path}`, ...(absent ? [] : parentResources(path)), ...ownerResources(owners)],

    probe: () =>
      [
        absent ? '' : parentsProbe(path),
        ownersProbe(owners),
        `if [ -d ${p} ] && [ ! -h ${p} ]; then exit 3; fi`,
        fileProbe(path),
      ]
        .filter(Boolean)
        .join('\n'),

    check(probe, ctx) {
      if (probe.code === 3) throw new StepError(`${path} is a directory`)
      const cur = parseFileProbe(probe, path)
      // No diff: what goes may be a secret (a key), and no mask names it.
      if (absent) return cur ? [{ summary: `remove ${path} (${lineCount(cur.content)}; kept in ${BACKUP_DIR})` }] : []
      const { header } = splitHeader(probe.stdout)
      checkOwners(header, [opts.owner, cur ? undefined : opts.dirOwner], ctx)
      const changes: Change[] = cur ? [] : planParents(header, dirs, ctx)
      if (cur?.content !== opts.content) {
        const [before, after] = [masked(cur?.content ?? '', opts.mask), masked(opts.content!, opts.mask)]
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
      if (cur && opts.owner && !ownedAs(cur.owner, cur.ids, opts.owner))
        changes.push({ summary: `owner of ${path}: ${cur.owner} → ${opts.owner}` })
      return changes
    },

    record(probe, ctx) {
      const cur = parseFileProbe(probe, path)
      const missing = ownParents(splitHeader(probe.stdout).header.missing, ctx)
      return {
        existed: !!cur,
        mode: cur?.mode,
        owner: cur?.owner,
        backup: backupPath(path),
        ...(!cur && !absent && missing.length ? { created: missing } : {}),
      }
    },

    async apply({ $ }, _changes, record) {
      // Absent: an empty replacement, which removeIfEmpty turns into a removal, after the backup.
      const write = absent
        ? replaceFile(path, { content: ':', mode: 0o600, backup: record.backup, removeIfEmpty: true })
        : replaceFile(path, {
            content: 'cat',
            mode,
            owner: keptOwner(opts.owner, record.owner),
            validate: opts.validate,
            backup: record.existed ? record.backup : undefined,
          })
      const script = record.created ? `${makeParents(record.created, dirs)} || exit 1; ${write}` : write
      await runWithInput($, script, opts.content ?? '')
    },

    async undo({ $ }, record) {
      if (!record.existed) return void (await run($, [restoreFile(path, record)]))
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
  if (!record.existed) return `rm -f ${quote(path)}${record.created ? ` && ${removeParents(record.created)}` : ''}`
  const b = quote(record.backup)
  const put = replaceFile(path, { content: `cat ${b}`, mode: record.mode!, owner: record.owner })
  // The last backup out leaves no empty directory behind.
  return `if [ -f ${b} ]; then ${put} && ${dropBackup(record.backup)}; fi`
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

/**
 * The owner a new copy of a file gets: an existing file (`was`, `user:group`) keeps the part
 * `owner` leaves out (all of it without one, the group with `user`, the user with `:group`)
 * rather than take the login user's, as the copy made in its place would.
 */
function keptOwner(owner: string | undefined, was: string | undefined): string | undefined {
  if (!was) return owner
  const [u = '', g = ''] = (owner ?? '').split(':')
  const [wu = '', wg = ''] = was.split(':')
  return `${u || wu}:${g || wg}`
}

/** `3 lines`, `1 line`: a final line without a newline counts too. */
function lineCount(content: string): string {
  const n = content === '' ? 0 : content.replace(/\n$/, '').split('\n').length
  return `${n} line${n === 1 ? '' : 's'}`
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
