// deploy-mesh's plans for the OSes the lab cannot run: the whole runbook, through the real engine,
// against a simulated bare host (nothing installed, no interfaces, no files), with every command
// and file it sends compared with seed 000 (FreeBSD) and seed 003 (OpenBSD). The final checks are
// answered with a converged mesh's output, so they pass on their first probe.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { runPlan, packagesIn, type Facts } from '../golden/plan.ts'
import { loadSeedInventory, OPENVPN_KEY, ROOT } from '../fixtures/seeds/inventories.ts'
import { inOrder, seedLines as seed, seedText } from '../fixtures/seeds/files.ts'
import { editConf, lsProbe, writeLines } from '../golden/scripts.ts'
import { loadRunbook } from '../../src/engine/load.ts'
import { recordingShell } from '../../src/shell/recording.ts'
import { buildSteps } from '../../src/engine/build.ts'
import { platformFor } from '../../src/platform/platform.ts'
import { linksOf, allocateLinks } from '../../src/mesh/links.ts'
import { loadInventory } from '../../src/inventory/load.ts'
import type { Inventory, Os } from '../../src/inventory/types.ts'

afterEach(() => vi.unstubAllEnvs())

/** A bare host: the facts its probes print before anything is there, and as steps change it. */
function bareHost(os: Os, inv: Inventory, name: string): Facts {
  const platform = platformFor(os)
  const links = linksOf(allocateLinks(inv), name)
  const rid = (h: string) => String(inv.hosts.find((x) => x.name === h)!.vars.router_id)
  const neighbours = {
    freebsd: [
      '',
      '    Neighbor ID Pri State           Dead Time Address         Interface            RXmtL RqstL DBsmL',
      ...links.map(
        (l) =>
          `${rid(l.remote.host).padEnd(15)}   1 Full/DR           38.521s ${l.remote.address.padEnd(15)} ${l.local.ifname}:${l.local.address}     0     0     0`,
      ),
    ],
    openbsd: [
      'ID              Pri State        DeadTime Address         Iface     Uptime',
      ...links.map(
        (l) =>
          `${rid(l.remote.host).padEnd(15)} 1   FULL/P2P     00:00:35 ${l.remote.address.padEnd(15)} ${l.local.ifname.padEnd(9)} 00:05:12`,
      ),
    ],
  } as Record<Os, string[]>
  const routes = [
    'Routing tables',
    '',
    'Internet:',
    'Destination        Gateway            Flags     Netif Expire',
    ...inv.hosts
      .filter((h) => h.name !== name)
      .map(
        (h) =>
          `${String(h.vars.loopback).replace('/32', '').padEnd(18)} ${links[0]!.remote.address.padEnd(18)} UGH1      ${links[0]!.local.ifname}`,
      ),
  ]
  return (step, changed, files) => {
    switch (step.kind) {
      case 'pkg':
        return packagesIn(step.probe(platform))
          .map((p) => `${p}\t-\n`)
          .join('')
      case 'sysctl':
        return 'live=0\n'
      case 'iface':
        return 'exists=0\nup=0\n'
      case 'service': {
        const on = Number(changed.some((s) => s.kind === 'service' && s.reads[0] === step.reads[0])) // started by an earlier step
        // An instance (openvpn_tapN): no link yet, and its base's script once the packages are in.
        if (step.probe(platform).includes('echo instance=')) {
          const installed = Number(changed.some((s) => s.kind === 'pkg'))
          return `exists=0\nbase=${installed}\ndir=/usr/local/etc/rc.d\ninstance=none\n`
        }
        return `exists=1\nenabled=${on}\nrunning=${on}\n`
      }
      case 'verify':
        if (step.name === 'every IPsec link encrypted') return espListing(os, inv, name)
        return `${(step.name === 'every neighbour Full' ? neighbours[os] : routes).join('\n')}\n`
      case 'file':
      case 'line': {
        const path = step.touches[0]!.replace(/^file:/, '')
        return path in files ? lsProbe('-rw-------', 'root', 'wheel', files[path]!) : { stdout: '', code: 1 }
      }
      default:
        return { stdout: '', code: 1 } // the command has not run
    }
  }
}

/**
 * What the IPsec fact of `name`'s OS prints with one ESP SA each way on every gre-ipsec link, each
 * having carried `packets` (the lines each parser reads, in the tools' formats: see
 * test/unit/ipsec-facts.test.ts), leaving out the SAs `missing` names (`branch1 in`).
 */
