// `ferry connections`, and the hidden `ferry keeper` that --persist starts.
import { Command } from '@commander-js/extra-typings'
import { existsSync } from 'node:fs'
import { defaultStateDir } from '../journal/journal.ts'
import { KeeperClient, KeeperRunning, serveKeeper, socketPathFor, type KeptInfo } from '../transport/keeper.ts'

export function connectionsCommand() {
  return new Command('connections')
    .description('List the SSH connections --persist keeps open, or close them.')
    .option('--close', 'close every kept connection now (the keeper process exits)')
    .option('--json', 'as JSON')
    .option('--state-dir <dir>', "where the journal and the keeper's socket live", defaultStateDir())
    .addHelpText(
      'after',
      `
With --persist 10m (or FERRY_PERSIST=10m), a command leaves its SSH connections with a background
process, the keeper, which the next ferry commands use instead of connecting again: no TCP or SSH
handshake, and the host's sshd forks nothing new. The keeper exits once no command has used it
for that long. It keeps each host's session shell too (the one shell a command runs everything
in), idle between commands, so the next command starts no login shell on the host either. With
become, that shell is root: whoever can open the keeper's socket runs commands as root there
without the sudo password, until the keeper exits. Its socket is <state-dir>/keeper-2.sock, bound
under umask 077; the state dir must be yours and not writable by others. Host keys were checked when each
connection was made: after changing known_hosts or ~/.ssh/config, close the kept connections.

Examples:
  ferry run deploy-mesh -i prod --persist 10m && ferry drift -i prod
  ferry connections                 the kept connections: host, since, last used, commands, sessions
  ferry connections --close`,
    )
    .action(async (opts) => {
      const socket = socketPathFor(opts.stateDir)
      if (!existsSync(socket)) {
        process.stdout.write(opts.json ? '[]\n' : 'no kept connections (no keeper running)\n')
        return
      }
      // A client that never starts a keeper: none running means nothing to list or close.
      const client = new KeeperClient(socket)
      const op = opts.close ? 'close' : 'list'
      let payload: Buffer
      try {
        ;({ payload } = await client.request({ op }))
      } catch {
        process.stdout.write(opts.json ? '[]\n' : 'no kept connections (no keeper running)\n')
        return
      }
      if (opts.close) return void process.stdout.write('closed the kept connections\n')
      const list = JSON.parse(payload.toString()) as KeptInfo[]
      if (opts.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
      if (!list.length) return void process.stdout.write('no kept connections\n')
      const rows = [
        ['HOST', 'TARGET', 'SINCE', 'LAST USED', 'COMMANDS', 'SESSIONS'],
        ...list.map((k) => [k.host, k.target, k.since, k.lastUsed, String(k.commands), String(k.sessions)]),
      ]
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
      process.stdout.write(
        rows
          .map((r) =>
            r
              .map((c, i) => c.padEnd(widths[i]!))
              .join('  ')
              .trimEnd(),
          )
          .join('\n') + '\n',
      )
    })
}

/** What --persist starts: serves the socket, says so on stdout, and runs until idle. */
export function keeperCommand() {
  return new Command('keeper')
    .requiredOption('--socket <path>')
    .requiredOption('--idle <ms>', '', Number)
    .action(async (opts) => {
      // Its starter stops reading stdout and stderr once it listens: a late warning must not
      // kill it with EPIPE.
      for (const out of [process.stdout, process.stderr]) out.on('error', () => {})
      try {
        await serveKeeper(opts.socket, opts.idle)
      } catch (err) {
        if (!(err instanceof KeeperRunning)) throw err
        process.stdout.write('ready (another keeper)\n')
        return
      }
      // The server keeps the process until it is idle; nothing more goes to stdout.
      process.stdout.write('ready\n')
    })
}
