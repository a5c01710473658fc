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
 * order. An empty result is returned as is; a pattern matching no host and no group throws.
 */
export function selectHosts(inv: Inventory, limit?: string, base = 'all'): Host[] {
  const selected = apply(inv, base, new Set(inv.hosts))
  const result = limit === undefined ? selected : apply(inv, limit, selected)
  return inv.hosts.filter((h) => result.has(h))
}

/** Narrows `from` by a comma-separated pattern list: ∩ union(positives) ∩ each `&` − each `!`. */
function apply(inv: Inventory, patterns: string, from: Set<Host>): Set<Host> {
  const parts = patterns.split(',').map((p) => p.trim()).filter(Boolean)
  const positives = parts.filter((p) => !p.startsWith('!') && !p.startsWith('&'))
  let result = new Set(from)
  if (positives.length) {
    const union = new Set(positives.flatMap((p) => matches(inv, p)))
    result = new Set([...result].filter((h) => union.has(h)))
  }
  for (const p of parts) {
    if (p.startsWith('&')) {
      const keep = new Set(matches(inv, p.slice(1)))
      result = new Set([...result].filter((h) => keep.has(h)))
    } else if (p.startsWith('!')) {
      for (const h of matches(inv, p.slice(1))) result.delete(h)
    }
  }
  return result
}

/** Hosts named by `pattern`, directly or as members of a matching group. */
function matches(inv: Inventory, pattern: string): Host[] {
  const test = /[*?[]/.test(pattern) ? globToRegExp(pattern) : { test: (s: string) => s === pattern }
  const groups = groupNames(inv).filter((g) => test.test(g))
  const hosts = inv.hosts.filter((h) => test.test(h.name) || h.groups.some((g) => groups.includes(g)))
  if (hosts.length === 0 && groups.length === 0) throw unknownPattern(inv, pattern)
  return hosts
}

const groupNames = (inv: Inventory) => [...Object.keys(inv.groups), 'all']

function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    const close = c === '[' ? glob.indexOf(']', i + 1) : -1
    if (c === '*') re += '.*'
    else if (c === '?') re += '.'
    else if (close > i + 1) {
      // [abc], [a-z], [!abc]: a character class, with its contents escaped except for '-'.
      const body = glob.slice(i + 1, close)
      const negate = body.startsWith('!')
      re += `[${negate ? '^' : ''}${(negate ? body.slice(1) : body).replace(/[\\\]^]/g, '\\$&')}]`
      i = close
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

function unknownPattern(inv: Inventory, pattern: string): SelectionError {
  const names = [...inv.hosts.map((h) => h.name), ...groupNames(inv)]
  const near = names.filter((n) => editDistance(pattern.toLowerCase(), n.toLowerCase()) <= 2 || n.includes(pattern))
  return new SelectionError(`pattern "${pattern}" matches no host and no group${near.length ? `; similar: ${[...new Set(near)].join(', ')}` : ''}`)
}
