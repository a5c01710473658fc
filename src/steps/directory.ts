// A directory: present with a mode and owner, or absent. A new one is made in a private
// directory beside it and renamed into place (makeDir), so it is safe where its parent belongs to
// a less-privileged user (a home's .ssh); an existing one's mode and owner are set through `.`
// once inside it, checked to be the one the probe saw (setDirAttrs). Missing parents are made
// as `file` makes them (fs.ts). Absent removes an empty directory; one with something in it only
// with `recurse`, after a tar of it in /var/backups/ferry (0600), which undo unpacks again.

import { quote } from '../shell/quote.ts'
import { field, makeDir, makeParents, octal, removeDir, removeParents, setDirAttrs } from '../platform/common.ts'
import { BACKUP_DIR, backupPath, dropBackup, modeFromLs, pruneBackups, restoreUnlessPruned } from './file.ts'
import {
  checkBackups,
  checkOwner,
  checkOwners,
  checkPath,
  headerOf,
  ownParents,
  ownedAs,
  ownerResources,
  ownersProbe,
  parentResources,
  parentsProbe,
  planParents,
} from './fs.ts'
import { run } from './script.ts'
import { StepError, notifyList, type Change, type CommonOptions, type ProbeResult, type Step } from './step.ts'

export interface DirectoryOptions extends CommonOptions {
  path: string
  /** Default `present`. */
  state?: 'present' | 'absent'
  /** Octal. Default 0o755. */
  mode?: number
  /** `user`, `user:group` or `:group`, names or numbers. Default: an existing directory keeps its owner; a new one gets the login user's. */
  owner?: string
  /** The group alone (or with `owner`'s user). */
  group?: string
  /** With `absent`: remove a directory that is not empty, after a tar of it for undo. */
  recurse?: boolean
  /** The mode and owner of parent directories ferry makes, as `file`'s. */
  dirMode?: number
  dirOwner?: string
  /** How many tars of it the host keeps in /var/backups/ferry (default 3, at least 1). */
  backups?: number
}

export interface DirectoryRecord {
  existed: boolean
  mode?: number
  /** `user:group`, as ls names them. */
  owner?: string
  /** Its inode, so that apply and undo change no other directory put in its place. */
  inode?: string
  /** The parents apply makes (outermost first). */
  created?: string[]
  /** The tar of it and what it held, when apply removes it with its content. */
  backup?: string
}

interface DirState {
  mode: number
  /** `user:group` as `ls -l` names them, and `uid:gid`. */
  owner: string
  ids: string
  inode: string
  empty: boolean
}

/** `dir=PERMS USER GROUP UID GID INODE` and `empty=0|1`; exit 1: no such path, 2: a link, 3: not a directory. */
function parse(probe: ProbeResult, path: string): DirState | undefined {
  if (probe.code === 2)
    throw new StepError(
      `${path} is a symbolic link: ferry manages directories, not links to them (give the path it points to)`,
    )
  if (probe.code === 3) throw new StepError(`${path} exists and is not a directory`)
  if (probe.code !== 0) return undefined
  const [perms = '', user = '', group = '', uid = '', gid = '', inode = ''] = field(probe.stdout, 'dir')!.split(' ')
  const empty = field(probe.stdout, 'empty') !== '0'
  return { mode: modeFromLs(perms), owner: `${user}:${group}`, ids: `${uid}:${gid}`, inode, empty }
}

