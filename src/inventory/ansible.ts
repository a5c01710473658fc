// `ferry import ansible-inventory`: a static Ansible inventory as a ferry inventory, with the same
// hosts, the same group membership and, host by host, the same effective vars.
//
// Ansible merges a host's vars in two passes: first `all` and then every group's vars from the
// inventory file, then group_vars/all and every group's group_vars/ file, each pass in group order
// (depth, ansible_group_priority, name); then the host's own. ferry merges once: defaults.vars,
// each group's vars in the host's `groups:` order, the host's vars. So each ferry group holds
// both of its Ansible sources and each host lists its groups in Ansible's order; where the
// passes give another answer than one merge would (a parent's group_vars/ file beats a child's
// [child:vars]), the host gets Ansible's value in its own vars, with a comment saying why.
import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { Document, isScalar, type Node } from 'yaml'
import { readIniInventory } from './ansible-ini.ts'
import {
  addVarsFiles,
  fail,
  readYamlInventory,
  type AnsibleInventory,
  type Group,
  type Host,
  type Setting,
  type Vars,
} from './ansible-read.ts'
import { quoted } from './errors.ts'
import { isAddress } from './schema.ts'
import type { Location, Os } from './types.ts'

/** The ferry inventory, as YAML with comments, for the Ansible inventory `file`. */
export function importAnsibleInventory(file: string): string {
  const inv = readAnsibleInventory(path.resolve(file))
  addVarsFiles(inv)
  return new Conversion(inv).yaml()
}

const DYNAMIC =
  'ferry imports static inventories only; save what it lists with `ansible-inventory -i FILE --list --yaml > static.yml` and import that'

function readAnsibleInventory(file: string): AnsibleInventory {
  const top = { file, line: 1, col: 1 }
  let stat
  try {
    stat = statSync(file)
  } catch (e) {
    fail(top, `cannot read the inventory: ${(e as NodeJS.ErrnoException).code ?? e}`)
  }
  if (stat.isDirectory()) fail(top, 'is a directory: name the inventory file in it')
  if (stat.mode & 0o111) fail(top, `is executable, so Ansible runs it as a dynamic inventory: ${DYNAMIC}`)
  if (/\.(py|sh)$/.test(file)) fail(top, `is a script, a dynamic inventory: ${DYNAMIC}`)
  const text = readFileSync(file, 'utf8')
  if (text.startsWith('#!')) fail(top, `is a script, a dynamic inventory: ${DYNAMIC}`)
  if (/\.(ya?ml|json)$/.test(file)) {
    const plugin = /^plugin\s*:/m.exec(text)
    if (plugin) {
      const line = text.slice(0, plugin.index).split('\n').length
      fail({ file, line, col: 1 }, `configures an inventory plugin, a dynamic inventory: ${DYNAMIC}`)
    }
    return readYamlInventory(file, text)
  }
  return readIniInventory(file, text)
}

/**
 * ansible_* vars ferry has a setting for. Where several name one setting and more than one is set,
 * the later in its list wins (ansible_ssh_host over ansible_host), as in Ansible.
 */
const MAPPED = {
  address: ['ansible_host', 'ansible_ssh_host'],
  port: ['ansible_port', 'ansible_ssh_port'],
  user: ['ansible_user', 'ansible_ssh_user'],
  identity: ['ansible_private_key_file', 'ansible_ssh_private_key_file'],
  connection: ['ansible_connection'],
  become: ['ansible_become'],
  becomeMethod: ['ansible_become_method'],
  becomePassword: ['ansible_become_password', 'ansible_become_pass'],
  os: ['ansible_os_family', 'ansible_system'],
}
const MAPPED_KEYS = new Set(Object.values(MAPPED).flat())

const OS_NAMES: Record<string, Os> = {
  freebsd: 'freebsd',
  openbsd: 'openbsd',
  linux: 'linux',
  // ansible_os_family's Linux families.
  debian: 'linux',
  redhat: 'linux',
  suse: 'linux',
  archlinux: 'linux',
  alpine: 'linux',
  gentoo: 'linux',
}

/** Ansible's boolean(): what `ansible_become` may be written as. */
const TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't'])
const FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f'])

/** ferry's connection settings, in the order a host lists them. */
type Settings = {
  address?: string
  port?: number
  user?: string
  connection?: 'ssh' | 'local'
  os?: Os
  become?: 'none' | 'sudo' | 'doas'
  /** Where Ansible's become password is set: the secret it becomes is named once all are known. */
  become_password?: Setting
  identity?: string
}
type Key = keyof Settings
const ORDER: Key[] = ['address', 'port', 'user', 'connection', 'os', 'become', 'become_password', 'identity']