function espListing(os: Os, inv: Inventory, name: string, packets = 10, missing: string[] = []): string {
  const address = (h: string) => inv.hosts.find((x) => x.name === h)!.address
  const me = address(name)
  const peers = linksOf(allocateLinks(inv), name)
    .filter((l) => l.link.kind === 'gre-ipsec')
    .map((l, k) => ({
      name: l.remote.host,
      address: address(l.remote.host),
      spi: (k + 1).toString(16).padStart(7, '0'),
    }))
  const has = (peer: string, dir: string) => !missing.includes(`${peer} ${dir}`)
  if (os === 'linux')
    return [
      ...peers.flatMap((p) => [
        'list-sa event {',
        `  ${p.name} {`,
        '    state = ESTABLISHED',
        `    local-host = ${me}`,
        `    remote-host = ${p.address}`,
        '    child-sas {',
        `      ${p.name}-1 {`,
        '        state = INSTALLED',
        '        protocol = ESP',
        ...(has(p.name, 'in') ? [`        spi-in = c${p.spi}`, `        packets-in = ${packets}`] : []),
        ...(has(p.name, 'out') ? [`        spi-out = 0${p.spi}`, `        packets-out = ${packets}`] : []),
        '      }',
        '    }',
        '  }',
        '}',
      ]),
      'list-sas reply {',
      '}',
      '',
    ].join('\n')
  const sa = (from: string, to: string, spi: string, counted: string) => [
    `@0 esp tunnel from ${from} to ${to} spi 0x${spi} auth hmac-sha1 enc aes`,
    `\tsa: spi 0x${spi} auth hmac-sha1 enc aes`,
    '\t\tstate mature replay 16 flags 0x404<tunnel,esn>',
    '\tcounter: ',
    `\t\t${counted === 'input' ? packets : 0} input packets`,
    `\t\t${counted === 'output' ? packets : 0} output packets`,
    '',
  ]
  return [
    ...peers.flatMap((p) => [
      ...(has(p.name, 'in') ? sa(p.address, me, `c${p.spi}`, 'input') : []),
      ...(has(p.name, 'out') ? sa(me, p.address, `0${p.spi}`, 'output') : []),
    ]),
    '',
  ].join('\n')
}

describe('seed 000: FreeBSD, Quagga over OpenVPN TAP (inventory/prod.yaml)', () => {
  it('a bare server1 gets pkg install, forwarding, lo1 and lo2, a TAP per link, the two files, the sysrc lines and service quagga start, in order', async () => {
    const inv = await loadSeedInventory('prod')
    const plan = await runPlan('deploy-mesh', inv, 'server1', bareHost('freebsd', inv, 'server1'))
    expect(plan.outcome.status).toBe('changed')
    expect(plan.commands).toEqual([
      'ASSUME_ALWAYS_YES=yes pkg install -y quagga openvpn',
      'sysctl net.inet.ip.forwarding=1',
      editConf('/etc/sysctl.conf', 'net.inet.ip.forwarding', 'net.inet.ip.forwarding=1'),
      // seed 000's suggested task: the router id on lo1, cloned at boot.
      'ifconfig lo1 create',
      'ifconfig lo1 inet 10.0.0.1/32 up',
      'sysrc cloned_interfaces+=lo1',
      "sysrc ifconfig_lo1='inet 10.0.0.1/32'",
      // lo2 holds the jails' /32s.
      'ifconfig lo2 create',
      'ifconfig lo2 up',
      'sysrc cloned_interfaces+=lo2',
      'make directory /usr/local/etc/openvpn/ferry 00700',
      'write /usr/local/etc/openvpn/ferry/mesh.key 0600',
      'write /usr/local/etc/openvpn/ferry/tap2.conf 0600 after openvpn --config %s --version',
      'ln -s openvpn /usr/local/etc/rc.d/openvpn_tap2',
      'sysrc -f /etc/rc.conf.local openvpn_tap2_enable=YES',
      'sysrc -f /etc/rc.conf.local openvpn_tap2_configfile=/usr/local/etc/openvpn/ferry/tap2.conf',
      'sysrc -f /etc/rc.conf.local openvpn_tap2_if=tap',
      'service openvpn_tap2 start',
      'write /usr/local/etc/openvpn/ferry/tap3.conf 0600 after openvpn --config %s --version',
      'ln -s openvpn /usr/local/etc/rc.d/openvpn_tap3',
      'sysrc -f /etc/rc.conf.local openvpn_tap3_enable=YES',
      'sysrc -f /etc/rc.conf.local openvpn_tap3_configfile=/usr/local/etc/openvpn/ferry/tap3.conf',
      'sysrc -f /etc/rc.conf.local openvpn_tap3_if=tap',
      'service openvpn_tap3 start',
      'write /usr/local/etc/quagga/zebra.conf 0600 after zebra -C -f %s',
      'write /usr/local/etc/quagga/ospfd.conf 0600 after ospfd -C -f %s',
      'sysrc -f /etc/rc.conf.local quagga_enable=YES',
      "sysrc -f /etc/rc.conf.local quagga_flags='-A 127.0.0.1'",
      "sysrc -f /etc/rc.conf.local quagga_daemons='zebra ospfd'",
      'service quagga start',
      // The handlers the new files notified: each daemon rereads what it started with.
      'service openvpn_tap2 restart',
      'service openvpn_tap3 restart',
      'service quagga restart',
    ])
  })

  it("zebra.conf is the article's; ospfd.conf is the article's shape with server1's own tunnels, cost and networks", async () => {
    const inv = await loadSeedInventory('prod')
    const { files } = await runPlan('deploy-mesh', inv, 'server1', bareHost('freebsd', inv, 'server1'))
    // Byte for byte (test/unit/templates.test.ts leaves zebra.conf to this test).
    expect(files['/usr/local/etc/quagga/zebra.conf']).toBe(seedText('000-zebra.conf'))
    const ospfd = files['/usr/local/etc/quagga/ospfd.conf']!.trimEnd().split('\n')
    expect(ospfd).toEqual([
      'hostname server1',
      'password CorrectHorseBatteryStaple',
      'service advanced-vty',
      '!',
      'interface tap2',
      ' description TAP to server2',
      ' ip ospf authentication message-digest',
      ' ip ospf message-digest-key 1 md5 CorrectHorseBatteryRoute',
      ' ip ospf cost 11',
      '!',
      'interface tap3',
      ' description TAP to server3',
      ' ip ospf authentication message-digest',
      ' ip ospf message-digest-key 1 md5 CorrectHorseBatteryRoute',
      '!',
      'router ospf',
      ' ospf router-id 10.0.0.1',
      ' passive-interface default',
      ' no passive-interface tap2',
      ' no passive-interface tap3',
      ' network 172.16.2.0/23 area 0.0.0.0',
      ' network 10.0.0.0/24 area 0.0.0.0',
      ' area 0.0.0.0 authentication',
      '!',
      'line vty',
      '!',
    ])
    // Line for line the article's, but for the descriptions' peer names, the cost and lo1's network.
    const ours = ospfd.filter((l) => !/description|cost|10\.0\.0\.0\/24/.test(l))
    expect(inOrder(ours, seed('000-ospfd.conf'))).toBe(true)
    expect(files['/usr/local/etc/openvpn/ferry/tap2.conf']).toContain('dev tap2\ndev-type tap\n')
  })
})

