// Routing domains on Linux, through the real CLI and test/fixtures/runbooks/vrf-linux.ts, on a
// full-kernel lab host (lab/uml.ts: the namespace hosts' kernel has no VRF and no 802.1Q): uml1
// gets vrf1 and vrf2 (tables 1 and 2), vlan6 and vlan7 over eth0 in them with the same address,
// 172.16.6.1/30, a route to 192.168.1.0/24 in table 1 only, each table's default refused, and a
// policy rule (packets marked 7 look up table 2) kept with vrf2.
// uml2 is the other end, set up here with plain `ip`: its own VRFs, vlans c1 (tag 6) and c2 (tag
// 7), each 172.16.6.2/30 with a MAC of its own, and 192.168.1.1 on a dummy in its vrf1 only.
//
// Proved by packets and kernel state: each domain reaches its own peer (uml1's neighbour entry
// for 172.16.6.2 in each holds that peer's MAC, and the peer counted the pings), the route only
// from domain 1; then the files for boot (systemd-networkd's: the UML hosts have
// /etc/systemd/network and no interfaces.d; networkd does not run there, so boot itself is not
// replayed), a no-op second run, drift (`nomaster` by hand) reported and repaired, and rollback
// of both runs leaving no vlan, VRF, route or file. A second test keeps them with ifupdown
// (unpacked aside, as route.test.ts does) and replays boot from its files: ifup -a.
import { expect } from 'vitest'
import { KNOWN_HOSTS, STATE_DIR, loadState } from '../../lab/lab.ts'
import { copyInto, debFile, debs } from './apt-repo.ts'
import { ferry, labIt as it, sh, tempDir, withReport, writeInventory, type Report } from './helpers.ts'

const RUNBOOK = 'test/fixtures/runbooks/vrf-linux.ts'
const NAMES = [
  'vrf1',
  'vrf2',
  'C1',
  'C2',
  'C1 LAN, table 1',
  'C1 default, table 1',
  'C2 default, table 2',
  'C2 marked 7: table 2',
]
const N = '/etc/systemd/network'
// The parent's .network, which networkd makes a vlan from: eth0 has none on a UML host (its init
// script configures it), so the test brings one; networkd, not running, never reads it.
const ETH0_NETWORK = `${N}/10-eth0.network`
const PEER_MAC = { c1: '02:fe:00:00:06:02', c2: '02:fe:00:00:07:02' }

const steps = (r: Report) => Object.fromEntries(r.hosts[0]!.steps.map((s) => [s.name, s.status]))

/** uml1's links, routes and files that the runbook makes, read from outside the steps (files: under `dir`). */
const snapshot = (dir = N) =>
  sh(
    'uml1',
    [
      "ip -o link | awk '{ print $2 }' | grep -E '^(vlan[67]|vrf[12])[@:]' | sort || true",
      // A VRF's table holds the kernel's local and broadcast routes too: the proto static ones are ferry's.
      'for t in 1 2 main; do echo "--- table $t"; ip -4 route show table $t proto static 2>/dev/null; ip -4 route show table $t 2>/dev/null | grep -E \'172\\.16\\.6\\.0/30|192\\.168\\.1\\.\' || true; done',
      "echo '--- rules'; ip rule show pref 900",
      `echo '--- files'; find ${dir} -mindepth 1 | sort`,
    ].join('\n'),
  )

const BEFORE = `--- table 1\n--- table 2\n--- table main\n--- rules\n--- files\n${ETH0_NETWORK}\n`

const cleanupUml1 = () =>
  sh(
    'uml1',
    `for l in vlan6 vlan7 vrf1 vrf2; do ip link del $l 2>/dev/null; done; ip route flush table 1 2>/dev/null; ip route flush table 2 2>/dev/null; ip rule del pref 900 2>/dev/null; rm -rf ${N}/50-ferry-v* ${N}/10-eth0.network ${N}/10-eth0.network.d; true`,
  )
