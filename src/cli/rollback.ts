import { Command } from '@commander-js/extra-typings'
import { loadInventory } from '../inventory/index.ts'
import { loadRunbook } from '../engine/load.ts'
import { buildSteps } from '../engine/build.ts'
import { rollbackRecorded } from '../engine/rollback.ts'
import { Journal, controllerAlive, defaultStateDir } from '../journal/journal.ts'
import { Connector } from '../transport/connect.ts'
import { mapLimit } from '../transport/slots.ts'
import { UnreachableError } from '../transport/errors.ts'
import { EXIT, UsageError } from './exit.ts'
import { SAFETY_DEFAULTS, persistFor, persistOption, seconds } from './options.ts'
import { printable } from '../report/printable.ts'

export function rollbackCommand() {
  return new Command('rollback')
    .description('Undo what a run changed, newest change first, from the undo records in its journal.')
    .argument('<run-id>', 'as shown by ferry history')
    .option('--accept-new', 'trust and record host keys not yet in known_hosts')
    .option(
      '--lock-wait <seconds>',
      'wait this long for a host another run holds, instead of refusing it at once',
      seconds(0),
      SAFETY_DEFAULTS.lockWait,
    )
    .option('--break-lock', 'take over a host lock another run left behind (say, its controller died)')
    .option('--state-dir <dir>', 'where the journal lives', defaultStateDir())
    .addOption(persistOption())
    .addHelpText(
      'after',
      `
It works for a finished run, and for one whose controller died mid-apply: every undo record was
written to the journal before its change was made. It reloads the run's runbook and inventory,
so both must still describe the same steps. Steps already undone are skipped, so it is safe to
run again after a partial failure. It holds each host's lock while it undoes, as a run does: a
host another run holds is refused (or waited for, --lock-wait), and the lock the rolled-back
run's dead controller left is its own to take.

Examples:
  ferry history                               find the run
  ferry rollback 20261121-121530-3f9a0c6e1b2d7485

Exit codes: 0 everything undone (or nothing to undo), 3 an undo failed or another run holds a
host, 4 a host was unreachable, 64 unknown run, or the run is still in progress.`,
    )
    .action(async (runId, opts) => {
      const journal = Journal.open(opts.stateDir, (s) => s)
      const run = journal.show(runId)
      if (!run) throw new UsageError(`no run ${runId} in ${opts.stateDir} (see ferry history)`)
      if (!run.finished && controllerAlive(run.pid))
        throw new UsageError(`run ${runId} is still in progress (pid ${run.pid}); stop it first`)
      const pending = journal.pendingUndo(runId)
      if (!pending.length) {
        process.stdout.write(`run ${runId}: nothing to undo\n`)
        return
      }
      const inv = await loadInventory(run.inventory)
      const { runbook } = await loadRunbook(run.runbookPath)
      const names = [...new Set(pending.map((e) => e.host))]
      const built = await buildSteps(
        runbook,
        inv,
        inv.hosts.filter((h) => names.includes(h.name)),
        run.params,
      )
      const connector = new Connector(inv, { acceptNew: opts.acceptNew, ...persistFor(opts) })
      let failed = 0
      let unreachable = 0
      try {
        await mapLimit(built, 20, async ({ host, steps, handlers }) => {
          try {
            await rollbackRecorded({
              host,
              steps,
              handlers,
              runId,
              transport: await connector.connect(host),
              lock: { wait: opts.lockWait, breakIt: !!opts.breakLock },
              entries: pending.filter((e) => e.host === host.name),
              connect: (other) => connector.connect(other),
              progress: (line) => process.stdout.write(`${host.name}: ${printable(line)}\n`),
              undone: (e) => {
                journal.markUndone(runId, host.name, e.index)
                process.stdout.write(`${host.name}: undid ${printable(e.step.name)}\n`)
              },
            })
            journal.setHost(runId, host.name, 'rolled-back')
          } catch (err) {
            if (err instanceof UnreachableError) unreachable++
            else failed++
            process.stdout.write(
              `${host.name}: ${err instanceof UnreachableError ? 'UNREACHABLE' : 'ROLLBACK FAILED'}: ${printable(inv.secrets.redact((err as Error).message))}\n`,
            )
          }
        })
      } finally {
        await connector.close()
      }
      if (!failed && !unreachable) journal.finishRun(runId, 'rolled-back', run.summary)
      journal.close()
      process.exitCode = failed ? EXIT.rollbackFailed : unreachable ? EXIT.unreachable : EXIT.ok
    })
}