describe('seed 003: OpenBSD, GRE over IPsec (inventory/openbsd-mesh.yaml)', () => {
  it('a bare hq gets the sysctls, hostname.lo1 and hostname.greN, ipsec.conf under ipsecctl -n, isakmpd -K, ospfd.conf under ospfd -n, in order', async () => {
    const inv = await loadSeedInventory('openbsd-mesh')
    const plan = await runPlan('deploy-mesh', inv, 'hq', bareHost('openbsd', inv, 'hq'))
    expect(plan.outcome.status).toBe('changed')
    expect(plan.commands).toEqual([
      'sysctl net.inet.ip.forwarding=1',
      editConf('/etc/sysctl.conf', 'net.inet.ip.forwarding', 'net.inet.ip.forwarding=1'),
      'sysctl net.inet.gre.allow=1',
      editConf('/etc/sysctl.conf', 'net.inet.gre.allow', 'net.inet.gre.allow=1'),
      'ifconfig lo1 create',
      'ifconfig lo1 inet 10.1.0.1/32 up',
      writeLines('/etc/hostname.lo1', '0640', ['inet 10.1.0.1 255.255.255.255 NONE']),
      // The article's one tunnel, gre0 at both ends: create, tunnel (outer), inet (inner) link0 up.
      'ifconfig gre0 create',
      'ifconfig gre0 tunnel 198.51.100.1 203.0.113.2',
      'ifconfig gre0 inet 172.16.2.2 172.16.2.1 netmask 0xffffffff link0 up',
      writeLines('/etc/hostname.gre0', '0640', [
        'tunnel 198.51.100.1 203.0.113.2',
        '172.16.2.2 172.16.2.1 netmask 0xffffffff link0 up',
      ]),
      'ifconfig gre19 create',
      'ifconfig gre19 tunnel 198.51.100.1 203.0.113.3',
      'ifconfig gre19 inet 172.16.2.78 172.16.2.77 netmask 0xffffffff link0 up',
      writeLines('/etc/hostname.gre19', '0640', [
        'tunnel 198.51.100.1 203.0.113.3',
        '172.16.2.78 172.16.2.77 netmask 0xffffffff link0 up',
      ]),
      'write /etc/ipsec.conf 0600 after ipsecctl -n -f %s',
      'rcctl enable isakmpd',
      'rcctl set isakmpd flags -K',
      'rcctl start isakmpd',
      'rcctl enable ipsec',
      'write /etc/ospfd.conf 0600 after ospfd -n -f %s',
      'rcctl enable ospfd',
      'rcctl start ospfd',
      // Handlers: the policy goes to the running isakmpd, ospfd rereads its file.
      'ipsecctl -f /etc/ipsec.conf',
      'rcctl reload ospfd',
    ])
  })

  it("ipsec.conf and ospfd.conf are the article's, with the inventory's addresses and secrets", async () => {
    const inv = await loadSeedInventory('openbsd-mesh')
    const { files } = await runPlan('deploy-mesh', inv, 'branch1', bareHost('openbsd', inv, 'branch1'))
    const ipsec = files['/etc/ipsec.conf']!
    expect(ipsec).toContain('me = "203.0.113.2"\n')
    expect(ipsec).toContain('peer_hq = "198.51.100.1"\npeer_branch2 = "203.0.113.3"\n')
    expect(ipsec).toContain('peer_hq_psk = "password"\n') // FERRY_OPENBSD_IPSEC_PSK, the article's "password"
    expect(ipsec).toContain(
      'ike esp from $me to $peer_hq peer $peer_hq \\\n\tmain auth hmac-sha1 enc 3des group modp1024 \\\n\tsrcid $me/32 dstid $peer_hq/32 \\\n\tpsk $peer_hq_psk\n',
    )
    // The article's file, macro names aside, for each peer.
    const article = seed('003-ipsec.conf').map((l) =>
      l.replaceAll('mypeer', 'peer_hq').replaceAll('mypassword', 'peer_hq_psk'),
    )
    expect(
      inOrder(
        article.filter((l) => !l.includes('=')),
        ipsec.split('\n').map((l) => l.trim()),
      ),
    ).toBe(true)
    const ospfd = files['/etc/ospfd.conf']!.trimEnd()
      .split('\n')
      .map((l) => l.trim())
    expect(ospfd).toEqual([
      'password="mypassword"',
      'router-id 10.1.0.2',
      'auth-md 1 $password',
      'auth-type crypt',
      'auth-md-keyid 1',
      'area 0.0.0.0 {',
      'interface gre0 { }',
      'interface gre6 { }',
      'interface vr1 { passive }',
      'interface lo1 { passive }',
      '}',
    ])
    expect(inOrder(seed('003-ospfd.conf'), ospfd)).toBe(true)
  })

  it('with pf: true, the anchor is validated with pfctl -nf and pf.conf reloaded only after pfctl -nf passes', async () => {
    const inv = await loadSeedInventory('openbsd-mesh')
    inv.hosts.find((h) => h.name === 'hq')!.vars.pf = true
    const plan = await runPlan('deploy-mesh', inv, 'hq', bareHost('openbsd', inv, 'hq'))
    expect(plan.commands).toContain('write /etc/pf.ferry-mesh.conf 0600 after pfctl -nf %s')
    expect(plan.commands.at(-2)).toBe('pfctl -nf /etc/pf.conf && pfctl -f /etc/pf.conf')
    expect(plan.files['/etc/pf.ferry-mesh.conf']).toBe(
      [
        "# ferry deploy-mesh: the mesh's tunnels and OSPF",
        'table <ferry_mesh_peers> const { 203.0.113.2 203.0.113.3 }',
        'pass quick proto { gre esp } from 198.51.100.1 to <ferry_mesh_peers>',
        'pass quick proto { gre esp } from <ferry_mesh_peers> to 198.51.100.1',
        'pass quick proto udp from 198.51.100.1 to <ferry_mesh_peers> port { isakmp ipsec-nat-t }',
        'pass quick proto udp from <ferry_mesh_peers> to 198.51.100.1 port { isakmp ipsec-nat-t }',
        'pass quick on { gre0 gre19 } proto ospf',
        '',
      ].join('\n'),
    )
    expect(plan.files['/etc/pf.conf']).toBe(
      'anchor "ferry-mesh"\nload anchor "ferry-mesh" from "/etc/pf.ferry-mesh.conf"\n',
    )
  })
})

