// The link allocation of a mesh: for every inventory link, its /30 in the link pool, which end gets
// which address, the tunnel interface at each end, the tunnel kind, the OSPF cost and, for
// OpenVPN, the UDP port. It is a pure function of the inventory, so every run, every host and
// `ferry drift` compute the same allocation without keeping state anywhere.
//
// Stability is the point: a running mesh must not renumber when a host or a link is added.
// - A link's /30 is picked by a hash of its two host names (sorted), so it depends on nothing
//   else in the inventory. `index: N` (the pool's Nth /30, from 0) or `subnet: A.B.C.D/30` pins
//   it; pinned links are placed first.
// - Two links can hash to the same /30. The one listed first in `links` keeps it and the later
//   one takes the next free /30, wrapping around. So links appended to the list never move an
//   existing link (unless pinned onto its /30); inserting a link above one that collided, or
//   deleting the link that won the /30, can. Such links are marked `probed`, so a caller can
//   advise pinning them.
// - The lower host name (plain string order) gets the /30's first usable address, the other the
//   second, whichever way round the inventory writes `a` and `b`.
// - Interface names carry the /30's index (tap5 at both ends of the pool's sixth /30), so they are
//   unique on every host and exactly as stable as the address. Each host's platform spells them
//   (GRE ends are gre5, but gre-5 on Linux). `interfaces: { host: name }` pins names.
// - OpenVPN runs one instance per link, each on its own UDP port: portBase + index (both ends use
//   the same number on their own host), or the link's `port`.
import { createHash } from 'node:crypto'
import { InventoryError } from '../inventory/errors.ts'
import type { Host, Inventory, Link } from '../inventory/types.ts'
import { platformFor } from '../platform/platform.ts'
import { parseNetwork, toDotted } from './ipv4.ts'

export const TUNNEL_KINDS = ['openvpn', 'gre', 'gre-ipsec'] as const
export type TunnelKind = (typeof TUNNEL_KINDS)[number]
export const DEFAULT_TUNNEL: TunnelKind = 'openvpn'
export const DEFAULT_COST = 10
export const DEFAULT_PORT_BASE = 1194

export interface LinkEnd {
  host: string
  /** The tunnel interface on this host, e.g. `tap5`, `gre5`, `gre-5` (Linux). */
  ifname: string
  /** The inner address, e.g. `172.16.2.1`. */
  address: string
  /** The inner address with the link's prefix, e.g. `172.16.2.1/30`. */
  cidr: string
}

export interface AllocatedLink {
  /** Position in the inventory's `links`, for messages and `inventory.locate`. */
  at: number
  /** The /30's number in the pool: 0 is the pool's first four addresses. */
  index: number
  /** e.g. `172.16.2.4/30` */
  subnet: string
  kind: TunnelKind
  /** OSPF cost of the link, the same at both ends. */
  cost: number
  /** OpenVPN links only: the UDP port of this link's instance at both ends. */
  port?: number
  /** Sorted by host name: `ends[0]` has the first usable address (.1 of the /30), `ends[1]` the second. */
  ends: [LinkEnd, LinkEnd]
  /** The inventory pinned the /30 with `index` or `subnet`. */
  pinned: boolean
  /** The hashed /30 was taken by a link listed earlier and this one moved on; pin it to keep it put. */
  probed: boolean
}

/** One link seen from one of its hosts. */
export interface HostLink {
  link: AllocatedLink
  local: LinkEnd
  remote: LinkEnd
  /** OpenVPN static-key direction: 0 at `ends[0]`, 1 at `ends[1]`, so the two ends differ. */
  keyDirection: 0 | 1
}

export interface AllocateOptions {
  /** The link pool, e.g. `172.16.2.0/24`; /30 or larger. */
  pool: string
  /** Effective vars (`tunnel` is the fallback kind) and OS (whose platform names the tunnel interfaces) by host. */
  hosts?: Pick<Host, 'name' | 'os' | 'vars'>[]
  /** First OpenVPN port; default 1194. */
  portBase?: number
}

export interface LinkProblem {
  /** Where in the inventory, e.g. `['links', 3, 'index']`. */
  path: (string | number)[]
  message: string
}

