// deploy-tenants (seed 001) on Linux, through the real CLI, on full-kernel lab hosts (VRFs and
// 802.1Q need them: lab/uml.ts). uml1 is the provider edge: eth0 is both its uplink and the trunk
// its tenants' vlans are tagged on. Tenant C1 (vrf1, table 1) has vlan6 and vlan60, with
// 192.168.1.0/24 routed behind vlan6; tenant C2 (vrf2, table 2) has vlan7 and vlan70, and vlan7
// has C1's vlan6's very addresses: 172.16.6.1/30 on uml1, 172.16.6.2 the host behind it. C2's
// 172.16.6.2 may reach the upstream, uml3, through the default domain; nothing else leaves a
// domain.
// uml2 holds the tenants' hosts, each in a network namespace of its own on its vlan: t1 (vlan 6,
// with 192.168.1.1 on a dummy), t2 (vlan 7), t3 (vlan 70), t4 (vlan 60).
//
// Tenant C1 has a BGP instance of its own (FRR's, in vrf1) peering with t1's router, an FRR bgpd
// in t1's namespace that announces 192.168.2.0/24, and an sshd listening in vrf1 (Debian's sshd,
// a daemon apart from the lab's own, which has its own file and pid file).
//
// Proved by packets: both 172.16.6.2s answer at once, each through its own domain (uml1's
// neighbour entry in each is that host's MAC); what must not arrive is counted where it would
// arrive (the receiver's ICMP InEchos); the one path out works; what t1's router announces is in
// table 1 and no other table. Then a no-op second run, drift (a
// route added by hand to table 1, a rule inserted by hand) reported and repaired, and rollback of
// every run leaving no vlan, VRF, route, policy rule, filter rule, FRR daemon or file behind.
import { expect } from 'vitest'
import { KNOWN_HOSTS, STATE_DIR, loadState } from '../../lab/lab.ts'
import * as bgp from '../../src/facts/bgp.ts'
import { ferry, labIt as it, sh, tempDir, withReport, writeInventory, type Report } from './helpers.ts'

const N = '/etc/systemd/network'
// The trunk's .network, which networkd makes the vlans from: eth0 has none on a UML host (its
// init script configures it), so the test brings one; networkd does not run there.
const ETH0_NETWORK = `${N}/10-eth0.network`
const MAC = { t1: '02:fe:00:00:06:02', t2: '02:fe:00:00:07:02', t3: '02:fe:00:00:70:02', t4: '02:fe:00:00:60:02' }
const UPSTREAM = () => loadState().uml!.uml3!.address

const TENANTS = `
      uplink: eth0
      tenants:
        - name: C1
          domain: 1
          interfaces:
            - { name: vlan6, vlan: 6, parent: eth0, description: C1, address: 172.16.6.1/30 }
            - { name: vlan60, vlan: 60, parent: eth0, description: C1-ICONNECT, address: 172.16.60.1/24 }
          routes:
            - { to: 192.168.1.0/24, via: 172.16.6.2 }
          bgp:
            as: 65001
            networks: [172.16.60.0/24]
            neighbors:
              - { address: 172.16.6.2, remote_as: 65010, descr: t1 router }
          sshd: [172.16.60.1]
        - name: C2
          domain: 2
          interfaces:
            - { name: vlan7, vlan: 7, parent: eth0, description: C2, address: 172.16.6.1/30 }
            - { name: vlan70, vlan: 70, parent: eth0, description: C2-ICONNECT, address: 172.16.70.1/24 }
          upstream: [172.16.6.2]
`

const steps = (r: Report) => Object.fromEntries(r.hosts[0]!.steps.map((s) => [s.name, s.status]))
const NAMES = [
  'domain 1 (C1)',
  'C1 vlan6',
  'C1 vlan60',
  'C1: 127/8 refused',
  'C1: default dropped',
  'C1: 192.168.1.0/24',
  'domain 2 (C2)',
  'C2 vlan7',
  'C2 vlan70',
  'C2: 127/8 refused',
  'C2: default dropped',
  'packages',
  'packet filter',
  'rules loaded as written',
  'pf rtable 0: marked 254, the main table',
  "pf rtable 2: marked 2, C2's table",
  'forwarding',
  'bgpd enabled',
  'frr.conf',
  'frr',
  "C1's BGP sessions Established",
  "BGP routes only in their tenants' tables",
  'sshd in the domains',
  'ssh',
  'sshd listening in the domains',
  'packet filter: the kernel holds the rules as written',
  'C1: table 1 holds only its routes',
  'C2: table 2 holds only its routes',
]
const CHECKS = [
  "C1's BGP sessions Established",
  "BGP routes only in their tenants' tables",
  'sshd listening in the domains',
  'packet filter: the kernel holds the rules as written',
  'C1: table 1 holds only its routes',
  'C2: table 2 holds only its routes',
]
/** What the first run's handlers do: reload FRR and sshd, which read their files when started (changing nothing more). */
const HANDLERS = ['reload frr (handler)', 'reload sshd (handler)']
/** Tenant 1's router, an FRR bgpd in t1's namespace on uml2 (no zebra: it installs nothing), and what it announces. */
const T1_BGPD = { conf: '/tmp/t1-bgpd.conf', pid: '/tmp/t1-bgpd.pid', vty: '/tmp/t1-vty', announces: '192.168.2.0/24' }