describe('Linux GRE and GRE over strongSwan IPsec (seed 003 with Linux members)', () => {
  it('ip tunnel per link (gre-N), swanctl.conf, strongswan, and FRR', async () => {
    const inv = await loadSeedInventory('openbsd-mesh')
    for (const h of inv.hosts) h.os = 'linux'
    const facts = bareHost('linux', inv, 'hq')
    const plan = await runPlan('deploy-mesh', inv, 'hq', (step, changed, files) =>
      step.name === 'every IPsec link encrypted'
        ? facts(step, changed, files)
        : step.kind === 'verify' && step.name === 'every neighbour Full'
          ? '{"neighbors":{"10.1.0.2":[{"nbrState":"Full/-"}],"10.1.0.3":[{"nbrState":"Full/-"}]}}'
          : step.kind === 'verify'
            ? '10.1.0.2 nhid 30 via 172.16.2.1 dev gre-0 proto ospf metric 20\n10.1.0.3 nhid 31 via 172.16.2.77 dev gre-19 proto ospf metric 20\n'
            : facts(step, changed, files),
    )
    expect(plan.outcome.status).toBe('changed')
    expect(plan.commands.slice(0, 2)).toEqual([
      'DEBIAN_FRONTEND=noninteractive apt-get install -y frr frr-pythontools strongswan-swanctl charon-systemd',
      'sysctl -w net.ipv4.ip_forward=1',
    ])
    expect(plan.commands).toContain('ip tunnel add gre-0 mode gre local 198.51.100.1 remote 203.0.113.2 ttl 255')
    expect(plan.commands).toContain('ip tunnel add gre-19 mode gre local 198.51.100.1 remote 203.0.113.3 ttl 255')
    expect(plan.commands).toContain('write /etc/swanctl/conf.d/ferry-mesh.conf 0600')
    expect(plan.commands).toContain('write /etc/frr/frr.conf 0600 after vtysh -C -f %s')
    expect(plan.commands.slice(-3)).toEqual([
      'swanctl --load-all',
      'service frr restart',
      '/usr/lib/frr/frr-reload.py --reload /etc/frr/frr.conf',
    ])
    expect(plan.files['/etc/swanctl/conf.d/ferry-mesh.conf']).toContain('remote_addrs = 203.0.113.2')
    expect(plan.files['/etc/frr/frr.conf']).toContain('interface gre-0\n')
  })

  it('ospf_point_to_point: false reaches frr.conf (FRR would otherwise default to point-to-point)', async () => {
    const inv = await loadSeedInventory('openbsd-mesh')
    for (const h of inv.hosts)
      Object.assign(h, { os: 'linux', vars: { ...h.vars, ospf_hello: 10, ospf_dead: 40, ospf_point_to_point: false } })
    const facts = bareHost('linux', inv, 'hq')
    const { files } = await runPlan('deploy-mesh', inv, 'hq', (step, changed, written) =>
      step.name === 'every IPsec link encrypted'
        ? facts(step, changed, written)
        : step.name === 'every neighbour Full'
          ? '{"neighbors":{"10.1.0.2":[{"nbrState":"Full/DR"}],"10.1.0.3":[{"nbrState":"Full/DR"}]}}'
          : step.kind === 'verify'
            ? '10.1.0.2 via 172.16.2.1 dev gre-0 proto ospf\n10.1.0.3 via 172.16.2.77 dev gre-19 proto ospf\n'
            : facts(step, changed, written),
    )
    expect(files['/etc/frr/frr.conf']).toContain(
      'interface gre-0\n ip ospf authentication message-digest\n ip ospf message-digest-key 1 md5 mypassword\n ip ospf hello-interval 10\n ip ospf dead-interval 40\n no ip ospf passive\n',
    )
    expect(files['/etc/frr/frr.conf']).not.toContain('point-to-point')
  })

  it('refuses a link whose ends would disagree on OSPF timers (FRR against OpenBSD defaults), before any host is contacted', async () => {
    const inv = await loadSeedInventory('openbsd-mesh')
    inv.hosts.find((h) => h.name === 'hq')!.os = 'linux'
    await expect(build(inv, 'hq')).rejects.toThrow(
      /the link hq–branch1 would not come up: its ends disagree on OSPF timers.*set ospf_hello, ospf_dead and ospf_point_to_point on the mesh group/,
    )
  })
})

