// Reads a static Ansible inventory as Ansible itself does: its groups and their children, its hosts
// (ranges expanded), the vars the inventory file sets, and the group_vars/ and host_vars/ beside it.
// Every var keeps where it was written, for the comments and errors of `ferry import`. A
// vault-encrypted value is read as "vaulted" and its ciphertext dropped at once: nothing after
// this file can print it.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import { InventoryError, quoted } from './errors.ts'
import { inventorySchema } from './schema.ts'
import type { Location } from './types.ts'

/** A var as one place in the inventory sets it. */
export interface Setting {
  name: string
  /** Undefined when vaulted. */
  value: unknown
  vaulted: boolean
  at: Location
  /** The group or host that sets it (`all` for the inventory's defaults). */
  owner: string
}

export type Vars = Map<string, Setting>

interface Entity {
  name: string
  at: Location
  /** Set in the inventory file itself. */
  vars: Vars
  /** From group_vars/NAME or host_vars/NAME, which Ansible reads after every inventory file's vars. */
  files: Vars
  /** Files of group_vars/NAME or host_vars/NAME encrypted whole: even their var names are unknown. */
  vaultFiles: Location[]
}

export interface Group extends Entity {
  children: Set<string>
  hosts: Set<string>
  /** ansible_group_priority, which only the inventory file may set; it orders groups of one depth. */
  priority?: Setting
  /** The longest path from `all`, which is 0: Ansible merges shallow groups first. */
  depth: number
}

export type Host = Entity

export interface AnsibleInventory {
  file: string
  groups: Map<string, Group>
  hosts: Map<string, Host>
}

