// deploy-carp-gateway (seed 004) without a machine: the whole runbook through the real engine
// against two simulated bare OpenBSD gateways (inventory/article-carp.yaml), every file each gets
// and every command, in order. No OpenBSD machine exists where ferry is tested, so this is what
// proves the OpenBSD plan. The article prints no file: what it does give is checked here (the
// static SA's spi pair and key file names, `ike esp from … to … peer …`, isakmpd's -S and -K,
// interface groups in hostname.if, pf on groups and egress); its ipsecctl examples lost their
// addresses in print (`esp from to spi …`, `ike esp from to peer`), and the inventory supplies them.
import { describe, expect, it, vi } from 'vitest'
import { runPlan, type Facts } from '../golden/plan.ts'
import { lsProbe } from '../golden/scripts.ts'
import { CARP_SECRETS, loadSeedInventory, ROOT } from '../fixtures/seeds/inventories.ts'
import { loadInventory } from '../../src/inventory/load.ts'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/** What `ifconfig carpN` prints once the node has settled, as master (fw1) or backup (fw2). */
const ifconfigCarp = (name: string, state: string, vhid: number, carpdev: string) =>
  [
    `${name}: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500`,
    '\tlladdr 00:00:5e:00:01:01',
    '\tindex 7 priority 15 llprio 3',
    `\tcarp: ${state} carpdev ${carpdev} vhid ${vhid} advbase 1 advskew 0`,
    '\tgroups: carp',
    `\tstatus: ${state.toLowerCase()}`,
    '',
  ].join('\n')

/** The physical interfaces' own hostname.if, as the installer leaves them. */
const HOSTNAME_IF: Record<string, Record<string, string>> = {
  fw1: { em0: 'inet 203.0.113.2 255.255.255.0 NONE\n', em1: 'inet 10.0.0.2 255.255.255.0 NONE\n' },
  fw2: { em0: 'inet 203.0.113.3 255.255.255.0 NONE\n', em1: 'inet 10.0.0.3 255.255.255.0 NONE\n' },
}

/** A bare OpenBSD gateway: its interfaces in no group, no carp or pfsync, daemons off, no files of ferry's. */
const bare =
  (host: 'fw1' | 'fw2'): Facts =>
  (step, _changed, files) => {
    switch (step.kind) {
      case 'sysctl':
        return 'live=0\n'
      case 'service':
        return `exists=1\nenabled=0\nrunning=0\n${step.name === 'isakmpd' ? 'var flags\n' : ''}`
      case 'verify': {
        const [name, vhid, carpdev] = step.name.startsWith('carp0') ? ['carp0', 1, 'em0'] : ['carp1', 2, 'em1']
        return ifconfigCarp(name as string, host === 'fw1' ? 'MASTER' : 'BACKUP', vhid as number, carpdev as string)
      }
      case 'file':
      case 'line': {
        const p = step.touches[0]!.replace(/^file:/, '')
        const text = files[p] ?? HOSTNAME_IF[host]![p.replace('/etc/hostname.', '')]
        return text !== undefined ? lsProbe('-rw-r-----', 'root', 'wheel', text) : { stdout: '', code: 1 }
      }
      default:
        return { stdout: '', code: 1 } // a command's `unless` has not held: not in the group yet
    }
  }

const plan = async (host: 'fw1' | 'fw2') =>
  runPlan('deploy-carp-gateway', await loadSeedInventory('article-carp'), host, bare(host))