describe('every IPsec link encrypted: the ESP SAs of the gre-ipsec links, their counts seen to move', () => {
  const verifies = async (inv: Inventory, host: string) => {
    const [built] = await build(inv, host)
    const platform = platformFor(built!.host.os!)
    return built!.steps.filter((s) => s.kind === 'verify').map((s) => [s.name, s.probe(platform)])
  }
  const linuxMesh = async () => {
    const inv = await loadSeedInventory('openbsd-mesh')
    for (const h of inv.hosts) h.os = 'linux'
    return inv
  }
  const encrypted = async (inv: Inventory, host: string) =>
    (await build(inv, host))[0]!.steps.find((s) => s.name === 'every IPsec link encrypted')!

  it('OpenBSD asks ipsecctl -vv -s sa, Linux swanctl --list-sas --pretty, after the OSPF checks; a mesh without gre-ipsec has no such check', async () => {
    const openbsd = await loadSeedInventory('openbsd-mesh')
    expect(await verifies(openbsd, 'hq')).toEqual([
      ['every neighbour Full', 'ospfctl show neighbor'],
      ['every loopback routed', 'netstat -rn -f inet'],
      ['every IPsec link encrypted', 'ipsecctl -vv -s sa'],
    ])
    const linux = await linuxMesh()
    expect((await verifies(linux, 'hq')).at(-1)).toEqual(['every IPsec link encrypted', 'swanctl --list-sas --pretty'])
    const gre = await linuxMesh()
    for (const h of gre.hosts) h.vars.tunnel = 'gre'
    expect((await verifies(gre, 'hq')).map(([name]) => name)).toEqual(['every neighbour Full', 'every loopback routed'])
    const prod = await loadSeedInventory('prod')
    expect((await verifies(prod, 'server1')).map(([name]) => name)).toEqual([
      'every neighbour Full',
      'every loopback routed',
    ])
  })

  it('the plan names each peer and the direction that has no ESP SA', async () => {
    const inv = await loadSeedInventory('openbsd-mesh')
    const step = await encrypted(inv, 'hq')
    const look = (stdout: string) => step.check({ stdout, code: 0 }, {} as never).map((c) => c.summary)
    expect(look(espListing('openbsd', inv, 'hq'))).toEqual([])
    expect(look(espListing('openbsd', inv, 'hq', 10, ['branch1 in', 'branch2 in', 'branch2 out']))).toEqual([
      'wait until every IPsec link encrypted (now: branch1 (203.0.113.2): no ESP SA in; branch2 (203.0.113.3): no ESP SA in or out)',
    ])
    // One look cannot see counts move: SAs that carried nothing yet are in sync for a plan or drift.
    expect(look(espListing('openbsd', inv, 'hq', 0))).toEqual([])
  })

  /** The step's apply, its polls answered in turn by `outputs` (the last one repeated). */
  const poll = (step: Awaited<ReturnType<typeof encrypted>>, outputs: string[]) => {
    const sent: string[] = []
    const $ = recordingShell(
      () => ({ stdout: outputs[Math.min(sent.length - 1, outputs.length - 1)]!, code: 0 }),
      (cmd) => void sent.push(cmd),
    )
    return { sent, applied: step.apply({ $ } as never, [], {}) }
  }

  it('apply: the first poll records the counts, the same counts are not yet enough, grown ones are', async () => {
    const inv = await linuxMesh()
    const step = await encrypted(inv, 'hq')
    const [first, grown] = [10, 11].map((n) => espListing('linux', inv, 'hq', n))
    const { sent, applied } = poll(step, [first!, first!, grown!])
    await applied
    expect(sent).toEqual(Array(3).fill("sh -c 'swanctl --list-sas --pretty'"))
  })

  it('apply: counts that never move fail, after 2 hello intervals and 5 s, naming each peer', async () => {
    const inv = await linuxMesh() // FRR: hello 1, so 7 s
    const step = await encrypted(inv, 'hq')
    // The clock runs fast, so the deadline comes after a poll or two, not 7 s.
    let now = Date.now()
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => (now += 4000))
    try {
      const { applied } = poll(step, [espListing('linux', inv, 'hq', 10)])
      await expect(applied).rejects.toThrow(
        'not satisfied after 7 s: branch1 (203.0.113.2): ESP packet counts in and out did not move; branch2 (203.0.113.3): ESP packet counts in and out did not move',
      )
    } finally {
      clock.mockRestore()
    }
  })
})

