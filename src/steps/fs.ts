// What file, directory and link share: the parent directories they make, and the users and
// groups they name, both seen by the probe so that a dry run promises only what apply can do.
//
// Parents are made where nothing can be swapped under the files ferry then writes in them.
// replaceFile (src/platform/common.ts) is safe in a directory that another user owns, but it
// trusts the directories above that one, so ferry makes parents only:
//   - inside a directory that belongs to the user ferry runs as and that no one else may write
//     (root's /etc, /usr/local/etc, /var; not a home directory, not /tmp): there no one else can
//     rename what mkdir made and put a link in its place, so mkdir, chown and chmod by path are
//     safe, and so is every write below;
//   - and, when it makes more than one level, with a dirOwner and dirMode that keep the upper
//     ones as closed (the running user's, writable by no one else), since each of them is above
//     the directory the step writes in.
// Otherwise the plan refuses, naming the directory (and makeParents checks each parent again on
// the host, for one an earlier step of the run made since). Only the last level, the one the
// step's subject goes in, may belong to anyone: that is the case replaceFile (and the private
// directories of makeDir and replaceLink) are built for.
//
// Probe lines, before a step's own: `missing=DIR` for each missing parent, innermost first;
// `notdir=PATH` for something in the way that is not a directory; when a parent is missing,
// `base=PERMS UID` of the directory the first would go in and `me=UID`, the user ferry runs as;
// for each owner `uid=USER UID`, or `nouser=USER`, and `nogroup=GROUP`.

import { posix } from 'node:path'
import { quote } from '../shell/quote.ts'
import { dirOf, field, fields, octal, type DirAttrs } from '../platform/common.ts'
import { ANYTHING, StepError, type Change, type CheckContext, type Resource } from './step.ts'

/** What the probe saw of a step's parents and owners. */
interface Header {
  /** Missing parents, outermost first. */
  missing: string[]
  notDir?: string
  base?: { perms: string; uid: string }
  me?: string
  uids: Map<string, string>
  noUser: string[]
  noGroup: string[]
}

const HEADER = /^(missing|notdir|base|me|uid|nouser|nogroup)=/

/** Refuses a path whose parents cannot be walked up by cutting at `/`: relative, `..`, `//`, a trailing `/`. */
export function checkPath(name: string, path: string): void {
  if (!path.startsWith('/') || path === '/' || posix.normalize(path) !== path || path.endsWith('/'))
    throw new StepError(`${name}: path must be absolute and normal (no ., .., // or trailing /), got ${path}`)
}

/** How many backups a step keeps: a whole number of at least 1. */
export function checkBackups(name: string, backups: number): void {
  if (!Number.isInteger(backups) || backups < 1)
    throw new StepError(`${name}: backups must be a whole number of at least 1, got ${backups}`)
}

/** `user`, `user:group` or `:group`, each a name or a number; no spaces, no second colon. */
export function checkOwner(name: string, what: string, owner: string | undefined): void {
  if (owner !== undefined && !/^([^\s:]+|[^\s:]*:[^\s:]+)$/.test(owner))
    throw new StepError(`${name}: ${what} must be user, user:group or :group, got ${JSON.stringify(owner)}`)
}

/** The resources a step that may make PATH's parents touches: `dir:` each directory above it. */
export function parentResources(path: string): Resource[] {
  const out: Resource[] = []
  for (let d = dirOf(path); d !== '/'; d = dirOf(d)) out.unshift(`dir:${d}`)
  return out
}

/** What a step that names owners reads: `user:NAME` and `group:NAME` (numbers are not looked up). */
export function ownerResources(owners: readonly (string | undefined)[]): Resource[] {
  return named(owners).flatMap(([u, g]) => [...(u ? [`user:${u}`] : []), ...(g ? [`group:${g}`] : [])])
}

const numeric = (s: string) => /^\d+$/.test(s)

/**
 * Whether `wanted` (`user`, `user:group` or `:group`; names or numbers) owns what `ls -l` shows
 * owned by `names` and `ls -n` by `ids` (both `user:group`).
 */
export function ownedAs(names: string, ids: string, wanted: string): boolean {
  const [u = '', g = ''] = wanted.split(':')
  const [user, group] = names.split(':')
  const [uid, gid] = ids.split(':')
  const is = (want: string, name?: string, id?: string) => !want || want === name || want === id
  return is(u, user, uid) && is(g, group, gid)
}

/** Each owner as [user, group], the parts that are names (chown takes numbers as they are). */
function named(owners: readonly (string | undefined)[]): [string | undefined, string | undefined][] {
  return owners
    .filter((o): o is string => !!o)
    .map((o) => {
      const [u = '', g = ''] = o.split(':')
      return [u && !numeric(u) ? u : undefined, g && !numeric(g) ? g : undefined]
    })
}

/** The probe lines about PATH's parents; none for a path in `/`. */
export function parentsProbe(path: string): string {
  const dir = dirOf(path)
  if (dir === '/') return ''
  return `d=${quote(dir)}; m=; while [ ! -d "$d" ]; do if [ -e "$d" ] || [ -h "$d" ]; then printf 'notdir=%s\\n' "$d"; m=; break; fi; printf 'missing=%s\\n' "$d"; m=1; d=\${d%/*}; d=\${d:-/}; done; if [ -n "$m" ]; then set -- $(ls -nd "$d/."); printf 'base=%s %s\\nme=%s\\n' "$1" "$3" "$(id -u)"; fi`
}

