// The mesh as a picture (issue 24): Graphviz's DOT for an inventory's hosts, links and jails, and
// its rendering to SVG (Graphviz compiled to WebAssembly, @viz-js/viz: no system binary) and PNG
// (resvg, a Rust rasteriser with prebuilt npm binaries). Hosts are drawn in a box per group, the
// most specific group each belongs to (the one with fewest members: a data centre rather than
// the whole mesh); each link is labelled with its tunnel kind, its /30 and its OSPF cost; a jail
// hangs off the host that declares it or, probed, the host it runs on.
import { createRequire } from 'node:module'
import type { Host, Inventory } from '../inventory/index.ts'
import type { AllocatedLink } from '../mesh/links.ts'

/** A link's state as seen live from its two ends; absent when not probed. */
export type LinkState = 'up' | 'down' | 'partial'

export interface GraphInput {
  title: string
  hosts: Pick<Host, 'name' | 'address' | 'groups' | 'os' | 'jails'>[]
  links: AllocatedLink[]
  /** By link position (`at`), when probed. */
  states?: Map<number, LinkState>
  /** By jail name, the hosts it was found running on, when probed; otherwise drawn where declared. */
  running?: Map<string, string[]>
  /** By host, what it was found to be in its gateway pair, when probed. */
  roles?: Map<string, PairRole>
  /** By host, how many of its BGP sessions are Established, when probed and it speaks BGP. */
  bgp?: Map<string, { established: number; peers: number }>
}

/** A gateway pair's node: holding every shared address, none, or some (a pair mid-takeover, or split). */
export type PairRole = 'active' | 'standby' | 'partial'

/** Two or more hosts of one group that share addresses, one of them holding them at a time. */
export interface GatewayPair {
  group: string
  members: string[]
  /** Without prefix lengths. */
  shared: string[]
}

/**
 * The inventory's gateway pairs, found by the vars their runbooks take: deploy-ha-vpn's site
 * (`external_address`, `internal_address`, which Heartbeat moves) and deploy-carp-gateway's
 * pair (`carp: [{ address }]`, which CARP or ucarp moves), set on a group of two or more hosts.
 */
export function pairsOf(inv: Pick<Inventory, 'groups'>, hosts: Pick<Host, 'name' | 'groups'>[]): GatewayPair[] {
  return Object.entries(inv.groups).flatMap(([group, { vars }]) => {
    const carp = Array.isArray(vars.carp) ? vars.carp.map((c: { address?: unknown }) => c?.address) : []
    const shared = [vars.external_address, vars.internal_address, ...carp]
      .filter((a): a is string => typeof a === 'string')
      .map((a) => a.split('/')[0]!)
    const members = hosts.filter((h) => h.groups.includes(group)).map((h) => h.name)
    return shared.length && members.length > 1 ? [{ group, members, shared }] : []
  })
}

/** Each pair member's role by the addresses it holds (a member not read has none). */
export function pairRoles(pairs: GatewayPair[], held: Map<string, Set<string> | undefined>): Map<string, PairRole> {
  return new Map(
    pairs.flatMap((p) =>
      p.members.flatMap((m): [string, PairRole][] => {
        const has = held.get(m)
        if (!has) return []
        const n = p.shared.filter((a) => has.has(a)).length
        return [[m, n === p.shared.length ? 'active' : n ? 'partial' : 'standby']]
      }),
    ),
  )
}

const COLOURS: Record<LinkState | 'unknown', string> = {
  up: '#2e7d32',
  down: '#c62828',
  partial: '#ef6c00',
  unknown: '#455a64',
}

const ROLE_FILLS: Record<PairRole, string> = { active: '#c8e6c9', standby: '#eceff1', partial: '#ffe0b2' }

/** A DOT string: double-quoted, its quotes and backslashes escaped, no newline but DOT's own `\n`. */
const q = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, '\\n')}"`

/** The group each host is boxed in: its smallest group but `all` (ties: the first it names). */
function clusters(hosts: GraphInput['hosts']): Map<string, string[]> {
  const size = new Map<string, number>()
  for (const h of hosts) for (const g of h.groups) size.set(g, (size.get(g) ?? 0) + 1)
  const boxes = new Map<string, string[]>()
  for (const h of hosts) {
    const own = h.groups.filter((g) => g !== 'all').sort((a, b) => size.get(a)! - size.get(b)!)[0] ?? ''
    boxes.set(own, [...(boxes.get(own) ?? []), h.name])
  }
  return boxes
}