/** What ferry assumes for a setting nobody sets. */
const FERRY_DEFAULT: Settings = { port: 22, user: 'root', connection: 'ssh', become: 'none' }

interface Resolved {
  settings: Settings
  /** The comment for each setting written: its Ansible source. */
  notes: Partial<Record<Key, string>>
}

const merge = (...layers: Vars[]): Vars => new Map(layers.flatMap((l) => [...l]))
const isPlain = (s: Setting) => !s.vaulted && !s.name.startsWith('ansible_')

class Conversion {
  private readonly dir: string
  private readonly parents = new Map<string, string[]>()
  /** Each host's groups (ancestors included, `all` and `ungrouped` not), in Ansible's order. */
  private readonly memberOf = new Map<string, Group[]>()
  /** The vars each ferry group and the defaults hold (`all` stands for the defaults). */
  private readonly scopes = new Map<string, Vars>()
  /** Each host's own vars, plus the values set on it because ferry's order would differ. */
  private readonly hostVars = new Map<string, Vars>()
  private readonly moved = new Map<string, Set<string>>()
  private readonly secrets = new SecretNames()

  constructor(private readonly inv: AnsibleInventory) {
    this.dir = path.dirname(inv.file)
    for (const g of inv.groups.values())
      for (const c of g.children) this.parents.set(c, [...(this.parents.get(c) ?? []), g.name])
    for (const h of inv.hosts.values()) this.memberOf.set(h.name, this.groupsOf(h))
    for (const g of inv.groups.values()) if (g.name !== 'ungrouped') this.scopes.set(g.name, plain(g.vars, g.files))
    for (const h of inv.hosts.values()) this.hostVars.set(h.name, plain(h.vars, h.files))
    this.reconcile()
  }

  private groupsOf(h: Host): Group[] {
    const found = new Set<string>()
    const visit = (g: string) => {
      if (found.has(g)) return
      found.add(g)
      for (const p of this.parents.get(g) ?? []) visit(p)
    }
    for (const g of this.inv.groups.values()) if (g.hosts.has(h.name)) visit(g.name)
    return [...found]
      .filter((g) => g !== 'all')
      .map((g) => this.inv.groups.get(g)!)
      .sort(ansibleOrder)
  }

  /** A host's vars as Ansible merges them: the two passes over its groups, then its own. */
  private ansibleVars(h: Host): Vars {
    const all = this.inv.groups.get('all')!
    const groups = this.memberOf.get(h.name)!
    return merge(all.vars, ...groups.map((g) => g.vars), all.files, ...groups.map((g) => g.files), h.vars, h.files)
  }

  private ferryGroups(h: Host): Group[] {
    return this.memberOf.get(h.name)!.filter((g) => g.name !== 'ungrouped')
  }

  /** A host's vars as ferry will merge them from the scopes as they stand. */
  private ferryVars(h: Host): Vars {
    const groups = this.ferryGroups(h).map((g) => this.scopes.get(g.name)!)
    return merge(this.scopes.get('all')!, ...groups, this.hostVars.get(h.name)!)
  }

  /**
   * Makes every host's ferry vars Ansible's. A value ferry would merge differently is set on the
   * host. A value that must not be there at all (Ansible's is vault-encrypted, so a secret) is
   * taken out of the group that gives it and set on the hosts that had it rightly.
   */
  private reconcile(): void {
    for (let changed = true; changed;) {
      changed = false
      for (const h of this.inv.hosts.values()) {
        const want = new Map([...this.ansibleVars(h)].filter(([, s]) => isPlain(s)))
        const have = this.ferryVars(h)
        for (const [name, s] of have) {
          if (want.has(name)) continue
          const scope = [...this.ferryGroups(h)].reverse().find((g) => this.scopes.get(g.name)!.get(name) === s)
          this.scopes.get(scope?.name ?? 'all')!.delete(name)
          changed = true
        }
        for (const [name, s] of want) {
          if (have.get(name) === s) continue
          this.hostVars.get(h.name)!.set(name, s)
          this.moved.set(h.name, (this.moved.get(h.name) ?? new Set()).add(name))
          changed = true
        }
      }
    }
  }

