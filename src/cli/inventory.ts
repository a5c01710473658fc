import { Command } from '@commander-js/extra-typings'
import { formatProblem, loadInventory, renderInventory, selectHosts } from '../inventory/index.ts'
import { inventoryOptions } from './options.ts'

export function inventoryCommand() {
  const [inventory, limit] = inventoryOptions()
  return new Command('inventory')
    .description('Validate an inventory and show its hosts, groups, links and effective vars. Contacts no host.')
    .addOption(inventory)
    .addOption(limit)
    .option('--json', 'print JSON instead of text')
    .addHelpText(
      'after',
      `
Effective vars merge defaults.vars, then each group's vars in the host's group order, then the
host's own vars. Secrets are listed by name and source and shown as <secret>; they are not read,
so a source that is not there (an unset variable, a missing file) is a warning here, on stderr:
\`ferry run\` and the other commands that read secrets refuse to start without it.
An invalid inventory is reported as FILE:LINE:COL: reason, with exit code 64.

Examples:
  ferry inventory -i prod
  ferry inventory -i inventory/openbsd-mesh.yaml --limit 'mesh,!fw2' --json`,
    )
    .action(async (opts) => {
      const inv = await loadInventory(opts.inventory, { unsetSecrets: 'warn' })
      for (const w of inv.warnings) process.stderr.write(`ferry: warning: ${formatProblem(w)} (a run needs it)\n`)
      process.stdout.write(renderInventory(inv, selectHosts(inv, opts.limit), opts.json ? 'json' : 'text'))
    })
}
