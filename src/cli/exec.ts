import { Command, Option } from '@commander-js/extra-typings'
import { loadInventory, selectHosts } from '../inventory/index.ts'
import type { Host } from '../inventory/types.ts'
import { Connector } from '../transport/connect.ts'
import { mapLimit } from '../transport/slots.ts'
import { UnreachableError } from '../transport/errors.ts'
import { runLine } from '../shell/remote.ts'
import { EXIT, UsageError } from './exit.ts'
import { inventoryOptions, persistFor, persistOption, positiveInt, seconds } from './options.ts'
import { bold, green, red, useColor } from '../report/diff.ts'
import { printable } from '../report/printable.ts'

interface HostResult {
  name: string
  status: 'ok' | 'failed' | 'unreachable'
  exitCode?: number | null
  signal?: string | null
  stdout?: string
  stderr?: string
  reason?: string
  error?: string
}

export function execCommand() {
  const [inventory, limit] = inventoryOptions()
  return new Command('exec')
    .description('Run an ad-hoc shell command on every selected host, in parallel (like `ansible -m shell`).')
    .addOption(inventory)
    .addOption(limit)
    .option('-f, --forks <n>', 'hosts to run on at once', positiveInt, 20)
    .option('-t, --timeout <seconds>', 'kill the command on a host after this many seconds', seconds(1))
    .option('--accept-new', 'trust and record host keys not yet in known_hosts (trust on first use)')
    .addOption(persistOption())
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json'] as const).default('text' as const),
    )
    .argument('<command...>', 'the command line; it runs through /bin/sh -c on each host')
    .addHelpText(
      'after',
      `
Put -- before the command so its own flags are not read as ferry's.
Output is grouped by host, in the order hosts finish. Every secret of the inventory is resolved
first, so that its value is shown as <secret>; one that cannot be (a cmd: that fails) is an error
(64). Control characters other than tab and newline are shown as \x1b and the like, never sent
raw, whether or not the output is a terminal; --format json has the exact output, JSON-escaped.

Examples:
  ferry exec -i lab -- uname -a
  ferry exec -i prod --limit dc1 -- 'vtysh -c "show ip ospf neighbor"'
  ferry exec -i prod --limit 'mesh,!server3' --format json -- sysctl net.inet.ip.forwarding

Exit codes: 0 ok on every host, 1 the command failed somewhere, 4 a host was unreachable
(nothing ran there), 64 bad invocation or inventory.`,
    )
    .action(async (words, opts) => {
      const inv = await loadInventory(opts.inventory)
      const hosts = selectHosts(inv, opts.limit)
      if (hosts.length === 0) throw new UsageError(`--limit ${opts.limit ?? ''} selects no hosts`)
      // Unlike a runbook, whose steps resolve the secrets they need, a command can print any of
      // them: all are resolved first, so the redaction knows every value.
      await Promise.all(inv.secrets.names().map((name) => inv.secrets.get(name)))
      const line = words.join(' ')
      const connector = new Connector(inv, { acceptNew: opts.acceptNew, ...persistFor(opts) })
      const json = opts.format === 'json'
      const redact = (s: string) => inv.secrets.redact(s)

      let results: HostResult[]
      try {
        results = await mapLimit(hosts, opts.forks, async (host) => {
          const result = await runOn(connector, host, line, opts.timeout, redact)
          if (!json) process.stdout.write(renderResult(host, result))
          return result
        })
      } finally {
        await connector.close()
      }
      const summary = {
        ok: results.filter((r) => r.status === 'ok').length,
        failed: results.filter((r) => r.status === 'failed').length,
        unreachable: results.filter((r) => r.status === 'unreachable').length,
      }
      if (json) process.stdout.write(`${JSON.stringify({ command: redact(line), hosts: results, summary }, null, 2)}\n`)
      else process.stderr.write(`${summary.ok} ok, ${summary.failed} failed, ${summary.unreachable} unreachable\n`)
      process.exitCode = summary.unreachable ? EXIT.unreachable : summary.failed ? EXIT.failed : EXIT.ok
    })
}

/** The command line on one host, with what it printed redacted. */
async function runOn(
  connector: Connector,
  host: Host,
  line: string,
  timeout: number | undefined,
  redact: (s: string) => string,
): Promise<HostResult> {
  try {
    const t = await connector.connect(host)
    let p = runLine(t.$, line).nothrow()
    if (timeout) p = p.timeout(timeout * 1000)
    const out = await p
    return {
      name: host.name,
      status: out.exitCode === 0 ? 'ok' : 'failed',
      exitCode: out.exitCode,
      signal: out.signal,
      stdout: redact(out.stdout),
      stderr: redact(out.stderr),
    }
  } catch (err) {
    return err instanceof UnreachableError
      ? { name: host.name, status: 'unreachable', reason: err.reason, error: redact(err.detail) }
      : { name: host.name, status: 'failed', error: redact((err as Error).message) }
  }
}

function renderResult(host: Host, r: HostResult): string {
  const paint = (f: (s: string) => string, s: string) => (useColor() ? bold(f(s)) : s)
  let head: string
  if (r.status === 'unreachable') head = paint(red, `${r.name} | UNREACHABLE (${r.reason})`)
  else if (r.error) head = paint(red, `${r.name} | FAILED`)
  else {
    const rc = r.signal ? `killed by ${r.signal}` : `rc=${r.exitCode}`
    head = r.status === 'ok' ? paint(green, `${r.name} | ok | ${rc}`) : paint(red, `${r.name} | FAILED | ${rc}`)
  }
  // Every output line carries the host name too, so `grep`ping interleaved logs stays easy.
  const body = printable([r.error ?? '', r.stdout ?? '', r.stderr ?? ''].join(''))
    .split('\n')
    .filter((l, i, all) => l !== '' || i < all.length - 1)
    .map((l) => `${host.name} | ${l}`)
  return `${head}\n${body.length ? `${body.join('\n')}\n` : ''}`
}