describe("seed 004: every file and command of the pair's two gateways (inventory/article-carp.yaml)", () => {
  it('fw1, the preferred master: groups, pf, pfsync, the shared addresses with advskew 0, ipsec.conf and its keys, isakmpd -S -K, sasyncd, ifstated, preemption', async () => {
    const { outcome, files, commands } = await plan('fw1')
    expect(outcome.status, JSON.stringify(outcome.steps.filter((s) => s.status === 'failed'))).toBe('changed')
    expect(files['/etc/hostname.em0']).toBe('inet 203.0.113.2 255.255.255.0 NONE\ngroup ext\n')
    expect(files['/etc/hostname.em1']).toBe('inet 10.0.0.2 255.255.255.0 NONE\ngroup int\n')
    expect(files['/etc/hostname.em2']).toBeUndefined()
    expect(files['/etc/pf.conf']).toBe(
      [
        '# /etc/pf.conf: written by ferry (deploy-carp-gateway) from the inventory',
        'set skip on { lo enc0 }',
        'block',
        'pass quick on em2 proto pfsync keep state (no-sync)',
        'pass quick on { em0 em1 } proto carp keep state (no-sync)',
        'pass quick on egress proto udp to port { isakmp ipsec-nat-t }',
        'pass quick on egress proto esp',
        'pass in on int',
        'pass out on egress',
        '',
      ].join('\n'),
    )
    expect(files['/etc/hostname.pfsync0']).toBe('up syncdev em2 syncpeer 10.255.0.2\n')
    expect(files['/etc/hostname.carp0']).toBe(
      'inet 203.0.113.1 255.255.255.0 NONE vhid 1 carpdev em0 advskew 0 pass carp-pass-fw1-fw2\n',
    )
    expect(files['/etc/hostname.carp1']).toBe(
      'inet 10.0.0.1 255.255.255.0 NONE vhid 2 carpdev em1 advskew 0 pass carp-pass-fw1-fw2\n',
    )
    // The article's two rules, with the addresses its print lost.
    expect(files['/etc/ipsec.conf']).toBe(
      [
        '# /etc/ipsec.conf: written by ferry (deploy-carp-gateway) from the inventory',
        'ike esp from 10.0.0.0/24 to 10.1.0.0/24 peer 198.51.100.1',
        'esp from 203.0.113.1 to 198.51.100.1 spi 0xdeadbeef:0xbeefdead \\',
        '\tauthkey file "/etc/ipsec.keys/auth14:/etc/ipsec.keys/auth12" enckey file "/etc/ipsec.keys/enc14:/etc/ipsec.keys/enc12"',
        '',
      ].join('\n'),
    )
    expect(files['/etc/ipsec.keys/auth14']).toBe(`${CARP_SECRETS.FERRY_CARP_AUTH14}\n`)
    expect(files['/etc/ipsec.keys/enc12']).toBe(`${CARP_SECRETS.FERRY_CARP_ENC12}\n`)
    expect(files['/etc/sasyncd.conf']).toBe(
      [
        '# /etc/sasyncd.conf: written by ferry (deploy-carp-gateway) from the inventory',
        'interface carp0',
        'peer 10.255.0.2',
        `sharedkey ${CARP_SECRETS.FERRY_CARP_SASYNCD_KEY}`,
        '',
      ].join('\n'),
    )
    expect(files['/etc/ifstated.conf']).toBe(
      [
        '# /etc/ifstated.conf: written by ferry (deploy-carp-gateway) from the inventory',
        'init-state backup',
        '',
        'state backup {',
        '\tinit {',
        '\t\trun "logger -t ifstated carp0 is backup"',
        '\t}',
        '\tif carp0.link.up',
        '\t\tset-state master',
        '}',
        '',
        'state master {',
        '\tinit {',
        '\t\trun "logger -t ifstated carp0 is master"',
        '\t}',
        '\tif ! carp0.link.up',
        '\t\tset-state backup',
        '}',
        '',
      ].join('\n'),
    )
    // In rc's order: groups, pf, pfsync, carp (made at once: ifstated's check wants it), ipsec.conf,
    // isakmpd, sasyncd, ifstated; each file checked by its own tool before it replaces the old
    // one, and the secrets' files root's alone.
    expect(commands.filter((c) => !c.startsWith('write /etc/hostname.em'))).toEqual([
      'ifconfig em0 group ext',
      'ifconfig em1 group int',
      'write /etc/pf.conf 0600 after pfctl -nf %s',
      'write /etc/hostname.pfsync0 0640',
      'write /etc/hostname.carp0 0640',
      'write /etc/hostname.carp1 0640',
      'sh /etc/netstart carp0',
      'sh /etc/netstart carp1',
      'sysctl net.inet.carp.preempt=1',
      // Kept for boot in /etc/sysctl.conf, edited as every file is.
      expect.stringMatching(/^f=\/etc\/sysctl\.conf; /),
      'write /etc/ipsec.keys/auth14 0600',
      'write /etc/ipsec.keys/enc14 0600',
      'write /etc/ipsec.keys/auth12 0600',
      'write /etc/ipsec.keys/enc12 0600',
      'write /etc/ipsec.conf 0600 after ipsecctl -n -f %s',
      'rcctl enable ipsec',
      'rcctl enable isakmpd',
      "rcctl set isakmpd flags '-S -K'",
      'rcctl start isakmpd',
      'write /etc/sasyncd.conf 0600 after sasyncd -n -c %s',
      'rcctl enable sasyncd',
      'rcctl start sasyncd',
      'write /etc/ifstated.conf 0644 after ifstated -n -f %s',
      'rcctl enable ifstated',
      'rcctl start ifstated',
      // The handlers, once: pf loaded, the interfaces made from their files, the SAs loaded.
      'pfctl -f /etc/pf.conf',
      ...['pfsync0', 'carp0', 'carp1'].map(
        (i) =>
          `if [ -f /etc/hostname.${i} ]; then sh /etc/netstart ${i}; else ifconfig ${i} destroy 2>/dev/null || true; fi`,
      ),
      'ipsecctl -f /etc/ipsec.conf',
      // sasyncd and ifstated were started by this run, with their files: no restart, no reload.
    ])
  })

  it('fw2, the backup: the same shared addresses with advskew 100, pfsync and sasyncd towards fw1; its carp check passes as BACKUP', async () => {
    const { outcome, files } = await plan('fw2')
    expect(outcome.status).toBe('changed')
    expect(files['/etc/hostname.carp0']).toBe(
      'inet 203.0.113.1 255.255.255.0 NONE vhid 1 carpdev em0 advskew 100 pass carp-pass-fw1-fw2\n',
    )
    expect(files['/etc/hostname.pfsync0']).toBe('up syncdev em2 syncpeer 10.255.0.1\n')
    expect(files['/etc/sasyncd.conf']).toContain('\npeer 10.255.0.1\n')
    expect(outcome.steps.find((s) => s.name === 'carp1 is master or backup')!.status).toBe('ok')
  })

  it('no secret in any command, change summary or diff: the passphrase, the sasyncd key and the static keys are masked', async () => {
    const { outcome, commands } = await plan('fw1')
    const shown = JSON.stringify(outcome) + commands.join('\n')
    for (const s of Object.values(CARP_SECRETS)) expect(shown).not.toContain(s)
    expect(shown).toContain('pass ********')
  })
})