describe('converge_timeout', () => {
  it('is how long the OSPF checks wait: 60 s by default, the var when set', async () => {
    for (const [set, waited] of [
      [undefined, 60],
      [300, 300],
    ] as const) {
      const inv = await loadSeedInventory('openbsd-mesh')
      for (const h of inv.hosts) {
        h.os = 'linux'
        if (set) h.vars.converge_timeout = set
      }
      const step = (await build(inv, 'hq'))[0]!.steps.find((s) => s.name === 'every loopback routed')!
      const $ = recordingShell(
        () => ({ stdout: '', code: 0 }), // no OSPF routes at all
        () => {},
      )
      // The clock runs fast, so the deadline comes after a few polls, not minutes.
      let now = Date.now()
      const clock = vi.spyOn(Date, 'now').mockImplementation(() => (now += 50_000))
      try {
        await expect(step.apply({ $ } as never, [], {})).rejects.toThrow(`not satisfied after ${waited} s: no route to`)
      } finally {
        clock.mockRestore()
      }
    }
  })
})

describe('the routing var', () => {
  it("defaults to the platform's suite; one the OS's plan does not build is refused, before any host is contacted", async () => {
    const inv = await loadSeedInventory('openbsd-mesh')
    inv.hosts.find((h) => h.name === 'hq')!.vars.routing = 'frr'
    expect((await refusal(inv, 'hq')).message).toMatch(
      /routing frr: deploy-mesh builds OpenBSD's ospfd on OpenBSD, as seed 003 runs it$/,
    )
  })

  it("a peer's routing var sets the timers it is expected to agree on", async () => {
    const inv = await loadSeedInventory('openbsd-mesh')
    inv.hosts.find((h) => h.name === 'hq')!.os = 'linux'
    for (const h of inv.hosts) if (h.name !== 'hq') h.vars.routing = 'frr'
    // FRR's timers at both ends: they agree, where the OpenBSD defaults would not (above).
    await expect(build(inv, 'hq')).resolves.toBeDefined()
  })
})

