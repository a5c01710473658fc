// deploy-tenants (seed 001) without a lab: the whole runbook through the real engine against a
// simulated bare OpenBSD provider edge, with the article's values (inventory/article-tenants.yaml),
// every file it ends up with compared with the article's text (test/fixtures/seeds/001-*, cut
// verbatim from it); the article's pf policy as the iptables rules a Linux provider edge gets; and
// the inventories it refuses, before any host is contacted.
//
// What the article gets wrong, and what ferry writes instead (SLIPS): hostname.vlan7's routes say
// -T1, Customer 1's table, for Customer 2's rtable 2; pf.conf's table has 172.18.7.0/30 for
// 172.16.7.0/30, and its comment on Customer 2's rules names em2, the far host's interface, for
// vlan7; its live commands give lo2's domain to lo1 (`ifconfig lo1 rdomain 2`) and vlan60 a /30
// where its file and ifconfig output have a /24 (ferry takes the /24). What ferry adds: the
// `vnetid N parent IF` and `description` lines (the article's ifconfig output shows them, its files
// leave them out, and without them netstart makes a vlan with no tag or parent), hostname.lo1 and
// hostname.lo2 (its live commands give them 127.0.0.1/8, its files nothing, so after a reboot they
// would have none), and pf.conf's first line, which is the stock file's RCS id in the article.
import { beforeAll, describe, expect, it } from 'vitest'
import { filesAfter } from '../golden/harness.ts'
import { runPlan, type Facts } from '../golden/plan.ts'
import { lsProbe } from '../golden/scripts.ts'
import { seedLines } from '../fixtures/seeds/files.ts'
import { loadSeedInventory, ROOT } from '../fixtures/seeds/inventories.ts'
import { loadInventory } from '../../src/inventory/load.ts'
import { linux } from '../../src/platform/linux.ts'
import { openbsd } from '../../src/platform/openbsd.ts'
import { loadRunbook } from '../../src/engine/load.ts'
import { buildSteps } from '../../src/engine/build.ts'
import { bgpdVars, iptablesVars, vars } from '../../runbooks/tenants/model.ts'
import frrTenants from '../../templates/frr-tenants.conf.ts'
import iptablesTenants from '../../templates/iptables-tenants.rules.ts'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/** OpenBSD's stock sshd_config and ntpd.conf, in part: what ferry's lines go into. */
const STOCK: Record<string, string> = {
  '/etc/ssh/sshd_config':
    '#ListenAddress 0.0.0.0\nPermitRootLogin no\nSubsystem\tsftp\t/usr/libexec/sftp-server\nMatch User anoncvs\n\tX11Forwarding no\n',
  '/etc/ntpd.conf': '#listen on *\nservers pool.ntp.org\n',
}

/**
 * `route -T N -n show -inet` once the routes are in, as the article prints table 1 (its reject and
 * blackhole routes added), and `extra` rows of routes added by hand.
 */
function routeShow(table: number, extra: string[] = []): string {
  const vlan = table === 1 ? 'vlan6' : 'vlan7'
  return [
    'Routing tables',
    '',
    'Internet:',
    'Destination        Gateway            Flags   Refs      Use   Mtu  Prio Iface',
    `127/8              127.0.0.1          URS        0        0 32768     8 lo${table}`,
    `default            127.0.0.1          UGBS       0        0 32768     8 lo${table}`,
    `127.0.0.1          127.0.0.1          UHl        0        0 32768     1 lo${table}`,
    `172.16.${table === 1 ? 6 : 7}/30        172.16.6.1         UCn        1        0     -     4 ${vlan}`,
    ...(table === 1 ? ['192.168.1/24       172.16.6.2         UGS        0        0     -     8 vlan6'] : []),
    ...extra,
    '',
  ].join('\n')
}

