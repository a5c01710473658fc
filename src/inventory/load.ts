// Loads an inventory file: YAML -> zod schema -> cross-reference checks -> resolved Inventory.
// Every problem is collected with the file:line:col of the node it is about, then all are thrown
// together in one InventoryError, so a user fixes a file in one pass.
import { accessSync, constants, readdirSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import type { z } from 'zod'
import { displayPath, InventoryError, similar, type Problem } from './errors.ts'
import { isAddress, inventorySchema, knownKeys, type RawHost, type RawInventory } from './schema.ts'
import { parseSource, resolvePath, Secrets } from './secrets.ts'
import type { ExternalJump, Host, Inventory, Link, Location } from './types.ts'

type Path = (string | number)[]

const DEFAULT_CONNECT_TIMEOUT_S = 10

/** A bare name is `inventory/<name>.yaml` under cwd; anything with a `/` or a YAML suffix is a path. */
export function inventoryPath(nameOrPath: string, cwd = process.cwd()): string {
  const bare = !nameOrPath.includes('/') && !/\.ya?ml$/.test(nameOrPath)
  return path.resolve(cwd, bare ? path.join('inventory', `${nameOrPath}.yaml`) : nameOrPath)
}

export async function loadInventory(nameOrPath: string, opts: { cwd?: string } = {}): Promise<Inventory> {
  const cwd = path.resolve(opts.cwd ?? process.cwd())
  const file = inventoryPath(nameOrPath, cwd)
  const src = new Source(file, await readInventory(file, cwd))

  if (src.problems.length === 0) {
    const parsed = inventorySchema.safeParse(src.doc.toJS(), { error: describeIssue })
    if (parsed.success) return build(src, parsed.data)
    for (const issue of parsed.error.issues) src.addIssue(issue)
  }
  throw src.error()
}

async function readInventory(file: string, cwd: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    let message = `cannot read inventory: ${code ?? e}`
    if (code === 'ENOENT') {
      const dir = path.join(cwd, 'inventory')
      let names: string[] = []
      try {
        names = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, ''))
      } catch { /* no inventory directory: nothing to list */ }
      message = `no such inventory file; ${names.length ? `available in ${displayPath(dir)}/: ${names.sort().join(', ')}` : `no inventories in ${displayPath(dir)}/`}`
    }
    throw new InventoryError([{ file, line: 1, col: 1, message }])
  }
}

/** The parsed document plus the problems found so far, each placed on a node. */
class Source {
  readonly doc: Document
  readonly problems: Problem[] = []
  private readonly lines = new LineCounter()

  constructor(readonly file: string, text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false })
    for (const e of this.doc.errors) {
      const message = e.code === 'MULTIPLE_DOCS' ? 'an inventory is a single YAML document; remove the "---"' : e.message
      this.problems.push({ file, ...this.lines.linePos(e.pos[0]), message })
    }
  }

  /** Where the node at `path` is, or undefined if there is no such node. */
  locate(path: Path): Location | undefined {
    const found = this.find(path)
    return found.rest === 0 ? this.position([found.value, found.key]) : undefined
  }

  /** Adds a problem about the node at `path`, prefixed with that path. */
  report(path: Path, message: string): void {
    this.add(path, `${dotted(path)}: ${message}`)
  }

  /** Adds a problem at `path`, or at the deepest part of it that exists. */
  add(path: Path, message: string, key = false): void {
    const found = this.find(path)
    const nodes = key || found.rest > 0 ? [found.key, found.value] : [found.value, found.key]
    const problem = { ...(this.position(nodes) ?? { file: this.file, line: 1, col: 1 }), message }
    if (!this.problems.some((p) => p.line === problem.line && p.col === problem.col && p.message === message)) {
      this.problems.push(problem)
    }
  }

  /** All problems so far, in file order. */
  error(): InventoryError {
    return new InventoryError([...this.problems].sort((a, b) => a.line - b.line || a.col - b.col))
  }

  addIssue(issue: z.core.$ZodIssue): void {
    const where = (p: Path) => (p.length ? `${dotted(p)}: ` : 'the inventory ')
    const path = issue.path as Path
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(path)
      for (const k of issue.keys) {
        const [guess] = similar(k, known)
        const hint = guess ? `did you mean "${guess}"?` : `expected one of: ${known.join(', ')}`
        this.add([...path, k], `${path.length ? where(path) : ''}unknown key "${k}" (${hint})`, true)
      }
    } else if (issue.code === 'invalid_key') {
      this.add(path, `${where(path)}${issue.issues[0]?.message ?? issue.message}`, true)
    } else if (this.find(path).rest > 0) {
      const parent = path.slice(0, -1)
      this.add(path, `${parent.length ? where(parent) : ''}missing required key "${path.at(-1)}"`)
    } else {
      this.add(path, `${where(path)}${issue.message}`)
    }
  }

  /** Host names in file order (a JS object would move integer-like names such as "10" first). */
  keysOf(path: Path): string[] {
    const node = this.find(path).value
    return isMap(node) ? node.items.map((p) => String(isScalar(p.key) ? p.key.value : p.key)) : []
  }

  /** Walks `path`; `rest` is how many trailing segments were not found. */
  private find(path: Path): { key?: Node; value?: Node; rest: number } {
    let key: Node | undefined
    let value = (this.doc.contents ?? undefined) as Node | undefined
    for (const [i, seg] of path.entries()) {
      let next: { key?: Node; value?: Node } | undefined
      if (isMap(value)) {
        const pair = value.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg))
        if (pair) next = { key: pair.key as Node, value: (pair.value ?? undefined) as Node | undefined }
      } else if (isSeq(value) && typeof seg === 'number' && value.items[seg]) {
        next = { value: value.items[seg] as Node }
      }
      if (!next) return { key, value, rest: path.length - i }
      key = next.key
      value = next.value
    }
    return { key, value, rest: 0 }
  }

  /** Where the first of `nodes` with a position starts. */
  private position(nodes: (Node | undefined)[]): Location | undefined {
    // An empty value (`r1:` and nothing else) has a zero-width range; its key is then the better spot.
    const node = nodes.find((n) => n?.range && !(isScalar(n) && n.value === null && n.range[0] === n.range[1]))
    return node?.range ? { file: this.file, ...this.lines.linePos(node.range[0]) } : undefined
  }
}

