// The probe snippets and file edits, run for real. Linux probes are read-only and run on this
// machine (Debian) through /bin/sh and /bin/dash; the steps' own parsers read what they print.
// BSD probes run too, against shell functions standing in for ifconfig, sysrc, pkg and rcctl
// with output copied from those systems. Live interface commands run in a private network
// namespace, where they can touch nothing else.

import { describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { linux } from '../../src/platform/linux.ts'
import { freebsd } from '../../src/platform/freebsd.ts'
import { openbsd } from '../../src/platform/openbsd.ts'
import { confValue, editConf, unlinkIf, writeFile } from '../../src/platform/common.ts'
import type { IfaceState } from '../../src/platform/platform.ts'
import { pkg } from '../../src/steps/pkg.ts'
import { service } from '../../src/steps/service.ts'
import { sysctl } from '../../src/steps/sysctl.ts'
import { iface } from '../../src/steps/iface.ts'
import { line } from '../../src/steps/line.ts'
import type { CheckContext, ProbeResult } from '../../src/steps/step.ts'

const shells = ['/bin/sh', '/bin/dash'].filter((s) => existsSync(s))
const allShells = ['/bin/sh', '/bin/dash', '/bin/bash', '/bin/mksh'].filter((s) => existsSync(s))

function sh(shell: string, script: string): ProbeResult {
  const r = spawnSync(shell, ['-c', script], { encoding: 'utf8' })
  return { stdout: r.stdout, code: r.status ?? 1 }
}

const ctx = (platform: CheckContext['platform']): CheckContext => ({
  host: {} as CheckContext['host'],
  platform,
  pending: new Set(),
})

describe.each(shells)('Linux probes on this machine through %s', (shell) => {
  it('pkg: bash is installed at the version dpkg reports, a made-up name is not', () => {
    const step = pkg('p', { name: ['bash', 'ferry-no-such-package'] })
    const out = sh(shell, step.probe(linux))
    const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'bash'], { encoding: 'utf8' })
    // apt-get's simulation of installing the missing one, as apt-get install itself would fail.
    expect(out.stdout).toBe(
      `bash\t${version}\nferry-no-such-package\t-\ncannot=Unable to locate package ferry-no-such-package\n`,
    )
    expect(() => step.check(out, ctx(linux))).toThrow(
      /^cannot install ferry-no-such-package: Unable to locate package ferry-no-such-package$/,
    )
    expect(step.check(out, { ...ctx(linux), pending: new Set(['*']) })).toEqual([
      { summary: 'install ferry-no-such-package' },
    ])
  })

  it('pkg: a name with its architecture (libc6:amd64) is found as dpkg lists it', () => {
    const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim()
    const out = sh(shell, pkg('p', { name: [`libc6:${arch}`, 'libc6'] }).probe(linux))
    const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libc6'], { encoding: 'utf8' })
    expect(out.stdout).toBe(`libc6:${arch}\t${version}\nlibc6\t${version}\n`)
  })

  it('service: a made-up service does not exist, and is refused; frr (installed here) exists', () => {
    const missing = service('s', { name: 'ferry-no-such-service', enabled: true })
    const out = sh(shell, missing.probe(linux))
    // Without systemd the probe also says whether rc.d has any link for it (none here).
    const links = existsSync('/run/systemd/system') ? {} : { links: false }
    expect(missing.record(out, ctx(linux))).toEqual({
      exists: false,
      enabled: false,
      running: false,
      vars: {},
      ...links,
    })
    expect(() => missing.check(out, ctx(linux))).toThrow(/does not exist/)
    // Precondition, asked of dpkg rather than of the probe's own sources: frr is installed here.
    expect(
      execFileSync('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', 'frr'], { encoding: 'utf8' }).trim(),
      'frr installed on this machine',
    ).toBe('ii')
    const frr = service('s', { name: 'frr' })
    expect(frr.record(sh(shell, frr.probe(linux)), ctx(linux)).exists).toBe(true)
  })

  it('sysctl: net.ipv4.ip_forward reads as `sysctl -n` says; an unknown key has no live value', () => {
    const step = sysctl('s', { key: 'net.ipv4.ip_forward', value: '1' })
    const live = execFileSync('sysctl', ['-n', 'net.ipv4.ip_forward'], { encoding: 'utf8' }).trim()
    expect(step.record(sh(shell, step.probe(linux)), ctx(linux)).live).toBe(live)
    const unknown = sysctl('s', { key: 'net.ipv4.ferry_no_such_key', value: '1' })
    expect(unknown.record(sh(shell, unknown.probe(linux)), ctx(linux))).toEqual({ live: undefined, saved: undefined })
    // A 0444 key, which root cannot write either: refused at plan, not at apply.
    const ro = sysctl('s', { key: 'net.ipv4.tcp_available_congestion_control', value: 'reno', persist: false })
    expect(statSync('/proc/sys/net/ipv4/tcp_available_congestion_control').mode & 0o222).toBe(0)
    expect(() => ro.check(sh(shell, ro.probe(linux)), ctx(linux))).toThrow(
      /^net\.ipv4\.tcp_available_congestion_control cannot be set here: \/proc\/sys\/net\/ipv4\/tcp_available_congestion_control is not writable/,
    )
  })

  it('iface: eth0 reads as `ip -j` says; no lo1 labels and no gre1 here', () => {
    const j = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }))[0]
    const eth0 = iface('i', { name: 'eth0', kind: 'tap', persist: false })
    const live = eth0.record(sh(shell, eth0.probe(linux)), ctx(linux)).live
    expect(live).toEqual({
      exists: true,
      up: j.flags.includes('UP'),
      addresses: j.addr_info
        .filter((a: { family: string }) => a.family === 'inet')
        .map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`),
      tunnel: undefined,
    })
    const lo1 = iface('i', { name: 'lo1', kind: 'loopback' })
    expect(lo1.record(sh(shell, lo1.probe(linux)), ctx(linux)).live).toEqual({
      exists: false,
      up: true,
      addresses: [],
      tunnel: undefined,
    })
    const gre1 = iface('i', {
      name: 'gre1',
      kind: 'gre',
      tunnel: { local: '192.0.2.2', remote: '192.0.2.3' },
      persist: false,
    })
    const out = sh(shell, gre1.probe(linux))
    expect(gre1.record(out, ctx(linux)).live.exists).toBe(false)
    // This machine's kernel has no GRE and no modules (DESIGN.md, the test lab): refused at plan.
    if (!existsSync('/sys/module/ip_gre') && !existsSync('/proc/modules'))
      expect(() => gre1.check(out, ctx(linux))).toThrow(/^gre1 cannot be created here: the kernel has no GRE/)
  })
})

const root = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true']).status === 0

describe.skipIf(!root)('Linux interface commands in a private network namespace', () => {
  const fresh = (up: boolean): IfaceState => ({ exists: false, up, addresses: [] })

  it.each([
    ['lo1', { name: 'lo1', kind: 'loopback' as const }, ['10.0.0.1/32', '10.0.0.2/32'], fresh(true)],
    ['tap0', { name: 'tap0', kind: 'tap' as const }, ['172.16.2.1 peer 172.16.2.2', '172.16.3.1/30'], fresh(false)],
  ])('%s: apply reaches the wanted state and undo the one before', (_n, spec, addresses, before) => {
    // One namespace for the whole story: probe, apply, probe, undo, probe.
    const want: IfaceState = { exists: true, up: true, addresses }
    const step = iface('i', { ...spec, addresses, persist: false })
    const probe = step.probe(linux)
    const mark = '---ferry---'
    // lo is up on any real host; a new namespace starts with it down.
    const script = [
      'ip link set lo up',
      probe,
      `echo ${mark}`,
      ...linux.interfaces.change(spec, before, want),
      probe,
      `echo ${mark}`,
      ...linux.interfaces.change(spec, want, before),
      probe,
    ].join('\n')
    const r = spawnSync('unshare', ['-n', 'sh', '-ec', script], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    const [first, applied, undone] = r.stdout
      .split(`${mark}\n`)
      .map((stdout) => step.record({ stdout, code: 0 }, ctx(linux)).live)
    expect(first).toEqual({ ...before, tunnel: undefined })
    expect(applied).toEqual({ ...want, tunnel: undefined })
    expect(undone).toEqual(first)
  })
})

describe.skipIf(!root)('Linux descriptions (link aliases) in a private network namespace', () => {
  it('tap0 with a description: set with its address, read back from `ip -d -o link`, cleared by undo', () => {
    const spec = { name: 'tap0', kind: 'tap' as const }
    const step = iface('i', {
      ...spec,
      addresses: ['172.16.2.1/30'],
      description: 'C1 uplink: 10G, rack 4',
      persist: false,
    })
    const probe = step.probe(linux)
    const mark = '---ferry---'
    const stateOf = (out: string) => step.record({ stdout: out, code: 0 }, ctx(linux))
    // First the device without a description; the step's apply; then its undo, from the probe.
    const none: IfaceState = { exists: true, up: true, addresses: ['172.16.2.1/30'] }
    const want: IfaceState = { ...none, description: 'C1 uplink: 10G, rack 4' }
    const script = [
      ...linux.interfaces.change(spec, { exists: false, up: false, addresses: [] }, none),
      probe,
      `echo ${mark}`,
      ...linux.interfaces.change(spec, none, want),
      probe,
      `echo ${mark}`,
      ...linux.interfaces.change(spec, want, { ...none, description: '' }),
      probe,
    ].join('\n')
    const r = spawnSync('unshare', ['-n', 'sh', '-ec', script], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    const [first, applied, undone] = r.stdout.split(`${mark}\n`).map((out) => stateOf(out).live)
    expect(first).toEqual({ ...none, tunnel: undefined })
    expect(applied).toEqual({ ...want, tunnel: undefined })
    expect(undone).toEqual(first)
    // What the step itself plans from each: the description to set, then nothing.
    expect(step.check({ stdout: r.stdout.split(`${mark}\n`)[0]!, code: 0 }, ctx(linux)).map((c) => c.summary)).toEqual([
      'tap0 description: "C1 uplink: 10G, rack 4"',
    ])
    expect(step.check({ stdout: r.stdout.split(`${mark}\n`)[1]!, code: 0 }, ctx(linux))).toEqual([])
  })
})

describe("Linux vlan persistence with systemd-networkd: the parent's .network found", () => {
  it('the first .network in name order whose [Match] Name= matches the parent (globs, negations skipped); none: nosave', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-networkd-'))
    try {
      const files: Record<string, string> = {
        // Name= outside [Match] does not match.
        '01-netdev.network': '[Link]\nName=eth0\n',
        '05-wlan.network': '[Match]\nName=wlan*\n',
        '10-wired.network': '[Match]\nType=ether\nName=!eth9 eth1 eth0\n\n[Network]\nDHCP=yes\n',
        '20-en.network': '[Match]\nName=enp?s*\n',
        '30-eth.network': '[Match]\nName=eth*\n',
      }
      for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text)
      const found = (parent: string) => {
        const step = iface('i', { name: 'v', kind: 'vlan', vlan: { id: 6, parent } })
        // The probe as it is, its networkd directory moved here (no ifupdown on this machine).
        const probe = step.probe(linux).replaceAll('/etc/systemd/network', dir)
        expect(probe).not.toContain('/etc/systemd/network')
        const out = sh('/bin/sh', probe).stdout
        return { netconfig: /^netconfig=(.*)$/m.exec(out)?.[1], nosave: /^nosave=(.*)$/m.exec(out)?.[1] }
      }
      expect(existsSync('/etc/network/interfaces.d')).toBe(false)
      expect(found('eth0')).toEqual({ netconfig: `networkd ${dir}/10-wired.network`, nosave: undefined })
      expect(found('eth7')).toEqual({ netconfig: `networkd ${dir}/30-eth.network`, nosave: undefined })
      expect(found('enp3s0')).toEqual({ netconfig: `networkd ${dir}/20-en.network`, nosave: undefined })
      expect(found('eth9')).toEqual({ netconfig: `networkd ${dir}/30-eth.network`, nosave: undefined })
      expect(found('bond0')).toEqual({
        netconfig: 'networkd',
        nosave:
          'bond0 has no systemd-networkd .network, which is where networkd makes a vlan from (VLAN=): give bond0 one',
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

/** Defines shell functions standing in for BSD commands, then runs the snippet. */
const withFakes = (fakes: string, snippet: string) => `${fakes}\n${snippet}`

describe.each(allShells)('BSD probes against canned command output, through %s', (shell) => {
  const ifconfig = (out: string) =>
    `ifconfig() { [ "$1" = "${out.split(':')[0]}" ] || return 1; cat <<'EOF'\n${out}\nEOF\n}`

  it('FreeBSD gre0 and lo1, with their rc.conf settings, read as the steps expect', () => {
    const gre = `gre0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> metric 0 mtu 1476
\toptions=80000<LINKSTATE>
\ttunnel inet 203.0.113.11 --> 203.0.113.12
\tinet 172.16.2.1 --> 172.16.2.2 netmask 0xffffffff
\tgroups: gre`
    const sysrc = `sysrc() { case "$1" in -n) [ "$2" = cloned_interfaces ] && echo 'lo1 lo2 gre0' || return 1;; -a) printf '%s\\n' 'cloned_interfaces: lo1 lo2 gre0' 'hostname: server1' 'ifconfig_gre0: inet 172.16.2.1 172.16.2.2 netmask 0xffffffff tunnel 203.0.113.11 203.0.113.12' 'ifconfig_gre00: up' 'ifconfig_vtnet0: DHCP';; esac; }`
    const step = iface('i', {
      name: 'gre0',
      kind: 'gre',
      tunnel: { local: '203.0.113.11', remote: '203.0.113.12' },
      addresses: ['172.16.2.1 peer 172.16.2.2'],
    })
    const out = sh(shell, withFakes(`${ifconfig(gre)}\n${sysrc}`, step.probe(freebsd)))
    expect(out.stdout).toBe(
      'exists=1\nup=1\ntunnel=203.0.113.11 203.0.113.12\naddr=172.16.2.1 peer 172.16.2.2\nsaved=cloned_interfaces="lo1 lo2 gre0"\nsaved=ifconfig_gre0="inet 172.16.2.1 172.16.2.2 netmask 0xffffffff tunnel 203.0.113.11 203.0.113.12"\n',
    )
    expect(step.check(out, ctx(freebsd))).toEqual([])

    const lo = `lo1: flags=8008<LOOPBACK,MULTICAST> metric 0 mtu 16384