/** A bare OpenBSD box: none of the tenants' interfaces, routes, daemons or files yet. */
const bare: Facts = (step, changed, files) => {
  switch (step.kind) {
    case 'sysctl':
      return 'live=0\n'
    case 'iface':
      return 'exists=0\nup=0\n'
    case 'route':
      return ''
    case 'service': {
      // bgpd_rd1: no link yet, bgpd's script there; started by its own step. sshd and ntpd run.
      if (step.probe(openbsd).includes('echo instance=')) {
        const on = Number(changed.includes(step))
        return `exists=${on}\nenabled=${on}\nrunning=${on}\nvar rtable\nvar flags\nbase=1\ndir=/etc/rc.d\ninstance=none\n`
      }
      return 'exists=1\nenabled=1\nrunning=1\n'
    }
    case 'verify': {
      const table = /table (\d+) holds only/.exec(step.name)?.[1]
      if (table) return routeShow(Number(table))
      return 'Neighbor                   AS    MsgRcvd    MsgSent  OutQ Up/Down  State/PrfRcvd\nTEST1-IPv4              65001          4          4     0 00:00:09      1\n'
    }
    case 'file':
    case 'line':
    case 'block': {
      const p = step.touches[0]!.replace(/^file:/, '')
      const text = files[p] ?? STOCK[p]
      return text !== undefined ? lsProbe('-rw-------', 'root', 'wheel', text) : { stdout: '', code: 1 }
    }
    default:
      return { stdout: '', code: 1 } // a command's `unless` has not held: pf is enabled
  }
}

// One plan of the article's router, and the hostname.if files its commands leave, for every test here.
let planned: ReturnType<typeof runPlan> | undefined
const plan = () =>
  (planned ??= loadSeedInventory('article-tenants').then((inv) => runPlan('deploy-tenants', inv, 'pe1', bare)))
const HOSTNAME_IFS = ['vlan6', 'vlan60', 'vlan7', 'vlan70', 'lo1', 'lo2'].map((i) => `/etc/hostname.${i}`)
let written: Promise<Record<string, string | null>> | undefined
const hostnameIfs = () => (written ??= plan().then((p) => filesAfter(p.commands, {}, HOSTNAME_IFS)))
const linesOf = (text: string | null | undefined) => text!.trimEnd().split('\n')

/** Each slip: the article's line, and the line ferry writes in its place. */
const SLIPS: Record<string, [string, string][]> = {
  'hostname.vlan7': [
    ['!route -T1 -qn add -inet 127 127.0.0.1 -reject', '!route -T2 -qn add -inet 127 127.0.0.1 -reject'],
    ['!route -T1 -qn add default 127.0.0.1 -blackhole', '!route -T2 -qn add default 127.0.0.1 -blackhole'],
  ],
  'pf.conf': [
    [
      'table <rdomains> const { 172.16.6.0/30, 192.168.1.0/24, 172.16.60.0/24, 172.18.7.0/30, 172.16.70.0/24 }',
      'table <rdomains> const { 172.16.6.0/30, 192.168.1.0/24, 172.16.60.0/24, 172.16.7.0/30, 172.16.70.0/24 }',
    ],
    ['# allow traffic out from em2 (rdomain 2)', '# allow traffic out from vlan7 (rdomain 2)'],
    [
      '# $OpenBSD: pf.conf,v 1.55 2017/12/03 20:40:04 sthen Exp $',
      '# /etc/pf.conf: written by ferry (deploy-tenants) from the inventory',
    ],
  ],
}

/** The article's file with its slips corrected: each slip's line must be there, once. */
function corrected(name: string): string[] {
  const article = seedLines(`001-${name}`)
  for (const [wrong, right] of SLIPS[name] ?? []) {
    expect(
      article.filter((l) => l === wrong),
      `${name}: the slip ${wrong}`,
    ).toHaveLength(1)
    article[article.indexOf(wrong)] = right
  }
  return article
}