/** iptables-save's form without its comments and counters (which change with every packet: not state). */
const NORM = "sed -e '/^#/d' -e 's/ \\[[0-9]*:[0-9]*\\]$//'"

/** What the runbook makes on uml1, read from outside ferry: links, policy rules, tables, filter, forwarding, files. */
const snapshot = () =>
  sh(
    'uml1',
    [
      "ip -o link | awk '{ print $2 }' | grep -E '^(vlan[0-9]+|vrf[0-9]+)[@:]' | sort || true",
      // The kernel adds the l3mdev rule with the first VRF, and keeps it after the last: not ferry's.
      'echo "--- rules"; ip rule | grep -v l3mdev-table',
      'for t in 1 2; do echo "--- table $t"; ip -4 route show table $t; done',
      `echo '--- filter'; { iptables-save -t mangle; iptables-save -t filter; } | ${NORM}`,
      'echo "--- forwarding $(sysctl -n net.ipv4.ip_forward)"',
      `echo '--- files'; find ${N} /etc/iptables /etc/sysctl.d -mindepth 1 2>/dev/null | sort`,
      'echo "--- frr"; md5sum /etc/frr/daemons /etc/frr/frr.conf 2>&1; ps -e -o comm= | grep -x -e watchfrr -e zebra -e bgpd | sort || true',
      "echo '--- sshd'; md5sum /etc/ssh/sshd_config; ss -ltnH | awk '{ print $4 }' | sort",
    ].join('\n'),
  )

/** The filter and mangle tables emptied, every policy ACCEPT: the kernel's rules before ferry's (or a boot before any load). */
const EMPTY_TABLES =
  "printf '*mangle\\nCOMMIT\\n*filter\\n:INPUT ACCEPT [0:0]\\n:FORWARD ACCEPT [0:0]\\nCOMMIT\\n' | iptables-restore"

/** uml2's tenant hosts, each in a namespace on its vlan; uml3 routes C2's network back through uml1. */
const peers = () => {
  sh(
    'uml2',
    [
      'set -e',
      ...(
        [
          ['t1', 'c1', 6, '172.16.6.2/30', '172.16.6.1'],
          ['t2', 'c2', 7, '172.16.6.2/30', '172.16.6.1'],
          ['t3', 'c3', 70, '172.16.70.2/24', '172.16.70.1'],
          ['t4', 'c4', 60, '172.16.60.2/24', '172.16.60.1'],
        ] as const
      ).flatMap(([ns, link, id, cidr, gw]) => [
        `ip netns add ${ns}`,
        `ip link add link eth0 name ${link} address ${MAC[ns]} type vlan id ${id}`,
        `ip link set ${link} netns ${ns}`,
        `ip -n ${ns} link set lo up`,
        `ip netns exec ${ns} sysctl -qw net.ipv6.conf.${link}.disable_ipv6=1`,
        `ip -n ${ns} addr add ${cidr} dev ${link}`,
        `ip -n ${ns} link set ${link} up`,
        `ip -n ${ns} route add default via ${gw}`,
      ]),
      'ip -n t1 link add lan type dummy; ip -n t1 addr add 192.168.1.1/24 dev lan; ip -n t1 link set lan up',
      // Tenant 1's router: it peers with the edge's instance in vrf1 and announces a network of its own.
      `cat > ${T1_BGPD.conf} <<'EOF'`,
      'router bgp 65010',
      ' bgp router-id 172.16.6.2',
      ' no bgp ebgp-requires-policy',
      ' no bgp network import-check',
      ' neighbor 172.16.6.1 remote-as 65001',
      ' address-family ipv4 unicast',
      `  network ${T1_BGPD.announces}`,
      ' exit-address-family',
      'EOF',
      `mkdir -p ${T1_BGPD.vty}`,
      `ip netns exec t1 /usr/lib/frr/bgpd -d -Z -n -S -f ${T1_BGPD.conf} -i ${T1_BGPD.pid} --vty_socket ${T1_BGPD.vty}`,
    ].join('\n'),
  )
  sh('uml3', `ip route add 172.16.6.0/30 via ${loadState().uml!.uml1!.address}`)
}