/** Plans `host` from inventory/NAME.yaml as `edit` changes it, with the secrets (and `env`) set: 'planned', or the refusal. */
async function refusal(
  name: 'article-carp' | 'carp-linux',
  host: string,
  facts: Facts,
  edit: (yaml: string) => string,
  env: Record<string, string>,
): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry-carp-'))
  const file = path.join(dir, 'inventory.yaml')
  writeFileSync(file, edit(readFileSync(path.join(ROOT, `inventory/${name}.yaml`), 'utf8')))
  await loadSeedInventory(name) // the secrets in the environment
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v)
  return runPlan('deploy-carp-gateway', await loadInventory(file), host, facts).then(
    () => 'planned',
    (e: Error) => e.message,
  )
}

describe('seed 004: pairs refused before any host is contacted', () => {
  const variant = (edit: (yaml: string) => string, env: Record<string, string> = {}) =>
    refusal('article-carp', 'fw1', bare('fw1'), edit, env)

  it('a vhid twice, a carpdev that is no interface, a shared address off its carpdev, pfsync on a CARP link', async () => {
    expect(await variant((y) => y.replace('vhid: 2, carpdev: em1', 'vhid: 1, carpdev: em1'))).toMatch(
      /fw1: carp1's vhid 1 is also carp0's/,
    )
    expect(await variant((y) => y.replace('carpdev: em1', 'carpdev: em9'))).toMatch(
      /carp1's carpdev em9 is none of the interfaces/,
    )
    expect(await variant((y) => y.replace('address: 10.0.0.1/24', 'address: 10.9.0.1/24'))).toMatch(
      /carp1's address 10\.9\.0\.1\/24 is not on em1's network 10\.0\.0\.0\/24/,
    )
    expect(await variant((y) => y.replaceAll('syncdev: em2', 'syncdev: em1'))).toMatch(
      /pfsync's syncdev em1 carries CARP: give pfsync a link of its own/,
    )
  })

  it('a static key of the wrong length, a CARP passphrase carp(4) would cut, a key name with a path, ipsec and sasyncd on a Linux host', async () => {
    expect(await variant((y) => y, { FERRY_CARP_AUTH12: 'abcd' })).toMatch(
      /secret auth12: an HMAC-SHA2-256 key is 64 hex digits, without 0x/,
    )
    expect(await variant((y) => y, { FERRY_CARP_PASS: 'a-passphrase-over-nineteen-bytes' })).toMatch(/at most 19 bytes/)
    // A key's secret name is its file's name in /etc/ipsec.keys: no path.
    expect(await variant((y) => y.replace('out: auth14', 'out: ../../root/auth14'))).toMatch(
      /must be a secret name: letters, digits, _ and -/,
    )
    expect(await variant((y) => y.replace('os: openbsd', 'os: linux'))).toMatch(
      /fw1: ipsec and sasyncd are built on OpenBSD only: Linux has no sasyncd to follow the shared address; group ext has no number in link_groups; group int has no number in link_groups/,
    )
    expect(await variant((y) => y.replace('os: openbsd', 'os: freebsd'))).toMatch(
      /fw1: deploy-carp-gateway builds OpenBSD and Linux gateways, not freebsd/,
    )
  })
})