\tinet 10.0.0.1 netmask 0xffffffff
\tinet 172.16.3.1 netmask 0xffffff00`
    const lo1 = iface('i', { name: 'lo1', kind: 'loopback', persist: false })
    expect(
      lo1.record(sh(shell, withFakes(`${ifconfig(lo)}\nsysrc() { return 1; }`, lo1.probe(freebsd))), ctx(freebsd)).live,
    ).toEqual({
      exists: true,
      up: false,
      addresses: ['10.0.0.1/32', '172.16.3.1/24'],
      tunnel: undefined,
    })
  })

  it("OpenBSD gre0, today's ifconfig and OpenBSD 4.6's, reads as seed 003 configured it", () => {
    const today = `gre0: flags=9011<UP,POINTOPOINT,LINK0,MULTICAST> mtu 1476
\tindex 5 priority 0 llprio 6
\tencap: vnetid none txprio payload rxprio packet
\tgroups: gre
\ttunnel: inet 198.51.100.1 --> 203.0.113.2 ttl 64 nodf ecn
\tinet 172.16.2.1 --> 172.16.2.2 netmask 0xffffffff`
    const old = `gre0: flags=9051<UP,POINTOPOINT,RUNNING,LINK0,MULTICAST> mtu 1476
\tpriority: 0
\tgroups: gre
\tphysical address inet 198.51.100.1 --> 203.0.113.2
\tinet 172.16.2.1 --> 172.16.2.2 netmask 0xffffffff`
    const step = iface('i', {
      name: 'gre0',
      kind: 'gre',
      tunnel: { local: '198.51.100.1', remote: '203.0.113.2' },
      addresses: ['172.16.2.1 peer 172.16.2.2'],
      persist: false,
    })
    for (const out of [today, old]) {
      const live = step.record(sh(shell, withFakes(ifconfig(out), step.probe(openbsd))), ctx(openbsd)).live
      expect(live).toEqual({
        exists: true,
        up: true,
        addresses: ['172.16.2.1 peer 172.16.2.2'],
        tunnel: { local: '198.51.100.1', remote: '203.0.113.2' },
      })
    }
    expect(
      step.record(sh(shell, withFakes('ifconfig() { return 1; }', step.probe(openbsd))), ctx(openbsd)).live,
    ).toEqual({ exists: false, up: false, addresses: [], tunnel: undefined })
  })

  it("OpenBSD vlan6 and vlan7 as seed 001's ifconfig prints them: tag, parent, description, routing domain", () => {
    const vlan = (name: string, opts: Partial<Parameters<typeof iface>[1]>) =>
      iface('i', { name, kind: 'vlan', vlan: { id: 1, parent: 'ix0' }, persist: false, ...opts })
    // vlan6 is in rdomain 1, but seed 001's output has no `rdomain 1` on its first line (lo1's
    // has): read as printed, the default domain. vlan7's says rdomain 2 (and vnetid 6, a slip).
    const vlan6 = `vlan6: flags=8943<UP,BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST> mtu 1500
