// deploy-ha-vpn (seed 002) end to end on the lab's HA topology (lab/ha.ts, `up --ha`): two sites,
// each a pair of full-kernel gateways under Heartbeat, GRE inside IPsec between the sites'
// external service addresses, iBGP over the GRE. Proved by packets: a LAN host at one site
// reaches the other's through the tunnel, and the underlay between the sites carries only ESP.
// Then a second run changes nothing and drift is clean on active and standby alike, while a hand
// edit of the standby's haresources is reported. Then site1's active gateway dies whole (its UML
// processes killed) under a LAN-to-LAN probe every 100 ms: the standby takes over. The dead
// gateway comes back bare, a run rebuilds it and Heartbeat fails back to it (auto_failback on),
// timed the same way. Last, rollback leaves no file ferry wrote, and no secret is in any output
// or the journal.
//
// The figures are printed, not bounded tightly: issue 21 asks a failover within 10 s, and under
// UML this measures about 30 s, most of it Heartbeat's own ResourceManager shell at ~30 ms a
// fork (README, "The lab", the HA sites). The bound asserted is the one that says the takeover works at all.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { expect } from 'vitest'
import { HA_SITES, ip } from '../../lab/ha.ts'
import { describeTakeover, lastTakeover, probe } from '../../lab/ha-watch.ts'
import { INVENTORY_HA, STATE_DIR, up } from '../../lab/lab.ts'
import { umlPids } from '../../lab/uml.ts'
import { ferry, graphedNodes, journalBytes, labIt as it, sh, tempDir, waitFor } from './helpers.ts'
import { LAB_UP } from './setup.ts'

const GATEWAYS = HA_SITES.flatMap((s) => s.gateways.map((g) => g.name))
const [SITE1, SITE2] = HA_SITES as unknown as [(typeof HA_SITES)[number], (typeof HA_SITES)[number]]
const [PRIMARY1, STANDBY1] = SITE1.gateways.map((g) => g.name) as [string, string]

/** What ferry writes on a gateway, read from outside: paths, modes and checksums; addresses held. */
const snapshot = (h: string) =>
  sh(
    h,
    [
      'for f in $(find /etc/ha.d /etc/frr /etc/ipsec.conf /etc/ipsec.secrets /etc/ipsec.d/private /etc/init.d/gre /etc/sysctl.d -type f 2>/dev/null | LC_ALL=C sort); do echo "$f $(stat -c %a "$f") $(md5sum < "$f")"; done',
      "ip -o -4 addr | awk '{ print $2, $4 }'",
      "ip -o link | awk '{ print $2 }' | grep '^gre-' || true",
      'ps -e -o comm= | grep -x -e heartbeat -e charon -e zebra -e bgpd | LC_ALL=C sort || true',
    ].join('; '),
  )

/** Which gateway of a site holds its external service address (undefined: none, or both). */
function holder(site: (typeof HA_SITES)[number]): string | undefined {
  const holding = site.gateways.filter((g) => {
    try {
      return sh(g.name, 'ip -o -4 addr').includes(` ${site.external} `)
    } catch {
      return false // a dead gateway holds nothing
    }
  })
  return holding.length === 1 ? holding[0]!.name : undefined
}

/** Counts, on the bridge, the packets between the two sites' external addresses: ESP ones and all. */
function countUnderlay() {
  const pair = `{ ${ip(SITE1.external)}, ${ip(SITE2.external)} }`
  execFileSync('nft', ['-f', '-'], {
    input: `table bridge ferry_ha_vpn {\n  chain forward {\n    type filter hook forward priority 0;\n    ip saddr ${pair} ip daddr ${pair} ip protocol esp counter\n    ip saddr ${pair} ip daddr ${pair} counter\n  }\n}\n`,
  })
  return {
    read: () => {
      const [esp, all] = [
        ...execFileSync('nft', ['list', 'table', 'bridge', 'ferry_ha_vpn'], { encoding: 'utf8' }).matchAll(
          /counter packets (\d+)/g,
        ),
      ].map((m) => Number(m[1]))
      return { esp: esp!, all: all! }
    },
    remove: () => execFileSync('nft', ['delete', 'table', 'bridge', 'ferry_ha_vpn']),
  }
}

