// A symbolic link PATH → TARGET, made in a private directory beside PATH and renamed over what
// was there in one step (replaceLink), so no moment passes without a link, and nothing on the way
// follows a name another user could swap. The old link's target goes in the undo record; a
// regular file in the way is replaced only with `force`, after a copy of it in
// /var/backups/ferry as `file` keeps one, which undo puts back with its mode and owner.
//
// The target must exist, or be about to (an earlier step makes it), unless `force` says a link
// that dangles for now is meant: that is Ansible's `force` too, which also replaces a file.

import { posix } from 'node:path'
import { quote } from '../shell/quote.ts'
import { dirOf, field, makeParents, removeParents, replaceLink } from '../platform/common.ts'
import { backupPath, modeFromLs, pruneBackups, restoreFile, restoreUnlessPruned } from './file.ts'
import {
  checkBackups,
  checkOwner,
  checkOwners,
  checkPath,
  headerOf,
  ownParents,
  ownerResources,
  ownersProbe,
  parentResources,
  parentsProbe,
  planParents,
} from './fs.ts'
import { run } from './script.ts'
import { ANYTHING, StepError, notifyList, riskyPath, type CommonOptions, type Step } from './step.ts'

export interface LinkOptions extends CommonOptions {
  path: string
  /** What the link points to, absolute or relative to the link's directory, as `ln -s` takes it. */
  target: string
  /**
   * Make the link even though the target does not exist (yet), and replace a regular file at
   * PATH (kept in /var/backups/ferry for undo). Default false.
   */
  force?: boolean
  /** The mode and owner of parent directories ferry makes, as `file`'s. */
  dirMode?: number
  dirOwner?: string
  /** How many old files it replaced the host keeps (default 3, at least 1). */
  backups?: number
}

export interface LinkRecord {
  /** What PATH was: nothing, a link (to `target`), or a regular file (kept at `backup`). */
  was: 'none' | 'link' | 'file'
  target?: string
  mode?: number
  owner?: string
  backup: string
  /** The parents apply makes (outermost first). */
  created?: string[]
}

/** What is at PATH: `link=TARGET`, `isdir=1` or `file=PERMS USER GROUP`; and `target=1` when the target exists. */
function parse(stdout: string) {
  const file = field(stdout, 'file')?.split(' ')
  return {
    link: field(stdout, 'link'),
    isDir: field(stdout, 'isdir') === '1',
    file: file && { perms: file[0]!, owner: `${file[1]}:${file[2]}` },
    target: field(stdout, 'target') === '1',
  }
}

/** `link('localtime', { path: '/etc/localtime', target: '/usr/share/zoneinfo/UTC' })`. */
export function link(name: string, opts: LinkOptions): Step<LinkRecord> {
  const { path, target } = opts
  const backups = opts.backups ?? 3
  const dirs = { mode: opts.dirMode ?? 0o755, owner: opts.dirOwner }
  checkPath(name, path)
  checkOwner(name, 'dirOwner', opts.dirOwner)
  if (!target || target.includes('\n') || target.startsWith('-'))
    throw new StepError(
      `${name}: target must be one line that does not start with - (write ./-x), got ${JSON.stringify(target)}`,
    )
  checkBackups(name, backups)
  // Where the kernel will look: a relative target is relative to the link's directory.
  const resolved = posix.resolve(dirOf(path), target)
  const p = quote(path)
  const t = quote(target)

  const undoLines = (r: LinkRecord): string[] => {
    if (r.was === 'link') return [replaceLink(path, r.target!)]
    const unlink = `[ ! -h ${p} ] || rm -f ${p}`
    // The link goes only where the file can come back: with no backup (apply stopped before it,
    // or it was pruned, which undo checks first and says so) the link stays.
    if (r.was === 'file')
      return [
        `[ ! -f ${quote(r.backup)} ] || ${unlink}`,
        restoreFile(path, { existed: true, mode: r.mode, owner: r.owner, backup: r.backup }),
      ]
    return [unlink, ...(r.created ? [removeParents(r.created)] : [])]
  }

  return {
    kind: 'link',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky ?? riskyPath(path),
    previewCommands: true,
    touches: [`file:${path}`, ...parentResources(path)],
    reads: [
      `file:${path}`,
      ...parentResources(path),
      `file:${resolved}`,
      `dir:${resolved}`,
      ...ownerResources([opts.dirOwner]),
    ],

    probe: () =>
      [
        parentsProbe(path),
        ownersProbe([opts.dirOwner]),
        `if [ -h ${p} ]; then printf 'link=%s\\n' "$(readlink ${p})"; elif [ -d ${p} ]; then echo isdir=1; elif [ -e ${p} ]; then set -- $(ls -ld ${p}); printf 'file=%s %s %s\\n' "$1" "$3" "$4"; fi`,
        // -e follows the link's target as the kernel would: cd -P, then the target as written.
        target.startsWith('/')
          ? `if [ -e ${t} ]; then echo target=1; fi`
          : `if ( cd -P ${quote(dirOf(path))} 2>/dev/null && [ -e ${t} ] ) || [ -e ${quote(resolved)} ]; then echo target=1; fi`,
      ]
        .filter(Boolean)
        .join('\n'),

    check(probe, ctx) {
      const header = headerOf(probe.stdout)
      const cur = parse(probe.stdout)
      if (cur.isDir) throw new StepError(`${path} is a directory: ferry does not replace a directory by a link`)
      if (cur.link === target) return []
      if (cur.file && !cur.file.perms.startsWith('-'))
        throw new StepError(`${path} is not a regular file: ferry does not replace it by a link`)
      if (cur.file && !opts.force)
        throw new StepError(
          `${path} is a regular file: ferry replaces it by a link only with force: true (and keeps it for undo)`,
        )
      const coming = [ANYTHING, `file:${resolved}`, `dir:${resolved}`].some((k) => ctx.pending.has(k))
      if (!cur.target && !opts.force && !coming)
        throw new StepError(
          `${path} would point to ${target}, which does not exist (force: true makes a link that dangles until it does)`,
        )
      checkOwners(header, [cur.link === undefined && !cur.file ? opts.dirOwner : undefined], ctx)
      if (cur.link !== undefined) return [{ summary: `link ${path}: → ${cur.link} becomes → ${target}` }]
      if (cur.file) return [{ summary: `replace the file ${path} by a link → ${target} (the file is kept for undo)` }]
      return [...planParents(header, dirs, ctx), { summary: `create link ${path} → ${target}` }]
    },

    record(probe, ctx) {
      const cur = parse(probe.stdout)
      const missing = ownParents(headerOf(probe.stdout).missing, ctx)
      const backup = backupPath(path)
      if (cur.link !== undefined) return { was: 'link', target: cur.link, backup }
      if (cur.file) return { was: 'file', mode: modeFromLs(cur.file.perms), owner: cur.file.owner, backup }
      return { was: 'none', backup, ...(missing.length ? { created: missing } : {}) }
    },

    apply: ({ $ }, _changes, r) =>
      run($, [
        ...(r.created ? [makeParents(r.created, dirs)] : []),
        replaceLink(path, target, r.was === 'file' ? r.backup : undefined),
      ]),

    async undo({ $ }, r) {
      if (r.was !== 'file') return run($, undoLines(r))
      await restoreUnlessPruned($, path, r.backup, undoLines(r).join(' && '), backups)
    },

    revert: undoLines,

    kept: (r) => (r.was === 'file' ? [pruneBackups(r.backup, backups)] : []),
  }
}