/** Every problem found in the allocation, each with its inventory path. */
export class LinkAllocationError extends Error {
  constructor(readonly problems: LinkProblem[]) {
    super(problems.map((p) => `${dotted(p.path)}: ${p.message}`).join('\n'))
    this.name = 'LinkAllocationError'
  }
}

const LINK = 4 // addresses in a /30
export const IFNAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/ // 15 characters: Linux's IFNAMSIZ less the NUL

/** The allocation of `links`, in their inventory order. Throws a LinkAllocationError listing every problem. */
export function allocate(links: Link[], opts: AllocateOptions): AllocatedLink[] {
  const problems: LinkProblem[] = []
  const pool = parseNetwork(opts.pool)
  if (!pool || pool.prefix > 30)
    throw new LinkAllocationError([
      {
        path: ['link_pool'],
        message: `${JSON.stringify(opts.pool)} is not an IPv4 network of /30 or larger, e.g. 172.16.2.0/24`,
      },
    ])
  const slots = 2 ** (30 - pool.prefix)
  const hosts = new Map(opts.hosts?.map((h) => [h.name, h]))

  const parsed = links.map((link, at) => parseLink(link, at, { pool, slots, hosts }, problems))

  const placed = place(parsed, slots, opts.pool, problems)
  if (problems.length) throw new LinkAllocationError(problems)

  const allocated = parsed.map((p): AllocatedLink => {
    const { index: i, probed } = placed.get(p.at)!
    const base = pool.base + i * LINK
    const end = (k: 0 | 1): LinkEnd => {
      const host = p.ends[k]
      const address = toDotted(base + 1 + k)
      const kind = p.kind === 'openvpn' ? 'tap' : 'gre'
      const os = hosts.get(host)?.os
      // A host whose OS is not known here gets the kernel driver's own name, as the BSDs spell it.
      const ifname = p.interfaces[host] ?? (os ? platformFor(os).interfaces.tunnelName(kind, i) : `${kind}${i}`)
      return { host, ifname, address, cidr: `${address}/30` }
    }
    return {
      at: p.at,
      index: i,
      subnet: `${toDotted(base)}/30`,
      kind: p.kind,
      cost: p.cost,
      ...(p.kind === 'openvpn' ? { port: p.port ?? (opts.portBase ?? DEFAULT_PORT_BASE) + i } : {}),
      ends: [end(0), end(1)],
      pinned: p.pin !== undefined,
      probed,
    }
  })
  for (const link of allocated) {
    if (link.port !== undefined && link.port > 65535)
      problems.push({
        path: ['links', link.at, 'port'],
        message: `OpenVPN port ${link.port} (port base + /30 number ${link.index}) is over 65535; set port on the link or a lower port base`,
      })
  }
  checkUniquePerHost(allocated, problems)
  if (problems.length) throw new LinkAllocationError(problems)
  return allocated
}

/**
 * The allocation of an inventory's links, with `link_pool` and `tunnel` from the hosts' vars. Its
 * problems are the inventory's: an InventoryError, each at its place in the file (exit 64).
 */
export function allocateLinks(
  inventory: Pick<Inventory, 'file' | 'links' | 'locate'> & { hosts: Pick<Host, 'name' | 'os' | 'vars'>[] },
  opts: { portBase?: number } = {},
): AllocatedLink[] {
  if (inventory.links.length === 0) return []
  try {
    return allocate(inventory.links, {
      pool: linkPool(inventory.hosts, inventory.links),
      hosts: inventory.hosts,
      ...opts,
    })
  } catch (err) {
    if (!(err instanceof LinkAllocationError)) throw err
    // link_pool is a var, and vars are checked where they are written, by the runbook's schema;
    // what reaches here of it (a host outside --limit) is reported at `links`.
    const at = (path: (string | number)[]) =>
      inventory.locate(path) ?? inventory.locate(['links']) ?? { file: inventory.file, line: 1, col: 1 }
    throw new InventoryError(err.problems.map((p) => ({ ...at(p.path), message: `${dotted(p.path)}: ${p.message}` })))
  }
}

