// Loads an inventory file: YAML -> zod schema -> cross-reference checks -> resolved Inventory.
// Every problem is collected with the file:line:col of the node it is about, then all are thrown
// together in one InventoryError, so a user fixes a file in one pass.
import { accessSync, constants, readdirSync, statSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import {
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Pair,
} from 'yaml'
import type { z } from 'zod'
import { displayPath, InventoryError, quoted, similar, type Problem } from './errors.ts'
import { isAddress, inventorySchema, knownKeys, type RawHost, type RawInventory } from './schema.ts'
import { parseSource, resolvePath, Secrets } from './secrets.ts'
import type { ExternalJump, Host, Inventory, Link, Location } from './types.ts'

type Path = (string | number)[]

const DEFAULT_CONNECT_TIMEOUT_S = 10

// Far beyond any real inventory, and well within what the YAML library and JSON can walk.
const MAX_DEPTH = 100
// Values that aliases add to the loaded inventory: an alias bomb (a billion laughs) adds billions.
const MAX_ALIASED = 100_000
const TOO_DEEP = `nested more than ${MAX_DEPTH} levels deep`

/** A bare name is `inventory/<name>.yaml` under cwd; anything with a `/` or a YAML suffix is a path. */
export function inventoryPath(nameOrPath: string, cwd = process.cwd()): string {
  const bare = !nameOrPath.includes('/') && !/\.ya?ml$/.test(nameOrPath)
  return path.resolve(cwd, bare ? path.join('inventory', `${nameOrPath}.yaml`) : nameOrPath)
}

export interface LoadOptions {
  cwd?: string
  /**
   * What a secret whose source is not there (an unset environment variable, a missing file) is:
   * an error, as for anything that will read it, or a warning in `warnings`, for what only shows
   * the inventory and reads no secret.
   */
  unsetSecrets?: 'error' | 'warn'
}

export async function loadInventory(nameOrPath: string, opts: LoadOptions = {}): Promise<Inventory> {
  const cwd = path.resolve(opts.cwd ?? process.cwd())
  const file = inventoryPath(nameOrPath, cwd)
  const text = await readInventory(file, cwd)
  const deep = deepFlow(text)
  if (deep) throw new InventoryError([{ file, ...deep, message: TOO_DEEP }])
  const src = new Source(file, text)

  if (src.problems.length === 0) {
    // The shape checks stand in for the library's own alias limit, which also refuses harmless files.
    const parsed = inventorySchema.safeParse(src.doc.toJS({ maxAliasCount: -1 }), { error: describeIssue })
    if (parsed.success) return build(src, parsed.data, opts.unsetSecrets ?? 'error')
    for (const issue of parsed.error.issues) src.addIssue(issue)
  }
  throw src.error()
}

async function readInventory(file: string, cwd: string): Promise<string> {
  try {
    // A device or a FIFO (-i /dev/zero) could be read forever.
    if (!(await stat(file)).isFile())
      throw new InventoryError([{ file, line: 1, col: 1, message: 'cannot read inventory: not a regular file' }])
    return await readFile(file, 'utf8')
  } catch (e) {
    if (e instanceof InventoryError) throw e
    const code = (e as NodeJS.ErrnoException).code
    let message = `cannot read inventory: ${code ?? e}`
    if (code === 'ENOENT') {
      const dir = path.join(cwd, 'inventory')
      let names: string[] = []
      try {
        names = readdirSync(dir)
          .filter((f) => /\.ya?ml$/.test(f))
          .map((f) => f.replace(/\.ya?ml$/, ''))
      } catch {
        /* no inventory directory: nothing to list */
      }
      message = `no such inventory file; ${names.length ? `available in ${displayPath(dir)}/: ${names.sort().join(', ')}` : `no inventories in ${displayPath(dir)}/`}`
    }
    throw new InventoryError([{ file, line: 1, col: 1, message }])
  }
}

/**
 * Where `[` and `{` first nest more than MAX_DEPTH deep, if they do. The parser takes seconds
 * over thousands of such levels; its lexer, stopped here, takes microseconds.
 */
function deepFlow(text: string): { line: number; col: number } | undefined {
  let depth = 0
  let offset = 0
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++depth > MAX_DEPTH) {
        const before = text.slice(0, offset)
        return { line: before.split('\n').length, col: offset - before.lastIndexOf('\n') }
      }
    } else if (token === ']' || token === '}') {
      depth = Math.max(0, depth - 1)
    }
    // The lexer's markers (start of document, of a scalar, end of flow) are not in the text.
    if (!LEXER_MARKERS.has(token)) offset += token.length
  }
  return undefined
}