\tlladdr 0c:c4:7a:58:f4:c1
\tdescription: C1
\tindex 18 priority 0 llprio 3
\tencap: vnetid 6 parent ix0 txprio packet rxprio outer
\tgroups: vlan egress
\tmedia: Ethernet autoselect (10GbaseSR full-duplex,rxpause,txpause)
\tstatus: active
\tinet 172.16.6.1 netmask 0xfffffffc broadcast 172.16.6.3`
    const vlan7 = `vlan7: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> rdomain 2 mtu 1500
\tlladdr 0c:c4:7a:58:e4:c2
\tdescription: C2 and its uplink
\tindex 18 priority 0 llprio 3
\tencap: vnetid 6 parent ix1 txprio packet rxprio outer
\tgroups: vlan egress
\tstatus: active
\tinet 172.16.7.1 netmask 0xfffffffc broadcast 172.16.7.3`
    const read = (step: ReturnType<typeof vlan>, out: string) =>
      step.record(sh(shell, withFakes(ifconfig(out), step.probe(openbsd))), ctx(openbsd)).live
    expect(read(vlan('vlan6', {}), vlan6)).toEqual({
      exists: true,
      up: true,
      addresses: ['172.16.6.1/30'],
      tunnel: undefined,
      vlan: { id: 6, parent: 'ix0' },
      description: 'C1',
    })
    expect(read(vlan('vlan7', {}), vlan7)).toEqual({
      exists: true,
      up: true,
      addresses: ['172.16.7.1/30'],
      tunnel: undefined,
      vlan: { id: 6, parent: 'ix1' },
      domain: 2,
      description: 'C2 and its uplink',
    })
  })

  it("Linux gre1, which this kernel cannot make, read from iproute2's output", () => {
    const ip = `ip() { case "$*" in
'link show dev gre1') return 0;;
'-d -o link show dev gre1') echo '9: gre1@NONE: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1476 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/gre 203.0.113.21 peer 203.0.113.22 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 \\    gre remote 203.0.113.22 local 203.0.113.21 ttl 255 addrgenmode eui64 numtxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 ';;
'-o -4 addr show dev gre1') echo '9: gre1    inet 172.16.2.5 peer 172.16.2.6/32 scope global gre1\\       valid_lft forever preferred_lft forever';;
'tunnel show gre1') echo 'gre1: gre/ip remote 203.0.113.22 local 203.0.113.21 ttl 255';;
*) return 1;; esac; }`
    const step = iface('i', {
      name: 'gre1',
      kind: 'gre',
      tunnel: { local: '203.0.113.21', remote: '203.0.113.22' },
      addresses: ['172.16.2.5 peer 172.16.2.6'],
      persist: false,
    })
    expect(step.check(sh(shell, withFakes(ip, step.probe(linux))), ctx(linux))).toEqual([])
  })

  it("Linux vlan6 in vrf1 and vrf1 itself, read from iproute2 6.1's output on a lab UML kernel (tag, parent, the VRF's table, alias)", () => {
    // Captured in a scratch namespace on uml1: dummy d0, vrf1 (table 1), vlan6 on d0 in vrf1 with
    // the alias 'C1 uplink'; then vlan6 again after `nomaster` and `alias ''`.
    const VLAN6 =
      '7: vlan6@d0: <BROADCAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue master vrf1 state UP mode DEFAULT group default qlen 1000\\    link/ether 3a:46:3f:ce:8c:3d brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 0 maxmtu 65535 \\    vlan protocol 802.1Q id 6 <REORDER_HDR> \\    vrf_slave table 1 addrgenmode eui64 numtxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 \\    alias C1 uplink'
    const VLAN6_OUT =
      '7: vlan6@d0: <BROADCAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 3a:46:3f:ce:8c:3d brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 0 maxmtu 65535 \\    vlan protocol 802.1Q id 6 <REORDER_HDR> addrgenmode eui64 numtxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 '
    const VLAN6_ADDR =
      '7: vlan6    inet 172.16.6.1/30 scope global vlan6\\       valid_lft forever preferred_lft forever'
    const VRF1 =
      '6: vrf1: <NOARP,MASTER,UP,LOWER_UP> mtu 65575 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 46:f1:94:a2:07:22 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 1280 maxmtu 65575 \\    vrf table 1 addrgenmode eui64 numtxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 '
    const VRF1_ADDR = '6: vrf1    inet 127.0.0.1/8 scope host vrf1\\       valid_lft forever preferred_lft forever'
    const ip = (link: Record<string, string>, addr: Record<string, string>) => `ip() { case "$*" in
${Object.keys(link)
  .map((d) => `'link show dev ${d}') return 0;;`)
  .join('\n')}
${Object.entries(link)
  .map(([d, out]) => `'-d -o link show dev ${d}') printf '%s\\n' '${out}';;`)
  .join('\n')}
${Object.entries(addr)
  .map(([d, out]) => `'-o -4 addr show dev ${d}') printf '%s\\n' '${out}';;`)
  .join('\n')}
*) return 1;; esac; }`
    const vlan6 = (o: { domain?: number; description?: string }) =>
      iface('i', {
        name: 'vlan6',
        kind: 'vlan',
        vlan: { id: 6, parent: 'd0' },
        addresses: ['172.16.6.1/30'],
        persist: false,
        ...o,
      })
    const read = (step: ReturnType<typeof iface>, fakes: string) => {
      const out = sh(shell, withFakes(fakes, step.probe(linux)))
      return { live: step.record(out, ctx(linux)).live, changes: step.check(out, ctx(linux)).map((c) => c.summary) }
    }
    const inVrf = read(vlan6({ domain: 1, description: 'C1 uplink' }), ip({ vlan6: VLAN6 }, { vlan6: VLAN6_ADDR }))
    expect(inVrf.live).toEqual({
      exists: true,
      up: true,
      addresses: ['172.16.6.1/30'],
      tunnel: undefined,
      vlan: { id: 6, parent: 'd0' },
      domain: 1,
      description: 'C1 uplink',
    })
    expect(inVrf.changes).toEqual([])
    // Out of the VRF, its alias cleared: the same step wants both back.
    const out = read(vlan6({ domain: 1, description: 'C1 uplink' }), ip({ vlan6: VLAN6_OUT }, { vlan6: VLAN6_ADDR }))
    expect(out.live).toEqual({
      exists: true,
      up: true,
      addresses: ['172.16.6.1/30'],
      tunnel: undefined,
      vlan: { id: 6, parent: 'd0' },
    })
    expect(out.changes).toEqual([
      'vlan6 description: "C1 uplink"',
      'vlan6: remove 172.16.6.1/30',
      'vlan6 routing domain: 0 → 1',
      'vlan6: add 172.16.6.1/30',
    ])
    const vrf1 = iface('i', { name: 'vrf1', kind: 'vrf', domain: 1, addresses: ['127.0.0.1/8'], persist: false })
    const own = read(vrf1, ip({ vrf1: VRF1 }, { vrf1: VRF1_ADDR }))
    expect(own.live).toEqual({ exists: true, up: true, addresses: ['127.0.0.1/8'], tunnel: undefined, domain: 1 })
    expect(own.changes).toEqual([])
  })

  it('FreeBSD pkg: installed, missing, and pkg itself not bootstrapped', () => {
    const step = pkg('p', { name: ['quagga', 'openvpn'] })
    const fake = (bootstrapped: boolean) =>
      `pkg() { case "$1" in -N) return ${bootstrapped ? 0 : 1};; query) [ "$3" = quagga ] && echo 1.2.4_10 || return 1;; esac; }`
    expect(sh(shell, withFakes(fake(true), step.probe(freebsd))).stdout).toBe('quagga\t1.2.4_10\nopenvpn\t-\n')
    expect(sh(shell, withFakes(fake(false), step.probe(freebsd))).stdout).toBe('quagga\t-\nopenvpn\t-\n')
  })

  it('OpenBSD services: rcctl get status 0, 1 and 2 read as enabled, disabled and missing', () => {
    const step = service('s', { name: 'isakmpd', enabled: true, flags: '-K' })
    const rcctl = (status: number) =>
      `rcctl() { case "$1 $3" in 'get status') return ${status};; 'get flags') echo '-K'; return 0;; esac; [ "$1" = check ]; }`
    const read = (status: number) => step.record(sh(shell, withFakes(rcctl(status), step.probe(openbsd))), ctx(openbsd))
    expect(read(0)).toEqual({ exists: true, enabled: true, running: true, vars: { flags: '-K' } })
    expect(read(1)).toEqual({ exists: true, enabled: false, running: true, vars: { flags: undefined } })
    expect(read(2)).toEqual({ exists: false, enabled: false, running: false, vars: {} })
  })

  it('FreeBSD services: set, empty and unset rc variables stay apart', () => {
    const step = service('s', { name: 'quagga', flags: '-A 127.0.0.1', vars: { daemons: 'zebra ospfd', ports: '' } })
    const fakes = `service() { [ "$2" = enabled ]; }\nsysrc() { case "$2" in quagga_flags) echo '-A 127.0.0.1';; quagga_ports) echo;; *) return 1;; esac; }`
    // [ -x /usr/local/etc/rc.d/quagga ] cannot be faked: feed the rest of the snippet alone.
    const body = step.probe(freebsd).split('\n').slice(1, -1).join('\n')
    expect(step.record(sh(shell, withFakes(fakes, body)), ctx(freebsd))).toEqual({
      exists: true,
      enabled: true,
      running: false,
      vars: { flags: '-A 127.0.0.1', daemons: undefined, ports: '' },
    })
  })

  it('OpenBSD pkg: a stem matches its own versions, not a longer package name', () => {
    const db = mkdtempSync(join(tmpdir(), 'ferry-pkgdb-'))
    try {
      for (const d of ['openvpn-2.6.12', 'openvpn-auth-ldap-2.0.4p0', 'vim-9.1.707-no_x11']) mkdirSync(join(db, d))
      const step = pkg('p', { name: ['openvpn', 'vim', 'openvpn-auth-ldap', 'quagga'] })
      const out = sh(shell, step.probe(openbsd).replaceAll('/var/db/pkg/', `${db}/`))
      expect(out.stdout).toBe('openvpn\t2.6.12\nvim\t9.1.707-no_x11\nopenvpn-auth-ldap\t2.0.4p0\nquagga\t-\n')
    } finally {
      rmSync(db, { recursive: true })
    }
  })
})

describe.each(allShells)('service instances: the probes and the unlink, in a scratch root, through %s', (shell) => {
  // Each platform's rc.d (or init.d) directory moved under a scratch root; every other path is
  // the machine's own (no systemd and no insserv here).
  function scratch(dirs: string[]) {
    const root = mkdtempSync(join(tmpdir(), 'ferry-rcd-'))
    for (const d of dirs) mkdirSync(join(root, d), { recursive: true })
    const script = (path: string, text: string) => {
      writeFileSync(join(root, path), text)
      chmodSync(join(root, path), 0o755)
    }
    // Longest first: /usr/local/etc/rc.d holds /etc/rc.d.
    const moved = (snippet: string) =>
      [...dirs]
        .sort((a, b) => b.length - a.length)
        .reduce((t, d) => t.replaceAll(` ${d}`, ` ${root}${d}`).replaceAll(`=${d}`, `=${root}${d}`), snippet)
    const probe = (snippet: string) => {
      const out = sh(shell, moved(snippet))
      return { ...out, stdout: out.stdout.replaceAll(root, '') }
    }
    return { root, script, probe, done: () => rmSync(root, { recursive: true }) }
  }
  const lines = (out: ProbeResult) => out.stdout.trim().split('\n')

  it("FreeBSD: the port's openvpn names itself after its link, quagga's script does not (read, never run); link, other, none", () => {
    const s = scratch(['/etc/rc.d', '/usr/local/etc/rc.d'])
    try {
      // As rc.d scripts end: run_rc_command "$1" prints NAME_enable for rcvar.
      const rcvar = (name: string) =>
        `#!/bin/sh\nname=${name}\nrcvar=\${name}_enable\n[ "$1" = rcvar ] && echo "# $name" && echo "\${rcvar}=\\"NO\\""\n`
      // Run, either script would leave a mark: the probe only reads them.
      const mark = join(s.root, 'ran')
      const rc = (name: string) => `${rcvar(name)}: > ${mark}\n`
      s.script('/usr/local/etc/rc.d/openvpn', rc('$(basename "$0")'))
      s.script('/usr/local/etc/rc.d/quagga', rc("'quagga' # the daemon's name"))
      const probe = (base: string, name: string) => lines(s.probe(freebsd.services.instances.probe(base, name)))
      expect(probe('openvpn', 'openvpn_tap2')).toEqual(['base=1', 'dir=/usr/local/etc/rc.d', 'instance=none'])
      expect(probe('quagga', 'quagga_2')).toEqual([
        'base=1',
        'dir=/usr/local/etc/rc.d',
        'instance=none',
        "refuse=quagga's rc.d script does not name itself after the name it is run by (it sets name=…, so its rcvar run as quagga_2 is still quagga_enable)",
      ])
      expect(existsSync(mark)).toBe(false)
      expect(probe('ferry-no-such', 'ferry_no_such_2')).toEqual(['base=0', 'dir=/usr/local/etc/rc.d', 'instance=none'])
      symlinkSync('openvpn', join(s.root, '/usr/local/etc/rc.d/openvpn_tap2'))
      expect(probe('openvpn', 'openvpn_tap2')).toContain('instance=link')
      // A script of that name in the base system's rc.d, which service(8) would find first.
      s.script('/etc/rc.d/openvpn_tap3', rc('openvpn_tap3'))
      expect(probe('openvpn', 'openvpn_tap3')).toContain('instance=other')
    } finally {
      s.done()
    }
  })

  it('OpenBSD: a link to /etc/rc.d/bgpd (as seed 001 makes it) or to bgpd is the instance; anything else is not', () => {
    const s = scratch(['/etc/rc.d'])
    try {
      s.script('/etc/rc.d/bgpd', '#!/bin/ksh\n')
      const probe = (name: string) => lines(s.probe(openbsd.services.instances.probe('bgpd', name)))
      expect(probe('bgpd_rd1')).toEqual(['base=1', 'dir=/etc/rc.d', 'instance=none'])
      symlinkSync(join(s.root, '/etc/rc.d/bgpd'), join(s.root, '/etc/rc.d/bgpd_rd1'))
      // The scratch root is in the link itself here, so the probe compares it as the host would.
      expect(
        sh(shell, openbsd.services.instances.probe('bgpd', 'bgpd_rd1').replaceAll('/etc/rc.d', `${s.root}/etc/rc.d`))
          .stdout,
      ).toContain('instance=link')
      symlinkSync('bgpd', join(s.root, '/etc/rc.d/bgpd_rd2'))
      expect(probe('bgpd_rd2')).toContain('instance=link')
      symlinkSync('ospfd', join(s.root, '/etc/rc.d/bgpd_rd3'))
      expect(probe('bgpd_rd3')).toContain('instance=other')
    } finally {
      s.done()
    }
  })

  it('Linux without systemd: a script saying X-Ferry-Instances is linked; one that does not is refused; and frr here is refused for real', () => {
    const s = scratch(['/etc/init.d'])
    try {
      const header = (extra: string) => `#!/bin/sh\n### BEGIN INIT INFO\n# Provides: x\n${extra}### END INIT INFO\n`
      s.script('/etc/init.d/yes', header('# X-Ferry-Instances: yes\n'))
      s.script('/etc/init.d/no', `${header('')}# X-Ferry-Instances: yes (outside the header: not said)\n`)
      const probe = (base: string, name: string) => lines(s.probe(linux.services.instances.probe(base, name)))
      expect(probe('yes', 'yes@two')).toEqual(['dir=/etc/init.d', 'base=1', 'instance=none'])
      expect(probe('no', 'no@two')).toEqual([
        'dir=/etc/init.d',
        'base=1',
        'refuse=/etc/init.d/no does not say it names itself after the name it is run by ("# X-Ferry-Instances: yes" in its LSB header), so a link would run no itself again',
        'instance=none',
      ])
      symlinkSync('yes', join(s.root, '/etc/init.d/yes@two'))
      expect(probe('yes', 'yes@two')).toContain('instance=link')
    } finally {
      s.done()
    }
    // The machine's own FRR script runs one FRR per pathspace, given as an argument, not by name.
    const step = service('s', { name: 'frr@two', instanceOf: 'frr', enabled: true })
    expect(() => step.check(sh(shell, step.probe(linux)), ctx(linux))).toThrow(
      /frr@two cannot be an instance of frr: \/etc\/init\.d\/frr does not say it names itself after the name it is run by/,
    )
    const none = service('s', { name: 'ferry-no-such@two', instanceOf: 'ferry-no-such', enabled: true })
    expect(() => none.check(sh(shell, none.probe(linux)), ctx(linux))).toThrow(/service ferry-no-such does not exist/)
  })

  it('unlink removes the link only while it still points at the script', () => {
    const s = scratch(['/etc/rc.d'])
    try {
      const at = (n: string) => join(s.root, '/etc/rc.d', n)
      symlinkSync('bgpd', at('mine'))
      symlinkSync('ospfd', at('theirs'))
      writeFileSync(at('file'), 'x')
      for (const n of ['mine', 'theirs', 'file', 'missing']) sh(shell, unlinkIf(at(n), 'bgpd'))
      expect(existsSync(at('mine')) || spawnSync('test', ['-h', at('mine')]).status === 0).toBe(false)
      expect(spawnSync('test', ['-h', at('theirs')]).status).toBe(0)
      expect(readFileSync(at('file'), 'utf8')).toBe('x')
    } finally {
      s.done()
    }
  })
})