/** The link_pool of the linked hosts, which must agree on it. */
function linkPool(hosts: Pick<Host, 'name' | 'vars'>[], links: Link[]): string {
  const byName = new Map(hosts.map((h) => [h.name, h]))
  const pools = new Map<string, string>() // pool → first host that has it
  for (const link of links) {
    for (const name of [link.a, link.b]) {
      const pool = byName.get(name)?.vars.link_pool
      if (pool !== undefined && !pools.has(String(pool))) pools.set(String(pool), name)
    }
  }
  if (pools.size !== 1) {
    const message =
      pools.size === 0
        ? 'no link_pool: set it in the vars of the linked hosts (e.g. the mesh group), e.g. link_pool: 172.16.2.0/24'
        : `the linked hosts disagree on link_pool: ${[...pools].map(([pool, host]) => `${host} has ${pool}`).join(', ')}`
    throw new LinkAllocationError([{ path: ['links'], message }])
  }
  return [...pools.keys()][0]!
}

/** The links `host` is on, each from that host's side, in inventory order. */
export function linksOf(links: AllocatedLink[], host: string): HostLink[] {
  return links.flatMap((link) => {
    const k = link.ends.findIndex((e) => e.host === host)
    return k < 0 ? [] : [{ link, local: link.ends[k]!, remote: link.ends[1 - k]!, keyDirection: k as 0 | 1 }]
  })
}

interface ParsedLink {
  at: number
  ends: [string, string]
  kind: TunnelKind
  cost: number
  pin?: number
  pinKey: 'index' | 'subnet'
  port?: number
  interfaces: Record<string, string>
}

interface Context {
  pool: { base: number; prefix: number }
  slots: number
  hosts: Map<string, Pick<Host, 'name' | 'os' | 'vars'>>
}

/** A link's own settings, checked; problems are collected, and a usable fallback returned. */
function parseLink(link: Link, at: number, ctx: Context, problems: LinkProblem[]): ParsedLink {
  const report = (key: string | undefined, message: string) =>
    problems.push({ path: key ? ['links', at, key] : ['links', at], message })
  const ends = [link.a, link.b].sort() as [string, string]
  const p: ParsedLink = {
    at,
    ends,
    kind: tunnelOf(link, ends, ctx, report),
    cost: DEFAULT_COST,
    pinKey: 'index',
    interfaces: {},
  }

  if (link.cost !== undefined) {
    if (isInt(link.cost, 1, 65535)) p.cost = link.cost
    else report('cost', 'must be an integer from 1 to 65535')
  }
  if (link.index !== undefined) {
    if (isInt(link.index, 0, ctx.slots - 1)) p.pin = link.index
    else report('index', `must be an integer from 0 to ${ctx.slots - 1} (the link pool has ${ctx.slots} /30s)`)
  }
  if (link.subnet !== undefined) {
    const net = typeof link.subnet === 'string' ? parseNetwork(link.subnet) : undefined
    const i = net && (net.base - ctx.pool.base) / LINK
    if (!net || net.prefix !== 30 || i === undefined || i < 0 || i >= ctx.slots) {
      report('subnet', 'must be a /30 network inside link_pool, e.g. 172.16.2.4/30')
    } else if (p.pin !== undefined && p.pin !== i) {
      report('subnet', `is /30 number ${i} but index says ${p.pin}; keep one of them`)
    } else {
      p.pin = i
      p.pinKey = 'subnet'
    }
  }
  if (link.port !== undefined) {
    if (isInt(link.port, 1, 65535)) p.port = link.port
    else report('port', 'must be an integer from 1 to 65535')
  }
  if (link.interfaces !== undefined) {
    const given = link.interfaces
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      report('interfaces', `must be a mapping from host to interface name, e.g. { ${ends[0]}: tap2, ${ends[1]}: tap1 }`)
    } else {
      for (const [host, name] of Object.entries(given)) {
        if (!ends.includes(host)) report('interfaces', `${host} is not an end of this link (${pairName(ends)})`)
        else if (typeof name !== 'string' || !IFNAME_RE.test(name))
          report(
            'interfaces',
            `${host}: ${JSON.stringify(name)} is not an interface name (a letter, then letters, digits, "_", "." or "-"; at most 15)`,
          )
        else p.interfaces[host] = name
      }
    }
  }
  return p
}