const LEXER_MARKERS = new Set(['\x02', '\x18', '\x1f'])

/** The parsed document plus the problems found so far, each placed on a node. */
class Source {
  readonly doc: Document
  readonly problems: Problem[] = []
  /** What is reported but does not make the file unusable (see LoadOptions.unsetSecrets). */
  readonly warnings: Problem[] = []
  private readonly lines = new LineCounter()

  constructor(
    readonly file: string,
    text: string,
  ) {
    // Keys become names, so they are read as text (`1` and "1" are one name, `0x0a` is "0x0a"), and
    // duplicates are found by checkShape. The library's warnings (unknown tags, ...) would go to stderr.
    this.doc = parseDocument(text, {
      lineCounter: this.lines,
      prettyErrors: false,
      stringKeys: true,
      uniqueKeys: false,
      logLevel: 'error',
    })
    if (!looksLikeInventory(this.doc)) {
      // Anything said about it would quote it: -i /etc/shadow must not print a password hash.
      this.problems.push({
        file,
        line: 1,
        col: 1,
        message: 'not an inventory: expected a YAML mapping with a "hosts" key',
      })
      return
    }
    for (const e of this.doc.errors) {
      const message = ERROR_MESSAGES[e.code] ?? e.message
      // The parser runs out of stack once per level it unwinds; once is enough.
      if (message !== TOO_DEEP || !this.problems.some((p) => p.message === TOO_DEEP)) {
        this.problems.push({ file, ...this.lines.linePos(e.pos[0]), message })
      }
    }
    // A parser out of stack has cut the document where it ran out: its message is the one to give.
    if (!this.problems.some((p) => p.message === TOO_DEEP)) this.checkShape()
  }

  /**
   * What YAML allows but a loaded inventory cannot hold: two keys that load as one name, an alias
   * to no anchor or to a node around it, and aliases or nesting that make the loaded inventory too
   * large or too deep to walk. Iterative, so that a file of any depth is safe to check.
   */
  private checkShape(): void {
    const anchors = new Map<string, Node>()
    // Nodes walked: how many values each loads as (an alias as a copy) and its levels of nesting.
    const walked = new Map<Node, { size: number; height: number }>()
    let written = 0
    let loaded = 0
    const stack: { node: Node; depth: number; children: Node[]; start: number; height: number }[] = []
    const at = (node: Node, message: string) => {
      this.problems.push({ ...this.position([node])!, message })
    }
    const ended = (height: number) => {
      const parent = stack.at(-1)
      if (parent) parent.height = Math.max(parent.height, height)
    }
    /** Walks into `node`; false once walking on is pointless (too deep, or an alias bomb). */
    const enter = (node: Node, depth: number): boolean => {
      if (isAlias(node)) {
        const target = anchors.get(node.source)
        const copy = target && walked.get(target)
        if (!target) at(node, `alias *${node.source} names no anchor before it`)
        else if (!copy) at(node, `alias *${node.source} is inside the node it names`)
        else {
          loaded += copy.size
          if (loaded - written > MAX_ALIASED) {
            at(node, `aliases expand to more than ${MAX_ALIASED} values`)
            return false
          }
          if (depth + copy.height > MAX_DEPTH) {
            at(node, TOO_DEEP)
            return false
          }
          ended(copy.height)
        }
        return true
      }
      written++
      loaded++
      if (node.anchor) anchors.set(node.anchor, node)
      if (!isMap(node) && !isSeq(node)) {
        walked.set(node, { size: 1, height: 0 })
        return true
      }
      if (depth >= MAX_DEPTH) {
        at(node, TOO_DEEP)
        return false
      }
      if (isMap(node)) this.checkKeys(node.items)
      const children = isMap(node) ? node.items.flatMap((p) => [p.key, p.value]) : node.items
      stack.push({ node, depth, children: children.filter(isNode).reverse(), start: loaded - 1, height: 0 })
      return true
    }

    if (!this.doc.contents || !enter(this.doc.contents, 0)) return
    while (stack.length) {
      const frame = stack.at(-1)!
      const child = frame.children.pop()
      if (child) {
        if (!enter(child, frame.depth + 1)) return
      } else {
        stack.pop()
        walked.set(frame.node, { size: loaded - frame.start, height: frame.height + 1 })
        ended(frame.height + 1)
      }
    }
  }