describe("seed 001: every file the provider edge gets, against the article's (inventory/article-tenants.yaml)", () => {
  // The plan and the scratch run of its hostname.if edits take a few seconds; once for every test.
  beforeAll(() => hostnameIfs(), 60_000)

  it.each([
    ['vlan6', 'vnetid 6 parent ix0', 'description C1'],
    ['vlan60', 'vnetid 60 parent ix0', 'description C1-ICONNECT'],
    ['vlan7', 'vnetid 7 parent ix1', 'description C2'],
    ['vlan70', 'vnetid 70 parent ix1', 'description C2-ICONNECT'],
  ])(
    "/etc/hostname.%s: the article's lines, slips corrected, after the tag and the description it leaves out",
    async (vlan, tag, description) => {
      const file = linesOf((await hostnameIfs())[`/etc/hostname.${vlan}`])
      expect(file).toEqual([tag, description, ...corrected(`hostname.${vlan}`)])
    },
  )

  it("/etc/hostname.lo1 and lo2: each domain's loopback, as the article's live commands make it (lo2's, not its `ifconfig lo1 rdomain 2`)", async () => {
    const files = await hostnameIfs()
    expect(linesOf(files['/etc/hostname.lo1'])).toEqual(['rdomain 1', 'inet 127.0.0.1 255.0.0.0 NONE'])
    expect(linesOf(files['/etc/hostname.lo2'])).toEqual(['rdomain 2', 'inet 127.0.0.1 255.0.0.0 NONE'])
  })

  it("/etc/pf.conf: the article's whole file rendered from the tenants, slips corrected, checked by pfctl -nf before it is installed", async () => {
    const { files, commands } = await plan()
    expect(linesOf(files['/etc/pf.conf'])).toEqual(corrected('pf.conf'))
    expect(commands).toContain('write /etc/pf.conf 0600 after pfctl -nf %s')
  })

  it("the live commands, in the article's order per tenant: the domain's loopback, the vlans into it before their addresses, the table's routes, forwarding, then pf loaded", async () => {
    const { commands, outcome } = await plan()
    expect(outcome.status, JSON.stringify(outcome)).toBe('changed')
    const live = commands.filter((c) => /^(ifconfig|route|sysctl|pfctl|write)\b/.test(c))
    expect(live).toEqual([
      'ifconfig lo1 create',
      'ifconfig lo1 rdomain 1',
      'ifconfig lo1 inet 127.0.0.1/8 up',
      'ifconfig vlan6 create',
      'ifconfig vlan6 vnetid 6 parent ix0',
      'ifconfig vlan6 description C1',
      'ifconfig vlan6 rdomain 1',
      'ifconfig vlan6 inet 172.16.6.1/30 up',
      'ifconfig vlan60 create',
      'ifconfig vlan60 vnetid 60 parent ix0',
      'ifconfig vlan60 description C1-ICONNECT',
      'ifconfig vlan60 rdomain 1',
      'ifconfig vlan60 inet 172.16.60.1/24 up',
      'route -T1 -qn add -inet 127 127.0.0.1 -reject',
      'route -T1 -qn add default 127.0.0.1 -blackhole',
      'route -T1 -qn add -inet 192.168.1.0/24 172.16.6.2',
      'ifconfig lo2 create',
      'ifconfig lo2 rdomain 2',
      'ifconfig lo2 inet 127.0.0.1/8 up',
      'ifconfig vlan7 create',
      'ifconfig vlan7 vnetid 7 parent ix1',
      'ifconfig vlan7 description C2',
      'ifconfig vlan7 rdomain 2',
      'ifconfig vlan7 inet 172.16.7.1/30 up',
      'ifconfig vlan70 create',
      'ifconfig vlan70 vnetid 70 parent ix1',
      'ifconfig vlan70 description C2-ICONNECT',
      'ifconfig vlan70 rdomain 2',
      'ifconfig vlan70 inet 172.16.70.1/24 up',
      'route -T2 -qn add -inet 127 127.0.0.1 -reject',
      'route -T2 -qn add default 127.0.0.1 -blackhole',
      'sysctl net.inet.ip.forwarding=1',
      'write /etc/pf.conf 0600 after pfctl -nf %s',
      'write /etc/bgpd_rd1.conf 0600 after bgpd -n -f %s',
      'write /etc/ssh/sshd_config 0600 after sshd -t -f %s',
      'write /etc/ntpd.conf 0600 after ntpd -n -f %s',
      'pfctl -f /etc/pf.conf',
    ])
  })

  it("the second bgpd as the article starts it: a link to bgpd's rc.d script, enabled, rtable 1, flags -f /etc/bgpd_rd1.conf, started; its file checked by bgpd -n", async () => {
    const { commands, files } = await plan()
    const rc = commands.filter((c) => /^(ln|rcctl)\b/.test(c))
    expect(rc).toEqual([
      'ln -s /etc/rc.d/bgpd /etc/rc.d/bgpd_rd1',
      'rcctl enable bgpd_rd1',
      "rcctl set bgpd_rd1 flags '-f /etc/bgpd_rd1.conf'",
      'rcctl set bgpd_rd1 rtable 1',
      'rcctl start bgpd_rd1',
      'rcctl reload sshd',
      'rcctl restart ntpd',
    ])
    expect(files['/etc/bgpd_rd1.conf']).toBe(
      [
        '# bgpd for tenant C1, in routing domain 1: written by ferry (deploy-tenants)',
        'AS 64512',
        'router-id 172.16.6.1',
        'network 192.168.1.0/24',
        'neighbor 172.16.60.2 {',
        '\tremote-as 65001',
        '\tdescr "TEST1-IPv4"',
        '}',
        'allow from any',
        'allow to any',
        '',
      ].join('\n'),
    )
  })

  it('sshd listens in rdomain 1 as well as the default domain, before any Match; ntpd answers in rtable 1', async () => {
    const { files } = await plan()
    expect(files['/etc/ssh/sshd_config']).toBe(
      [
        '#ListenAddress 0.0.0.0',
        'PermitRootLogin no',
        'Subsystem\tsftp\t/usr/libexec/sftp-server',
        '# BEGIN FERRY sshd in the domains',
        'ListenAddress 0.0.0.0',
        'ListenAddress ::',
        'ListenAddress 172.16.60.1 rdomain 1',
        '# END FERRY sshd in the domains',
        'Match User anoncvs',
        '\tX11Forwarding no',
        '',
      ].join('\n'),
    )
    expect(files['/etc/ntpd.conf']).toBe('#listen on *\nservers pool.ntp.org\nlisten on 127.0.0.1 rtable 1\n')
  })
})