const cleanup = () => {
  sh(
    'uml1',
    [
      'for l in vlan6 vlan60 vlan7 vlan70 vrf1 vrf2; do ip link del $l 2>/dev/null; done',
      'ip route flush table 1 2>/dev/null; ip route flush table 2 2>/dev/null',
      'while ip rule del pref 900 2>/dev/null; do :; done',
      EMPTY_TABLES,
      'sysctl -qw net.ipv4.ip_forward=0',
      // What a failed run may have left running: Debian's sshd (never the lab's: lab/root.sh), FRR.
      "service ssh stop >/dev/null 2>&1; service frr stop >/dev/null 2>&1; sed -i '/^# BEGIN FERRY/,/^# END FERRY/d' /etc/ssh/sshd_config",
      `rm -rf ${N}/50-ferry-* ${N}/*.network.d ${ETH0_NETWORK} /etc/iptables /etc/sysctl.d/60-ferry.conf; true`,
    ].join('\n'),
  )
  sh(
    'uml2',
    `if [ -f ${T1_BGPD.pid} ]; then kill "$(cat ${T1_BGPD.pid})"; rm -rf ${T1_BGPD.pid} ${T1_BGPD.vty}; fi; for n in t1 t2 t3 t4; do ip netns del $n 2>/dev/null; done; true`,
  )
  sh('uml3', 'ip route del 172.16.6.0/30 2>/dev/null; true')
}

/** Echo requests a host (or a namespace of uml2) has received: /proc/net/snmp's Icmp InEchos. */
function echoes(where: 'uml3' | 't1' | 't2' | 't3' | 't4'): number {
  const snmp =
    where === 'uml3' ? sh('uml3', 'cat /proc/net/snmp') : sh('uml2', `ip netns exec ${where} cat /proc/net/snmp`)
  const [names, values] = snmp.split('\n').filter((l) => l.startsWith('Icmp:'))
  const at = names!.split(/\s+/).indexOf('InEchos')
  return Number(values!.split(/\s+/)[at])
}

/** The first 8 bytes a TCP connection from a tenant host to ADDRESS:22 reads (an sshd's `SSH-2.0-`), or nothing. */
const banner = (from: string, to: string) =>
  sh('uml2', `ip netns exec ${from} timeout 5 bash -c 'exec 3<>/dev/tcp/${to}/22 && head -c 8 <&3' 2>/dev/null; true`)

/** How many of 3 pings from a tenant host were answered. */
const ping = (from: string, to: string) =>
  Number(/(\d+) received/.exec(sh('uml2', `ip netns exec ${from} ping -c 3 -i 0.2 -W 2 ${to} 2>&1; true`))?.[1] ?? -1)

