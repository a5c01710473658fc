// Failover of seed 002's HA VPN (deploy-ha-vpn on the lab's HA sites): a LAN-to-LAN probe every
// 100 ms from lan1 to lan2 while site1's active gateway loses both its links (its taps pulled
// from their bridges, the issue's "take its LAN and WAN links down"), five times. Each round
// times the outage, and where the time goes from the new active node's Heartbeat log: detection
// (deadtime), Heartbeat's decision, the addresses, IPsec, GRE, zebra, bgpd, then the first reply.
// The isolated gateway stops its Heartbeat while cut off (scheduled before), its links come
// back, and its Heartbeat is started again: with auto_failback on, the group returns to it, the
// failback, timed the same way. The article reports "less than 20 seconds" and names 1–3 s as
// its goal; issue 21 asks 10 s.
import { execFileSync } from 'node:child_process'
import { INVENTORY_HA, exec, loadState, up } from '../lab/lab.ts'
import { HA_SITES, ip } from '../lab/ha.ts'
import { lastTakeover, probe, type Probe } from '../lab/ha-watch.ts'
import { median, timed, type Section } from './run.ts'

const ROUNDS = 5
const [SITE1, SITE2] = HA_SITES as unknown as [(typeof HA_SITES)[number], (typeof HA_SITES)[number]]
const [PRIMARY, STANDBY] = SITE1.gateways.map((g) => g.name) as [string, string]
const now = () => Date.now() / 1000
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000))

/** Polls until ok() holds; the time it held, or an error naming what was awaited. */
async function until(what: string, seconds: number, ok: () => boolean): Promise<number> {
  const end = now() + seconds
  for (;;) {
    try {
      if (ok()) return now()
    } catch {
      /* not yet: a host cut off does not answer */
    }
    if (now() > end) throw new Error(`bench ha: ${what}: not within ${seconds} s`)
    await sleep(0.5)
  }
}

const holds = (host: string, cidr: string) => exec(host, ['ip', '-o', '-4', 'addr']).includes(` ${cidr} `)

/** The node's clock minus the controller's, in seconds (± half an SSH round trip). */
function clockOffset(host: string): number {
  const before = now()
  const there = Number(exec(host, ['date', '+%s.%N']).trim())
  return there - (before + now()) / 2
}

/** A gateway's two taps and the bridges they are on. */
function links(host: string): { tap: string; bridge: string }[] {
  const uml = loadState().uml![host]!
  return [uml.tap, uml.lan!.tap].map((tap) => {
    const [l] = JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'dev', tap], { encoding: 'utf8' })) as {
      master?: string
    }[]
    if (!l?.master) throw new Error(`bench ha: ${tap} is on no bridge`)
    return { tap, bridge: l.master }
  })
}

/** Seconds from `t0` (controller clock) to each mark of the last takeover in `host`'s log. */
function phases(host: string, t0: number, resume: number): Record<string, number> {
  const offset = clockOffset(host)
  const t = lastTakeover(exec(host, ['cat', '/var/log/ha-log']))
  if (!t || t.group === undefined || t.complete === undefined)
    throw new Error(`bench ha: no whole takeover in ${host}'s ha-log`)
  // Its log gives seconds of its own day: to the controller's epoch.
  const day = Math.floor((t0 + offset) / 86400) * 86400
  const at = (sod: number) => day + sod - offset - t0
  const start = (name: string) => at(t.starts.find((s) => s.name === name)!.at)
  return {
    detection: at(t.dead),
    decision: at(t.group) - at(t.dead),
    addresses: start('ipsec') - at(t.group),
    ipsec: start('gre') - start('ipsec'),
    gre: start('zebra') - start('gre'),
    zebra: start('bgpd') - start('zebra'),
    bgpd: at(t.complete) - start('bgpd'),
    traffic: resume - t0 - at(t.complete),
  }
}

/**
 * The outage a probe saw from `t0`, once `host` holds the group (Heartbeat done, not just the
 * first address: on failback the other node still answers until it lets go) and a reply came
 * after that.
 */
async function outage(p: Probe, t0: number, what: string, host: string, group: 'local' | 'foreign'): Promise<number> {
  const held = await until(
    what,
    180,
    () => holds(host, SITE1.external) && [group, 'all'].includes(exec(host, ['cl_status', 'rscstatus']).trim()),
  )
  await until(`${what}: a reply after`, 60, () => p.replies().some((r) => r > held))
  await sleep(2)
  return p.longestGap(t0)
}