// The same pair on Linux (inventory/carp-linux.yaml), against two simulated bare Debian gateways.
// The lab proves it runs (test/lab/carp.test.ts); this fixes every file and command.

/** A bare Debian gateway: packages there, no group, no ferry file, no daemon of the pair running. */
const debian =
  (holds: boolean): Facts =>
  (step, _changed, files) => {
    switch (step.kind) {
      case 'pkg':
        return (step as { names?: string[] }).names?.map((n) => `${n}\t1.0\n`).join('') ?? ''
      case 'sysctl':
        return 'live=0\n'
      case 'service':
        return `exists=1\nenabled=0\nrunning=0\nlinks=0\n`
      case 'verify':
        return holds ? 'master\n' : 'backup\n'
      case 'file':
      case 'line': {
        const p = step.touches[0]!.replace(/^file:/, '')
        const text = files[p] ?? (p === '/etc/iproute2/group' ? '# device group names\n0\tdefault\n' : undefined)
        return text !== undefined ? lsProbe('-rw-r--r--', 'root', 'root', text) : { stdout: '', code: 1 }
      }
      default:
        return { stdout: '', code: 1 }
    }
  }

const linuxPlan = async (host: 'gw1' | 'gw2') =>
  runPlan('deploy-carp-gateway', await loadSeedInventory('carp-linux'), host, debian(host === 'gw1'))

