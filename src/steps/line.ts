// One line of a file that is otherwise someone else's: present once (replacing the line `match`
// finds, in its place) or absent. The edit is computed here, with JavaScript's regex, and the
// whole file written back the way `file` writes one: atomically, with a backup on the host, the
// content on stdin. So apply reads the file again first, one more round trip, rather than
// keeping its content in the undo record, which is journaled and the content may be secret.
// A file line would have to create where there is no directory for it, or a directory in its
// place, fails the plan: line makes no directories.

import { probeNow } from './script.ts'
import { unifiedDiff } from '../report/diff.ts'
import { quote } from '../shell/quote.ts'
import { dirOf } from '../platform/common.ts'
import type { Platform } from '../platform/platform.ts'
import { file, octal, parseFileProbe, restoreFile, type FileRecord, type FileState } from './file.ts'
import {
  ANYTHING,
  StepError,
  notifyList,
  riskyPath,
  type Change,
  type CommonOptions,
  type ProbeResult,
  type Step,
} from './step.ts'

export interface LineOptions extends CommonOptions {
  path: string
  line: string
  /**
   * Finds the line to replace (or, with `absent`, the lines to remove); a string is a regex
   * source. Default: the line itself.
   */
  match?: RegExp | string
  /** Default `present`. */
  state?: 'present' | 'absent'
  /** Octal. Default: an existing file keeps its mode, a new one gets 0o644. */
  mode?: number
  /** As `file`'s: old copies kept in /var/backups/ferry (default 3). */
  backups?: number
}

/**
 * `line('no root login', { path: '/etc/ssh/sshd_config', line: 'PermitRootLogin no',
 * match: /^#?PermitRootLogin\b/, notify: 'reload sshd' })`.
 */
export function line(name: string, opts: LineOptions): Step<FileRecord> {
  const { path, line: wanted } = opts
  const state = opts.state ?? 'present'
  if (wanted.includes('\n')) throw new StepError(`${name}: line must be a single line`)
  // A global or sticky regex keeps state between test() calls.
  const re =
    opts.match === undefined
      ? undefined
      : typeof opts.match === 'string'
        ? new RegExp(opts.match)
        : new RegExp(opts.match.source, opts.match.flags.replace(/[gy]/g, ''))
  const hit = (l: string) => l === wanted || !!re?.test(l)
  // Only to borrow its probe and undo, which need nothing but the path.
  const reader = file(name, { path, content: '', backups: opts.backups })
  // What apply could not write, seen first: a directory at the path (exit 3), or no directory
  // to make the file in (exit 4): line makes none.
  const dir = dirOf(path)
  const probe = (platform: Platform) =>
    `if [ -d ${quote(path)} ]; then exit 3; elif [ ! -d ${quote(dir)} ]; then exit 4; fi\n${reader.probe(platform)}`
  // Unless an earlier step may change that (a command; a step that makes the directory).
  const refuse = ({ code }: ProbeResult, pending: ReadonlySet<string>) => {
    if (state === 'absent' || pending.has(ANYTHING)) return
    if (code === 3) throw new StepError(`${path} is a directory`)
    if (code === 4 && !pending.has(`dir:${dir}`))
      throw new StepError(`cannot create ${path}: there is no directory ${dir} (line makes none)`)
  }

  /** The content with the edit made: the first hit becomes the line, later hits go; else it is appended. */
  const edit = (content: string): string => {
    const lines = content === '' ? [] : content.replace(/\n$/, '').split('\n')
    const first = state === 'present' ? lines.findIndex(hit) : -1
    const out = lines.flatMap((l, i) => (i === first ? [wanted] : hit(l) ? [] : [l]))
    if (state === 'present' && first < 0) out.push(wanted)
    // An untouched file stays byte for byte as it was, missing final newline and all.
    return out.join('\n') === lines.join('\n') ? content : out.length ? `${out.join('\n')}\n` : ''
  }

  const target = (cur: FileState | undefined) => ({
    content: cur ? edit(cur.content) : state === 'present' ? `${wanted}\n` : undefined,
    mode: opts.mode ?? cur?.mode ?? 0o644,
  })

  return {
    kind: 'line',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky ?? riskyPath(path),
    touches: [`file:${path}`],
    reads: [`file:${path}`, `dir:${dir}`],

    probe,

    check(seen, { pending }) {
      refuse(seen, pending)
      const cur = parseFileProbe(seen, path)
      const next = target(cur)
      const changes: Change[] = []
      if (next.content !== undefined && next.content !== cur?.content) {
        const what = !cur
          ? `create ${path}`
          : state === 'absent'
            ? `remove line from ${path}`
            : cur.content.split('\n').some(hit)
              ? `replace line in ${path}`
              : `add line to ${path}`
        changes.push({
          summary: what,
          diff: unifiedDiff(cur ? path : '/dev/null', path, cur?.content ?? '', next.content),
        })
      }
      if (cur && next.mode !== cur.mode)
        changes.push({ summary: `mode of ${path}: ${octal(cur.mode)} → ${octal(next.mode)}` })
      return changes
    },

    record: (probe, ctx) => reader.record(probe, ctx),

    async apply(ctx, changes, record) {
      const cur = parseFileProbe(await probeNow(ctx.$, probe(ctx.platform)), path)
      const next = target(cur)
      if (next.content === undefined || (next.content === cur?.content && next.mode === cur.mode)) return
      await file(name, {
        path,
        content: next.content,
        mode: next.mode,
        owner: cur?.owner,
        backups: opts.backups,
      }).apply(ctx, changes, record)
    },

    undo: (ctx, record) => reader.undo(ctx, record),
    revert: (record) => [restoreFile(path, record)],
    kept: (record) => reader.kept!(record),
  }
}
