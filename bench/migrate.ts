// Migration throughput: migrate-jail's relay (the controller between two SSH channels, ssh2)
// against the pipe an operator would type, `ssh src zfs send | ssh dst zfs receive` (OpenSSH),
// moving the same 200 MB snapshot between the same two lab hosts, alternately, three times each.
// The sender's own rate (`zfs send | wc -c` on the host) is the ceiling both share.
import { execFileSync, execSync } from 'node:child_process'
import { INVENTORY, LAB_JAIL, exec, makeJail, removeJail, up } from '../lab/lab.ts'
import { loadInventory } from '../src/inventory/index.ts'
import { Connector } from '../src/transport/connect.ts'
import { relay } from '../src/jails/relay.ts'
import * as zfs from '../src/jails/zfs.ts'
import { quote } from '../src/shell/quote.ts'
import { median, type Section } from './run.ts'

const ROUNDS = 3
const MB = 200
const TARGET = 'tank/bench'

export async function migrateBench(): Promise<Section> {
  await up({ n: 5, zfs: true, log: (l) => console.error(`lab: ${l}`) })
  makeJail('lab2', MB)
  const ds = LAB_JAIL.dataset
  exec('lab2', ['zfs', 'snapshot', '-r', `${ds}@bench`])
  const inv = await loadInventory(INVENTORY)
  const host = (name: string) => inv.hosts.find((h) => h.name === name)!
  const [from, to] = [host('lab2'), host('lab4')]
  const connector = new Connector(inv)
  const clean = () => exec('lab4', ['sh', '-c', `zfs destroy -r ${TARGET} 2>/dev/null || true`])
  const ssh = (h: typeof from, cmd: string) =>
    `ssh -T -i ${quote(h.identity[0]!)} -o UserKnownHostsFile=${quote(h.knownHosts[0]!)} -o StrictHostKeyChecking=yes -o BatchMode=yes ${quote(`${h.user}@${h.address}`)} ${quote(cmd)}`
  const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9

  const ferry: number[] = []
  const openssh: number[] = []
  let bytes = 0
  // Per round: the first includes ssh2's and the JIT's warm-up, later ones only what the stream costs.
  const peakRss: number[] = []
  try {
    const [src, dst] = await Promise.all([connector.connect(from), connector.connect(to)])
    for (let i = 0; i < ROUNDS; i++) {
      clean()
      const rss0 = process.memoryUsage().rss
      peakRss.push(0)
      const sampler = setInterval(() => (peakRss[i] = Math.max(peakRss[i]!, process.memoryUsage().rss - rss0)), 20)
      let t0 = process.hrtime.bigint()
      try {
        bytes = await relay(src, zfs.send(ds, 'bench'), dst, zfs.receive(TARGET, false))
      } finally {
        clearInterval(sampler)
      }
      ferry.push(seconds(t0))
      clean()
      t0 = process.hrtime.bigint()
      execSync(`${ssh(from, zfs.send(ds, 'bench'))} | ${ssh(to, zfs.receive(TARGET, false))}`, {
        stdio: ['ignore', 'ignore', 'inherit'],
      })
      openssh.push(seconds(t0))
    }
    const t0 = process.hrtime.bigint()
    exec('lab2', ['sh', '-c', `${zfs.send(ds, 'bench')} | wc -c`])
    const local = seconds(t0)
    const rate = (s: number) => bytes / s / 1e6
    const ratio = rate(median(ferry)) / rate(median(openssh))
    const cipher = execFileSync('ssh', ['-G', from.address])
      .toString()
      .match(/^ciphers (\S+)/m)?.[1]
      ?.split(',')[0]
    return {
      title: 'Migration throughput (migrate-jail relay vs OpenSSH pipe)',
      rows: [
        {
          what: `${(bytes / 1e6).toFixed(0)} MB zfs send -R, lab2 → lab4, median of ${ROUNDS}`,
          ferry: `${rate(median(ferry)).toFixed(1)} MB/s`,
          other: `${rate(median(openssh)).toFixed(1)} MB/s`,
          ratio: `${(ratio * 100).toFixed(0)}%`,
          goal: '≥ 90%',
          met: ratio >= 0.9,
        },
      ],
      notes: [
        `ferry runs: ${ferry.map((s) => `${s.toFixed(2)} s`).join(', ')}; OpenSSH runs: ${openssh.map((s) => `${s.toFixed(2)} s`).join(', ')}.`,
        `The sender alone (\`zfs send | wc -c\` on lab2, zfs-fuse): ${rate(local).toFixed(1)} MB/s, the ceiling for both.`,
        `Controller memory while relaying ${(bytes / 1e6).toFixed(0)} MB: peak RSS growth per round ${peakRss.map((r) => `${(r / 2 ** 20).toFixed(1)} MiB`).join(', ')} (the first round warms up ssh2 and the JIT; the stream itself is not buffered).`,
        `OpenSSH's first cipher here: ${cipher ?? 'unknown'}; ssh2 negotiates its own.`,
      ],
    }
  } finally {
    await connector.close()
    clean()
    for (const h of ['lab1', 'lab2', 'lab3', 'lab4', 'lab5']) removeJail(h)
  }
}
