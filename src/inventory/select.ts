// Host patterns as in Ansible: `mesh,!bastion*,&dc1`. A pattern names hosts directly or through
// a group, possibly by glob; `!` excludes and `&` intersects, wherever they appear in the list.
import { EXIT_USAGE, editDistance } from './errors.ts'
import type { Host, Inventory } from './types.ts'

export class SelectionError extends Error {
  readonly exitCode = EXIT_USAGE

  constructor(message: string) {
    super(message)
    this.name = 'SelectionError'
  }
}

/**
 * The hosts `base` (a runbook's `hosts`) matches, narrowed by `limit` (`--limit`), in inventory
 * order. An empty result is returned as is; an empty or malformed pattern, or one matching no host
 * and no group, throws.
 */
export function selectHosts(inv: Inventory, limit?: string, base = 'all'): Host[] {
  const selected = apply(inv, parse(base, 'hosts pattern'), new Set(inv.hosts))
  const result = limit === undefined ? selected : apply(inv, parse(limit, '--limit'), selected)
  return inv.hosts.filter((h) => result.has(h))
}

interface Pattern {
  op: '' | '!' | '&'
  text: string
  match: (name: string) => boolean
}

/** Splits and compiles a pattern list, so that a bad pattern is refused before any is matched. */
function parse(list: string, what: string): Pattern[] {
  return list.split(',').map((part) => {
    const p = part.trim()
    const op = p[0] === '!' || p[0] === '&' ? p[0] : ''
    const text = p.slice(op.length)
    const bad = (why: string) => new SelectionError(`${what} "${list}": ${why}`)
    // Dropping it instead would select every host: `--limit ""` must not mean "all".
    if (!text) throw bad('an empty pattern; give host names, group names or globs, comma-separated')
    return { op, text, match: glob(text, bad) }
  })
}

/** Narrows `from`: ∩ union(positives) ∩ each `&` − each `!`. */
function apply(inv: Inventory, patterns: Pattern[], from: Set<Host>): Set<Host> {
  const positives = patterns.filter((p) => !p.op)
  let result = new Set(from)
  if (positives.length) {
    const union = new Set(positives.flatMap((p) => matches(inv, p)))
    result = new Set([...result].filter((h) => union.has(h)))
  }
  for (const p of patterns) {
    if (p.op === '&') {
      const keep = new Set(matches(inv, p))
      result = new Set([...result].filter((h) => keep.has(h)))
    } else if (p.op === '!') {
      for (const h of matches(inv, p)) result.delete(h)
    }
  }
  return result
}

/** Hosts named by `pattern`, directly or as members of a matching group. */
function matches(inv: Inventory, pattern: Pattern): Host[] {
  const groups = groupNames(inv).filter(pattern.match)
  const hosts = inv.hosts.filter((h) => pattern.match(h.name) || h.groups.some((g) => groups.includes(g)))
  if (hosts.length === 0 && groups.length === 0) throw unknownPattern(inv, pattern.text)
  return hosts
}

const groupNames = (inv: Inventory) => [...Object.keys(inv.groups), 'all']

const code = (c: string) => c.codePointAt(0)!
const [STAR, QUESTION, OPEN, CLOSE, BANG, DASH] = [code('*'), code('?'), code('['), code(']'), code('!'), code('-')]

/** A glob's tokens: `*`, or a test of one character (a code point). */
type Token = '*' | ((c: number) => boolean)

/**
 * `*`, `?`, `[abc]`, `[a-z]` and `[!abc]`, matched by the classic wildcard loop rather than a
 * RegExp: a run of `*` is one, and only the last `*` is ever backtracked to, so a match costs at
 * most pattern × name steps. (A RegExp of 30 `.*` took 34 s to fail on a short name.)
 */
function glob(pattern: string, bad: (why: string) => Error): (name: string) => boolean {
  // A plain name, the common case (bench --limit lists 500 of them), is compared whole.
  if (!/[*?[]/.test(pattern)) return (name) => name === pattern
  const chars = [...pattern].map(code)
  const tokens: Token[] = []
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!
    if (c === STAR) {
      if (tokens.at(-1) !== '*') tokens.push('*')
    } else if (c === QUESTION) tokens.push(() => true)
    else if (c !== OPEN) tokens.push((x) => x === c)
    else {
      const close = chars.indexOf(CLOSE, i + 1)
      if (close < 0) throw bad('"[" without its "]"')
      const negate = chars[i + 1] === BANG
      const body = chars.slice(i + (negate ? 2 : 1), close)
      if (!body.length) throw bad('an empty [] set')
      const ranges: [number, number][] = []
      for (let j = 0; j < body.length; j++) {
        const lo = body[j]!
        // A '-' first or last in the set is itself.
        const hi = body[j + 1] === DASH && j + 2 < body.length ? body[(j += 2)]! : lo
        if (lo > hi) throw bad(`the range ${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)} is reversed`)
        ranges.push([lo, hi])
      }
      tokens.push((x) => ranges.some(([lo, hi]) => lo <= x && x <= hi) !== negate)
      i = close
    }
  }
  return (name) => globMatch(tokens, [...name].map(code))
}

function globMatch(tokens: Token[], name: number[]): boolean {
  let t = 0
  let i = 0
  // The last `*` seen, and where in the name its match ends so far.
  let star = -1
  let mark = 0
  while (i < name.length) {
    const token = tokens[t]
    if (token === '*') {
      star = t++
      mark = i
    } else if (token?.(name[i]!)) {
      t++
      i++
    } else if (star >= 0) {
      // Let the last `*` take one more character, and match the rest again from there.
      t = star + 1
      i = ++mark
    } else return false
  }
  while (tokens[t] === '*') t++
  return t === tokens.length
}

function unknownPattern(inv: Inventory, pattern: string): SelectionError {
  const names = [...inv.hosts.map((h) => h.name), ...groupNames(inv)]
  const near = names.filter((n) => editDistance(pattern.toLowerCase(), n.toLowerCase()) <= 2 || n.includes(pattern))
  return new SelectionError(
    `pattern "${pattern}" matches no host and no group${near.length ? `; similar: ${[...new Set(near)].join(', ')}` : ''}`,
  )
}