describe('values that would add lines to a config file are refused before any host is contacted', () => {
  /** YAML for a newline and then lines of the writer's choosing: an open vty. */
  const VTY = '\\nline vty\\n no login'
  /** server1's vars in inventory/prod.yaml, with `vars` (YAML source) changed or added. */
  const server1 = (vars: Record<string, string>) =>
    `vars: { ${Object.entries({ router_id: '10.0.0.1', loopback: '10.0.0.1/32', jail_prefix: '172.16.3.0/28', ...vars })
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')} }`

  it.each([
    ['router_id', { router_id: `"10.0.0.1${VTY}"` }],
    ['ospf_area', { ospf_area: `"0.0.0.0${VTY}"` }],
    // A default route for the whole mesh, through server1.
    ['jail_pool', { jail_pool: '"172.16.3.0/24\\n default-information originate always"' }],
    ['jail_prefix', { jail_prefix: `"172.16.3.0/28${VTY}"` }],
    ['link_pool', { link_pool: `"172.16.2.0/24${VTY}"` }],
    ['tunnel', { tunnel: `"openvpn${VTY}"` }],
    ['jail_interface', { jail_interface: `"lo2${VTY}"` }],
    ['loopback', { loopback: `"10.0.0.1/32${VTY}"` }],
  ])('%s: exit 64 at the value itself, which is not echoed', async (name, vars) => {
    const line = server1(vars)
    const { inv, file, text } = await edited('prod', (t) => t.replace(server1({}), line))
    const err = await refusal(inv, 'server1')
    expect(err).toMatchObject({ name: 'InventoryError', exitCode: 64 })
    expect(err.message.split(': must be ')).toEqual([
      `${at(file, text, line, Object.values(vars)[0]!)}: server1: var ${name}`,
      expect.stringMatching(/^[^\n]* \(required by runbook deploy-mesh\)$/),
    ])
    expect(err.message).not.toMatch(/no login|default-information/)
  })

  // A list element at its own position; a group's var where the group sets it.
  it.each([
    ['ospf_networks.1', server1({ ospf_networks: `[172.16.2.0/23, "10.0.0.0/24${VTY}"]` }), `"10.0.0.0/24`],
    ['ospf_passive.0', server1({ ospf_passive: `["vr1${VTY}"]` }), `"vr1`],
    ['ospf_area', `      ospf_area: "0.0.0.0${VTY}"`, '"'], // the mesh group's
  ])('%s, in a list or a group: exit 64 at the value itself', async (name, line, value) => {
    const { inv, file, text } = await edited('prod', (t) =>
      name === 'ospf_area' ? t.replace('      ospf_area: 0.0.0.0', line) : t.replace(server1({}), line),
    )
    const err = await refusal(inv, 'server1')
    expect(err).toMatchObject({ name: 'InventoryError', exitCode: 64 })
    expect(err.message).toMatch(
      new RegExp(
        `^${at(file, text, line, value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: server1: var ${name.replace('.', '\\.')}: must be `,
      ),
    )
    expect(err.message).not.toContain('no login')
  })

  it('ospf_area may be a number (YAML reads `ospf_area: 0` as one) up to 4294967295, or a dotted quad', async () => {
    for (const area of ['0', '4294967295', '0.0.0.1']) {
      const { inv } = await edited('prod', (t) => t.replace(server1({}), server1({ ospf_area: area })))
      const { files } = await runPlan('deploy-mesh', inv, 'server1', bareHost('freebsd', inv, 'server1'))
      expect(files['/usr/local/etc/quagga/ospfd.conf']).toContain(` area ${area} authentication\n`)
    }
    const { inv, file, text } = await edited('prod', (t) =>
      t.replace(server1({}), server1({ ospf_area: '4294967296' })),
    )
    expect((await refusal(inv, 'server1')).message).toContain(
      `${at(file, text, server1({ ospf_area: '4294967296' }), '4294967296')}: server1: var ospf_area: must be an OSPF area`,
    )
  })

  it.each([
    ['cost', '"10\\nline vty"', 'must be an integer from 1 to 65535'],
    ['tunnel', '"gre\\nline vty"', 'must be one of openvpn, gre, gre-ipsec'],
  ])("a link's %s: exit 64 at the value itself", async (key, value, reason) => {
    const link = `- { a: hq, b: branch2, ${key}: ${value} }`
    const { inv, file, text } = await edited('openbsd-mesh', (t) => t.replace('- { a: hq, b: branch2 }', link))
    const err = await refusal(inv, 'hq')
    expect(err).toMatchObject({ name: 'InventoryError', exitCode: 64 })
    expect(err.message).toBe(`${at(file, text, link, value)}: links[1].${key}: ${reason}`)
  })

  it.each([
    [
      'openbsd-mesh',
      'hq',
      'FERRY_OPENBSD_OSPF_MD5_KEY',
      'S3cr3t\nline vty',
      'ospfd-openbsd.conf: md5Key contains a newline (U+000A)',
    ],
    [
      'openbsd-mesh',
      'hq',
      'FERRY_OPENBSD_IPSEC_PSK',
      'S3cr3t\x1b[2J',
      'ipsec.conf: peers[0].psk contains a control character (U+001B)',
    ],
    [
      'prod',
      'server1',
      'FERRY_PROD_ZEBRA_PASSWORD',
      'S3cr3t\nline vty',
      'zebra.conf: password contains a newline (U+000A)',
    ],
    [
      'prod',
      'server1',
      'FERRY_PROD_OSPF_MD5_KEY',
      'S3cr3t\rline vty',
      'ospfd.conf: md5Key contains a carriage return (U+000D)',
    ],
  ] as const)(
    '%s: a secret (%s) with a control character is refused, and the refusal does not print it',
    async (name, host, env, secret, said) => {
      const { inv } = await edited(name, (t) => t)
      vi.stubEnv(env, secret)
      const err = await refusal(inv, host)
      // Nothing was contacted: a bad runbook input, exit 64, one line.
      expect(err.name).toBe('RunbookError')
      expect(err.message).toBe(`runbook deploy-mesh, host ${host}: ${said}, which the file cannot carry`)
    },
  )

  it('the OpenVPN key, lines of a file, refuses a control character in any line', async () => {
    const { inv } = await edited('prod', (t) => t)
    writeFileSync(
      path.join(process.env.HOME!, '.config/ferry/prod/openvpn.key'),
      OPENVPN_KEY.replace('0123', '\x1b]0;S3cr3t\x07'),
    )
    expect((await refusal(inv, 'server1')).message).toBe(
      'runbook deploy-mesh, host server1: openvpn.key: key[1] contains a control character (U+001B), which the file cannot carry',
    )
  })
})