describe("seed 001: each domain's table holds ferry's routes and the kernel's, nothing else", () => {
  const check = async (table: number) => {
    const { runbook } = await loadRunbook('deploy-tenants', ROOT)
    const inv = await loadSeedInventory('article-tenants')
    const [host] = await buildSteps(runbook, inv, inv.hosts, {})
    return host!.steps.find((s) => s.name === `C${table}: table ${table} holds only its routes`)!
  }

  it('in sync as the article prints table 1 with its routes; a route added by hand, or one missing, is named', async () => {
    const t1 = await check(1)
    expect(t1.probe(openbsd)).toBe('route -T1 -n show -inet')
    expect(t1.check({ stdout: routeShow(1), code: 0 }, {} as never)).toEqual([])
    const hand = routeShow(1, ['10.9/16            172.16.6.2         UGS        0        0     -     8 vlan6'])
    expect(t1.check({ stdout: hand, code: 0 }, {} as never)).toEqual([
      { summary: "wait until C1: table 1 holds only its routes (now: not ferry's: 10.9.0.0/16)" },
    ])
    expect(t1.check({ stdout: routeShow(2), code: 0 }, {} as never)).toEqual([
      { summary: 'wait until C1: table 1 holds only its routes (now: missing: 192.168.1.0/24)' },
    ])
  })
})