/** link.tunnel, else the `tunnel` var both ends agree on, else OpenVPN. */
function tunnelOf(
  link: Link,
  ends: [string, string],
  ctx: Context,
  report: (key: string | undefined, m: string) => void,
): TunnelKind {
  const valid = (v: unknown): v is TunnelKind => TUNNEL_KINDS.includes(v as TunnelKind)
  const expected = `must be one of ${TUNNEL_KINDS.join(', ')}`
  if (link.tunnel !== undefined) {
    if (valid(link.tunnel)) return link.tunnel
    report('tunnel', expected)
    return DEFAULT_TUNNEL
  }
  const vars = ends.map((h) => ctx.hosts.get(h)?.vars.tunnel)
  const [va, vb] = vars
  if (va !== undefined && vb !== undefined && va !== vb) {
    report(undefined, `${ends[0]} has tunnel ${va} and ${ends[1]} has tunnel ${vb}; set tunnel on the link`)
    return DEFAULT_TUNNEL
  }
  const fromVars = va ?? vb
  if (fromVars === undefined) return DEFAULT_TUNNEL
  if (valid(fromVars)) return fromVars
  report(
    undefined,
    `the tunnel var of ${va !== undefined ? ends[0] : ends[1]} ${expected}, not ${JSON.stringify(fromVars)}; or set tunnel on the link`,
  )
  return DEFAULT_TUNNEL
}

/** Each link's /30 (by position in `links`). Pinned links first, so a hashed link never takes a
 *  pinned /30; then the rest in list order, each at its hash or the next free /30 after it. */
function place(
  parsed: ParsedLink[],
  slots: number,
  pool: string,
  problems: LinkProblem[],
): Map<number, { index: number; probed: boolean }> {
  const owner = new Map<number, number>() // /30 number → position of the link holding it
  const placed = new Map<number, { index: number; probed: boolean }>()
  for (const p of parsed) {
    if (p.pin === undefined) continue
    const other = owner.get(p.pin)
    if (other !== undefined)
      problems.push({
        path: ['links', p.at, p.pinKey],
        message: `/30 number ${p.pin} is already pinned by links[${other}] (${pairName(parsed[other]!.ends)})`,
      })
    else owner.set(p.pin, p.at)
    placed.set(p.at, { index: p.pin, probed: false })
  }
  for (const p of parsed) {
    if (p.pin !== undefined) continue
    const preferred = hashSlot(p.ends, slots)
    let slot: number | undefined
    for (let k = 0; k < slots && slot === undefined; k++)
      if (!owner.has((preferred + k) % slots)) slot = (preferred + k) % slots
    if (slot === undefined) {
      problems.push({
        path: ['links', p.at],
        message: `link pool ${pool} is exhausted: it has ${slots} /30s for ${parsed.length} links; use a larger link_pool`,
      })
      break
    }
    owner.set(slot, p.at)
    placed.set(p.at, { index: slot, probed: slot !== preferred })
  }
  return placed
}

/** A pinned interface name or OpenVPN port can clash with another link's on the same host. */
function checkUniquePerHost(links: AllocatedLink[], problems: LinkProblem[]): void {
  const seen = new Map<string, number>() // `host\0what` → link position
  for (const link of links) {
    for (const end of link.ends) {
      const claims: [string, string][] = [['interfaces', `interface ${end.ifname}`]]
      if (link.port !== undefined) claims.push(['port', `OpenVPN port ${link.port}`])
      for (const [key, what] of claims) {
        const first = seen.get(`${end.host}\0${what}`)
        if (first === undefined) seen.set(`${end.host}\0${what}`, link.at)
        else
          problems.push({
            path: ['links', link.at, key],
            message: `${end.host} already uses ${what} for links[${first}]; pin another with ${key}`,
          })
      }
    }
  }
}

/** The /30 a link hashes to: the first 32 bits of SHA-256 of its sorted host names. */
function hashSlot(ends: [string, string], slots: number): number {
  return createHash('sha256').update(`${ends[0]}\n${ends[1]}`).digest().readUInt32BE(0) % slots
}

const isInt = (v: unknown, min: number, max: number): v is number =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max
const pairName = (ends: string[]) => `${ends[0]} - ${ends[1]}`
const dotted = (path: (string | number)[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('')
