// One line of a file that is otherwise someone else's: present once (replacing the line `match`
// finds, in its place) or absent. Written as every edit is (edit.ts): the file read again at
// apply, edited here, and written back through `file`.

import type { FileRecord } from './file.ts'
import { StepError, type Step } from './step.ts'
import { editStep, joinLines, lineRegex, linesOf, type EditOptions } from './edit.ts'

/** With `mask` as `file`'s: a line may hold a secret (`password = …`). */
export interface LineOptions extends EditOptions {
  line: string
  /**
   * Finds the line to replace (or, with `absent`, the lines to remove); a string is a regex
   * source. Default: the line itself.
   */
  match?: RegExp | string
  /** Default `present`. */
  state?: 'present' | 'absent'
}

/**
 * `line('no root login', { path: '/etc/ssh/sshd_config', line: 'PermitRootLogin no',
 * match: /^#?PermitRootLogin\b/, validate: 'sshd -t -f %s', notify: 'reload sshd' })`.
 */
export function line(name: string, opts: LineOptions): Step<FileRecord> {
  const { path, line: wanted } = opts
  const state = opts.state ?? 'present'
  if (wanted.includes('\n')) throw new StepError(`${name}: line must be a single line`)
  const re = lineRegex(opts.match)
  const hit = (l: string) => l === wanted || !!re?.test(l)

  return editStep('line', name, opts, (cur) => {
    if (!cur) return { content: state === 'present' ? `${wanted}\n` : undefined, summary: `create ${path}` }
    // The first hit becomes the line, later hits go; with none, the line is appended.
    const lines = linesOf(cur.content)
    const first = state === 'present' ? lines.findIndex(hit) : -1
    const out = lines.flatMap((l, i) => (i === first ? [wanted] : hit(l) ? [] : [l]))
    if (state === 'present' && first < 0) out.push(wanted)
    return {
      content: joinLines(out, cur.content),
      summary:
        state === 'absent'
          ? `remove line from ${path}`
          : first >= 0
            ? `replace line in ${path}`
            : `add line to ${path}`,
    }
  })
}
