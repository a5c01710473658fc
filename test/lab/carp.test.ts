// deploy-carp-gateway (seed 004) on Linux, through the real CLI, on the CARP lab (lab/carp.ts):
// cgw1 and cgw2 share 198.18.21.1 (outside, vhid 1) and 198.18.22.1 (inside, vhid 2) by ucarp,
// sync their connection states by conntrackd over their own link, and filter and NAT with
// nftables on link groups. The client cin, inside, keeps a TCP connection to the server cout,
// outside, through the inside shared address and the NAT to the outside one.
//
// Proved by packets and by the kernels' tables: the master's connection is in the backup's
// conntrackd; the connection survives the master's ucarp stopping, the master coming back and
// taking its addresses again (preemption), and the master's links going down and up; and it does
// not survive a failover with conntrackd stopped (the new master drops what it holds no state for).
// Then a no-op second run, drift (a rule added by hand) found and repaired, and rollback of every
// run leaving no address, rule, daemon or file of ferry's. How fast the backup takes over is
// measured by `npm run bench -- carp`, not here.
import { expect } from 'vitest'
import { INVENTORY_CARP } from '../../lab/lab.ts'
import { CARP_INSIDE, CARP_OUTSIDE } from '../../lab/carp.ts'
import { ferry, graphedNodes, labIt as it, sh, tempDir, waitFor, withReport, type Report } from './helpers.ts'
import { PORT, startClient, startServer } from './carp-traffic.ts'

const GATEWAYS = ['cgw1', 'cgw2'] as const
const SHARED = [CARP_OUTSIDE.shared, CARP_INSIDE.shared]
const CONF = '-C /etc/conntrackd/conntrackd.conf'

/** This host's own processes of these names: the lab's hosts share one process table, not one netns. */
const own = (names: string) =>
  `for p in $(pgrep -x -d ' ' '${names}'); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && cat /proc/$p/comm; done | sort`

/** What the runbook makes on a gateway, read from outside ferry. The ruleset's rule lines only: Debian's own file has empty chains. */
const snapshot = (host: string) =>
  sh(
    host,
    [
      "ip -o -4 addr show | awk '{ print $2, $4 }' | sort",
      'echo \'--- groups\'; ip -o link show | awk \'{ for (i = 1; i < NF; i++) if ($i == "group") { sub(/[@:].*/, "", $2); print $2, $(i + 1) } }\'',
      "echo '--- rules'; nft list ruleset | grep -Ev '^(table|\\s*(chain|type) |\\s*}|$)' || true",
      'echo "--- forwarding $(sysctl -n net.ipv4.ip_forward)"',
      "echo '--- files'; md5sum /etc/iproute2/group /etc/nftables.conf /etc/conntrackd/conntrackd.conf",
      'ls -d /etc/ucarp /etc/ucarp/* /etc/init.d/ucarp-* /etc/network/if-up.d/ferry-* /etc/sysctl.d/*ferry* 2>/dev/null || true',
      `echo '--- daemons'; ${own('ucarp|conntrackd')}`,
    ].join('\n'),
  )

/** Which shared addresses each gateway holds. */
const holders = () =>
  Object.fromEntries(
    GATEWAYS.map((g) => [g, SHARED.filter((a) => sh(g, 'ip -o -4 addr show').includes(` ${a} `))]),
  ) as Record<(typeof GATEWAYS)[number], string[]>
const holdsAll = async (g: (typeof GATEWAYS)[number], what: string) =>
  until(20_000, what, () => {
    const h = holders()
    return h[g].length === 2 && Object.values(h).flat().length === 2
  })

/** Waits up to ms for ok(), failing with what it waited for. */
async function until(ms: number, what: string, ok: () => boolean): Promise<void> {
  if ((await waitFor(ms, ok)) === undefined) throw new Error(`after ${ms / 1000} s, not: ${what}`)
}