  /** `group_vars/all.yml:3`: a place, relative to the inventory's directory. */
  private where(at: Location): string {
    return `${path.relative(this.dir, at.file)}:${at.line}`
  }

  private source(s: Setting): string {
    return `${s.name} (${this.where(s.at)})`
  }

  /** ferry's settings from the ansible_* vars in `vars`, each checked where it was written. */
  private resolve(vars: Vars, host?: Host): Resolved {
    const settings: Settings = {}
    const notes: Resolved['notes'] = {}
    const last = (keys: string[]) => keys.flatMap((k) => vars.get(k) ?? []).at(-1)
    const set = <K extends Key>(key: K, value: Settings[K], s: Setting | undefined, note = s && this.source(s)) => {
      settings[key] = value
      if (note) notes[key] = note
    }
    const literal = (s: Setting, what: string): string => {
      if (s.vaulted) fail(s.at, `${s.name} is vault-encrypted: ferry needs ${what} in the inventory`)
      const text = typeof s.value === 'number' || typeof s.value === 'boolean' ? String(s.value) : s.value
      if (typeof text !== 'string' || text === '') fail(s.at, `${s.name} must be ${what}`)
      if (text.includes('{{')) fail(s.at, `${s.name} is a Jinja2 template: ferry needs ${what} itself`)
      return text
    }

    const connection = last(MAPPED.connection)
    if (connection) {
      const c = literal(connection, 'a connection type')
      if (c === 'local') set('connection', 'local', connection)
      else if (!['ssh', 'smart', 'paramiko'].includes(c))
        fail(connection.at, `ansible_connection ${quoted(c)}: ferry connects over ssh or runs local`)
    }
    const address = last(MAPPED.address)
    if (address) {
      const a = literal(address, 'an address')
      if (!isAddress(a)) fail(address.at, `${address.name} ${quoted(a)} is not an IP address or DNS name`)
      set('address', a, address)
    } else if (host && settings.connection !== 'local') {
      if (!isAddress(host.name))
        fail(host.at, `host ${quoted(host.name)} has no ansible_host, and its name is not an address`)
      set('address', host.name, undefined, 'the inventory name (no ansible_host)')
    }
    const port = last(MAPPED.port)
    if (port) {
      const p = Number(literal(port, 'a port'))
      if (!Number.isInteger(p) || p < 1 || p > 65535) fail(port.at, `${port.name} must be an integer from 1 to 65535`)
      set('port', p, port)
    }
    const user = last(MAPPED.user)
    if (user) set('user', literal(user, 'a user name'), user)
    const identity = last(MAPPED.identity)
    if (identity) set('identity', literal(identity, 'a key file'), identity)

    const os = last(MAPPED.os)
    if (os) {
      const name = OS_NAMES[literal(os, 'an OS name').toLowerCase()]
      if (name) set('os', name, os)
    }

    const become = last(MAPPED.become)
    const method = last(MAPPED.becomeMethod)
    const how = method && literal(method, 'sudo or doas')
    if (how && how !== 'sudo' && how !== 'doas')
      fail(method!.at, `ansible_become_method ${quoted(how)}: ferry becomes root with sudo or doas only`)
    if (become) {
      const flag = literal(become, 'true or false').toLowerCase()
      if (!TRUE.has(flag) && !FALSE.has(flag)) fail(become.at, 'ansible_become must be true or false')
      const value = TRUE.has(flag) ? ((how ?? 'sudo') as 'sudo' | 'doas') : 'none'
      set('become', value, become, [become, method].flatMap((s) => (s ? [this.source(s)] : [])).join(', '))
    } else if (how) {
      set(
        'become',
        'none',
        method,
        `ansible_become is not set; ${this.source(method!)}: set become: ${how} if plays say become: yes`,
      )
    }
    const password = last(MAPPED.becomePassword)
    if (password) set('become_password', password, password)
    return { settings, notes }
  }

