import { writeFileSync } from 'node:fs'
import { Command } from '@commander-js/extra-typings'
import { isFull } from '../facts/ospf.ts'
import { loadInventory, selectHosts } from '../inventory/index.ts'
import type { JailSpec } from '../jails/driver.ts'
import { allocateLinks } from '../mesh/links.ts'
import { graphOf, linkStates, meshDot, pairRoles, pairsOf, renderPng, renderSvg } from '../report/graph.ts'
import { readLive, type Seen } from './graph-live.ts'
import { UsageError } from './exit.ts'
import { inventoryOptions } from './options.ts'

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
      "Draw the inventory's mesh: hosts boxed by group, each link with its tunnel, /30 and cost, jails at their hosts. Without --live, contacts no host.",
    )
    .addOption(inventory)
    .addOption(limit)
    .option(
      '--live',
      'read every host once (one command line, read-only): colour each link by its OSPF adjacency, draw each jail where it runs, mark the active node of a gateway pair and count BGP sessions',
    )
    .option('-o, --output <file>', 'write FILE.svg, FILE.png or FILE.dot (by its extension); without it, DOT on stdout')
    .addHelpText(
      'after',
      `
The picture is drawn by Graphviz compiled to WebAssembly and rasterised by resvg, both from npm:
no system binary is needed. A host is boxed in its smallest group (a data centre rather than
the whole mesh). Links are the inventory's, allocated as deploy-mesh allocates them. With
--live each link is up when both ends have the other's router id (its router_id var) in Full
adjacency, partial when one has, down when neither (or an end could not be read); each jail is
drawn at the hosts it runs on (at its own, as not running, when none); a gateway pair's node (a
group with deploy-ha-vpn's external_address/internal_address or deploy-carp-gateway's carp
addresses) is active when it holds every shared address, standby when none, partial when some;
a host with a bgp_as var shows how many of its BGP sessions are Established. Pairs and BGP are
read on Linux only (ip and FRR's vtysh); a BSD host's are left undrawn.

Examples:
  ferry graph -i prod -o mesh.svg
  ferry graph -i lab --limit dc1 -o dc1.png
  ferry graph -i lab --live -o now.svg        # green: Full both ways; orange: one way; red: none
  ferry graph -i prod | dot -Tpdf > mesh.pdf`,
    )
    .action(async (opts) => {
      const out = opts.output
      const ext = out && /\.(svg|png|dot)$/i.exec(out)?.[1]?.toLowerCase()
      if (out && !ext) throw new UsageError(`--output ${out}: name a .svg, .png or .dot file`)
      const inv = await loadInventory(opts.inventory, { unsetSecrets: 'warn' })
      const hosts = selectHosts(inv, opts.limit)
      const input = graphOf(inv, hosts, allocateLinks(inv))
      if (opts.live) {
        const jails = inv.hosts.flatMap((h) => Object.entries(h.jails ?? {}).map(([name, j]) => ({ name, ...j })))
        const pairs = pairsOf(inv, hosts)
        const seen = await readLive(inv, hosts, jails, pairs, (line) => process.stderr.write(`ferry: ${line}\n`))
        const of = <K extends keyof Seen>(key: K) => new Map([...seen].map(([h, s]) => [h, s[key]]))
        input.states = linkStates(input.links, hosts, of('neighbours'), isFull)
        input.running = runningAt(jails, seen)
        input.roles = pairRoles(pairs, of('addresses'))
        input.bgp = new Map(
          [...of('bgp')].flatMap(([h, peers]) =>
            peers
              ? [[h, { established: [...peers.values()].filter((s) => s === 'Established').length, peers: peers.size }]]
              : [],
          ),
        )
      }
      const dot = meshDot(input)
      if (!out) return void process.stdout.write(dot)
      if (ext === 'dot') writeFileSync(out, dot)
      else {
        const svg = await renderSvg(dot)
        writeFileSync(out, ext === 'svg' ? svg : await renderPng(svg))
      }
      process.stderr.write(`ferry: wrote ${out}\n`)
    })
}
