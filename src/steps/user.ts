// A user account: present with the settings given (uid, primary and supplementary groups,
// comment, home, shell, password hash), or absent. Settings left out are left as they are.
//
// The password is given as a crypt(3) hash, a secret from the inventory, and treated as one: it
// goes to the host on stdin only, the probe prints only its SHA-256 (compared here with the
// SHA-256 of the wanted hash), and no change, diff or record holds it. The hash a run replaces
// or removes stays on the host, in a 0600 backup (replaceFile), where undo finds it.
//
// Undo puts back what apply changed: a user ferry made goes again (its home only if ferry made
// that too), changed settings get their old values, a removed user comes back with its uid,
// groups, home and shell, and its old hash from the backup. undo runs the revert commands, which
// hold for any state of the host: each is guarded, or sets what the record saw.

import { createHash } from 'node:crypto'
import { dirOf, field, fields, replaceFile } from '../platform/common.ts'
import type { Account, Platform } from '../platform/platform.ts'
import { quote } from '../shell/quote.ts'
import { backupPath, dropBackup, pruneBackups } from './file.ts'
import { checkBackups } from './fs.ts'
import { ACCOUNT_NAME, checkId } from './group.ts'
import { run, runWithInput } from './script.ts'
import { ANYTHING, StepError, notifyList, type CommonOptions, type ProbeResult, type Step } from './step.ts'

export interface UserOptions extends CommonOptions {
  name: string
  uid?: number
  /** The primary group, which must exist. Default: a new user gets a group of its own name. */
  group?: string
  /** Supplementary groups: exactly these ([] for none), or with `append` these besides its others. */
  groups?: string[]
  append?: boolean
  /** The GECOS field. */
  comment?: string
  /** Default, for a new user: /home/NAME. An existing user's changes in passwd only: nothing moves. */
  home?: string
  /** Make the home directory (from the skeleton) when ferry makes the user and it is missing. Default true. */
  createHome?: boolean
  shell?: string
  /**
   * The password as a crypt(3) hash (`$y$…`, `$6$…`, `$2b$…`; `!` or `*` for none), from the
   * inventory's secrets: `passwordHash: await secret('alice_hash')`. It is sent on stdin and
   * compared by its SHA-256, never shown. Not on OpenBSD, whose tools take a hash only in argv
   * (a hash already there is compared all the same).
   */
  passwordHash?: string
  /**
   * Default `present`. `absent` removes the user and keeps its home; refused where rollback
   * could not give it back its password (OpenBSD), unless that is locked.
   */
  state?: 'present' | 'absent'
  /** How many old password hashes of the user the host keeps in /var/backups/ferry (default 3, at least 1). */
  backups?: number
}

/** A user's settings as the probe saw them. */
interface Seen {
  uid: number
  gid: number
  /** The primary group's name, or its gid where no group has that gid. */
  group: string
  groups: string[]
  comment: string
  home: string
  shell: string
}

export interface UserRecord {
  existed: boolean
  /** The settings before (never the password hash: that stays on the host, in `backup`). */
  account?: Seen
  /** Apply makes the home directory: undo removes it with the user. */
  madeHome?: boolean
  /** Where apply keeps the old password hash on the host (0600), when it replaces or removes it. */
  backup?: string
}