function dotted(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('')
}

const KIND: Record<string, string> = { object: 'a mapping', record: 'a mapping', array: 'a list' }

/** Messages for issues whose schema has none of its own, phrased in YAML's words. */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    const input = issue.input
    const got = input === null ? 'empty' : Array.isArray(input) ? 'a list' : typeof input === 'object' ? 'a mapping' : `${typeof input} ${JSON.stringify(input)}`
    return `must be ${KIND[issue.expected] ?? `a ${issue.expected}`}, not ${got}`
  }
  if (issue.code === 'too_small' && issue.origin === 'string') return 'must not be empty'
  return undefined
}

const toList = (v: string | string[] | undefined) => (v === undefined ? [] : typeof v === 'string' ? [v] : v)

/** Cross-reference checks and defaults; returns the Inventory or throws every problem found. */
function build(src: Source, raw: RawInventory): Inventory {
  const dir = path.dirname(src.file)
  const defaults = raw.defaults ?? {}
  const groups = new Map(Object.entries(raw.groups ?? {}).map(([n, g]) => [n, { vars: g?.vars ?? {} }]))
  const secrets = new Map(Object.entries(raw.secrets ?? {}))
  const hostNames = src.keysOf(['hosts'])
  const known = new Set(hostNames)

  const checkSecretName = (name: string | undefined, at: Path) => {
    if (name !== undefined && !secrets.has(name)) {
      src.report(at, `secret "${name}" is not declared in secrets${didYouMean(name, secrets.keys())}`)
    }
  }
  checkSecretName(defaults.become_password, ['defaults', 'become_password'])
  if (defaults.become_password !== undefined && (defaults.become ?? 'none') === 'none') {
    src.report(['defaults', 'become_password'], 'set but become is none')
  }

  const hosts = hostNames.map((name): Host => {
    const h = raw.hosts[name] as RawHost
    const at = (...p: Path): Path => ['hosts', name, ...p]

    h.groups?.forEach((g, i) => {
      if (g !== 'all' && !groups.has(g)) src.report(at('groups', i), `unknown group "${g}"${didYouMean(g, groups.keys())}`)
    })
    const memberOf = [...new Set(h.groups?.filter((g) => g !== 'all' && groups.has(g))), 'all']

    const os = h.os ?? defaults.os
    const become = h.become ?? defaults.become ?? 'none'
    checkSecretName(h.become_password, at('become_password'))
    if (h.become_password !== undefined && become === 'none') {
      src.report(at('become_password'), 'set but become is none')
    }
    // A host that turns become off does not inherit the default password.
    const becomePassword = become === 'none' ? undefined : h.become_password ?? defaults.become_password

    let jump: Host['jump']
    if (h.jump !== undefined) {
      const parsed = parseJump(h.jump, known)
      if (typeof parsed === 'object' && 'error' in parsed) src.report(at('jump'), parsed.error)
      else jump = parsed
    }

    return {
      name,
      connection: h.connection ?? 'ssh',
      address: h.address ?? 'localhost',
      port: h.port ?? defaults.port ?? 22,
      user: h.user ?? defaults.user ?? 'root',
      ...(os ? { os } : {}),
      become,
      ...(becomePassword !== undefined ? { becomePassword } : {}),
      identity: toList(h.identity ?? defaults.identity).map((p) => resolvePath(p, dir)),
      knownHosts: toList(h.known_hosts ?? defaults.known_hosts).map((p) => resolvePath(p, dir)),
      connectTimeout: Math.round((h.connect_timeout ?? defaults.connect_timeout ?? DEFAULT_CONNECT_TIMEOUT_S) * 1000),
      groups: memberOf,
      ...(jump !== undefined ? { jump } : {}),
      vars: Object.assign({}, defaults.vars, ...memberOf.map((g) => groups.get(g)?.vars), h.vars),
      jails: h.jails ?? {},
    }
  })

  checkJumpLoops(src, hosts)
  const links: Link[] = raw.links ?? []
  checkLinks(src, links, known)
  for (const [name, source] of secrets) checkSecret(src, name, source, dir)

  if (src.problems.length) throw src.error()

  const fallback = (p: Path) => src.locate(p) ?? { file: src.file, line: 1, col: 1 }
  return {
    file: src.file,
    hosts,
    groups: Object.fromEntries(groups),
    links,
    secrets: new Secrets(secrets, dir, (name) => fallback(name === undefined ? ['secrets'] : ['secrets', name])),
    locate: (p) => src.locate(p),
  }
}

