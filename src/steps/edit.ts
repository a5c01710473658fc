// A step that edits part of a file that is otherwise someone else's (`line`, `block`). The edit
// is computed here, with JavaScript, and the whole file written back the way `file` writes one:
// atomically, with a backup on the host, the content on stdin, the validator run on the new file
// before it goes in place. So apply reads the file again first, one more round trip, rather than
// keeping its content in the undo record, which is journaled and the content may be secret.
// Probe, record, undo, revert and kept are `file`'s own, which need nothing but the path.

import { probeNow } from './script.ts'
import { unifiedDiff } from '../report/diff.ts'
import { headerOf, parentResources, planParents } from './fs.ts'
import { file, masked, octal, parseFileProbe, restoreFile, type FileRecord, type FileState } from './file.ts'
import { StepError, notifyList, riskyPath, type Change, type CommonOptions, type Step } from './step.ts'

export interface EditOptions extends CommonOptions {
  path: string
  /** Octal. Default: an existing file keeps its mode, a new one gets 0o644. */
  mode?: number
  /** As `file`'s: run on the new file before it replaces the target; `%s` is its path. */
  validate?: string
  /** As `file`'s: where the file holds secrets, shown as ******** in diffs. */
  mask?: RegExp[]
  /** As `file`'s: old copies kept in /var/backups/ferry (default 3). */
  backups?: number
}

/** The file with the edit made: its whole new content (undefined: leave a missing file missing), and what changed, for humans. */
interface Edited {
  content: string | undefined
  summary: string
}

/**
 * A step of type `kind` that makes `edit` to the file at `opts.path`. `edit` is pure, and may throw
 * a StepError for a file it cannot edit: at plan time, and again at apply on the file as it is then.
 */
export function editStep(
  kind: string,
  name: string,
  opts: EditOptions,
  edit: (cur: FileState | undefined) => Edited,
): Step<FileRecord> {
  const { path } = opts
  // Only to borrow its probe, record, undo and kept, which need nothing but the path.
  const reader = file(name, { path, content: '', backups: opts.backups })
  const modeOf = (cur: FileState | undefined) => opts.mode ?? cur?.mode ?? 0o644

  return {
    kind,
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky ?? riskyPath(path),
    touches: [`file:${path}`, ...parentResources(path)],
    reads: [`file:${path}`, ...parentResources(path)],

    probe: (platform) => reader.probe(platform),

    check(probe, ctx) {
      if (probe.code === 3) throw new StepError(`${path} is a directory`)
      const cur = parseFileProbe(probe, path)
      const next = edit(cur)
      const mode = modeOf(cur)
      // A new file's missing parents are made as `file` makes them (the record lists them).
      const changes: Change[] =
        !cur && next.content !== undefined ? planParents(headerOf(probe.stdout), { mode: 0o755 }, ctx) : []
      if (next.content !== undefined && next.content !== cur?.content) {
        const [before, after] = [masked(cur?.content ?? '', opts.mask), masked(next.content, opts.mask)]
        changes.push({
          summary: before === after ? `${next.summary}: a masked secret` : next.summary,
          diff: unifiedDiff(cur ? path : '/dev/null', path, before, after),
        })
      }
      if (cur && mode !== cur.mode) changes.push({ summary: `mode of ${path}: ${octal(cur.mode)} → ${octal(mode)}` })
      return changes
    },

    record: (probe, ctx) => reader.record(probe, ctx),

    async apply(ctx, changes, record) {
      const cur = parseFileProbe(await probeNow(ctx.$, reader.probe(ctx.platform)), path)
      const content = edit(cur).content
      const mode = modeOf(cur)
      if (content === undefined || (content === cur?.content && mode === cur.mode)) return
      await file(name, {
        path,
        content,
        mode,
        owner: cur?.owner,
        validate: opts.validate,
        backups: opts.backups,
      }).apply(ctx, changes, record)
    },

    undo: (ctx, record) => reader.undo(ctx, record),
    revert: (record) => [restoreFile(path, record)],
    kept: (record) => reader.kept!(record),
  }
}

/** A file's lines, without the final newline's empty last one. */
export const linesOf = (content: string): string[] => (content === '' ? [] : content.replace(/\n$/, '').split('\n'))

/** Lines back into a file: an unedited file stays byte for byte as it was, missing final newline and all. */
export function joinLines(lines: readonly string[], was: string): string {
  return lines.join('\n') === linesOf(was).join('\n') ? was : lines.length ? `${lines.join('\n')}\n` : ''
}

/** A regex option (a string is a regex source) for testing line after line: no `g` or `y`, which keep state between tests. */
export function lineRegex(re: RegExp | string | undefined): RegExp | undefined {
  if (re === undefined) return undefined
  return typeof re === 'string' ? new RegExp(re) : new RegExp(re.source, re.flags.replace(/[gy]/g, ''))
}