interface UserState {
  account?: Seen
  homeDir: boolean
  /** Which of the groups asked about exist. */
  has: Set<string>
  uidUser?: string
  /** The SHA-256 of the password hash. */
  hash?: string
  /** The password hash is a locked one (`*…`, `!…`), where the probe was asked. */
  locked: boolean
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
/** What crypt(3) makes, or a locked field: anything else would be the password itself, in the clear. */
const CRYPT = /^(\$[0-9a-z]+\$[^\s:]+|[!*][^\s:]*|_[./0-9A-Za-z]{19}|[./0-9A-Za-z]{13})$/
const PATH = /^\/[^:\n]*$/
const sorted = (names: Iterable<string>) => [...new Set(names)].sort()
const list = (names: readonly string[]) => (names.length ? names.join(', ') : '(none)')

function parse(probe: ProbeResult): UserState {
  const out = probe.stdout
  const has = new Set(fields(out, 'has'))
  const hash = /[0-9a-f]{64}/.exec(field(out, 'hash') ?? '')?.[0]
  const base = {
    homeDir: field(out, 'home_dir') === '1',
    has,
    uidUser: field(out, 'uid_user'),
    hash,
    locked: field(out, 'locked') === '1',
  }
  if (field(out, 'exists') !== '1') return base
  const gid = Number(field(out, 'gid'))
  return {
    ...base,
    account: {
      uid: Number(field(out, 'uid')),
      gid,
      group: field(out, 'group') ?? String(gid),
      groups: sorted(fields(out, 'member')),
      comment: field(out, 'comment') ?? '',
      home: field(out, 'home') ?? '',
      shell: field(out, 'shell') ?? '',
    },
  }
}

/**
 * `user('alice', { name: 'alice', groups: ['wheel'], shell: '/bin/sh', passwordHash: await
 * secret('alice_hash') })`; `{ name: 'olduser', state: 'absent' }` removes one.
 */
export function user(name: string, opts: UserOptions): Step<UserRecord> {
  const n = opts.name
  const state = opts.state ?? 'present'
  const home = opts.home ?? `/home/${n}`
  const hash = opts.passwordHash
  if (!ACCOUNT_NAME.test(n)) throw new StepError(`${name}: not a user name: ${JSON.stringify(n)}`)
  checkId(name, 'uid', opts.uid)
  for (const g of [opts.group ?? [], opts.groups ?? []].flat())
    if (!ACCOUNT_NAME.test(g)) throw new StepError(`${name}: not a group name: ${JSON.stringify(g)}`)
  if (opts.comment !== undefined && /[:\p{Cc}]/u.test(opts.comment))
    throw new StepError(`${name}: a comment holds no colon and no control character`)
  for (const [what, path] of [
    ['home', opts.home],
    ['shell', opts.shell],
  ] as const)
    if (path !== undefined && !PATH.test(path))
      throw new StepError(`${name}: ${what} must be an absolute path without a colon, got ${JSON.stringify(path)}`)
  // Its value never goes in a message.
  if (hash !== undefined && !CRYPT.test(hash))
    throw new StepError(
      `${name}: passwordHash is not a crypt(3) hash ($y$…, $6$…, $2b$…): it would be the password itself, in the clear (make one with mkpasswd or openssl passwd -6)`,
    )
  if (opts.append && !opts.groups) throw new StepError(`${name}: append needs groups`)
  const backups = opts.backups ?? 3
  checkBackups(name, backups)
  const settings = [
    'uid',
    'group',
    'groups',
    'append',
    'comment',
    'home',
    'createHome',
    'shell',
    'passwordHash',
  ] as const
  const extra = settings.filter((k) => opts[k] !== undefined)
  if (state === 'absent' && extra.length)
    throw new StepError(`${name}: a user that is to be absent takes no ${extra.join(', ')}`)
  const wantHash = hash === undefined ? undefined : sha256(hash)
  /** The groups the probe asks about: the user's own name, for the group useradd would make. */
  const asked = sorted([opts.group ?? n, ...(opts.groups ?? [])])

  // Where no hash can be set, removing a user asks whether its hash is locked (see check).
  const probe = (platform: Platform) =>
    platform.users.probeUser(n, {
      home,
      uid: opts.uid,
      groups: asked,
      hash: hash !== undefined,
      locked: state === 'absent' && !platform.users.setHash,
    })

  /** The settings of an existing account that differ from the wanted ones, with the wanted values. */
  const differ = (cur: Seen): Account => {
    const groups = opts.groups && sorted(opts.append ? [...cur.groups, ...opts.groups] : opts.groups)
    const a: Account = {}
    if (opts.uid !== undefined && opts.uid !== cur.uid) a.uid = opts.uid
    if (opts.group !== undefined && opts.group !== cur.group) a.group = opts.group
    if (groups && groups.join() !== cur.groups.join()) a.groups = groups
    if (opts.comment !== undefined && opts.comment !== cur.comment) a.comment = opts.comment
    if (opts.home !== undefined && opts.home !== cur.home) a.home = opts.home
    if (opts.shell !== undefined && opts.shell !== cur.shell) a.shell = opts.shell
    return a
  }

  const newAccount = (): Account => ({
    uid: opts.uid,
    group: opts.group,
    groups: opts.groups && sorted(opts.groups),
    comment: opts.comment,
    home,
    shell: opts.shell,
  })

  /** Keeps the current hash in the backup, 0600: it never leaves the host. */
  const keepHash = (platform: Platform, backup: string) =>
    `(umask 077 && mkdir -p ${quote(dirOf(backup))}) && ${replaceFile(backup, { content: platform.users.printHash(n), mode: 0o600 })}`

  /**
   * Puts the backed-up hash back, and removes the backup. An OS that cannot set a hash (OpenBSD)
   * keeps the backup and fails, unless the hash is already the same (a locked account's).
   */
  const restoreHash = (platform: Platform, backup: string) => {
    const b = quote(backup)
    const u = platform.users
    const put = u.setHash
      ? `{ [ ! -s ${b} ] || ${u.setHash(n, backup)}; }`
      : `{ [ "$(${u.printHash(n)})" = "$(cat ${b})" ] || { echo ${quote(`ferry: ${n}'s old password hash is in ${backup}: ferry sets none on ${platform.kernel} (put it back with ${u.noSetHash.byHand})`)} >&2; exit 1; }; }`
    return `if [ -f ${b} ]; then ${put} && ${dropBackup(backup)}; fi`
  }

  /** The commands that put back what the record saw, whatever the host looks like now. */
  const back = (record: UserRecord, platform: Platform): string[] => {
    const u = platform.users
    const there = `getent passwd ${quote(n)} >/dev/null`
    const a = record.account
    if (state === 'absent') {
      if (!record.existed || !a) return []
      // userdel (Linux) and pw userdel take a user-private group with the user.
      const named = a.group !== String(a.gid)
      const group = named ? `{ getent group ${quote(a.group)} >/dev/null || ${u.addGroup(a.group, a.gid)}; } && ` : ''
      const { uid, groups, comment, home, shell } = a
      const add = u.addUser(n, { uid, group: a.group, groups, comment, home, shell }, false)
      // A user someone made again since is theirs: it keeps its own settings and password.
      const hash = record.backup ? ` && ${restoreHash(platform, record.backup)}` : ''
      return [`if ! ${there}; then ${group}${add}${hash}; fi`]
    }
    if (!record.existed)
      return [`if ${there}; then ${u.delUser(n, { home: !!record.madeHome, group: opts.group === undefined })}; fi`]
    if (!a) return []
    const changed = Object.keys(differ(a)) as (keyof Account)[]
    return [
      ...(changed.length ? [u.modUser(n, Object.fromEntries(changed.map((k) => [k, a[k]])))] : []),
      ...(record.backup ? [restoreHash(platform, record.backup)] : []),
    ]
  }

  return {
    kind: 'user',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky,
    previewCommands: true,
    touches: [`user:${n}`, ...asked.map((g) => `group:${g}`)],
    reads: [`user:${n}`, ...asked.map((g) => `group:${g}`)],

    probe,

    check(probe, { platform, pending }) {
      const cur = parse(probe)
      const a = cur.account
      const u = platform.users
      if (state === 'absent') {
        if (!a) return []
        // Rollback makes the account again, with the hash a new one gets: a locked one.
        if (!u.setHash && !cur.locked)
          throw new StepError(
            `removing user ${n} could not be rolled back with its password: ${u.noSetHash.why}, so ferry sets none there (lock ${n}'s password first, or remove ${n} by hand)`,
          )
        return [{ summary: `remove user ${n} (uid ${a.uid}; its home ${a.home} stays)` }]
      }
      const known = (g: string) => cur.has.has(g) || pending.has(`group:${g}`) || pending.has(ANYTHING)
      const missing = [opts.group ?? [], opts.groups ?? []].flat().filter((g) => !known(g))
      if (missing.length)
        throw new StepError(
          `${missing.length > 1 ? 'groups' : 'group'} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist (a group step before this one can make ${missing.length > 1 ? 'them' : 'it'})`,
        )
      if (opts.uid !== undefined && cur.uidUser !== undefined && cur.uidUser !== n)
        throw new StepError(`uid ${opts.uid} belongs to user ${cur.uidUser}`)
      const password = wantHash !== undefined && (!a || cur.hash !== wantHash)
      if (password && !u.setHash)
        throw new StepError(
          `${u.noSetHash.why}: ferry sets none there (set ${n}'s by hand, with ${u.noSetHash.byHand})`,
        )
      const pw = password ? [{ summary: `password of ${n}: ${a ? 'changed' : 'set'}` }] : []
      if (!a) {
        if (opts.group === undefined && cur.has.has(n))
          throw new StepError(`a group ${n} exists already: give group: '${n}' to make it ${n}'s primary group`)
        const w = newAccount()
        const parts = [
          ...(w.uid === undefined ? [] : [`uid ${w.uid}`]),
          ...(w.group === undefined ? [] : [`group ${w.group}`]),
          ...(w.groups?.length ? [`groups ${w.groups.join(',')}`] : []),
          ...(w.comment === undefined ? [] : [`comment ${JSON.stringify(w.comment)}`]),
          `home ${home}${opts.createHome !== false && !cur.homeDir ? ' (created)' : ''}`,
          ...(w.shell === undefined ? [] : [`shell ${w.shell}`]),
        ]
        return [{ summary: `create user ${n}: ${parts.join(', ')}` }, ...pw]
      }
      const d = differ(a)
      const show = (k: keyof Account, v: unknown) =>
        k === 'groups' ? list(v as string[]) : k === 'comment' ? JSON.stringify(v) : String(v)
      const label: Record<keyof Account, string> = {
        uid: 'uid',
        group: 'primary group',
        groups: 'groups',
        comment: 'comment',
        home: 'home',
        shell: 'shell',
      }
      return [
        ...(Object.keys(d) as (keyof Account)[]).map((k) => ({
          summary: `${label[k]} of ${n}: ${show(k, a[k])} → ${show(k, d[k])}`,
        })),
        ...pw,
      ]
    },

    record(probe) {
      const cur = parse(probe)
      const existed = cur.account !== undefined
      // Apply replaces the hash, or removes it with the user: the old one is kept on the host.
      const replaces = state === 'absent' ? existed : existed && wantHash !== undefined && cur.hash !== wantHash
      return {
        existed,
        ...(cur.account ? { account: cur.account } : {}),
        ...(!existed && state === 'present' ? { madeHome: opts.createHome !== false && !cur.homeDir } : {}),
        ...(replaces ? { backup: backupPath(`user:${n}`) } : {}),
      }
    },

    async apply({ $, platform }, _changes, record) {
      const u = platform.users
      const keep = record.backup ? [keepHash(platform, record.backup)] : []
      if (state === 'absent')
        return record.existed ? run($, [...keep, u.delUser(n, { home: false, group: false })]) : undefined
      if (!record.existed) await run($, [u.addUser(n, newAccount(), !!record.madeHome)])
      else {
        const d = record.account ? differ(record.account) : {}
        await run($, [...keep, ...(Object.keys(d).length ? [u.modUser(n, d)] : [])])
      }
      if (hash !== undefined && (!record.existed || record.backup)) await runWithInput($, u.setHash!(n), `${hash}\n`)
    },

    undo: ({ $, platform }, record) => run($, back(record, platform)),
    revert: back,
    kept: (record) => (record.backup ? [pruneBackups(record.backup, backups)] : []),
  }
}