function didYouMean(word: string, candidates: Iterable<string>): string {
  const [guess] = similar(word, candidates)
  return guess ? ` (did you mean "${guess}"?)` : ''
}

/** An inventory host's name, or `[user@]host[:port]` (IPv6 in brackets) for a hop outside it. */
function parseJump(value: string, hosts: Set<string>): string | ExternalJump | { error: string } {
  if (hosts.has(value)) return value
  if (!/[@:.]/.test(value)) return { error: `unknown jump host "${value}"${didYouMean(value, hosts)}` }
  const m = /^(?:([^@\s]+)@)?(?:\[([0-9A-Fa-f:.]+)\]|([^@:[\]\s]+))(?::(\d+))?$/.exec(value)
  const address = m?.[2] ?? m?.[3]
  const port = m?.[4] === undefined ? undefined : Number(m[4])
  if (!m || !address || !isAddress(address) || (port !== undefined && (port < 1 || port > 65535))) {
    return { error: `jump "${value}" is neither an inventory host nor [user@]host[:port]` }
  }
  return { address, ...(port !== undefined ? { port } : {}), ...(m[1] ? { user: m[1] } : {}) }
}

/** Follows each host's chain of inventory jump hosts; reports each cycle once, on its first host. */
function checkJumpLoops(src: Source, hosts: Host[]): void {
  const jumpOf = new Map(hosts.map((h) => [h.name, typeof h.jump === 'string' ? h.jump : undefined]))
  const order = new Map(hosts.map((h, i) => [h.name, i]))
  for (const h of hosts) {
    const chain = [h.name]
    for (let next = jumpOf.get(h.name); next !== undefined; next = jumpOf.get(next)) {
      const seen = chain.indexOf(next)
      if (seen >= 0) {
        const cycle = chain.slice(seen)
        // Start the cycle at its first host in file order, so every entry point reports it identically.
        const first = cycle.reduce((a, b) => (order.get(a)! <= order.get(b)! ? a : b))
        const rotated = [...cycle.slice(cycle.indexOf(first)), ...cycle.slice(0, cycle.indexOf(first)), first]
        src.report(['hosts', first, 'jump'], `jump loop ${rotated.join(' -> ')}`)
        break
      }
      chain.push(next)
    }
  }
}

function checkLinks(src: Source, links: Link[], hosts: Set<string>): void {
  const seen = new Map<string, number>()
  links.forEach((link, i) => {
    for (const end of ['a', 'b'] as const) {
      if (!hosts.has(link[end])) src.report(['links', i, end], `unknown host "${link[end]}"${didYouMean(link[end], hosts)}`)
    }
    if (link.a === link.b) src.report(['links', i, 'b'], `link from ${link.a} to itself`)
    const pair = [link.a, link.b].sort().join('\n')
    const first = seen.get(pair)
    if (first === undefined) seen.set(pair, i)
    else src.report(['links', i], `duplicate link ${link.a} - ${link.b} (first declared at line ${src.locate(['links', first])?.line})`)
  })
}

/** Checks what can be checked without reading a secret's value. */
function checkSecret(src: Source, name: string, source: string, dir: string): void {
  const at = ['secrets', name]
  const { scheme, rest } = parseSource(source)
  if (scheme === 'env') {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(rest)) src.report(at, 'env: needs a variable name')
    else if (process.env[rest] === undefined) src.report(at, `environment variable ${rest} is not set`)
  } else if (scheme === 'file') {
    const file = resolvePath(rest, dir)
    try {
      accessSync(file, constants.R_OK)
      if (!statSync(file).isFile()) src.report(at, `${rest} is not a file`)
    } catch (e) {
      src.report(at, `cannot read ${rest} (${(e as NodeJS.ErrnoException).code})`)
    }
  } else if (rest.trim() === '') {
    src.report(at, 'cmd: needs a command')
  }
}