describe('seed 001: inventories refused before any host is contacted', () => {
  const withTenants = (tenants: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-tenants-'))
    const file = path.join(dir, 'inventory.yaml')
    const article = readFileSync(path.join(import.meta.dirname, '../../inventory/article-tenants.yaml'), 'utf8')
    writeFileSync(file, article.replace(/      tenants:\n[\s\S]*$/, `      tenants:\n${tenants}`))
    return file
  }
  const refusal = async (tenants: string) => {
    const inv = await loadInventory(withTenants(tenants))
    return runPlan('deploy-tenants', inv, 'pe1', bare).then(
      () => 'planned',
      (err: Error) => err.message,
    )
  }
  const t = (name: string, domain: number, iface: string, vlan: number, extra = '') =>
    `        - name: ${name}\n          domain: ${domain}\n          interfaces:\n            - { name: ${iface}, vlan: ${vlan}, parent: ix0, address: 172.16.6.1/30 }\n${extra}`

  it('two tenants in one domain, one vlan tag twice on a trunk, a route through no interface of its tenant, an upstream host elsewhere', async () => {
    expect(await refusal(t('C1', 1, 'vlan6', 6) + t('C2', 1, 'vlan7', 7))).toMatch(
      /pe1: tenant C2's domain 1 is also tenant C1's domain 1/,
    )
    expect(await refusal(t('C1', 1, 'vlan6', 6) + t('C2', 2, 'vlan7', 6))).toMatch(
      /tenant C2's vlan 6 on ix0 is also tenant C1's vlan 6 on ix0/,
    )
    expect(await refusal(t('C1', 1, 'vlan6', 6, '          routes: [{ to: 10.0.0.0/8, via: 192.0.2.1 }]\n'))).toMatch(
      /tenant C1's route to 10\.0\.0\.0\/8: 192\.0\.2\.1 is on none of its interfaces/,
    )
    expect(await refusal(t('C1', 1, 'vlan6', 6, '          upstream: [172.16.7.2]\n'))).toMatch(
      /tenant C1's upstream host 172\.16\.7\.2 is on none of its interfaces/,
    )
  })

  it("a Linux host: a tenant's ntpd is refused, named (Debian's ntpd has no rtable); a FreeBSD host, which has no routing domains, too", async () => {
    const plan = async (os: string, extra = '') => {
      const file = withTenants(t('C1', 1, 'vlan6', 6, extra))
      writeFileSync(file, readFileSync(file, 'utf8').replace('os: openbsd', `os: ${os}`))
      return runPlan('deploy-tenants', await loadInventory(file), 'pe1', bare).then(
        () => 'planned',
        (e: Error) => e.message,
      )
    }
    expect(await plan('linux', '          sshd: [172.16.6.1]\n          ntpd: [127.0.0.1]\n')).toMatch(
      /on Linux, deploy-tenants does not build tenant C1's ntpd: Debian's ntpd has no `listen on … rtable`/,
    )
    expect(await plan('freebsd')).toMatch(
      /pe1: deploy-tenants builds OpenBSD and Linux provider edges \(os: openbsd or linux\), not freebsd/,
    )
  })

  it('two tenants may use the same addresses: that is what domains are for', async () => {
    expect(await refusal(t('C1', 1, 'vlan6', 6) + t('C2', 2, 'vlan7', 7))).toBe('planned')
  })
})