it('two tenants with the same addresses in VRFs on one trunk: both answer at once, nothing crosses between them, the one path out works; tenant 1 peers by BGP in its VRF, its routes in table 1 only, its sshd answers in its VRF alone; a no-op, drift found and repaired, rollback leaves nothing', async () => {
  const address = loadState().uml!.uml1!.address
  const inv = writeInventory(
    [
      'defaults:',
      '  user: root',
      `  identity: ${STATE_DIR}/id_ed25519`,
      `  known_hosts: ${KNOWN_HOSTS}`,
      '  os: linux',
      'groups:',
      '  tenants: {}',
      'hosts:',
      '  uml1:',
      `    address: ${address}`,
      '    groups: [tenants]',
      `    vars:${TENANTS}`,
    ].join('\n'),
  )
  const state = tempDir()
  const run = async (...flags: string[]) =>
    withReport(
      await ferry(
        [
          'run',
          'deploy-tenants',
          '-i',
          inv,
          '--format',
          'json',
          '--state-dir',
          state,
          '--confirm-timeout',
          '300',
          ...flags,
        ],
        { timeout: 400_000 },
      ),
    )
  const drift = () => ferry(['drift', 'deploy-tenants', '-i', inv, '--state-dir', state], { timeout: 120_000 })

  try {
    cleanup()
    sh('uml1', `printf '[Match]\\nName=eth0\\n' > ${ETH0_NETWORK}`)
    peers()
    const before = snapshot()
    expect(before).toContain('--- forwarding 0')
    expect(before).not.toMatch(/vrf|vlan|fwmark|ferry-out/)

    // A dry run shows every change and makes none.
    const dry = await run('--dry-run')
    expect(dry.code, dry.stderr).toBe(2)
    expect(snapshot()).toBe(before)

    const first = await run()
    expect(first.code, first.stderr + first.stdout.slice(-3000)).toBe(0)
    // In this order: the domains, then the filter loaded before the policy rules and forwarding.
    expect(first.report.hosts[0]!.steps.map((s) => s.name)).toEqual([...NAMES, ...HANDLERS])
    // iptables and FRR are there already: the lab's hosts share the controller's packages.
    expect(steps(first.report)).toEqual(
      Object.fromEntries(
        [...NAMES, ...HANDLERS].map((n) => [n, CHECKS.includes(n) || n === 'packages' ? 'ok' : 'changed']),
      ),
    )
    const applied = snapshot()
    expect(applied).toContain('--- forwarding 1')
    // Each table holds its own routes: C1's LAN in table 1 only.
    const table = (t: number) => applied.split(`--- table ${t}\n`)[1]!.split('---')[0]!
    expect(table(1)).toMatch(/^192\.168\.1\.0\/24 via 172\.16\.6\.2 dev vlan6/m)
    expect(table(2)).not.toContain('192.168.1.0')
    expect(table(1)).toMatch(/^blackhole default/m)
    expect(table(2)).toMatch(/^unreachable 127\.0\.0\.0\/8/m)
    // pf's rtable moves as policy rules, kept for boot with C2's VRF device.
    expect(applied).toContain('900:\tfrom all fwmark 0xfe lookup main\n900:\tfrom all fwmark 0x2 lookup 2\n')
    expect(applied).toContain(`${N}/50-ferry-vrf2.network.d/ferry-rule-900-0x2.conf\n`)
    expect(sh('uml1', `cat ${N}/50-ferry-vrf2.network.d/ferry-rule-900-0xfe.conf`)).toBe(
      '# pref 900 fwmark 0xfe lookup main, managed by ferry\n[RoutingPolicyRule]\nPriority=900\nFirewallMark=254\nTable=main\n',
    )
    // C1's BGP instance in vrf1: its session with t1's router is up (ferry's check passed; its
    // parser, on FRR's own answer, says so too), and what it learned is in table 1 and in no other
    // table; t1's router has the network the instance announces.
    const c1Peers = bgp.frrPeers('vrf1')
    const learned = sh('uml1', `ip -4 route show table all ${T1_BGPD.announces}`)
    expect(learned).toMatch(/^192\.168\.2\.0\/24 .*via 172\.16\.6\.2 dev vlan6 table 1 proto bgp /)
    expect(learned.trim().split('\n')).toHaveLength(1)
    expect(c1Peers.parse(sh('uml1', c1Peers.command)).get('172.16.6.2')).toBe('Established')
    expect(
      sh(
        'uml2',
        `ip netns exec t1 vtysh --vty_socket ${T1_BGPD.vty} -d bgpd -c 'show bgp ipv4 unicast 172.16.60.0/24'`,
      ),
    ).toMatch(/65001\n.*172\.16\.6\.1 from 172\.16\.6\.1/)
    // C1's sshd listens in vrf1 on 172.16.60.1: from both of C1's networks (t1 by the same address
    // C2's t2 has), and from no host of C2's, whose domain has no such listener or route.
    expect(banner('t4', '172.16.60.1')).toBe('SSH-2.0-')
    expect(banner('t1', '172.16.60.1')).toBe('SSH-2.0-')
    expect(banner('t2', '172.16.60.1')).toBe('')
    expect(banner('t3', '172.16.70.1')).toBe('')
    expect(applied).toContain('172.16.60.1%vrf1:22\n')
    // The filter in the kernel is the file, line for line (rules loaded as written passed too).
    expect(sh('uml1', `${NORM} /etc/iptables/rules.v4`)).toBe(applied.split('--- filter\n')[1]!.split('---')[0])
    // At boot, netfilter-persistent loads that file: with the kernel's tables emptied, its start
    // (what its boot service runs) puts the rules back as written.
    const filter = () => sh('uml1', `{ iptables-save -t mangle; iptables-save -t filter; } | ${NORM}`)
    sh('uml1', EMPTY_TABLES)
    expect(filter()).not.toContain('ferry-out')
    sh('uml1', 'netfilter-persistent start')
    expect(filter()).toBe(applied.split('--- filter\n')[1]!.split('---')[0])

    // Overlapping addresses: both tenants' 172.16.6.2 reach 172.16.6.1 at once, each in its domain.
    const both = sh(
      'uml2',
      'ip netns exec t1 ping -c 5 -i 0.2 -W 2 172.16.6.1 > /tmp/t1.ping & ip netns exec t2 ping -c 5 -i 0.2 -W 2 172.16.6.1 > /tmp/t2.ping & wait; cat /tmp/t1.ping /tmp/t2.ping; rm -f /tmp/t1.ping /tmp/t2.ping',
    )
    expect(both.match(/5 packets transmitted, 5 received/g)).toHaveLength(2)
    expect(sh('uml1', 'ip neigh show 172.16.6.2 dev vlan6')).toContain(MAC.t1)
    expect(sh('uml1', 'ip neigh show 172.16.6.2 dev vlan7')).toContain(MAC.t2)

    // Inside a tenant, its networks reach each other: vlan60 to vlan6, and the LAN routed behind it.
    expect(ping('t4', '172.16.6.2')).toBe(3)
    expect(ping('t4', '192.168.1.1')).toBe(3)
    expect(ping('t3', '172.16.6.2')).toBe(3)

    // Isolation, counted where the packets would arrive: none from C1 at C2's host, none at the upstream.
    const t3 = echoes('t3')
    expect(ping('t1', '172.16.70.2')).toBe(0)
    expect(ping('t4', '172.16.70.2')).toBe(0)
    expect(echoes('t3')).toBe(t3)
    const up = echoes('uml3')
    expect(ping('t1', UPSTREAM())).toBe(0)
    expect(ping('t4', UPSTREAM())).toBe(0)
    // C2's other host leaves its domain too (pf's match), but the filter passes 172.16.6.2 alone.
    expect(ping('t3', UPSTREAM())).toBe(0)
    expect(echoes('uml3')).toBe(up)
    // The one path out: C2's 172.16.6.2 to the upstream, through the default domain, and back.
    expect(ping('t2', UPSTREAM())).toBe(3)
    expect(echoes('uml3')).toBe(up + 3)

    const again = await run()
    expect(again.code, again.stderr).toBe(0)
    expect(steps(again.report)).toEqual(Object.fromEntries(NAMES.map((n) => [n, 'ok'])))
    expect(snapshot()).toBe(applied)

    // Drift: a route added by hand to table 1, and a rule inserted by hand that would let C1 into C2.
    sh('uml1', 'ip route add 10.9.9.0/24 via 172.16.6.2 table 1; iptables -I FORWARD -i vrf1 -o vlan7 -j ACCEPT')
    const drifted = await drift()
    expect(drifted.code, drifted.stdout + drifted.stderr).toBe(2)
    expect(drifted.stdout).toMatch(/^uml1 +drifted +3 /m)
    expect(drifted.stdout).toContain('uml1  deploy-tenants › rules loaded as written')
    expect(drifted.stdout).toContain("(now: not ferry's: -A FORWARD -i vrf1 -o vlan7 -j ACCEPT)")
    expect(drifted.stdout).toContain("C1: table 1 holds only its routes (now: not ferry's: 10.9.9.0/24)")
    // The route is no step's: the operator takes it out. A run puts the rules back, and nothing else.
    sh('uml1', 'ip route del 10.9.9.0/24 table 1')
    const repair = await run()
    expect(repair.code, repair.stderr).toBe(0)
    expect(steps(repair.report)).toEqual(
      Object.fromEntries(NAMES.map((n) => [n, n === 'rules loaded as written' ? 'changed' : 'ok'])),
    )
    expect(snapshot()).toBe(applied)
    expect((await drift()).code).toBe(0)

    for (const r of [repair, first]) {
      const back = await ferry(['rollback', r.report.runId, '--state-dir', state], { timeout: 400_000 })
      expect(back.code, back.stdout + back.stderr).toBe(0)
    }
    expect(snapshot()).toBe(before)
    // With the filter gone and forwarding off, nothing is routed for the tenants any more.
    expect(ping('t2', UPSTREAM())).toBe(0)
  } finally {
    cleanup()
  }
}, 900_000)