const cleanupUml2 = () => sh('uml2', 'for l in c1 c2 ferry-lan vrf1 vrf2; do ip link del $l 2>/dev/null; done; true')

/** rx packets of uml2's c1 and c2. */
const received = () =>
  Object.fromEntries(
    (['c1', 'c2'] as const).map((l) => [l, Number(sh('uml2', `cat /sys/class/net/${l}/statistics/rx_packets`))]),
  )

/** ferry run and rollback of the runbook on uml1, with a journal of their own. */
function runner() {
  const address = loadState().uml!.uml1!.address
  const inv = writeInventory(
    [
      'defaults:',
      '  user: root',
      `  identity: ${STATE_DIR}/id_ed25519`,
      `  known_hosts: ${KNOWN_HOSTS}`,
      '  os: linux',
      'hosts:',
      `  uml1: { address: ${address} }`,
      '',
    ].join('\n'),
  )
  const state = tempDir()
  // UML hosts are slow: a run's confirmation gets time.
  const run = async (...flags: string[]) =>
    withReport(
      await ferry(
        ['run', RUNBOOK, '-i', inv, '--format', 'json', '--state-dir', state, '--confirm-timeout', '300', ...flags],
        {
          timeout: 400_000,
        },
      ),
    )
  const rollback = async (runId: string) => {
    const r = await ferry(['rollback', runId, '--state-dir', state], { timeout: 400_000 })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain('uml1: undid ')
  }

  return { run, rollback }
}

const ping = (vrf: string, to: string) => sh('uml1', `ip vrf exec ${vrf} ping -c 3 -i 0.2 -W 2 ${to} 2>&1; true`)
const neighbour = (dev: string) => sh('uml1', `ip neigh show 172.16.6.2 dev ${dev}`)

/** uml2, the other end: its own VRFs, vlans c1 (tag 6) and c2 (tag 7), and 192.168.1.1 in its vrf1. */
const peer = () =>
  sh(
    'uml2',
    [
      'set -e',
      'for n in 1 2; do ip link add vrf$n type vrf table $n; ip link set vrf$n up; done',
      `ip link add link eth0 name c1 address ${PEER_MAC.c1} type vlan id 6`,
      `ip link add link eth0 name c2 address ${PEER_MAC.c2} type vlan id 7`,
      // IPv6 off, so what the vlans receive is IPv4 and ARP only.
      'for l in c1 c2; do sysctl -qw net.ipv6.conf.$l.disable_ipv6=1; done',
      'ip link set c1 master vrf1; ip link set c2 master vrf2',
      'ip addr add 172.16.6.2/30 dev c1; ip addr add 172.16.6.2/30 dev c2',
      'ip link set c1 up; ip link set c2 up',
      'ip link add ferry-lan type dummy; ip link set ferry-lan master vrf1',
      'ip addr add 192.168.1.1/24 dev ferry-lan; ip link set ferry-lan up',
    ].join('\n'),
  )

