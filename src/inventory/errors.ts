import path from 'node:path'
import { oneLine } from '../report/printable.ts'

/** Exit code for a bad invocation, inventory or runbook (sysexits' EX_USAGE): nothing was contacted. */
export const EXIT_USAGE = 64

export interface Problem {
  file: string
  line: number
  col: number
  message: string
}

/** Every problem found in an inventory file, each pointing at the offending node. */
export class InventoryError extends Error {
  override name = 'InventoryError'
  readonly exitCode = EXIT_USAGE

  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'))
    this.name = 'InventoryError'
  }
}

/**
 * `path/to/file.yaml:LINE:COL: reason`, the form editors and terminals turn into links. Always one
 * line: names and values from the file may hold newlines or terminal escapes, which are escaped.
 */
export function formatProblem(p: Problem): string {
  return oneLine(`${displayPath(p.file)}:${p.line}:${p.col}: ${p.message}`)
}

/** A name or value from the file, quoted for a message; long ones are cut. */
export function quoted(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 59)}…` : s)
}

/** The path relative to the working directory when the file is inside it, else as given. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file)
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length]!
}

/** Candidates within edit distance 2 of `word`, closest first. */
export function similar(word: string, candidates: Iterable<string>): string[] {
  return [...new Set(candidates)]
    .filter((c) => Math.abs(c.length - word.length) <= 2)
    .map((c) => ({ c, d: editDistance(word.toLowerCase(), c.toLowerCase()) }))
    .filter(({ d }) => d <= 2)
    .sort((x, y) => x.d - y.d)
    .map(({ c }) => c)
}