// The article's pf.conf, on a Linux provider edge with the same tenants, as iptables rules
// (templates/iptables-tenants.rules.ts says which pf rule becomes which). What they do is proved in
// the lab (test/lab/tenants.test.ts); this is what they are, for the article's values.
describe("seed 001 on Linux: the article's pf policy as /etc/iptables/rules.v4", () => {
  it('marks for the lookups pf moves (rtable 2 in from the uplink, rtable 0 out of domain 2 but to a tenant), default deny, each pass in going on to the passes out', async () => {
    const inv = await loadInventory(path.join(ROOT, 'inventory/article-tenants.yaml'))
    const pe1 = inv.hosts.find((h) => h.name === 'pe1')!
    expect(iptablesTenants(iptablesVars(vars.parse(pe1.vars)))).toBe(
      [
        '# /etc/iptables/rules.v4: written by ferry (deploy-tenants) from the inventory',
        '*mangle',
        ':PREROUTING ACCEPT [0:0]',
        ':INPUT ACCEPT [0:0]',
        ':FORWARD ACCEPT [0:0]',
        ':OUTPUT ACCEPT [0:0]',
        ':POSTROUTING ACCEPT [0:0]',
        ':ferry-rtable0 - [0:0]',
        '-A PREROUTING -d 172.16.7.0/30 -i em0 -j MARK --set-xmark 0x2/0xffffffff',
        '-A PREROUTING -d 172.16.70.0/24 -i em0 -j MARK --set-xmark 0x2/0xffffffff',
        '-A PREROUTING -s 172.16.7.0/30 -i vrf2 -j ferry-rtable0',
        '-A PREROUTING -s 172.16.70.0/24 -i vrf2 -j ferry-rtable0',
        '-A ferry-rtable0 -d 172.16.6.0/30 -j RETURN',
        '-A ferry-rtable0 -d 192.168.1.0/24 -j RETURN',
        '-A ferry-rtable0 -d 172.16.60.0/24 -j RETURN',
        '-A ferry-rtable0 -d 172.16.7.0/30 -j RETURN',
        '-A ferry-rtable0 -d 172.16.70.0/24 -j RETURN',
        '-A ferry-rtable0 -j MARK --set-xmark 0xfe/0xffffffff',
        'COMMIT',
        '*filter',
        ':INPUT DROP [0:0]',
        ':FORWARD DROP [0:0]',
        ':OUTPUT ACCEPT [0:0]',
        ':ferry-out - [0:0]',
        '-A INPUT -i lo -j ACCEPT',
        '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A INPUT -i em0 -p tcp -m tcp --dport 22 -j ACCEPT',
        '-A INPUT -d 172.16.6.0/30 -i em0 -j ACCEPT',
        '-A INPUT -d 192.168.1.0/24 -i em0 -j ACCEPT',
        '-A INPUT -d 172.16.60.0/24 -i em0 -j ACCEPT',
        '-A INPUT -d 172.16.7.0/30 -i em0 -j ACCEPT',
        '-A INPUT -d 172.16.70.0/24 -i em0 -j ACCEPT',
        '-A INPUT -s 172.16.6.0/30 -i vrf1 -j ACCEPT',
        '-A INPUT -s 192.168.1.0/24 -i vrf1 -j ACCEPT',
        '-A INPUT -s 172.16.60.0/24 -i vrf1 -j ACCEPT',
        '-A INPUT -s 172.16.7.0/30 -i vrf2 -j ACCEPT',
        '-A INPUT -s 172.16.70.0/24 -i vrf2 -j ACCEPT',
        '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A FORWARD -d 172.16.6.0/30 -i em0 -g ferry-out',
        '-A FORWARD -d 192.168.1.0/24 -i em0 -g ferry-out',
        '-A FORWARD -d 172.16.60.0/24 -i em0 -g ferry-out',
        '-A FORWARD -d 172.16.7.0/30 -i em0 -g ferry-out',
        '-A FORWARD -d 172.16.70.0/24 -i em0 -g ferry-out',
        '-A FORWARD -s 172.16.6.0/30 -i vrf1 -g ferry-out',
        '-A FORWARD -s 192.168.1.0/24 -i vrf1 -g ferry-out',
        '-A FORWARD -s 172.16.60.0/24 -i vrf1 -g ferry-out',
        '-A FORWARD -s 172.16.7.0/30 -i vrf2 -g ferry-out',
        '-A FORWARD -s 172.16.70.0/24 -i vrf2 -g ferry-out',
        '-A ferry-out -s 172.16.7.2/32 -i vrf2 -o em0 -j ACCEPT',
        '-A ferry-out -d 172.16.6.0/30 -o vlan6 -j ACCEPT',
        '-A ferry-out -d 192.168.1.0/24 -o vlan6 -j ACCEPT',
        '-A ferry-out -d 172.16.60.0/24 -o vlan60 -j ACCEPT',
        '-A ferry-out -d 172.16.7.0/30 -o vlan7 -j ACCEPT',
        '-A ferry-out -d 172.16.70.0/24 -o vlan70 -j ACCEPT',
        'COMMIT',
        '',
      ].join('\n'),
    )
  })
})