/** inventory/NAME.yaml as edited by `edit`, loaded from a scratch file. */
async function edited(
  name: 'prod' | 'openbsd-mesh',
  edit: (text: string) => string,
): Promise<{ inv: Inventory; file: string; text: string }> {
  await loadSeedInventory(name) // for the secrets it supplies: the env, and the OpenVPN key under HOME
  const text = edit(readFileSync(path.join(ROOT, 'inventory', `${name}.yaml`), 'utf8'))
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ferry-inventory-')), `${name}.yaml`)
  writeFileSync(file, text)
  return { inv: await loadInventory(file), file, text }
}

/** What planning deploy-mesh for `host` is refused with. */
/** deploy-mesh's steps for one host of `inv`, built as a run builds them. */
async function build(inv: Inventory, host: string) {
  const { runbook } = await loadRunbook('deploy-mesh', ROOT)
  return buildSteps(
    runbook,
    inv,
    inv.hosts.filter((h) => h.name === host),
    {},
  )
}

async function refusal(inv: Inventory, host: string): Promise<Error> {
  return build(inv, host).then(
    () => {
      throw new Error(`deploy-mesh planned ${host}`)
    },
    (err: Error) => err,
  )
}

/** `file:line:col` of `value` in `line`, the one line of `text` that holds it. */
function at(file: string, text: string, line: string, value: string): string {
  const start = text.indexOf(line)
  expect(start, line).toBeGreaterThanOrEqual(0)
  const before = text.slice(0, start).split('\n')
  return `${file}:${before.length}:${before.at(-1)!.length + line.indexOf(value) + 1}`
}