const ucarp = (host: string, action: 'start' | 'stop') =>
  sh(host, `service ucarp-carp0 ${action}; service ucarp-carp1 ${action}`)

const steps = (r: Report, host: string) =>
  Object.fromEntries(r.hosts.find((h) => h.name === host)!.steps.map((s) => [s.name, s.status]))

it('a CARP pair on Linux: one holder per shared address, a NAT-ed TCP connection that survives failover, preemption and a dead link thanks to conntrackd (and not without it); a no-op, drift found and repaired, rollback leaves nothing', async () => {
  const state = tempDir('ferry-carp-')
  /** The runs that changed something, newest last: rolled back at the end, or in `finally`. */
  const runs: string[] = []
  const run = async (...flags: string[]) => {
    const r = withReport(
      await ferry(
        ['run', 'deploy-carp-gateway', '-i', INVENTORY_CARP, '--format', 'json', '--state-dir', state, ...flags],
        {
          timeout: 300_000,
        },
      ),
    )
    if (!flags.includes('--dry-run') && r.report.summary.changed) runs.push(r.report.runId)
    return r
  }
  const drift = () =>
    ferry(['drift', 'deploy-carp-gateway', '-i', INVENTORY_CARP, '--state-dir', state], { timeout: 120_000 })
  const server = startServer()
  try {
    const before = Object.fromEntries(GATEWAYS.map((g) => [g, snapshot(g)]))
    expect(before.cgw1).toContain('--- forwarding 0')
    expect(before.cgw1).toMatch(/--- daemons\n$/)
    expect(before.cgw1).not.toMatch(/ucarp|ext|198\.18\.2[12]\.1\//)

    const dry = await run('--dry-run')
    expect(dry.code, dry.stderr).toBe(2)
    for (const g of GATEWAYS) expect(snapshot(g)).toBe(before[g])

    const first = await run()
    expect(first.code, first.stderr + first.stdout.slice(-3000)).toBe(0)
    for (const g of GATEWAYS) {
      const s = steps(first.report, g)
      // Passed: at once, or (changed) once ucarp had decided, polled after the steps before it.
      expect(s['carp0: one node holds 198.18.21.1']).toMatch(/^(ok|changed)$/)
      expect(s['carp1: one node holds 198.18.22.1']).toMatch(/^(ok|changed)$/)
      expect(s['nftables.conf']).toBe('changed')
    }
    // The preferred master (advskew 0) holds both addresses, the backup neither.
    await holdsAll('cgw1', 'cgw1 master of both')
    expect(await graphedNodes(INVENTORY_CARP)).toEqual({ cgw1: ['active'], cgw2: ['standby'] })
    const applied = Object.fromEntries(GATEWAYS.map((g) => [g, snapshot(g)]))
    expect(applied.cgw1).toMatch(/^eth1 198\.18\.21\.1\/24$/m)
    expect(applied.cgw2).not.toMatch(/198\.18\.2[12]\.1\//)
    for (const g of GATEWAYS) {
      expect(applied[g]).toMatch(/^eth1 ext$/m)
      expect(applied[g]).toMatch(/iifgroup \{ "mgmt", "int" \} oifgroup "ext" accept/) // nft lists a set by value
      expect(applied[g]).toContain('snat to 198.18.21.1')
      expect(applied[g]).toMatch(/--- daemons\nconntrackd\nucarp\nucarp\n$/)
    }

    const again = await run()
    expect(again.code, again.stderr).toBe(0)
    for (const g of GATEWAYS) expect(Object.values(steps(again.report, g)).every((s) => s === 'ok')).toBe(true)
    expect((await drift()).code).toBe(0)

    // One connection through the pair for the whole of failover, preemption and a dead link.
    const client = startClient(60)
    await client.connected
    // The master's connection, NAT-ed to the outside shared address, is in the backup's conntrackd.
    await until(10_000, "the master's NAT-ed connection", () =>
      /dport=7000 .*dst=198\.18\.21\.1 /.test(sh('cgw1', `conntrack -L -p tcp --dport ${PORT} 2>/dev/null`)),
    )
    await until(10_000, "the connection in the backup's external cache", () =>
      sh('cgw2', `conntrackd ${CONF} -e`).includes(`dport=${PORT} `),
    )
    ucarp('cgw1', 'stop')
    await holdsAll('cgw2', 'cgw2 master after cgw1 stopped')
    await new Promise((r) => setTimeout(r, 3000))
    ucarp('cgw1', 'start')
    await holdsAll('cgw1', 'cgw1 master again (preemption)')
    await new Promise((r) => setTimeout(r, 3000))
    sh('cgw1', 'ip link set eth1 down; ip link set eth2 down')
    await until(20_000, 'cgw2 master with cgw1 cut off', () => holders().cgw2.length === 2)
    await new Promise((r) => setTimeout(r, 3000))
    sh('cgw1', 'ip link set eth1 up; ip link set eth2 up')
    await holdsAll('cgw1', 'cgw1 master once its links are back')
    await new Promise((r) => setTimeout(r, 3000))
    const fared = await client.fared
    expect(fared.error).toBeNull()
    expect(fared.echoed).toBeGreaterThan(300)
    // A failover costs a few seconds of TCP retransmission, never the connection.
    expect(fared.maxGap).toBeLessThan(8)

    // Without conntrackd the new master holds no state for the connection, and drops it.
    for (const g of GATEWAYS) sh(g, `conntrackd ${CONF} -k`)
    const orphan = startClient(30, 8)
    await orphan.connected
    await new Promise((r) => setTimeout(r, 1000))
    ucarp('cgw1', 'stop')
    await holdsAll('cgw2', 'cgw2 master, no conntrackd')
    expect(await graphedNodes(INVENTORY_CARP)).toEqual({ cgw1: ['standby'], cgw2: ['active'] })
    expect((await orphan.fared).error).toMatch(/stalled|Error/)
    for (const g of GATEWAYS) sh(g, 'service conntrackd start')
    ucarp('cgw1', 'start')
    await holdsAll('cgw1', 'cgw1 master again')

    // Everything as ferry left it: a run changes nothing.
    const after = await run()
    expect(after.code, after.stderr).toBe(0)
    for (const g of GATEWAYS) expect(Object.values(steps(after.report, g)).every((s) => s === 'ok')).toBe(true)

    // Drift: a rule added by hand on the backup.
    sh('cgw2', 'nft add rule inet filter forward iifgroup ext accept')
    const drifted = await drift()
    expect(drifted.code, drifted.stdout + drifted.stderr).toBe(2)
    expect(drifted.stdout).toMatch(/^cgw2 +drifted +1 /m)
    expect(drifted.stdout).toMatch(/^cgw1 +in-sync /m)
    expect(drifted.stdout).toContain('cgw2  deploy-carp-gateway › ruleset loaded as written')
    const repair = await run()
    expect(repair.code, repair.stderr).toBe(0)
    expect(steps(repair.report, 'cgw2')['ruleset loaded as written']).toBe('changed')
    expect(snapshot('cgw2')).toBe(applied.cgw2)
    expect((await drift()).code).toBe(0)

    for (const r of [repair, first]) {
      const back = await ferry(['rollback', r.report.runId, '--state-dir', state], { timeout: 300_000 })
      expect(back.code, back.stdout + back.stderr).toBe(0)
      runs.splice(runs.indexOf(r.report.runId), 1)
    }
    for (const g of GATEWAYS) expect(snapshot(g)).toBe(before[g])
  } finally {
    server.kill()
    for (const g of GATEWAYS) sh(g, 'ip link set eth1 up; ip link set eth2 up')
    // A failed test leaves the gateways bare for the other test files, as far as rollback can.
    for (const id of runs.reverse()) await ferry(['rollback', id, '--state-dir', state], { timeout: 300_000 })
  }
}, 900_000)
