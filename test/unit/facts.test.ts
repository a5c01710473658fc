// The OSPF facts' parsers against output as each daemon prints it (FRR 8 JSON, Quagga 1.2
// `show ip ospf neighbor`, OpenBSD `ospfctl show neighbor`, `netstat -rn` and `ip route`).
import { platformFor } from '../../src/platform/platform.ts'
import { frrPeers, openbgpdSummary } from '../../src/facts/bgp.ts'
import { expect, it } from 'vitest'
import {
  bsdRoutes,
  frrNeighbours,
  isFull,
  linuxOspfRoutes,
  openbsdNeighbours,
  quaggaNeighbours,
  routesHost,
} from '../../src/facts/ospf.ts'

it('Quagga: neighbours by router id, whatever their state', () => {
  const t = quaggaNeighbours.parse(`
    Neighbor ID Pri State           Dead Time Address         Interface            RXmtL RqstL DBsmL
10.0.0.2          1 Full/DR           38.521s 172.16.2.2      tap2:172.16.2.1          0     0     0
10.0.0.3          1 ExStart/DROther   35.002s 172.16.2.6      tap3:172.16.2.5          0     0     0
`)
  expect([...t]).toEqual([
    ['10.0.0.2', 'Full/DR'],
    ['10.0.0.3', 'ExStart/DROther'],
  ])
  expect(isFull(t.get('10.0.0.2'))).toBe(true)
  expect(isFull(t.get('10.0.0.3'))).toBe(false)
})

it('OpenBSD ospfctl: FULL/P2P counts as Full; a neighbour on two links is Full if either is', () => {
  const t = openbsdNeighbours.parse(`ID              Pri State        DeadTime Address         Iface     Uptime
10.1.0.2        1   INIT/P2P     00:00:35 172.16.2.1      gre0      -
10.1.0.2        1   FULL/P2P     00:00:33 172.16.2.9      gre2      00:05:12
10.1.0.3        1   2-WAY/P2P    00:00:31 172.16.2.77     gre19     00:00:02
10.1.0.5        1   FULL/P2P     00:00:33 172.16.2.13     gre3      00:05:12
10.1.0.5        1   INIT/P2P     00:00:35 172.16.2.17     gre4      -
`)
  // Full either first or last: neither "first line wins" nor "last line wins" passes.
  expect(isFull(t.get('10.1.0.2'))).toBe(true)
  expect(isFull(t.get('10.1.0.5'))).toBe(true)
  expect(t.get('10.1.0.3')).toBe('2-WAY/P2P')
  expect(t.get('10.1.0.4')).toBeUndefined()
})

it("FRR's JSON, and a clear error when vtysh answers in prose (ospfd not running)", () => {
  const t = frrNeighbours.parse(
    '{"neighbors":{"10.0.0.2":[{"nbrState":"Init/-"},{"nbrState":"Full/-"}],"10.0.0.3":[{"nbrState":"Init/-"}],"10.0.0.4":[{"nbrState":"Full/-"},{"nbrState":"Init/-"}]}}',
  )
  expect(isFull(t.get('10.0.0.2'))).toBe(true)
  expect(isFull(t.get('10.0.0.4'))).toBe(true)
  expect(t.get('10.0.0.3')).toBe('Init/-')
  expect(() => frrNeighbours.parse('ospfd is not running\n')).toThrow('vtysh answered: ospfd is not running')
})

it('routes: BSD netstat host routes and Linux ip route, /32 or bare', () => {
  const bsd = bsdRoutes.parse(`Routing tables

Internet:
Destination        Gateway            Flags   Refs      Use   Mtu  Prio Iface
default            203.0.113.1        UGS        5    12345     -     8 vr0
10.1.0.2           172.16.2.1         UGH        0        0     -    32 gre0
172.16.2.0/30      172.16.2.2         UC         0        0     -     4 gre0
`)
  expect(routesHost(bsd, '10.1.0.2')).toBe(true)
  expect(routesHost(bsd, '10.1.0.3')).toBe(false)
  expect(routesHost(bsd, '172.16.2.0')).toBe(false) // a network, not the host
  const linux = linuxOspfRoutes.parse(
    '10.0.0.2 nhid 30 via 172.16.2.2 dev tap0 proto ospf metric 20\n10.0.0.3/32 via 172.16.2.6 dev tap1 proto ospf metric 20\n',
  )
  expect(routesHost(linux, '10.0.0.2') && routesHost(linux, '10.0.0.3')).toBe(true)
  expect(routesHost(linux, '10.0.0.20')).toBe(false)
})