it('two sites of Heartbeat pairs: converged, LAN to LAN inside ESP, idempotent, drift on the standby, a dead active gateway taken over, failback, rollback leaves nothing', async () => {
  const state = tempDir()
  const secrets = ['site1_rsa', 'ha_authkey', 'bgpd_password'].map((s) =>
    readFileSync(`${STATE_DIR}/${s}`, 'utf8').trim(),
  )
  const before = Object.fromEntries(GATEWAYS.map((g) => [g, snapshot(g)]))
  const run = (...flags: string[]) =>
    ferry(['run', 'deploy-ha-vpn', '-i', INVENTORY_HA, '--state-dir', state, '--format', 'json', ...flags], {
      timeout: 900_000,
    })
  const drift = () => ferry(['drift', 'deploy-ha-vpn', '-i', INVENTORY_HA, '--state-dir', state], { timeout: 300_000 })
  const outputs: string[] = []
  const runIds: string[] = []
  const figures: string[] = []
  const lanToLan = () =>
    sh(SITE1.lanHost.name, `ping -c 1 -W 2 ${ip(SITE2.lanHost.cidr)} >/dev/null 2>&1 && echo ok || echo no`).trim() ===
    'ok'
  try {
    const dry = await run('--dry-run')
    outputs.push(dry.stdout + dry.stderr)
    expect(dry.code, dry.stderr).toBe(2)
    for (const g of GATEWAYS) expect(snapshot(g), `${g} after the dry run`).toBe(before[g])

    const t0 = performance.now()
    const first = await run()
    outputs.push(first.stdout + first.stderr)
    expect(first.code, first.stderr + first.stdout.slice(-3000)).toBe(0)
    runIds.push(JSON.parse(first.stdout).runId)
    figures.push(`converged in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    // One active gateway per site, the primary; LAN to LAN through the tunnel.
    expect(holder(SITE1)).toBe(PRIMARY1)
    expect(holder(SITE2)).toBe(SITE2.gateways[0]!.name)
    expect(await waitFor(60_000, lanToLan, { every: 1000 }), 'lan1 reaches lan2').toBeDefined()
    // ferry graph --live says the same: each site's primary active with its iBGP session up, the
    // other node standby.
    let graphed: Record<string, string[]> = {}
    await waitFor(
      30_000,
      async () => (graphed = await graphedNodes(INVENTORY_HA))[PRIMARY1]!.join() === 'active,BGP 1/1 Established',
    )
    expect(graphed[PRIMARY1]).toEqual(['active', 'BGP 1/1 Established'])
    expect(graphed[SITE2.gateways[0]!.name]).toEqual(['active', 'BGP 1/1 Established'])
    expect(graphed[STANDBY1]![0]).toBe('standby')

    // The underlay between the sites: ESP and nothing else, while LAN traffic crosses.
    const bridge = countUnderlay()
    let counted
    try {
      sh(SITE1.lanHost.name, `ping -c 20 -i 0.2 -W 1 ${ip(SITE2.lanHost.cidr)} >/dev/null 2>&1 || true`)
      counted = bridge.read()
    } finally {
      bridge.remove()
    }
    expect(counted.all).toBeGreaterThanOrEqual(40) // 20 echoes and 20 replies
    expect(counted.esp, 'every packet between the sites is ESP').toBe(counted.all)
    figures.push(`underlay ESP ${counted.esp}/${counted.all}`)

    // A second run changes nothing, and drift finds nothing, on the active and the standby alike:
    // the standby's stopped daemons are Heartbeat's to run.
    const again = await run()
    outputs.push(again.stdout + again.stderr)
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout).summary).toMatchObject({ ok: 4, changed: 0 })
    const clean = await drift()
    outputs.push(clean.stdout + clean.stderr)
    expect(clean.code, clean.stdout + clean.stderr).toBe(0)

    // A hand edit of the standby's haresources is drift, on that host alone.
    sh(STANDBY1, "printf '%s\\n' '# hand edit' >> /etc/ha.d/haresources")
    const edited = await drift()
    outputs.push(edited.stdout + edited.stderr)
    expect(edited.code, edited.stdout).toBe(2)
    expect(edited.stdout).toMatch(new RegExp(`^${STANDBY1} +drifted +1 `, 'm'))
    expect(edited.stdout).toContain(`${STANDBY1}  deploy-ha-vpn › haresources`)
    expect(edited.stdout).toContain('-# hand edit')
    sh(STANDBY1, "sed -i '$d' /etc/ha.d/haresources")

    // Failover: site1's active gateway dies whole; the standby takes the group over.
    const p = probe(SITE1.lanHost.name, ip(SITE2.lanHost.cidr))
    try {
      await sleep(3000)
      const killedAt = Date.now() / 1000
      for (const pid of umlPids(STATE_DIR, `${PRIMARY1}/`)) process.kill(pid, 'SIGKILL')
      const back = await waitFor(
        90_000,
        () => holder(SITE1) === STANDBY1 && p.replies().some((t) => t > killedAt + 1),
        { every: 500 },
      )
      await sleep(2000)
      const gap = p.longestGap(killedAt)
      figures.push(
        `failover (active gateway killed, deadtime 3 s): LAN-to-LAN outage ${gap.toFixed(2)} s; ${STANDBY1}'s ha-log ${describeTakeover(lastTakeover(sh(STANDBY1, 'cat /var/log/ha-log')))}`,
      )
      expect(back, 'the standby took over and LAN-to-LAN traffic resumed').toBeDefined()
      expect(gap).toBeLessThan(60)
      // The graph: the standby active, the dead gateway not read (no role drawn).
      const after = await graphedNodes(INVENTORY_HA)
      expect(after[STANDBY1]![0]).toBe('active')
      expect(after[PRIMARY1]).toEqual([])
    } finally {
      p.stop()
    }

    // The dead gateway comes back bare (a fresh root); a run rebuilds it, and Heartbeat fails
    // back to it, the primary, within that run.
    await up(LAB_UP)
    const q = probe(SITE1.lanHost.name, ip(SITE2.lanHost.cidr))
    try {
      await sleep(2000)
      const from = Date.now() / 1000
      const rebuilt = await run()
      outputs.push(rebuilt.stdout + rebuilt.stderr)
      expect(rebuilt.code, rebuilt.stderr + rebuilt.stdout.slice(-3000)).toBe(0)
      runIds.push(JSON.parse(rebuilt.stdout).runId)
      expect(JSON.parse(rebuilt.stdout).summary).toMatchObject({ ok: 3, changed: 1 })
      expect(holder(SITE1)).toBe(PRIMARY1)
      expect(await waitFor(60_000, lanToLan, { every: 1000 }), 'lan1 reaches lan2 after failback').toBeDefined()
      await sleep(2000)
      figures.push(`failback (the primary rebuilt by a run): LAN-to-LAN outage ${q.longestGap(from).toFixed(2)} s`)
    } finally {
      q.stop()
    }
  } finally {
    console.log(`ha-vpn: ${figures.join('; ')}`)
    // Newest run first: the rebuild's changes on the primary, then the first run's everywhere.
    for (const id of runIds.reverse()) {
      const undo = await ferry(['rollback', id, '--state-dir', state], { timeout: 600_000 })
      outputs.push(undo.stdout + undo.stderr)
      expect(undo.code, undo.stdout + undo.stderr).toBe(0)
    }
  }
  for (const g of GATEWAYS) expect(snapshot(g), `${g} after rollback`).toBe(before[g])
  for (const o of outputs) for (const s of secrets) expect(o).not.toContain(s)
  for (const id of runIds) {
    const journal = journalBytes(state, id)
    for (const s of secrets) expect(journal.includes(s), 'a secret in the journal').toBe(false)
  }
}, 2_400_000)