/**
 * The probe lines about owners' users and groups: `id -u` for a user (POSIX), getent for a
 * group (in base on FreeBSD, OpenBSD and Debian; 2 is "not found" on all three, so a host
 * without getent refuses nothing).
 */
export function ownersProbe(owners: readonly (string | undefined)[]): string {
  const lines: string[] = []
  const seen = new Set<string>()
  for (const [u, g] of named(owners)) {
    if (u && !seen.has(`u:${u}`)) {
      seen.add(`u:${u}`)
      const q = quote(u)
      lines.push(
        `if u=$(id -u ${q} 2>/dev/null); then printf 'uid=%s %s\\n' ${q} "$u"; else printf 'nouser=%s\\n' ${q}; fi`,
      )
    }
    if (g && !seen.has(`g:${g}`)) {
      seen.add(`g:${g}`)
      lines.push(`getent group ${quote(g)} >/dev/null 2>&1; [ $? != 2 ] || printf 'nogroup=%s\\n' ${quote(g)}`)
    }
  }
  return lines.join('\n')
}

/** The header lines of a probe's output, and the rest (a file step's `ls` line and content). */
export function splitHeader(stdout: string): { header: Header; rest: string } {
  let at = 0
  while (at < stdout.length) {
    const eol = stdout.indexOf('\n', at)
    if (eol < 0 || !HEADER.test(stdout.slice(at, eol))) break
    at = eol + 1
  }
  const head = stdout.slice(0, at)
  const [perms = '', uid = ''] = field(head, 'base')?.split(' ') ?? []
  return {
    header: {
      missing: fields(head, 'missing').reverse(),
      notDir: field(head, 'notdir'),
      base: perms ? { perms, uid } : undefined,
      me: field(head, 'me'),
      uids: new Map(fields(head, 'uid').map((l) => [l.slice(0, l.lastIndexOf(' ')), l.slice(l.lastIndexOf(' ') + 1)])),
      noUser: fields(head, 'nouser'),
      noGroup: fields(head, 'nogroup'),
    },
    rest: stdout.slice(at),
  }
}

/** The header of a probe's output, without the rest. */
export const headerOf = (stdout: string): Header => splitHeader(stdout).header

/**
 * Refuses `owners` whose user or group the host lacks (chown would fail at apply), unless an
 * earlier step of the run may add them.
 */
export function checkOwners(h: Header, owners: readonly (string | undefined)[], ctx: CheckContext): void {
  const later = (key: string) => ctx.pending.has(ANYTHING) || ctx.pending.has(key)
  for (const [u, g] of named(owners)) {
    if (u && h.noUser.includes(u) && !later(`user:${u}`)) throw new StepError(`there is no user ${u} on this host`)
    if (g && h.noGroup.includes(g) && !later(`group:${g}`)) throw new StepError(`there is no group ${g} on this host`)
  }
}

/**
 * The missing parents a step records as its own, to make and to remove again on undo: not those
 * an earlier step of the run makes (`dir:` pending), which that step's undo removes. A risky
 * step's record is taken against the plan's probe, before those steps apply.
 */
export function ownParents(missing: readonly string[], ctx: CheckContext): string[] {
  return missing.filter((d) => !ctx.pending.has(`dir:${d}`))
}

/**
 * The changes that make the missing parents (those an earlier step does not make already), or
 * why ferry will not make them (see the top of this file). A parent an earlier step makes is
 * not looked at here: the probe could not see it, and makeParents checks it on the host.
 */
export function planParents(h: Header, a: DirAttrs, ctx: CheckContext): Change[] {
  if (h.notDir) throw new StepError(`${h.notDir} is in the way of a directory ferry would make: it is not a directory`)
  const todo = h.missing.filter((d) => !ctx.pending.has(`dir:${d}`))
  if (!todo.length) return []
  const { perms = '', uid = '' } = h.base ?? {}
  if (todo[0] === h.missing[0] && (uid !== h.me || perms[5] === 'w' || perms[8] === 'w'))
    throw new StepError(
      `ferry makes directories only where no other user can write, and ${dirOf(todo[0]!)} ${uid !== h.me ? `belongs to uid ${uid}` : 'may be written by others'}: they could put a link in place of ${todo[0]} and steer what ferry writes below it (make ${todo[0]} yourself)`,
    )
  // A user only about to be made (pending) is not the one ferry runs as.
  const user = a.owner?.split(':')[0]
  const owner = user ? (numeric(user) ? user : h.uids.get(user)) : h.me
  if (todo.length > 1 && (owner !== h.me || a.mode & 0o022))
    throw new StepError(
      `${todo.slice(0, -1).join(', ')} would be made writable by another user (dirOwner ${a.owner ?? '-'}, dirMode ${octal(a.mode)}), who could then steer what ferry writes below: make them yourself, or leave dirOwner and dirMode to ferry`,
    )
  return todo.map((d) => ({
    summary: `create directory ${d} (mode ${octal(a.mode)}${a.owner ? `, owner ${a.owner}` : ''})`,
  }))
}