describe("seed 004 on Linux: every file and command of the pair's two gateways (inventory/carp-linux.yaml)", () => {
  it('gw1: link groups named and joined, nftables on groups with NAT, forwarding, conntrackd FTFW to gw2, one ucarp per shared address with its scripts', async () => {
    const { outcome, files, commands } = await linuxPlan('gw1')
    expect(outcome.status, JSON.stringify(outcome.steps.filter((s) => s.status === 'failed'))).toBe('changed')
    expect(files['/etc/iproute2/group']).toBe('# device group names\n0\tdefault\n1\text\n2\tint\n')
    expect(files['/etc/network/if-up.d/ferry-link-groups']).toBe(
      [
        '#!/bin/sh',
        '# ifupdown runs this as it brings each interface ($IFACE) up: its interface group.',
        '# Written by ferry (deploy-carp-gateway) from the inventory.',
        'case "$IFACE" in',
        'eth0) ip link set dev "$IFACE" group ext ;;',
        'eth1) ip link set dev "$IFACE" group int ;;',
        'esac',
        'exit 0',
        '',
      ].join('\n'),
    )
    expect(files['/etc/nftables.conf']).toBe(
      [
        '#!/usr/sbin/nft -f',
        '# /etc/nftables.conf: written by ferry (deploy-carp-gateway) from the inventory',
        'flush ruleset',
        '',
        'table inet filter {',
        '\tchain input {',
        '\t\ttype filter hook input priority filter; policy drop;',
        '\t\tiif "lo" accept',
        '\t\tct state established,related accept',
        '\t\tiifname "eth2" udp dport 3780 accept',
        '\t\tiifname { "eth0", "eth1" } ip protocol vrrp accept',
        '\t\tiifgroup "int" accept',
        '\t}',
        '',
        '\tchain forward {',
        '\t\ttype filter hook forward priority filter; policy drop;',
        '\t\tct state established,related accept',
        '\t\ttcp flags & (fin | syn | rst | ack) != syn ct state new drop',
        '\t\tiifgroup "int" oifgroup "ext" accept',
        '\t}',
        '}',
        '',
        'table ip nat {',
        '\tchain postrouting {',
        '\t\ttype nat hook postrouting priority srcnat; policy accept;',
        '\t\toifname "eth0" ip saddr 10.0.0.0/24 snat to 203.0.113.1',
        '\t}',
        '}',
        '',
      ].join('\n'),
    )
    const conntrackd = files['/etc/conntrackd/conntrackd.conf']!
    expect(conntrackd).toContain(
      '\tMode FTFW {\n\t\tDisableExternalCache Off\n\t}\n\tUDP {\n\t\tIPv4_address 10.255.0.1\n\t\tIPv4_Destination_Address 10.255.0.2\n\t\tPort 3780\n\t\tInterface eth2\n',
    )
    // Connections that end at the node itself are not synced: its management, its own links.
    expect(conntrackd).toContain(
      '\t\tAddress Ignore {\n\t\t\tIPv4_address 127.0.0.1\n\t\t\tIPv4_address 10.0.0.2\n\t\t\tIPv4_address 203.0.113.2\n\t\t\tIPv4_address 10.255.0.1\n\t\t}',
    )
    expect(files['/etc/ucarp/pass']).toBe('carp-pass-fw1-fw2\n')
    const init = files['/etc/init.d/ucarp-carp0']!
    expect(init).toContain('# Provides:          ucarp-carp0\n')
    expect(init).toContain(
      '\t\t--interface=eth0 \\\n\t\t--srcip=203.0.113.2 \\\n\t\t--vhid=1 \\\n\t\t--passfile=/etc/ucarp/pass \\\n\t\t--addr=203.0.113.1 \\\n\t\t--advbase=1 \\\n\t\t--advskew=0 \\\n\t\t--deadratio=3 \\\n\t\t--preempt \\\n\t\t--shutdown \\\n\t\t--upscript=/etc/ucarp/carp0-up \\\n\t\t--downscript=/etc/ucarp/carp0-down\n',
    )
    expect(files['/etc/init.d/ucarp-carp1']).toContain('--interface=eth1 \\\n\t\t--srcip=10.0.0.2 \\\n\t\t--vhid=2 ')
    // The first address's scripts move conntrackd's states and run ifstated's commands; the other's only the address.
    expect(files['/etc/ucarp/carp0-up']).toBe(
      [
        '#!/bin/sh',
        '# ucarp runs this (with the interface and the address) when carp0 becomes master.',
        '# Written by ferry (deploy-carp-gateway) from the inventory.',
        'ip -4 addr replace 203.0.113.1/24 dev eth0 label eth0:carp0',
        "# The backup kept the master's connections; they are this node's now (conntrackd's primary-backup.sh).",
        'conntrackd -C /etc/conntrackd/conntrackd.conf -c',
        'conntrackd -C /etc/conntrackd/conntrackd.conf -f',
        'conntrackd -C /etc/conntrackd/conntrackd.conf -R',
        'conntrackd -C /etc/conntrackd/conntrackd.conf -B',
        'logger -t ucarp carp0 is master',
        'exit 0',
        '',
      ].join('\n'),
    )
    expect(files['/etc/ucarp/carp0-down']).toContain(
      "ip -4 addr del 203.0.113.1/24 dev eth0 2>/dev/null\n# This node's own states are the master's now: age them out, and ask the master for its own.\nconntrackd -C /etc/conntrackd/conntrackd.conf -t\nconntrackd -C /etc/conntrackd/conntrackd.conf -n\nlogger -t ucarp carp0 is backup\n",
    )
    expect(files['/etc/ucarp/carp1-up']).not.toMatch(/conntrackd|logger/)
    expect(commands).toEqual(
      expect.arrayContaining([
        'ip link set dev eth0 group ext',
        'ip link set dev eth1 group int',
        'sysctl -w net.ipv4.ip_forward=1',
      ]),
    )
    expect(outcome.steps.map((s) => s.name)).toEqual([
      'packages',
      'link group ext',
      'link group int',
      'eth0 in group ext',
      'eth1 in group int',
      'link groups at boot',
      'nftables.conf',
      'ruleset loaded as written',
      'nftables at boot',
      'forwarding',
      'conntrackd.conf',
      'conntrackd at boot',
      'conntrackd running',
      'ucarp passphrase',
      'carp0 up script',
      'carp0 down script',
      'ucarp-carp0 init script',
      'ucarp-carp0',
      'carp1 up script',
      'carp1 down script',
      'ucarp-carp1 init script',
      'ucarp-carp1',
      'carp0: one node holds 203.0.113.1',
      'carp1: one node holds 10.0.0.1',
      'load ruleset (handler)',
      // ucarp was started by this run, with its files: no restart.
      'restart conntrackd (handler)',
    ])
  })

  it('gw2: advskew 100, conntrackd towards gw1; its check passes as backup', async () => {
    const { outcome, files } = await linuxPlan('gw2')
    expect(outcome.status).toBe('changed')
    expect(files['/etc/init.d/ucarp-carp0']).toContain('--srcip=203.0.113.3 \\\n')
    expect(files['/etc/init.d/ucarp-carp0']).toContain('--advskew=100 \\\n')
    expect(files['/etc/conntrackd/conntrackd.conf']).toContain('IPv4_Destination_Address 10.255.0.1\n')
    expect(outcome.steps.find((s) => s.name === 'carp1: one node holds 10.0.0.1')!.status).toBe('ok')
  })

  it('no passphrase in any command, change summary or diff', async () => {
    const { outcome, commands } = await linuxPlan('gw1')
    const shown = JSON.stringify(outcome) + commands.join('\n')
    expect(shown).not.toContain(CARP_SECRETS.FERRY_CARP_PASS)
    expect(shown).toContain('/etc/ucarp/pass')
  })

  it('refused on Linux: an interface in two groups, a group without its number, two groups with one number, a shared address with groups, a passphrase ucarp would refuse', async () => {
    const variant = (edit: (yaml: string) => string, env: Record<string, string> = {}) =>
      refusal('carp-linux', 'gw1', debian(true), edit, env)
    expect(await variant((y) => y)).toBe('planned')
    expect(await variant((y) => y.replace('groups: [ext] }', 'groups: [ext, int] }'))).toMatch(
      /gw1: eth0 is in ext, int: a Linux link is in one group/,
    )
    expect(await variant((y) => y.replace('{ ext: 1, int: 2 }', '{ ext: 1 }'))).toMatch(
      /group int has no number in link_groups/,
    )
    expect(await variant((y) => y.replace('{ ext: 1, int: 2 }', '{ ext: 1, int: 1 }'))).toMatch(
      /link_groups gives int and ext the same number 1/,
    )
    expect(await variant((y) => y.replace('address: 10.0.0.1/24 }', 'address: 10.0.0.1/24, groups: [int] }'))).toMatch(
      /carp1 has groups: on Linux a shared address is on its carpdev/,
    )
    expect(await variant((y) => y, { FERRY_CARP_PASS: 'a-passphrase-over-nineteen-bytes' })).toMatch(
      /the CARP passphrase must be at most 19 bytes/,
    )
  })
})