export function meshDot(g: GraphInput): string {
  const byName = new Map(g.hosts.map((h) => [h.name, h]))
  const node = (h: GraphInput['hosts'][number]) => {
    const role = g.roles?.get(h.name)
    const bgp = g.bgp?.get(h.name)
    const label = [
      h.name,
      `${h.address}${h.os ? ` (${h.os})` : ''}`,
      ...(role ? [role] : []),
      ...(bgp ? [`BGP ${bgp.established}/${bgp.peers} Established`] : []),
    ].join('\n')
    const fill = role ? `, fillcolor=${q(ROLE_FILLS[role])}` : ''
    return `    ${q(h.name)} [label=${q(label)}${fill}];`
  }
  const lines = [
    `graph ${q(g.title)} {`,
    '  graph [fontname="Helvetica", fontsize=11, labelloc=t, label=' + q(g.title) + '];',
    '  node [shape=box, style="rounded,filled", fillcolor="#eceff1", fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ]
  // Each host in its group's box, its jails beside it in the same box.
  const jails = jailsAt(g)
  let n = 0
  for (const [group, names] of clusters(g.hosts)) {
    const members = names.flatMap((name) => [
      node(byName.get(name)!),
      ...(jails.get(name) ?? []).flatMap((j) => [
        `    ${q(`${j.name}@${name}`)} [shape=note, fillcolor=${q(j.running === false ? '#ffebee' : '#fff8e1')}, label=${q(`${j.name}\n${j.address}${j.running === false ? '\nnot running' : ''}`)}];`,
        `    ${q(name)} -- ${q(`${j.name}@${name}`)} [style=dotted];`,
      ]),
    ])
    if (!group) lines.push(...members.map((m) => m.slice(2)))
    else lines.push(`  subgraph ${q(`cluster_${n++}`)} {`, `    label=${q(group)};`, ...members, '  }')
  }
  for (const l of g.links) {
    const [a, b] = l.ends
    if (!byName.has(a.host) || !byName.has(b.host)) continue
    const state = g.states?.get(l.at)
    const label = `${l.kind} ${l.subnet}\ncost ${l.cost}${state ? `\n${state}` : ''}`
    lines.push(
      `  ${q(a.host)} -- ${q(b.host)} [label=${q(label)}, color=${q(COLOURS[state ?? 'unknown'])}, fontcolor=${q(COLOURS[state ?? 'unknown'])}, penwidth=${state === 'down' ? 3 : 1.5}${state === 'down' ? ', style=dashed' : ''}, id=${q(`link_${l.at}`)}];`,
    )
  }
  lines.push('}', '')
  return lines.join('\n')
}

interface DrawnJail {
  name: string
  address: string
  /** false: found running nowhere, drawn at the host that declares it. */
  running?: boolean
}

/** By host, the jails drawn beside it: where each runs when probed, else where it is declared. */
function jailsAt(g: GraphInput): Map<string, DrawnJail[]> {
  const at = new Map<string, DrawnJail[]>()
  const add = (host: string, jail: DrawnJail) => at.set(host, [...(at.get(host) ?? []), jail])
  for (const h of g.hosts)
    for (const [name, spec] of Object.entries(h.jails ?? {})) {
      const where = g.running?.get(name)
      if (!where) add(h.name, { name, address: spec.address })
      else if (!where.length) add(h.name, { name, address: spec.address, running: false })
      else for (const host of where) add(host, { name, address: spec.address, running: true })
    }
  return at
}

/**
 * Each link's state from the OSPF neighbour tables of its two ends (`undefined`: that end was not
 * read: unreachable, or its daemon did not answer): up when each end has the other's router id
 * (its `router_id` var) in full adjacency, down when neither has, partial when one has.
 */
export function linkStates(
  links: AllocatedLink[],
  hosts: Pick<Host, 'name' | 'vars'>[],
  neighbours: Map<string, Map<string, string> | undefined>,
  isFull: (state: string | undefined) => boolean,
): Map<number, LinkState> {
  const rid = new Map(hosts.map((h) => [h.name, String(h.vars.router_id ?? '')]))
  const sees = (from: string, to: string) => isFull(neighbours.get(from)?.get(rid.get(to) ?? ''))
  return new Map(
    links.map((l) => {
      const [a, b] = l.ends.map((e) => e.host) as [string, string]
      const ends = Number(sees(a, b)) + Number(sees(b, a))
      return [l.at, ends === 2 ? 'up' : ends === 0 ? 'down' : 'partial']
    }),
  )
}

/** The inventory's graph input: its hosts (those selected) and its allocated links between them. */
export function graphOf(inv: Inventory, hosts: Host[], links: AllocatedLink[]): GraphInput {
  const names = new Set(hosts.map((h) => h.name))
  return {
    title: inv.file.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
    hosts,
    links: links.filter((l) => l.ends.every((e) => names.has(e.host))),
  }
}

// Both renderers load only when a picture is drawn, by require: the bundle may not import()
// (scripts/build.mjs), and every other command would pay for loading them.
const require = createRequire(import.meta.url)

/** DOT to SVG, by Graphviz compiled to WebAssembly. */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = require('@viz-js/viz') as typeof import('@viz-js/viz')
  return (await instance()).renderString(dot, { format: 'svg', engine: 'dot' })
}

/** SVG to PNG, by resvg, at twice the SVG's size (sharp on a laptop screen). */
export async function renderPng(svg: string): Promise<Buffer> {
  const { Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js')
  // Graphviz lays text out with Helvetica's metrics; DejaVu Sans (Debian's default) draws it.
  const font = { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' }
  return Buffer.from(new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, background: 'white', font }).render().asPng())
}