  /** Keys are names once loaded: two with the same text would be one host, group or secret. */
  private checkKeys(pairs: Pair[]): void {
    const first = new Map<string, Node>()
    for (const { key } of pairs) {
      if (!isScalar(key)) continue // the parser has said so
      const name = keyName(key)
      const seen = first.get(name)
      if (seen)
        this.problems.push({
          ...this.position([key])!,
          message: `duplicate key ${quoted(name)} (first at line ${this.position([seen])!.line})`,
        })
      else first.set(name, key)
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

  /** Like report, but into `warnings`. */
  warn(path: Path, message: string): void {
    this.add(path, `${dotted(path)}: ${message}`, false, this.warnings)
  }

  /** Adds a problem at `path`, or at the deepest part of it that exists. */
  add(path: Path, message: string, key = false, to = this.problems): void {
    const found = this.find(path)
    const nodes = key || found.rest > 0 ? [found.key, found.value] : [found.value, found.key]
    const problem = { ...(this.position(nodes) ?? { file: this.file, line: 1, col: 1 }), message }
    if (!to.some((p) => p.line === problem.line && p.col === problem.col && p.message === message)) {
      to.push(problem)
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
        this.add([...path, k], `${path.length ? where(path) : ''}unknown key ${quoted(k)} (${hint})`, true)
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
    return isMap(node) ? node.items.map((p) => keyName(p.key as Node)) : []
  }

  /** Walks `path`; `rest` is how many trailing segments were not found. */
  private find(path: Path): { key?: Node; value?: Node; rest: number } {
    let key: Node | undefined
    let value = (this.doc.contents ?? undefined) as Node | undefined
    for (const [i, seg] of path.entries()) {
      let next: { key?: Node; value?: Node } | undefined
      if (isMap(value)) {
        const pair = value.items.find((p) => isScalar(p.key) && keyName(p.key) === String(seg))
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

/** A key's text, as the loaded object has it (an empty key is ""). */
const keyName = (key: Node) => (isScalar(key) ? String(key.value ?? '') : '')

const TOP_KEYS = knownKeys([])

/** A mapping with at least one of an inventory's sections, or a near miss ("host:"). */
function looksLikeInventory(doc: Document): boolean {
  const root = doc.contents
  return isMap(root) && root.items.some((p) => isScalar(p.key) && similar(keyName(p.key), TOP_KEYS).length > 0)
}

/** Messages of the YAML library's that can say more in an inventory's terms. */
const ERROR_MESSAGES: Record<string, string> = {
  MULTIPLE_DOCS: 'an inventory is a single YAML document; remove the "---"',
  NON_STRING_KEY: 'keys must be strings, not lists, mappings, aliases or tagged values',
  RESOURCE_EXHAUSTION: TOO_DEEP,
}

/** `hosts.r1.vars`, with a key that is not a plain name quoted: `hosts."r 1"`. */
function dotted(path: Path): string {
  return path
    .map((p, i) => {
      if (typeof p === 'number') return `[${p}]`
      const key = /^[\w.-]+$/.test(p) ? p : quoted(p)
      return i ? `.${key}` : key
    })
    .join('')
}

const KIND: Record<string, string> = { object: 'a mapping', record: 'a mapping', array: 'a list' }

/** Messages for issues whose schema has none of its own, phrased in YAML's words. */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    const input = issue.input
    const got =
      input === null
        ? 'empty'
        : Array.isArray(input)
          ? 'a list'
          : typeof input === 'object'
            ? 'a mapping'
            : `${typeof input} ${typeof input === 'string' ? quoted(input) : JSON.stringify(input)}`
    return `must be ${KIND[issue.expected] ?? `a ${issue.expected}`}, not ${got}`
  }
  if (issue.code === 'too_small' && issue.origin === 'string') return 'must not be empty'
  return undefined
}

const toList = (v: string | string[] | undefined) => (v === undefined ? [] : typeof v === 'string' ? [v] : v)

/** Cross-reference checks and defaults; returns the Inventory or throws every problem found. */
function build(src: Source, raw: RawInventory, unsetSecrets: 'error' | 'warn'): Inventory {
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
      if (g !== 'all' && !groups.has(g))
        src.report(at('groups', i), `unknown group "${g}"${didYouMean(g, groups.keys())}`)
    })
    const memberOf = [...new Set(h.groups?.filter((g) => g !== 'all' && groups.has(g))), 'all']

    const os = h.os ?? defaults.os
    const become = h.become ?? defaults.become ?? 'none'
    checkSecretName(h.become_password, at('become_password'))
    if (h.become_password !== undefined && become === 'none') {
      src.report(at('become_password'), 'set but become is none')
    }
    // A host that turns become off does not inherit the default password.
    const becomePassword = become === 'none' ? undefined : (h.become_password ?? defaults.become_password)

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
  for (const [name, source] of secrets) checkSecret(src, name, source, dir, unsetSecrets)

  if (src.problems.length) throw src.error()

  const fallback = (p: Path) => src.locate(p) ?? { file: src.file, line: 1, col: 1 }
  return {
    file: src.file,
    hosts,
    groups: Object.fromEntries(groups),
    links,
    secrets: new Secrets(secrets, dir, (name) => fallback(name === undefined ? ['secrets'] : ['secrets', name])),
    locate: (p) => src.locate(p),
    warnings: [...src.warnings].sort((a, b) => a.line - b.line || a.col - b.col),
  }
}

function didYouMean(word: string, candidates: Iterable<string>): string {
  const [guess] = similar(word, candidates)
  return guess ? ` (did you mean "${guess}"?)` : ''
}

/** An inventory host's name, or `[user@]host[:port]` (IPv6 in brackets) for a hop outside it. */
function parseJump(value: string, hosts: Set<string>): string | ExternalJump | { error: string } {
  if (hosts.has(value)) return value
  if (!/[@:.]/.test(value)) return { error: `unknown jump host ${quoted(value)}${didYouMean(value, hosts)}` }
  const m = /^(?:([^@\s]+)@)?(?:\[([0-9A-Fa-f:.]+)\]|([^@:[\]\s]+))(?::(\d+))?$/.exec(value)
  const address = m?.[2] ?? m?.[3]
  const port = m?.[4] === undefined ? undefined : Number(m[4])
  if (!m || !address || !isAddress(address) || (port !== undefined && (port < 1 || port > 65535))) {
    return { error: `jump ${quoted(value)} is neither an inventory host nor [user@]host[:port]` }
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
      if (!hosts.has(link[end]))
        src.report(['links', i, end], `unknown host ${quoted(link[end])}${didYouMean(link[end], hosts)}`)
    }
    if (link.a === link.b) src.report(['links', i, 'b'], `link from ${link.a} to itself`)
    const pair = [link.a, link.b].sort().join('\n')
    const first = seen.get(pair)
    if (first === undefined) seen.set(pair, i)
    else
      src.report(
        ['links', i],
        `duplicate link ${link.a} - ${link.b} (first declared at line ${src.locate(['links', first])?.line})`,
      )
  })
}

/**
 * Checks what can be checked without reading a secret's value: that its source is well formed,
 * and that it is there (`unset`: an error, or a warning).
 */
function checkSecret(src: Source, name: string, source: string, dir: string, unset: 'error' | 'warn'): void {
  const at = ['secrets', name]
  const missing = (message: string) => (unset === 'warn' ? src.warn(at, message) : src.report(at, message))
  const { scheme, rest } = parseSource(source)
  if (scheme === 'env') {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(rest)) src.report(at, 'env: needs a variable name')
    else if (process.env[rest] === undefined) missing(`environment variable ${rest} is not set`)
  } else if (scheme === 'file') {
    const file = resolvePath(rest, dir)
    try {
      accessSync(file, constants.R_OK)
      if (!statSync(file).isFile()) src.report(at, `${rest} is not a file`)
    } catch (e) {
      missing(`cannot read ${rest} (${(e as NodeJS.ErrnoException).code})`)
    }
  } else if (rest.trim() === '') {
    src.report(at, 'cmd: needs a command')
  }
}