/** Throws the one problem found, in load.ts's form (`FILE:LINE:COL: reason`, exit 64). */
export function fail(at: Location, message: string): never {
  throw new InventoryError([{ ...at, message }])
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const isName = (s: string) => inventorySchema.shape.hosts.keyType.safeParse(s).success

/** Collects groups, hosts and vars in the order a parser finds them; `finish` checks the whole. */
export class InventoryBuilder {
  private readonly groups = new Map<string, Group>()
  private readonly hosts = new Map<string, Host>()
  private readonly edges: { parent: string; child: string; at: Location }[] = []

  constructor(readonly file: string) {
    const top = { file, line: 1, col: 1 }
    this.group('all', top)
    this.group('ungrouped', top)
  }

  group(name: string, at: Location): Group {
    let g = this.groups.get(name)
    if (!g) {
      if (!isName(name)) fail(at, `group ${quoted(name)}: ferry's names are letters, digits, "_", "." and "-"`)
      g = {
        name,
        at,
        vars: new Map(),
        files: new Map(),
        vaultFiles: [],
        children: new Set(),
        hosts: new Set(),
        depth: 0,
      }
      this.groups.set(name, g)
    }
    return g
  }

  hasGroup(name: string): boolean {
    return this.groups.has(name)
  }

  host(name: string, group: string, at: Location): Host {
    let h = this.hosts.get(name)
    if (!h) {
      if (!isName(name)) fail(at, `host ${quoted(name)}: ferry's names are letters, digits, "_", "." and "-"`)
      h = { name, at, vars: new Map(), files: new Map(), vaultFiles: [] }
      this.hosts.set(name, h)
    }
    this.groups.get(group)!.hosts.add(name)
    return h
  }

  child(parent: string, child: string, at: Location): void {
    this.groups.get(parent)!.children.add(child)
    this.edges.push({ parent, child, at })
  }

  /** A var the inventory file sets on a group or host: the last one set wins, as in Ansible. */
  set(owner: Group | Host, name: string, value: unknown, at: Location, vaulted = false): void {
    const setting = checkedSetting(name, value, at, owner.name, vaulted)
    if (name === 'ansible_group_priority' && 'children' in owner) {
      if (vaulted || !Number.isInteger(Number(value))) fail(at, 'ansible_group_priority must be a whole number')
      owner.priority = { ...setting, value: Number(value) }
    } else owner.vars.set(name, setting)
  }

  /** Ansible's reconciliation: hosts in no group are `ungrouped`; groups get their depth. */
  finish(): AnsibleInventory {
    const all = this.groups.get('all')!
    const parented = new Set(this.edges.map((e) => e.child))
    for (const g of this.groups.values()) if (g !== all && !parented.has(g.name)) all.children.add(g.name)
    const grouped = new Set([...this.groups.values()].filter((g) => g !== all).flatMap((g) => [...g.hosts]))
    for (const h of this.hosts.keys()) if (!grouped.has(h)) this.groups.get('ungrouped')!.hosts.add(h)
    this.depths(all, [])
    return { file: this.file, groups: this.groups, hosts: this.hosts }
  }

  private depths(g: Group, path: string[]): void {
    if (path.includes(g.name)) {
      const edge = this.edges.find((e) => e.parent === path.at(-1) && e.child === g.name)!
      fail(
        edge.at,
        `group ${g.name} is its own ancestor: ${[...path.slice(path.indexOf(g.name)), g.name].join(' -> ')}`,
      )
    }
    g.depth = Math.max(g.depth, path.length)
    for (const c of g.children) this.depths(this.groups.get(c)!, [...path, g.name])
  }
}

function checkedSetting(name: string, value: unknown, at: Location, owner: string, vaulted: boolean): Setting {
  if (!VAR_NAME.test(name))
    fail(at, `${quoted(name)} is not a valid variable name: letters, digits and "_", not starting with a digit`)
  return { name, value: vaulted ? undefined : value, vaulted, at, owner }
}

/**
 * A host pattern as Ansible expands it: `web[01:03]`, `db-[a:c]`, `r[1:9:2]`, with an optional
 * `:PORT` (`[ADDR]:PORT` for IPv6). `at` is where the pattern starts.
 */
export function expandHostPattern(pattern: string, at: Location): { names: string[]; port?: number } {
  // A range's own colons (`web[1:3]:22`) are not the port's.
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(pattern) ?? /^((?:[^:[]|\[[^\]]*\])+):(\d+)$/.exec(pattern)
  if (pattern.endsWith(':')) fail(at, `host ${quoted(pattern)}: a ":" must be followed by a port`)
  const names = expandRanges(m ? m[1]! : pattern, at)
  return m ? { names, port: Number(m[2]) } : { names }
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'

function expandRanges(name: string, at: Location): string[] {
  const open = name.indexOf('[')
  if (open < 0) return [name]
  const close = name.indexOf(']', open)
  const bad = (why: string): never => fail({ ...at, col: at.col + open }, `host range in ${quoted(name)}: ${why}`)
  if (close < 0) bad('no closing "]"')
  const bounds = name.slice(open + 1, close).split(':')
  if (bounds.length < 2 || bounds.length > 3) bad('must be [BEGIN:END] or [BEGIN:END:STEP]')
  const [begin = '0', end, stepText = '1'] = bounds.map((b, i) => (i === 0 && b === '' ? '0' : b))
  if (!end) bad('no end value')
  const step = Number(stepText)
  if (!/^\d+$/.test(stepText) || step < 1) bad('the step must be a whole number of at least 1')
  let values: string[]
  if (/^[A-Za-z]$/.test(begin) && /^[A-Za-z]$/.test(end!)) {
    const [b, e] = [LETTERS.indexOf(begin), LETTERS.indexOf(end!)]
    if (b > e) bad('begin is after end')
    values = [...LETTERS.slice(b, e + 1)].filter((_, i) => i % step === 0)
  } else if (/^\d+$/.test(begin) && /^\d+$/.test(end!)) {
    // A leading zero makes every name as wide as the bounds, which must then be equally wide.
    const width = begin.length > 1 && begin.startsWith('0') ? begin.length : 0
    if (width && end!.length !== width) bad('begin and end must have the same number of digits')
    if (Number(begin) > Number(end)) bad('begin is greater than end')
    values = []
    for (let i = Number(begin); i <= Number(end); i += step) values.push(String(i).padStart(width, '0'))
  } else {
    return bad('bounds must be numbers or single letters')
  }
  const head = name.slice(0, open)
  const tail = name.slice(close + 1)
  return values.flatMap((v) => expandRanges(`${head}${v}${tail}`, at))
}

/** A file's YAML with its positions; Ansible reads YAML 1.1 (`yes` is true, `0755` octal). */
function parseYaml(file: string, text: string) {
  const lines = new LineCounter()
  const doc = parseDocument(text, { version: '1.1', lineCounter: lines, prettyErrors: false, logLevel: 'error' })
  const where = (node: Node | null | undefined): Location => {
    const offset = node?.range?.[0] ?? 0
    return { file, ...lines.linePos(offset) }
  }
  const e = doc.errors[0]
  if (e) fail({ file, ...lines.linePos(e.pos[0]) }, `not valid YAML: ${e.message.split('\n')[0]}`)
  return { doc, where }
}

/** A node's value as Ansible loads it, or "vaulted" if a `!vault` value is anywhere in it. */
function yamlValue(doc: Document, node: unknown): { value: unknown; vaulted: boolean } {
  const vaulted = (n: unknown): boolean => {
    const target = isAlias(n) ? n.resolve(doc) : n
    if (isScalar(target)) return target.tag === '!vault'
    if (isMap(target)) return target.items.some((p) => vaulted(p.value))
    return isSeq(target) && target.items.some(vaulted)
  }
  if (vaulted(node)) return { value: undefined, vaulted: true }
  return { value: isNode(node) ? node.toJS(doc) : null, vaulted: false }
}

/** A whole file encrypted with ansible-vault. */
const VAULT_FILE = /^\$ANSIBLE_VAULT;/

/**
 * Reads group_vars/NAME or host_vars/NAME beside the inventory: the first of `NAME` (a file or a
 * directory), `NAME.yml`, `NAME.yaml`, `NAME.json`; a directory's files (and its directories'
 * files) merged in sorted order, hidden files and `~` backups skipped, as Ansible's loader does.
 */
function readVarsFiles(dir: string, entity: Group | Host): void {
  for (const ext of ['', '.yml', '.yaml', '.json']) {
    const p = path.join(dir, entity.name + ext)
    const stat = statSync(p, { throwIfNoEntry: false })
    if (!stat) continue
    for (const file of stat.isDirectory() ? filesIn(p) : [p]) {
      const text = readFileSync(file, 'utf8')
      if (VAULT_FILE.test(text)) entity.vaultFiles.push({ file, line: 1, col: 1 })
      else for (const s of readVarsFile(file, text, entity.name)) entity.files.set(s.name, s)
    }
    return
  }
}

function filesIn(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .filter((f) => !f.startsWith('.') && !f.endsWith('~'))
    .flatMap((f) => {
      const p = path.join(dir, f)
      const ext = path.extname(f)
      const stat = statSync(p, { throwIfNoEntry: false })
      if (!stat) return [] // a dangling symlink, which Ansible skips too
      if (stat.isDirectory()) return ext ? [] : filesIn(p)
      return stat.isFile() && ['', '.yml', '.yaml', '.json'].includes(ext) ? [p] : []
    })
}

function readVarsFile(file: string, text: string, owner: string): Setting[] {
  const { doc, where } = parseYaml(file, text)
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return []
  if (!isMap(doc.contents)) fail(where(doc.contents), 'a vars file must be a mapping of names to values')
  return doc.contents.items.map((p) => {
    const key = p.key as Node
    const { value, vaulted } = yamlValue(doc, p.value)
    return checkedSetting(String(isScalar(key) ? key.value : key), value, where(key), owner, vaulted)
  })
}

/** A YAML inventory: top-level groups, each with hosts, vars and children. */
export function readYamlInventory(file: string, text: string): AnsibleInventory {
  const { doc, where } = parseYaml(file, text)
  const root = doc.contents
  if (!isMap(root)) fail(where(root), 'a YAML inventory is a mapping of group names')
  const b = new InventoryBuilder(file)
  const keyOf = (n: unknown) => String(isScalar(n) ? n.value : n)
  const mapping = (node: unknown, what: string): [string, Node | null, Location][] => {
    if (node === null || (isScalar(node) && node.value === null)) return []
    if (!isMap(node)) fail(where(node as Node), `${what} must be a mapping`)
    return node.items.map((p) => [keyOf(p.key), p.value as Node | null, where(p.key as Node)])
  }
  const group = (name: string, node: Node | null, at: Location): void => {
    const g = b.group(name, at)
    for (const [key, value, keyAt] of mapping(node, `group ${name}`)) {
      if (key === 'vars') {
        for (const [v, n, vAt] of mapping(value, `${name}.vars`)) {
          const { value: js, vaulted } = yamlValue(doc, n)
          b.set(g, v, js, vAt, vaulted)
        }
      } else if (key === 'children') {
        for (const [c, n, cAt] of mapping(value, `${name}.children`)) {
          group(c, n, cAt)
          b.child(name, c, cAt)
        }
      } else if (key === 'hosts') {
        for (const [pattern, n, hAt] of mapping(value, `${name}.hosts`)) {
          const { names, port } = expandHostPattern(pattern, hAt)
          const hostVars = mapping(n, `host ${pattern}`)
          for (const h of names) {
            const host = b.host(h, name, hAt)
            if (port !== undefined) b.set(host, 'ansible_port', port, hAt)
            for (const [v, vn, vAt] of hostVars) {
              const { value: js, vaulted } = yamlValue(doc, vn)
              b.set(host, v, js, vAt, vaulted)
            }
          }
        }
      } else {
        // Ansible warns and skips it; a misspelt "hosts" would lose hosts.
        fail(keyAt, `group ${name}: unknown key ${quoted(key)} (expected hosts, vars or children)`)
      }
    }
  }
  for (const [name, node, at] of mapping(root, 'the inventory')) group(name, node, at)
  return b.finish()
}

/** Adds group_vars/ and host_vars/ from beside the inventory file. */
export function addVarsFiles(inv: AnsibleInventory): void {
  const dir = path.dirname(inv.file)
  for (const g of inv.groups.values()) readVarsFiles(path.join(dir, 'group_vars'), g)
  for (const h of inv.hosts.values()) readVarsFiles(path.join(dir, 'host_vars'), h)
}
