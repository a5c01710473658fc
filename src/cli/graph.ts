import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { Command } from '@commander-js/extra-typings'
import {
  frrNeighbours,
  isFull,
  openbsdNeighbours,
  quaggaNeighbours,
  type Fact,
  type Neighbours,
} from '../facts/ospf.ts'
import { loadInventory, selectHosts, type Host, type Inventory } from '../inventory/index.ts'
import { parseDiscovery, type JailHost } from '../jails/discovery.ts'
import type { JailSpec } from '../jails/driver.ts'
import { allocateLinks } from '../mesh/links.ts'
import { jailDriver } from '../platform/platform.ts'
import { graphOf, linkStates, meshDot, renderPng, renderSvg } from '../report/graph.ts'
import { runLine } from '../shell/remote.ts'
import { Connector } from '../transport/connect.ts'
import { mapLimit } from '../transport/slots.ts'
import { inventoryOptions } from './options.ts'

/** How each OS's routing daemon lists its OSPF neighbours (FRR on Linux, Quagga on FreeBSD, ospfd). */
const NEIGHBOURS: Record<string, Fact<Neighbours>> = {
  linux: frrNeighbours,
  freebsd: quaggaNeighbours,
  openbsd: openbsdNeighbours,
}

interface Seen {
  /** Undefined where not read: unreachable, no daemon answering, or an answer that is no table. */
  neighbours?: Neighbours
  jails?: JailHost
}

/**
 * Each host's OSPF neighbours and, on a host whose OS has jails, which of the inventory's jails
 * run there: one command line over one connection each, read-only. The two answers are told
 * apart by a line made afresh for this run; a host that prints it anyway garbles only what it
 * says of itself, and what does not parse counts as not read.
 */
async function readLive(inv: Inventory, hosts: Host[], jails: JailSpec[]): Promise<Map<string, Seen>> {
  const connector = new Connector(inv, {})
  const mark = `ferry-graph-${randomBytes(8).toString('hex')}`
  const seen = new Map<string, Seen>()
  try {
    await mapLimit(hosts, 20, async (h) => {
      const fact = h.os ? NEIGHBOURS[h.os] : undefined
      const driver = jails.length ? jailDriver(h.os) : undefined
      const line = [
        `{ ${fact?.command ?? 'false'}; } 2>/dev/null`,
        `printf '\\n%s %s\\n' ${mark} "$?"`,
        driver?.discover(jails) ?? 'true',
      ].join('\n')
      const found: Seen = {}
      seen.set(h.name, found)
      try {
        const out = await runLine((await connector.connect(h)).$, line).nothrow()
        const at = out.stdout.lastIndexOf(`\n${mark} `)
        if (at < 0) return
        const [status, ...rest] = out.stdout.slice(at + mark.length + 2).split('\n')
        if (fact && status === '0') found.neighbours = parseOr(() => fact.parse(out.stdout.slice(0, at)))
        if (driver && out.exitCode === 0) found.jails = parseOr(() => parseDiscovery(rest.join('\n')))
      } catch {
        // Unreachable: nothing seen, so its links are down and its jails not found there.
      }
    })
  } finally {
    await connector.close()
  }
  return seen
}

/** A host's answer that does not parse is no answer. */
function parseOr<T>(parse: () => T): T | undefined {
  try {
    return parse()
  } catch {
    return undefined
  }
}

/** By jail, the hosts it runs on, among those whose jails were read; nothing when none was. */
function runningAt(jails: JailSpec[], seen: Map<string, Seen>): Map<string, string[]> | undefined {
  const read = [...seen].filter(([, s]) => s.jails)
  if (!read.length) return undefined
  return new Map(
    jails.map((j) => [j.name, read.filter(([, s]) => s.jails!.jails.get(j.name)?.running).map(([h]) => h)]),
  )
}

export function graphCommand() {
  const [inventory, limit] = inventoryOptions()
  return new Command('graph')
    .description(
      "Draw the inventory's mesh: hosts boxed by group, each link with its tunnel, /30 and cost, jails at their hosts. Contacts no host.",
    )
    .addOption(inventory)
    .addOption(limit)
    .option(
      '--live',
      "read every host's OSPF neighbours (one command each, read-only) and colour each link by its adjacency",
    )
    .option('-o, --output <file>', 'write FILE.svg, FILE.png or FILE.dot (by its extension); without it, DOT on stdout')
    .addHelpText(
      'after',
      `
The picture is drawn by Graphviz compiled to WebAssembly and rasterised by resvg, both from npm:
no system binary is needed. A host is boxed in its smallest group (a data centre rather than
the whole mesh). Links are the inventory's, allocated as deploy-mesh allocates them. With
--live each link is up when both ends have the other's router id (its router_id var) in Full
adjacency, partial when one has, down when neither (or an end could not be read).

Examples:
  ferry graph -i prod -o mesh.svg
  ferry graph -i lab --limit dc1 -o dc1.png
  ferry graph -i lab --live -o now.svg        # green: Full both ways; orange: one way; red: none
  ferry graph -i prod | dot -Tpdf > mesh.pdf`,
    )
    .action(async (opts) => {
      const inv = await loadInventory(opts.inventory, { unsetSecrets: 'warn' })
      const hosts = selectHosts(inv, opts.limit)
      const input = graphOf(inv, hosts, allocateLinks(inv))
      if (opts.live) {
        const jails = inv.hosts.flatMap((h) => Object.entries(h.jails ?? {}).map(([name, j]) => ({ name, ...j })))
        const seen = await readLive(inv, hosts, jails)
        const neighbours = new Map([...seen].map(([h, s]) => [h, s.neighbours]))
        input.states = linkStates(input.links, hosts, neighbours, isFull)
        input.running = runningAt(jails, seen)
      }
      const dot = meshDot(input)
      const out = opts.output
      if (!out) return void process.stdout.write(dot)
      const ext = /\.(svg|png|dot)$/i.exec(out)?.[1]?.toLowerCase()
      if (!ext) throw new Error(`--output ${out}: name a .svg, .png or .dot file`)
      if (ext === 'dot') writeFileSync(out, dot)
      else {
        const svg = await renderSvg(dot)
        writeFileSync(out, ext === 'svg' ? svg : await renderPng(svg))
      }
      process.stderr.write(`ferry: wrote ${out}\n`)
    })
}