// The article's second bgpd on a Linux provider edge: an FRR instance in C1's VRF (templates/
// frr-tenants.conf.ts says why FRR). Its sessions and routes are proved in the lab.
describe("seed 001 on Linux: C1's bgpd_rd1 as FRR's BGP instance in vrf1, its sshd in vrf1", () => {
  const linuxEdge = async () => {
    const inv = await loadInventory(path.join(ROOT, 'inventory/article-tenants.yaml'))
    const pe1 = inv.hosts.find((h) => h.name === 'pe1')!
    const tenants = vars.parse(pe1.vars).tenants.map((t) => ({ ...t, ntpd: [] }))
    pe1.os = 'linux'
    pe1.vars = { ...pe1.vars, tenants }
    const { runbook } = await loadRunbook('deploy-tenants', ROOT)
    const [host] = await buildSteps(runbook, inv, [pe1], {})
    const step = (name: string) => host!.steps.find((s) => s.name === name)!
    return { tenants, steps: host!.steps.map((s) => s.name), step }
  }

  it('frr.conf: the instance in vrf1 with its router id, neighbour and network, and no policy needed on its eBGP session, as bgpd.conf allows from and to any', async () => {
    const { tenants } = await linuxEdge()
    expect(frrTenants({ hostname: 'pe1', instances: [{ ...bgpdVars(tenants[0]!), vrf: 'vrf1' }] })).toBe(
      [
        'hostname pe1',
        '!',
        '! tenant C1, in routing domain 1',
        'router bgp 64512 vrf vrf1',
        ' bgp router-id 172.16.6.1',
        ' no bgp ebgp-requires-policy',
        ' neighbor 172.16.60.2 remote-as 65001',
        ' neighbor 172.16.60.2 description TEST1-IPv4',
        ' !',
        ' address-family ipv4 unicast',
        '  network 192.168.1.0/24',
        ' exit-address-family',
        'exit',
        '!',
        'line vty',
        '!',
        '',
      ].join('\n'),
    )
  })

  it('FRR comes after the filter is loaded (it passes the session in), its session is checked, then that what it learned is in table 1 only', async () => {
    const { steps } = await linuxEdge()
    const from = steps.indexOf('forwarding')
    expect(steps.slice(from, from + 10)).toEqual([
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
    ])
    expect(steps.indexOf('rules loaded as written')).toBeLessThan(from)
  })

  it("the checks: the session by its address in vrf1's summary, named by its descr; a BGP route outside the tenants' tables is a leak", async () => {
    const { step } = await linuxEdge()
    const sessions = step("C1's BGP sessions Established")
    expect(sessions.probe(linux)).toBe("vtysh -c 'show bgp vrf vrf1 summary json'")
    const summary = (state: string) =>
      JSON.stringify({ ipv4Unicast: { peers: { '172.16.60.2': { remoteAs: 65001, state } } } })
    expect(sessions.check({ stdout: summary('Established'), code: 0 }, {} as never)).toEqual([])
    expect(sessions.check({ stdout: summary('Active'), code: 0 }, {} as never)).toEqual([
      { summary: "wait until C1's BGP sessions Established (now: not Established: TEST1-IPv4 (Active))" },
    ])
    const leaks = step("BGP routes only in their tenants' tables")
    const inTable1 = '10.1.0.0/16 nhid 9 via 172.16.60.2 dev vlan60 table 1 proto bgp metric 20\n'
    expect(leaks.check({ stdout: inTable1, code: 0 }, {} as never)).toEqual([])
    expect(
      leaks.check(
        { stdout: `${inTable1}10.2.0.0/16 nhid 9 via 172.16.7.2 dev vlan7 table 2 proto bgp metric 20\n`, code: 0 },
        {} as never,
      ),
    ).toEqual([
      {
        summary:
          "wait until BGP routes only in their tenants' tables (now: outside: 10.2.0.0/16 nhid 9 via 172.16.7.2 dev vlan7 table 2 proto bgp metric 20)",
      },
    ])
  })

  it("sshd: the article's ListenAddress with the VRF device for rdomain 1, the default domain's kept; listening is checked by ss's A%vrfN", async () => {
    const { step } = await linuxEdge()
    const listening = step('sshd listening in the domains')
    const ss = (local: string) =>
      `LISTEN 0      128    ${local}      0.0.0.0:*\nLISTEN 0      128    198.18.0.31:22      0.0.0.0:*\n`
    expect(listening.check({ stdout: ss('172.16.60.1%vrf1:22'), code: 0 }, {} as never)).toEqual([])
    // In the default domain only: not what the article asks.
    expect(listening.check({ stdout: ss('172.16.60.1:22'), code: 0 }, {} as never)).toEqual([
      { summary: 'wait until sshd listening in the domains (now: not listening on 172.16.60.1%vrf1)' },
    ])
    const [change] = step('sshd in the domains').check(
      { stdout: lsProbe('-rw-r--r--', 'root', 'root', STOCK['/etc/ssh/sshd_config']!), code: 0 },
      {} as never,
    ) as { diff?: string }[]
    expect(change!.diff).toContain(
      [
        '+# BEGIN FERRY sshd in the domains',
        '+ListenAddress 0.0.0.0',
        '+ListenAddress ::',
        '+ListenAddress 172.16.60.1 rdomain vrf1',
        '+# END FERRY sshd in the domains',
        ' Match User anoncvs',
      ].join('\n'),
    )
  })
})