it("OpenBGPD's summary through a domain's socket, as seed 001 prints it: a count is Established, a state name is not; a descr may have spaces", () => {
  const summary = openbgpdSummary('/var/run/bgpd.sock.1')
  expect(summary.command).toBe('bgpctl -s /var/run/bgpd.sock.1 show summary')
  const out = [
    'Neighbor                   AS    MsgRcvd    MsgSent  OutQ Up/Down  State/PrfRcvd',
    'TEST1-IPv4              65001          4          4     0 00:00:09      1',
    'tenant 1 edge           65002          0          0     0 Never    Active',
    '172.16.60.9             65003         12         11     0 00:01:02      0',
    '',
  ].join('\n')
  expect([...summary.parse(out)]).toEqual([
    ['TEST1-IPv4', true],
    ['tenant 1 edge', false],
    ['172.16.60.9', true],
  ])
  expect(() => summary.parse('bgpctl: connect: /var/run/bgpd.sock.1: No such file or directory\n')).toThrow(
    /bgpctl does not answer/,
  )
})

it("FRR's neighbours of the default VRF or of a tenant's, by address, from vtysh's JSON; anything else is bgpd not answering", () => {
  expect(frrPeers().command).toBe("vtysh -c 'show bgp summary json'")
  const vrf1 = frrPeers('vrf1')
  expect(vrf1.command).toBe("vtysh -c 'show bgp vrf vrf1 summary json'")
  const json = JSON.stringify({
    ipv4Unicast: {
      routerId: '172.16.6.1',
      as: 65001,
      vrfName: 'vrf1',
      peers: {
        '172.16.6.2': { remoteAs: 65010, state: 'Established', pfxRcd: 1, desc: 't1 router' },
        '172.16.60.9': { remoteAs: 65003, state: 'Active' },
      },
    },
  })
  expect([...vrf1.parse(json)]).toEqual([
    ['172.16.6.2', 'Established'],
    ['172.16.60.9', 'Active'],
  ])
  // No instance in that VRF (yet): no neighbours, so each is named as having no session.
  expect([...vrf1.parse('{}\n')]).toEqual([])
  expect(() => vrf1.parse('Exiting: failed to connect to any daemons.\n')).toThrow(
    'bgpd does not answer ("Exiting: failed to connect to any daemons.")',
  )
})

it("a routing table's static routes: Linux's ip route show less the kernel's own and a routing daemon's, OpenBSD's route show with flag S, FreeBSD's netstat -rn -F", () => {
  const linuxTable = [
    'blackhole default proto static',
    'unreachable 127.0.0.0/8 proto static',
    '10.9.9.0/24 via 172.16.6.2 dev vlan6 proto boot',
    '172.16.6.0/30 dev vlan6 proto kernel scope link src 172.16.6.1',
    '192.168.1.0/24 via 172.16.6.2 dev vlan6 proto static',
    '192.168.2.0/24 nhid 12 via 172.16.6.2 dev vlan6 proto bgp metric 20',
    '192.168.7.7 via 172.16.6.2 dev vlan6',
    'local 127.0.0.1 dev vrf1 proto kernel scope host src 127.0.0.1',
    'broadcast 172.16.6.3 dev vlan6 proto kernel scope link src 172.16.6.1',
    '',
  ].join('\n')
  const l = platformFor('linux').net.staticRoutes(1)
  expect(l.command).toBe('ip -4 route show table 1')
  expect(l.parse(linuxTable)).toEqual(['default', '127.0.0.0/8', '10.9.9.0/24', '192.168.1.0/24', '192.168.7.7/32'])
  const o = platformFor('openbsd').net.staticRoutes(2)
  expect(o.command).toBe('route -T2 -n show -inet')
  const bsdTable = [
    'Routing tables',
    '',
    'Internet:',
    'Destination        Gateway            Flags   Refs      Use   Mtu  Prio Iface',
    '127/8              127.0.0.1          URS        0        0 32768     8 lo2',
    'default            127.0.0.1          UGBS       0        0 32768     8 lo2',
    '127.0.0.1          127.0.0.1          UHl        0        0 32768     1 lo2',
    '172.16.7/30        172.16.7.1         UCn        1        0     -     4 vlan7',
    '10.1.2.3           172.16.7.2         UGHS       0        0     -     8 vlan7',
  ].join('\n')
  expect(o.parse(bsdTable)).toEqual(['127.0.0.0/8', 'default', '10.1.2.3/32'])
  expect(platformFor('freebsd').net.staticRoutes(1).command).toBe('netstat -rn -4 -F 1')
})