  yaml(): string {
    const all = this.inv.groups.get('all')!
    const defaults = this.resolve(merge(all.vars, all.files))
    // ferry refuses a become password beside become: none, and does not pass a default one down
    // to a host whose become is none.
    const noBecome = (s: Settings) => (s.become ?? 'none') === 'none'
    if (noBecome(defaults.settings)) delete defaults.settings.become_password
    const hosts = [...this.inv.hosts.values()].map((h) => {
      const effective = this.ansibleVars(h)
      const own = this.resolve(effective, h)
      const inherited: Settings = { ...FERRY_DEFAULT, ...defaults.settings }
      if (noBecome({ ...inherited, ...own.settings })) delete own.settings.become_password
      for (const key of ORDER) if (own.settings[key] === inherited[key]) delete own.settings[key]
      const vaulted = [...effective.values()].filter((s) => s.vaulted && !s.name.startsWith('ansible_'))
      return { h, own, vaulted }
    })

    for (const s of [defaults, ...hosts.map((h) => h.own)].map((r) => r.settings.become_password))
      if (s) this.secrets.add('become_password', s)
    for (const { vaulted } of hosts) for (const s of vaulted) this.secrets.add(s.name, s)
    for (const e of [...this.inv.groups.values(), ...this.inv.hosts.values()])
      for (const at of e.vaultFiles) this.secrets.addFile(e.name, at)
    const secrets = this.secrets.entries((at) => this.where(at))
    const settingsOut = (s: Settings) =>
      Object.fromEntries(
        ORDER.filter((k) => s[k] !== undefined).map((k) => [
          k,
          k === 'become_password' ? this.secrets.name('become_password', s[k]!) : s[k],
        ]),
      )

    const defaultVars = this.scopes.get('all')!
    const groups = [...this.inv.groups.values()].filter((g) => g.name !== 'all' && this.scopes.has(g.name))
    groups.sort(ansibleOrder)
    const doc = new Document({
      ...(Object.keys(defaults.settings).length || defaultVars.size
        ? { defaults: { ...settingsOut(defaults.settings), ...varsOf(defaultVars) } }
        : {}),
      groups: Object.fromEntries(groups.map((g) => [g.name, varsOf(this.scopes.get(g.name)!)])),
      hosts: Object.fromEntries(
        hosts.map(({ h, own }) => {
          const groups = this.ferryGroups(h).map((g) => g.name)
          return [
            h.name,
            {
              ...settingsOut(own.settings),
              ...(groups.length ? { groups } : {}),
              ...varsOf(this.hostVars.get(h.name)!),
            },
          ]
        }),
      ),
      ...(secrets.length ? { secrets: Object.fromEntries(secrets.map((s) => [s.name, s.source])) } : {}),
    })
    const comments = new Comments(doc)

    comments.settings(['defaults'], defaults)
    comments.before(['defaults'], this.scopeNotes([all.vars, all.files]))
    for (const g of groups) {
      const lines = this.scopeNotes([g.vars, g.files], true)
      if (g.priority)
        lines.push(`${this.source(g.priority)}: ${g.priority.value}, which orders this group in its hosts' groups`)
      comments.before(['groups', g.name], lines)
    }
    for (const { h, own, vaulted } of hosts) {
      comments.settings(['hosts', h.name], own)
      comments.flow(['hosts', h.name, 'groups'])
      const lines = this.scopeNotes([h.vars, h.files])
      for (const s of vaulted) {
        const name = this.secrets.name(s.name, s)
        if (name !== s.name) lines.push(`${s.name} is vault-encrypted: see secrets.${name}`)
      }
      comments.before(['hosts', h.name], lines)
      for (const name of this.moved.get(h.name) ?? []) {
        const s = this.hostVars.get(h.name)!.get(name)!
        comments.on(
          ['hosts', h.name, 'vars', name],
          `from ${this.where(s.at)}: Ansible's precedence here is not ferry's group order`,
        )
      }
    }
    for (const s of secrets) comments.on(['secrets', s.name], s.note)
    const os = (settings: Settings) => settings.os ?? defaults.settings.os
    doc.commentBefore = this.header(hosts.filter(({ own }) => !os(own.settings)).map(({ h }) => h.name))
    return doc.toString({ lineWidth: 0 })
  }

  /**
   * What a scope's ansible_* vars became: dropped, or (said for groups, whose settings are written
   * on their hosts) mapped.
   */
  private scopeNotes(sources: Vars[], mappedToo = false): string[] {
    const ansible = [...merge(...sources).values()].filter((s) => s.name.startsWith('ansible_'))
    const mapped = ansible.filter((s) => MAPPED_KEYS.has(s.name)).map((s) => this.source(s))
    const dropped = ansible.filter((s) => !MAPPED_KEYS.has(s.name)).map((s) => this.source(s))
    return [
      ...(mappedToo && mapped.length ? [`mapped onto its hosts' settings: ${mapped.join(', ')}`] : []),
      ...(dropped.length ? [`dropped, Ansible-only: ${dropped.join(', ')}`] : []),
    ]
  }