it('two VRFs with one address in both, over vlans: each reaches only its own peer, the route only in table 1; a no-op, drift found and repaired, rollback leaves nothing', async () => {
  const { run, rollback } = runner()

  try {
    sh('uml1', `printf '[Match]\\nName=eth0\\n' > ${ETH0_NETWORK}`)
    peer()
    expect(snapshot()).toBe(BEFORE)

    const first = await run()
    expect(first.code, first.report.hosts[0]?.error ?? first.stderr).toBe(0)
    expect(steps(first.report)).toEqual(Object.fromEntries(NAMES.map((n) => [n, 'changed'])))

    // Kernel state: the tags, the domains (each vlan's master and its table), one address twice.
    const link = (dev: string) => sh('uml1', `ip -d -o link show dev ${dev}`)
    expect(link('vlan6')).toMatch(
      /^\d+: vlan6@eth0: .* master vrf1 .*vlan protocol 802\.1Q id 6 .*vrf_slave table 1 .*alias C1 uplink/,
    )
    expect(link('vlan7')).toMatch(
      /^\d+: vlan7@eth0: .* master vrf2 .*vlan protocol 802\.1Q id 7 .*vrf_slave table 2 .*alias C2 uplink/,
    )
    expect(link('vrf1')).toMatch(/ vrf table 1 /)
    expect(link('vrf2')).toMatch(/ vrf table 2 /)
    expect(
      sh('uml1', 'ip -o -4 addr show | awk \'$4 == "172.16.6.1/30" || $2 ~ /^vrf/ { print $2, $4 }\' | sort'),
    ).toBe('vlan6 172.16.6.1/30\nvlan7 172.16.6.1/30\nvrf1 127.0.0.1/8\nvrf2 127.0.0.1/8\n')
    const applied = snapshot()
    expect(applied).toBe(
      [
        'vlan6@eth0:',
        'vlan7@eth0:',
        'vrf1:',
        'vrf2:',
        '--- table 1',
        // `show … proto static` leaves the proto out.
        'blackhole default ',
        '192.168.1.0/24 via 172.16.6.2 dev vlan6 ',
        '172.16.6.0/30 dev vlan6 proto kernel scope link src 172.16.6.1 ',
        '192.168.1.0/24 via 172.16.6.2 dev vlan6 proto static ',
        '--- table 2',
        'unreachable default ',
        '172.16.6.0/30 dev vlan7 proto kernel scope link src 172.16.6.1 ',
        '--- table main',
        '--- rules',
        '900:\tfrom all fwmark 0x7 lookup 2',
        '--- files',
        ETH0_NETWORK,
        `${ETH0_NETWORK}.d`,
        `${ETH0_NETWORK}.d/ferry-vlan-vlan6.conf`,
        `${ETH0_NETWORK}.d/ferry-vlan-vlan7.conf`,
        `${N}/50-ferry-vlan6.link`,
        `${N}/50-ferry-vlan6.netdev`,
        `${N}/50-ferry-vlan6.network`,
        `${N}/50-ferry-vlan6.network.d`,
        `${N}/50-ferry-vlan6.network.d/ferry-route-192.168.1.0_24-table1.conf`,
        `${N}/50-ferry-vlan7.link`,
        `${N}/50-ferry-vlan7.netdev`,
        `${N}/50-ferry-vlan7.network`,
        `${N}/50-ferry-vrf1.netdev`,
        `${N}/50-ferry-vrf1.network`,
        `${N}/50-ferry-vrf1.network.d`,
        `${N}/50-ferry-vrf1.network.d/ferry-route-default-table1.conf`,
        `${N}/50-ferry-vrf2.netdev`,
        `${N}/50-ferry-vrf2.network`,
        `${N}/50-ferry-vrf2.network.d`,
        `${N}/50-ferry-vrf2.network.d/ferry-route-default-table2.conf`,
        `${N}/50-ferry-vrf2.network.d/ferry-rule-900-0x7.conf`,
        '',
      ].join('\n'),
    )
    // What networkd would read at boot: the VRF's table, the member's VRF=, the vlan on eth0.
    const files = sh(
      'uml1',
      `cat ${N}/50-ferry-vrf1.netdev ${N}/50-ferry-vlan6.netdev ${N}/50-ferry-vlan6.network ${N}/50-ferry-vlan6.link ${ETH0_NETWORK}.d/ferry-vlan-vlan6.conf`,
    )
    for (const l of [
      'Kind=vrf\n\n[VRF]\nTable=1',
      'Kind=vlan\n\n[VLAN]\nId=6',
      '[Network]\nVRF=vrf1',
      'Alias=C1 uplink',
      'VLAN=vlan6',
    ])
      expect(files).toContain(l)

    // Packets. Each domain reaches 172.16.6.2, and it is its own peer: the neighbour entry holds
    // that peer's MAC, and that peer's vlan counted the echo requests, the other's none. IPv6 off
    // on uml1's vlans, whose router solicitations would otherwise be counted too (seen: one).
    sh('uml1', 'sysctl -qw net.ipv6.conf.vlan6.disable_ipv6=1 net.ipv6.conf.vlan7.disable_ipv6=1')
    let rx = received()
    expect(ping('vrf1', '172.16.6.2')).toContain('3 packets transmitted, 3 received')
    const after1 = received()
    expect(after1.c1! - rx.c1!).toBeGreaterThanOrEqual(3)
    expect(after1.c2! - rx.c2!).toBe(0)
    expect(neighbour('vlan6')).toContain(`lladdr ${PEER_MAC.c1}`)
    rx = received()
    expect(ping('vrf2', '172.16.6.2')).toContain('3 packets transmitted, 3 received')
    const after2 = received()
    expect(after2.c2! - rx.c2!).toBeGreaterThanOrEqual(3)
    expect(after2.c1! - rx.c1!).toBe(0)
    expect(neighbour('vlan7')).toContain(`lladdr ${PEER_MAC.c2}`)
    // The route is table 1's: 192.168.1.1 from domain 1; domain 2's default refuses it; the main
    // table has neither the route nor the vlans' network.
    expect(ping('vrf1', '192.168.1.1')).toContain('3 packets transmitted, 3 received')
    // An `unreachable` route answers EHOSTUNREACH.
    expect(ping('vrf2', '192.168.1.1')).toBe('ping: connect: No route to host\n')
    expect(sh('uml1', 'ip -4 route get 172.16.6.2 2>&1; true')).not.toMatch(/dev vlan[67]/)
    expect(sh('uml1', 'ip -4 route get 172.16.6.2 vrf vrf1')).toMatch(/dev vlan6 .*table 1/)

    const again = await run()
    expect(again.code, again.stderr).toBe(0)
    expect(steps(again.report)).toEqual(Object.fromEntries(NAMES.map((n) => [n, 'ok'])))

    // Drift: vlan7 taken out of its domain by hand. A dry run reports it exactly and changes nothing.
    sh('uml1', 'ip link set vlan7 nomaster')
    const drifted = snapshot()
    expect(drifted).not.toBe(applied)
    const dry = await run('--dry-run')
    expect(dry.code).toBe(2)
    expect(steps(dry.report)).toEqual(Object.fromEntries(NAMES.map((n) => [n, n === 'C2' ? 'changed' : 'ok'])))
    const c2 = dry.report.hosts[0]!.steps.find((s) => s.name === 'C2')!
    expect(c2.diff).toBe(
      ['vlan7: remove 172.16.6.1/30', 'vlan7 routing domain: 0 → 2', 'vlan7: add 172.16.6.1/30'].join('\n'),
    )
    expect(c2.commands).toEqual([
      [
        'set -e',
        'ip addr del 172.16.6.1/30 dev vlan7',
        'ip link set dev vlan7 master vrf2',
        'ip addr add 172.16.6.1/30 dev vlan7',
      ].join('\n'),
    ])
    expect(snapshot()).toBe(drifted)

    const repair = await run()
    expect(repair.code, repair.stderr).toBe(0)
    expect(steps(repair.report)['C2']).toBe('changed')
    expect(snapshot()).toBe(applied)
    expect(ping('vrf2', '172.16.6.2')).toContain('3 packets transmitted, 3 received')

    await rollback(repair.report.runId)
    await rollback(first.report.runId)
    expect(snapshot()).toBe(BEFORE)
  } finally {
    cleanupUml1()
    cleanupUml2()
  }
}, 600_000)