/** `directory('frr dir', { path: '/etc/frr', owner: 'frr:frr', mode: 0o750 })`. */
export function directory(name: string, opts: DirectoryOptions): Step<DirectoryRecord> {
  const { path } = opts
  const absent = opts.state === 'absent'
  const mode = opts.mode ?? 0o755
  const backups = opts.backups ?? 3
  if (opts.owner?.includes(':') && opts.group)
    throw new StepError(`${name}: give the group in owner (user:group) or in group, not both`)
  const owner = opts.group ? `${opts.owner ?? ''}:${opts.group}` : opts.owner
  const dirs = { mode: opts.dirMode ?? 0o755, owner: opts.dirOwner }
  checkPath(name, path)
  checkOwner(name, 'owner', owner)
  checkOwner(name, 'dirOwner', opts.dirOwner)
  checkBackups(name, backups)
  const owners = absent ? [] : [owner, opts.dirOwner]
  const p = quote(path)

  const undoLines = (r: DirectoryRecord): string[] => {
    if (absent && !r.backup) return [`if [ ! -d ${p} ]; then ${makeDir(path, { mode: r.mode!, owner: r.owner })}; fi`]
    if (absent) {
      // No archive: apply stopped before it removed the directory (the tar is whole first), or
      // it was pruned, which undo checks first and says so. An empty directory in its place (a
      // later run's undo made it) is replaced; one with something in it stops the restore, and
      // the archive stays.
      const back = makeDir(path, { mode: r.mode!, owner: r.owner }, r.backup)
      return [`if [ -f ${quote(r.backup!)} ]; then ${back} && ${dropBackup(r.backup!)}; fi`]
    }
    if (r.existed) return [setDirAttrs(path, r.inode!, { mode: r.mode!, owner: r.owner })]
    // Something put in it since keeps it: rmdir fails, and says so.
    return [`[ ! -d ${p} ] || rmdir ${p}`, ...(r.created ? [removeParents(r.created)] : [])]
  }

  return {
    kind: 'directory',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky,
    previewCommands: true,
    touches: [`dir:${path}`, ...(absent ? [] : parentResources(path))],
    reads: [`dir:${path}`, ...(absent ? [] : parentResources(path)), ...ownerResources(owners)],

    probe: () =>
      [
        absent ? '' : parentsProbe(path),
        ownersProbe(owners),
        `if [ -h ${p} ]; then exit 2; elif [ -d ${p} ]; then set -- $(ls -ldi ${p}); i=$1 m=$2 u=$4 g=$5; set -- $(ls -ldn ${p}); printf 'dir=%s %s %s %s %s %s\\n' "$m" "$u" "$g" "$3" "$4" "$i";`,
        absent ? `if [ -n "$(ls -A ${p} | head -n 1)" ]; then echo empty=0; else echo empty=1; fi;` : '',
        `elif [ -e ${p} ]; then exit 3; else exit 1; fi`,
      ]
        .filter(Boolean)
        .join('\n'),

    check(probe, ctx) {
      const cur = parse(probe, path)
      if (absent) {
        if (!cur) return []
        if (cur.empty) return [{ summary: `remove directory ${path}` }]
        if (!opts.recurse)
          throw new StepError(
            `${path} is not empty: ferry removes it with what it holds only with recurse: true (after a tar of it in ${BACKUP_DIR})`,
          )
        return [{ summary: `remove directory ${path} and all it holds (kept in ${BACKUP_DIR} for undo)` }]
      }
      const header = headerOf(probe.stdout)
      checkOwners(header, [owner, cur ? undefined : opts.dirOwner], ctx)
      if (!cur)
        return [
          ...planParents(header, dirs, ctx),
          { summary: `create directory ${path} (mode ${octal(mode)}${owner ? `, owner ${owner}` : ''})` },
        ]
      const changes: Change[] = []
      if (cur.mode !== mode) changes.push({ summary: `mode of ${path}: ${octal(cur.mode)} → ${octal(mode)}` })
      if (owner && !ownedAs(cur.owner, cur.ids, owner))
        changes.push({ summary: `owner of ${path}: ${cur.owner} → ${owner}` })
      return changes
    },

    record(probe, ctx) {
      const cur = parse(probe, path)
      const missing = ownParents(headerOf(probe.stdout).missing, ctx)
      return {
        existed: !!cur,
        ...(cur ? { mode: cur.mode, owner: cur.owner, inode: cur.inode } : {}),
        ...(!cur && !absent && missing.length ? { created: missing } : {}),
        ...(cur && absent && !cur.empty ? { backup: `${backupPath(path)}.tar` } : {}),
      }
    },

    async apply({ $ }, _changes, r) {
      if (absent) return run($, [r.backup ? removeDir(path, r.backup) : `rmdir ${p}`])
      if (r.existed) return run($, [setDirAttrs(path, r.inode!, { mode, owner })])
      await run($, [...(r.created ? [makeParents(r.created, dirs)] : []), makeDir(path, { mode, owner })])
    },

    async undo({ $ }, r) {
      if (!r.backup) return run($, undoLines(r))
      await restoreUnlessPruned($, path, r.backup, undoLines(r)[0]!, backups)
    },

    revert: undoLines,

    kept: (r) => (r.backup ? [pruneBackups(r.backup, backups)] : []),
  }
}
