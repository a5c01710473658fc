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
import { allocateLinks } from '../mesh/links.ts'
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

/** Each host's OSPF neighbours, one command over one connection each; undefined where not read. */
async function readNeighbours(inv: Inventory, hosts: Host[]): Promise<Map<string, Neighbours | undefined>> {
  const connector = new Connector(inv, {})
  const seen = new Map<string, Neighbours | undefined>()
  try {
    await mapLimit(hosts, 20, async (h) => {
      const fact = h.os ? NEIGHBOURS[h.os] : undefined
      try {
        const out = fact && (await runLine((await connector.connect(h)).$, fact.command).nothrow())
        seen.set(h.name, out && out.exitCode === 0 ? fact.parse(out.stdout) : undefined)
      } catch {
        seen.set(h.name, undefined) // unreachable, or an answer that is no neighbour table
      }
    })
  } finally {
    await connector.close()
  }
  return seen
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
      if (opts.live) input.states = linkStates(input.links, hosts, await readNeighbours(inv, hosts), isFull)
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
