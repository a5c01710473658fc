import { Command, CommanderError } from '@commander-js/extra-typings'
import { InventoryError, SelectionError } from '../inventory/index.ts'
import { execCommand } from './exec.ts'
import { graphCommand } from './graph.ts'
import { importCommand } from './import.ts'
import { inventoryCommand } from './inventory.ts'
import { runCommand, runbookHelp } from './run.ts'
import { historyCommand } from './history.ts'
import { rollbackCommand } from './rollback.ts'
import { driftCommand } from './drift.ts'
import { connectionsCommand, keeperCommand } from './connections.ts'
import { RunbookError } from '../engine/load.ts'
import { ParamError } from './params.ts'
import { ScheduleError } from '../drift/schedule.ts'
import { printable } from '../report/printable.ts'
import { EXIT, UsageError } from './exit.ts'

export function program(): Command {
  const cli = new Command('ferry')
    .description('Agentless orchestration for meshes of FreeBSD, OpenBSD and Linux routers and jail hosts.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Inventories are YAML files: -i NAME reads inventory/NAME.yaml, -i PATH reads that file.
Host keys are checked strictly against ~/.ssh/known_hosts and the inventory's known_hosts.

Examples:
  ferry inventory -i prod                     hosts, groups and effective vars
  ferry run deploy-mesh -i prod --dry-run     what would change, with diffs
  ferry run deploy-mesh -i prod               apply it (rolls a failing host back)
  ferry drift -i prod                         what no longer matches its runbooks, with diffs
  ferry exec -i prod -- uname -a              run a command on every host
  ferry history                               past runs; ferry history show RUN_ID for diffs
  ferry exec -i prod --limit 'dc1,!server3' -- ospfctl show neighbor
  ferry drift -i prod --persist 10m           keep the SSH connections 10 min for the next command
  ferry import ansible-inventory hosts.ini --out prod   an Ansible inventory as inventory/prod.yaml

Exit codes: 0 ok, 1 a host failed, 2 dry run found changes, 3 a rollback failed or a host reverted,
4 hosts unreachable, 64 bad invocation, inventory or runbook, 130 interrupted.`,
    )
  cli.addCommand(runCommand())
  cli.addCommand(driftCommand())
  cli.addCommand(execCommand())
  cli.addCommand(historyCommand())
  cli.addCommand(rollbackCommand())
  cli.addCommand(inventoryCommand())
  cli.addCommand(importCommand())
  cli.addCommand(graphCommand())
  cli.addCommand(connectionsCommand())
  cli.addCommand(keeperCommand(), { hidden: true })
  return cli
}

export async function main(argv: string[]): Promise<number> {
  const cli = program()
  cli.exitOverride()
  cli.configureOutput({ writeErr: (s) => process.stderr.write(s) })
  for (const sub of cli.commands) sub.exitOverride()
  try {
    // `ferry run NAME --help` describes that runbook too, so load it before commander answers.
    const [sub, name] = argv.slice(2)
    if (sub === 'run' && name && !name.startsWith('-') && argv.some((a) => a === '--help' || a === '-h')) {
      cli.commands.find((c) => c.name() === 'run')!.outputHelp()
      process.stdout.write(`\n${await runbookHelp(name)}`)
      return EXIT.ok
    }
    await cli.parseAsync(argv)
    return Number(process.exitCode ?? 0)
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; everything else commander rejects is a bad invocation.
      return err.exitCode === 0 ? 0 : EXIT.usage
    }
    if (
      err instanceof InventoryError ||
      err instanceof SelectionError ||
      err instanceof UsageError ||
      err instanceof RunbookError ||
      err instanceof ParamError ||
      err instanceof ScheduleError
    ) {
      // A message can quote what a host said (a runbook's prepare asks hosts).
      process.stderr.write(`ferry: ${printable(err.message)}\n`)
      return EXIT.usage
    }
    process.stderr.write(`ferry: ${printable(String((err as Error).stack ?? err))}\n`)
    return EXIT.failed
  }
}