const IFUPDOWN = '/tmp/ferry-ifupdown'
const D = '/etc/network/interfaces.d'

// With ifupdown, `source /etc/network/interfaces.d/*` reads the files in glob order and `ifup -a`
// brings the auto stanzas up in that order: the VRFs' files are 00-vrfN so that they come before
// their members, whose pre-up joins them. Boot is replayed from the files alone: every stanza
// taken down, then `ifup -a`.
it("ifupdown: the VRFs' files sort first (00-vrfN); ifup -a from the files alone gives the same links, routes and packets; rollback leaves nothing", async () => {
  const { run, rollback } = runner()
  expect(sh('uml1', 'ls -d /etc/network/interfaces /etc/network/interfaces.d 2>/dev/null; true')).toBe('')
  const hadEtcNetwork = sh('uml1', '[ -d /etc/network ] && echo yes || echo no') === 'yes\n'
  const ifupdown = (cmd: string, args: string) =>
    sh(
      'uml1',
      `${IFUPDOWN}/sbin/${cmd} -i /etc/network/interfaces --state-dir ${IFUPDOWN}/state --no-scripts ${args} 2>&1`,
    )
  try {
    copyInto('uml1', debFile(debs(['ifupdown']), 'ifupdown'), `${IFUPDOWN}.deb`)
    sh(
      'uml1',
      `mkdir -p ${IFUPDOWN}/state && dpkg-deb -x ${IFUPDOWN}.deb ${IFUPDOWN} && rm ${IFUPDOWN}.deb && mkdir -p ${D} && printf 'source ${D}/*\\n' > /etc/network/interfaces`,
    )
    peer()
    const before = snapshot(D)
    expect(before).toBe('--- table 1\n--- table 2\n--- table main\n--- rules\n--- files\n')

    const first = await run()
    expect(first.code, first.report.hosts[0]?.error ?? first.stderr).toBe(0)
    expect(steps(first.report)).toEqual(Object.fromEntries(NAMES.map((n) => [n, 'changed'])))
    expect(sh('uml1', `ls ${D}`)).toBe('00-vrf1\n00-vrf2\nvlan6\nvlan7\n')
    const vlan6 = sh('uml1', `cat ${D}/vlan6`)
    for (const l of [
      'pre-up ip link add link eth0 name vlan6 type vlan id 6',
      'pre-up ip link set dev vlan6 master vrf1',
      'up ip route replace 192.168.1.0/24 via 172.16.6.2 dev vlan6 table 1 proto static',
    ])
      expect(vlan6).toContain(l)
    expect(sh('uml1', `cat ${D}/00-vrf2`)).toContain(
      '    up ip rule add pref 900 fwmark 0x7 lookup 2\n    down ip rule del pref 900 fwmark 0x7 lookup 2\n',
    )
    const applied = snapshot(D)
    expect(applied).toContain('192.168.1.0/24 via 172.16.6.2 dev vlan6 proto static')

    // Boot: everything down (ferry made it live, so ifupdown's state knows nothing: --force), then up.
    ifupdown('ifdown', '--force vlan7 vlan6 vrf2 vrf1')
    expect(snapshot(D)).toBe(
      `--- table 1\n--- table 2\n--- table main\n--- rules\n--- files\n${['00-vrf1', '00-vrf2', 'vlan6', 'vlan7'].map((f) => `${D}/${f}\n`).join('')}`,
    )
    ifupdown('ifup', '-a')
    expect(snapshot(D)).toBe(applied)
    expect(sh('uml1', 'ip -d -o link show dev vlan6')).toMatch(/ master vrf1 .*vrf_slave table 1 .*alias C1 uplink/)
    expect(ping('vrf1', '192.168.1.1')).toContain('3 packets transmitted, 3 received')
    expect(ping('vrf2', '172.16.6.2')).toContain('3 packets transmitted, 3 received')
    expect(neighbour('vlan7')).toContain(`lladdr ${PEER_MAC.c2}`)

    const again = await run()
    expect(again.code, again.stderr).toBe(0)
    expect(steps(again.report)).toEqual(Object.fromEntries(NAMES.map((n) => [n, 'ok'])))

    await rollback(first.report.runId)
    expect(snapshot(D)).toBe(before)
  } finally {
    cleanupUml1()
    sh('uml1', `rm -rf ${IFUPDOWN} /etc/network/interfaces ${D}${hadEtcNetwork ? '' : '; rmdir /etc/network'}; true`)
    cleanupUml2()
  }
}, 600_000)