  private header(noOs: string[]): string {
    const lines = [
      `Imported by \`ferry import ansible-inventory\` from ${path.basename(this.inv.file)} and the group_vars/`,
      'and host_vars/ beside it. Each setting mapped from an ansible_* var names where it came from.',
    ]
    if (noOs.length)
      lines.push(
        `os is not known for ${list(noOs)}`,
        "(Ansible inventories have none): ferry asks the host's kernel at every run; set os: freebsd,",
        'openbsd or linux where you know it.',
      )
    if (this.secrets.size)
      lines.push(
        'Vault-encrypted values and become passwords are secrets: fill in the environment variables',
        'that secrets: names, or change their sources.',
      )
    return lines.map((l) => ` ${l}`).join('\n')
  }
}

/** The order Ansible merges groups in: shallow first, then by ansible_group_priority, then by name. */
function ansibleOrder(a: Group, b: Group): number {
  const priority = (g: Group) => Number(g.priority?.value ?? 1)
  return a.depth - b.depth || priority(a) - priority(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}

/** A scope's vars ferry keeps: no ansible_* vars and no vault-encrypted ones. */
function plain(...layers: Vars[]): Vars {
  return new Map([...merge(...layers)].filter(([, s]) => isPlain(s)))
}

function varsOf(vars: Vars): { vars?: Record<string, unknown> } {
  return vars.size ? { vars: Object.fromEntries([...vars].map(([k, s]) => [k, s.value])) } : {}
}

/** Comments on the document's nodes. */
class Comments {
  constructor(private readonly doc: Document) {}

  /** After a scalar on its line; before the key of anything else. */
  on(p: (string | number)[], text: string): void {
    const node = this.doc.getIn(p, true) as Node | undefined
    if (isScalar(node)) node.comment = ` ${text}`
    else this.before(p, [text])
  }

  /** Lines before a key. */
  before(p: (string | number)[], lines: string[]): void {
    const parent = this.doc.getIn(p.slice(0, -1), true) as { items: { key: Node }[] } | undefined
    const key = parent?.items.find((i) => isScalar(i.key) && i.key.value === p.at(-1))?.key
    if (key && lines.length) key.commentBefore = lines.map((l) => ` ${l}`).join('\n')
  }

  /** Each setting written under `p`, with its Ansible source. */
  settings(p: string[], r: Resolved): void {
    for (const [key, text] of Object.entries(r.notes))
      if (r.settings[key as Key] !== undefined) this.on([...p, key], text)
  }

  flow(p: string[]): void {
    const node = this.doc.getIn(p, true) as { flow?: boolean } | undefined
    if (node) node.flow = true
  }
}

function list(names: string[]): string {
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`
}

/**
 * The inventory's secrets: one per vault-encrypted value some host ends up with, one per become
 * password, one per file encrypted whole. Each is named after its var, with the group or host
 * that sets it in front where several places set one var.
 */
class SecretNames {
  private readonly values = new Map<string, Setting[]>()
  private readonly files: { owner: string; at: Location }[] = []

  add(base: string, s: Setting): void {
    const seen = this.values.get(base) ?? []
    if (!seen.includes(s)) this.values.set(base, [...seen, s])
  }

  addFile(owner: string, at: Location): void {
    this.files.push({ owner, at })
  }

  get size(): number {
    return this.values.size + this.files.length
  }

  name(base: string, s: Setting): string {
    return secretName(this.values.get(base)!.length > 1 ? `${s.owner}_${base}` : base)
  }

  /** Each secret's name, its source (an environment variable to fill in) and its comment. */
  entries(where: (at: Location) => string): { name: string; source: string; note: string }[] {
    const env = (name: string) => `env:FERRY_SECRET_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`
    return [
      ...[...this.values].flatMap(([base, settings]) =>
        settings.map((s) => {
          const name = this.name(base, s)
          const was = s.vaulted ? 'was vault-encrypted' : `was plain text (${s.name})`
          return { name, source: env(name), note: `${was} in ${where(s.at)}; fill in` }
        }),
      ),
      ...this.files.map(({ owner, at }) => {
        const name = secretName(`${owner}_${path.basename(at.file, path.extname(at.file))}`)
        return {
          name,
          source: env(name),
          note: `${where(at)} was vault-encrypted whole, so none of its vars are imported; fill in`,
        }
      }),
    ]
  }
}

/** A valid ferry name made of `text`. */
function secretName(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+/, '') || 'secret'
}
