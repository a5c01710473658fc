import { writeFileSync } from 'node:fs'
import { Command } from '@commander-js/extra-typings'
import { loadInventory, selectHosts } from '../inventory/index.ts'
import { allocateLinks } from '../mesh/links.ts'
import { graphOf, meshDot, renderPng, renderSvg } from '../report/graph.ts'
import { inventoryOptions } from './options.ts'

export function graphCommand() {
  const [inventory, limit] = inventoryOptions()
  return new Command('graph')
    .description(
      "Draw the inventory's mesh: hosts boxed by group, each link with its tunnel, /30 and cost, jails at their hosts. Contacts no host.",
    )
    .addOption(inventory)
    .addOption(limit)
    .option('-o, --output <file>', 'write FILE.svg, FILE.png or FILE.dot (by its extension); without it, DOT on stdout')
    .addHelpText(
      'after',
      `
The picture is drawn by Graphviz compiled to WebAssembly and rasterised by resvg, both from npm:
no system binary is needed. A host is boxed in its smallest group (a data centre rather than
the whole mesh). Links are the inventory's, allocated as deploy-mesh allocates them.

Examples:
  ferry graph -i prod -o mesh.svg
  ferry graph -i lab --limit dc1 -o dc1.png
  ferry graph -i prod | dot -Tpdf > mesh.pdf`,
    )
    .action(async (opts) => {
      const inv = await loadInventory(opts.inventory, { unsetSecrets: 'warn' })
      const dot = meshDot(graphOf(inv, selectHosts(inv, opts.limit), allocateLinks(inv)))
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