describe.each(allShells)('key=value file edits through %s', (shell) => {
  const scratch = () => mkdtempSync(join(tmpdir(), 'ferry-conf-'))
  const run = (script: string) => execFileSync(shell, ['-c', script], { encoding: 'utf8' })

  it('sets a key in place, once, keeping mode, comments and keys that merely share a prefix', () => {
    const dir = scratch()
    const f = join(dir, 'sysctl.conf')
    writeFileSync(
      f,
      '# net.inet.ip.forwarding=1 is what we want\nnet.inet.ip.forwarding_x = 3\n  net.inet.ip.forwarding = 0  # off\nkern.x=1\nnet.inet.ip.forwarding=0\n',
    )
    chmodSync(f, 0o600)
    run(editConf(f, 'net.inet.ip.forwarding', 'net.inet.ip.forwarding=1'))
    expect(readFileSync(f, 'utf8')).toBe(
      '# net.inet.ip.forwarding=1 is what we want\nnet.inet.ip.forwarding_x = 3\nnet.inet.ip.forwarding=1\nkern.x=1\n',
    )
    expect(statSync(f).mode & 0o777).toBe(0o600)
    expect(run(confValue(f, 'net.inet.ip.forwarding'))).toBe('saved=1\n')
    expect(run(confValue(f, 'net.inet.ip.forwarding_x'))).toBe('saved=3\n')
    rmSync(dir, { recursive: true })
  })

  it('removes a key; a file left empty goes; a missing file reads as unset', () => {
    const dir = scratch()
    const f = join(dir, '60-ferry.conf')
    expect(run(confValue(f, 'a.b'))).toBe('')
    run(editConf(f, 'a.b', 'a.b=1'))
    expect(readFileSync(f, 'utf8')).toBe('a.b=1\n')
    expect(statSync(f).mode & 0o777).toBe(0o644)
    run(editConf(f, 'a.b'))
    expect(existsSync(f)).toBe(false)
    rmSync(dir, { recursive: true })
  })

  it('writes a whole file atomically with the given mode, odd characters and all', () => {
    const dir = scratch()
    const f = join(dir, 'hostname.gre0')
    const lines = ['tunnel 198.51.100.1 203.0.113.2', "it's $HOME `x` \\n", '']
    run(writeFile(f, lines, 0o640))
    expect(readFileSync(f, 'utf8')).toBe(`${lines.join('\n')}\n`)
    expect(statSync(f).mode & 0o777).toBe(0o640)
    rmSync(dir, { recursive: true })
  })
})

