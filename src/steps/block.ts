// A block of lines ferry manages in a file that is otherwise someone else's, between two marker
// lines, as Ansible's blockinfile does:
//
//   # BEGIN FERRY mesh loopbacks
//   10.0.0.1 r1-lo
//   # END FERRY mesh loopbacks
//
// An existing block is replaced where it stands; a new one goes after (or before) the first line
// a regex matches, else at the end; `absent` removes it with its markers. The markers are how the
// block is found again, so a file whose markers do not pair up is refused, never guessed at.
// Written as every edit is (edit.ts): the file read again at apply, edited here, and written back
// through `file`, the content on stdin, masked in diffs where `mask` says.

import type { FileRecord } from './file.ts'
import { StepError, type Step } from './step.ts'
import { editStep, joinLines, lineRegex, linesOf, type EditOptions } from './edit.ts'

export interface BlockOptions extends EditOptions {
  /** The lines between the markers (a final newline or not, the same). */
  content: string
  /** The name in the markers, `# BEGIN FERRY <marker>`; default the step's name. */
  marker?: string
  /** What starts a comment in the file: `#` (default), `;`, `!`, `//`. */
  comment?: string
  /**
   * Where a new block goes: after the first line this matches (`after`), or before it
   * (`before: /^/` is the top); a string is a regex source. With neither, or no line matching,
   * at the end. An existing block stays where it is.
   */
  after?: RegExp | string
  before?: RegExp | string
  /** Default `present`. */
  state?: 'present' | 'absent'
}

/**
 * `block('mesh loopbacks', { path: '/etc/hosts', content: '10.0.0.1\tr1-lo\n10.0.0.2\tr2-lo\n',
 * after: /^127\.0\.1\.1\s/ })`.
 */
export function block(name: string, opts: BlockOptions): Step<FileRecord> {
  const { path } = opts
  const state = opts.state ?? 'present'
  const marker = opts.marker ?? name
  const comment = opts.comment ?? '#'
  for (const [what, v] of [
    ['marker', marker],
    ['comment', comment],
  ] as const)
    if (!v.trim() || /[\n\r]/.test(v)) throw new StepError(`${name}: ${what} must be one line, not blank`)
  if (opts.after !== undefined && opts.before !== undefined)
    throw new StepError(`${name}: give after or before, not both`)
  const begin = `${comment} BEGIN FERRY ${marker}`
  const end = `${comment} END FERRY ${marker}`
  const body = linesOf(opts.content)
  // A marker inside the content would end the block early the next time the file is read.
  if (body.some((l) => l === begin || l === end))
    throw new StepError(`${name}: content must not hold the block's own marker lines`)
  const wanted = [begin, ...body, end]
  const where = lineRegex(opts.after ?? opts.before)
  const offset = opts.after !== undefined ? 1 : 0

  /** The block's first and last line (its markers), or undefined; a file whose markers do not pair up is refused. */
  function find(lines: string[]): { first: number; last: number } | undefined {
    const begins = lines.flatMap((l, i) => (l === begin ? [i] : []))
    const ends = lines.flatMap((l, i) => (l === end ? [i] : []))
    if (!begins.length && !ends.length) return undefined
    if (begins.length === 1 && ends.length === 1 && begins[0]! < ends[0]!) return { first: begins[0]!, last: ends[0]! }
    const at = (is: number[]) =>
      is.length ? `line${is.length > 1 ? 's' : ''} ${is.map((i) => i + 1).join(', ')}` : 'none'
    throw new StepError(
      `${path}: the markers of block ${JSON.stringify(marker)} do not pair up (${begin}: ${at(begins)}; ${end}: ${at(ends)}): mend the file by hand`,
    )
  }

  return editStep('block', name, opts, (cur) => {
    if (!cur) return { content: state === 'present' ? `${wanted.join('\n')}\n` : undefined, summary: `create ${path}` }
    const lines = linesOf(cur.content)
    const at = find(lines)
    /** The file with lines [from, to) replaced by `put`. */
    const splice = (from: number, to: number, put: string[]) =>
      joinLines([...lines.slice(0, from), ...put, ...lines.slice(to)], cur.content)
    if (state === 'absent')
      return {
        content: at ? splice(at.first, at.last + 1, []) : cur.content,
        summary: `remove block ${marker} from ${path}`,
      }
    if (at) return { content: splice(at.first, at.last + 1, wanted), summary: `replace block ${marker} in ${path}` }
    const hit = where ? lines.findIndex((l) => where.test(l)) : -1
    const i = hit < 0 ? lines.length : hit + offset
    return {
      content: splice(i, i, wanted),
      summary: `add block ${marker} to ${path}${where && hit < 0 ? ` (no line matches ${where}: at the end)` : ''}`,
    }
  })
}