export async function haBench(): Promise<Section> {
  await up({ n: 5, ha: true, log: (l) => console.error(`lab: ${l}`) })
  const first = timed('node', ['bin/ferry.mjs', 'run', 'deploy-ha-vpn', '-i', INVENTORY_HA])
  if (first.code !== 0) throw new Error(`bench ha: deploy-ha-vpn exited ${first.code}:\n${first.out.slice(-3000)}`)
  const lanToLan = () => exec(SITE1.lanHost.name, ['ping', '-c', '1', '-W', '2', ip(SITE2.lanHost.cidr)]) !== undefined
  const failovers: number[] = []
  const failbacks: number[] = []
  const split: Record<string, number>[] = []
  for (let i = 0; i < ROUNDS; i++) {
    await until(
      `round ${i + 1}: ${PRIMARY} active and lan1 reaching lan2`,
      180,
      () => holds(PRIMARY, SITE1.external) && lanToLan(),
    )
    // Cut off, it cannot be told anything: it stops its own Heartbeat (giving up the group) later.
    exec(PRIMARY, ['sh', '-c', 'setsid sh -c "sleep 45; service heartbeat stop" </dev/null >/dev/null 2>&1 &'])
    const cut = links(PRIMARY)
    const p = probe(SITE1.lanHost.name, ip(SITE2.lanHost.cidr))
    try {
      await sleep(2)
      const t0 = now()
      for (const l of cut) execFileSync('ip', ['link', 'set', l.tap, 'nomaster'])
      const gap = await outage(p, t0, `round ${i + 1}: ${STANDBY} takes over`, STANDBY, 'foreign')
      failovers.push(gap)
      split.push(phases(STANDBY, t0, t0 + gap))
      await sleep(Math.max(0, t0 + 75 - now()))
    } finally {
      p.stop()
      for (const l of cut) execFileSync('ip', ['link', 'set', l.tap, 'master', l.bridge])
    }
    await until(`round ${i + 1}: ${PRIMARY} back, holding nothing`, 120, () => !holds(PRIMARY, SITE1.external))
    const q = probe(SITE1.lanHost.name, ip(SITE2.lanHost.cidr))
    try {
      await sleep(2)
      const t1 = now()
      exec(PRIMARY, ['sh', '-c', 'service heartbeat start </dev/null >/dev/null 2>&1'])
      failbacks.push(await outage(q, t1, `round ${i + 1}: ${PRIMARY} takes the group back`, PRIMARY, 'local'))
    } finally {
      q.stop()
    }
  }
  const s = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ')
  const phaseNames = Object.keys(split[0]!)
  return {
    title: 'HA VPN failover (deploy-ha-vpn, Heartbeat on the UML gateways)',
    rows: [
      {
        what: `LAN-to-LAN outage, site1's active gateway's links pulled, median of ${ROUNDS}`,
        ferry: `${median(failovers).toFixed(1)} s`,
        other: 'article: < 20 s',
        ratio: `${(median(failovers) / 20).toFixed(2)}×`,
        goal: '≤ 3 s (issue: ≤ 10 s)',
        met: median(failovers) <= 3,
      },
      {
        what: `LAN-to-LAN outage, failback to the primary (auto_failback on), median of ${ROUNDS}`,
        ferry: `${median(failbacks).toFixed(1)} s`,
        other: '—',
        ratio: '—',
        goal: '≤ 10 s',
        met: median(failbacks) <= 10,
      },
    ],
    notes: [
      `Failovers: ${s(failovers)} s; failbacks: ${s(failbacks)} s (Heartbeat keepalive 0.5 s, deadtime 3 s, as inventory/lab-ha.yaml).`,
      `Where a failover's time goes, median seconds (Heartbeat's log has whole seconds): ${phaseNames.map((n) => `${n} ${median(split.map((x) => x[n]!)).toFixed(1)}`).join(', ')}. Detection is the deadtime; decision is Heartbeat's own shell (mach_down) before ResourceManager; each resource's share includes ResourceManager's own work around it, at ~30 ms a fork under UML; traffic is from "takeover complete" to the first reply (IKE, BGP, routes).`,
      "The gateways are user-mode-linux hosts, whose forks cost about ten times real hardware's: not measured on real hardware.",
    ],
  }
}