describe.each(allShells)(
  'line: a new file where the probe sees no directory or a directory in its place, through %s',
  (shell) => {
    it('a missing directory is planned (made as file makes it), a directory at the path refused, an absent line in a missing file nothing', () => {
      const dir = mkdtempSync(join(tmpdir(), 'ferry-line-'))
      const plan = (path: string, state?: 'absent') => {
        const step = line('l', { path, line: 'x=1', state })
        return () => step.check(sh(shell, step.probe(linux)), ctx(linux)).map((c) => c.summary)
      }
      expect(plan(join(dir, 'frr/daemons'))()).toEqual([
        `create directory ${dir}/frr (mode 0755)`,
        `create ${dir}/frr/daemons`,
      ])
      expect(plan(join(dir, 'frr/daemons'), 'absent')()).toEqual([])
      mkdirSync(join(dir, 'frr/daemons'), { recursive: true })
      expect(plan(join(dir, 'frr/daemons'))).toThrow(`${dir}/frr/daemons is a directory`)
      writeFileSync(join(dir, 'frr/vtysh.conf'), 'x=0\n')
      expect(plan(join(dir, 'frr/vtysh.conf'))()).toEqual([`add line to ${dir}/frr/vtysh.conf`])
      expect(plan(join(dir, 'frr/new.conf'))()).toEqual([`create ${dir}/frr/new.conf`])
      rmSync(dir, { recursive: true })
    })
  },
)
