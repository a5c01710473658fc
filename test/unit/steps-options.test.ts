// What the step factories refuse when a runbook is built, before any host is contacted, and the
// resource keys the engine orders re-probes by.

import { describe, expect, it } from 'vitest'
import { line } from '../../src/steps/line.ts'
import { sysctl } from '../../src/steps/sysctl.ts'
import { pkg } from '../../src/steps/pkg.ts'
import { service } from '../../src/steps/service.ts'
import { iface } from '../../src/steps/iface.ts'
import { file } from '../../src/steps/file.ts'
import { directory } from '../../src/steps/directory.ts'
import { link } from '../../src/steps/link.ts'
import { ANYTHING, StepError, type CheckContext } from '../../src/steps/step.ts'
import { platformFor } from '../../src/platform/platform.ts'

describe('refused at build time', () => {
  it.each([
    ['line: relative path', () => line('x', { path: 'etc/hosts', line: 'a' }), /path must be absolute/],
    ['line: two lines', () => line('x', { path: '/etc/hosts', line: 'a\nb' }), /single line/],
    // Parents are found by cutting the path at `/`: it must be written the one way.
    ['file: a trailing slash', () => file('x', { path: '/etc/ceo/', content: '' }), /absolute and normal/],
    ['file: a ..', () => file('x', { path: '/etc/ceo/../a.conf', content: '' }), /absolute and normal/],
    ['file: a dirOwner with a space', () => file('x', { path: '/etc/a', content: '', dirOwner: 'a b' }), /dirOwner/],
    ['directory: /', () => directory('x', { path: '/' }), /absolute and normal/],
    [
      'directory: the group twice',
      () => directory('x', { path: '/srv', owner: 'www:www', group: 'www' }),
      /group in owner \(user:group\) or in group, not both/,
    ],
    ['directory: no backups', () => directory('x', { path: '/srv', backups: 0 }), /backups/],
    ['link: relative path', () => link('x', { path: 'etc/localtime', target: '/x' }), /absolute and normal/],
    ['link: a target like an option', () => link('x', { path: '/etc/a', target: '-rf' }), /write \.\/-x/],
    ['link: a target of two lines', () => link('x', { path: '/etc/a', target: 'a\nb' }), /one line/],
    ['sysctl: a key with a space', () => sysctl('x', { key: 'net.inet ip', value: '1' }), /not a sysctl key/],
    ['sysctl: an empty value', () => sysctl('x', { key: 'net.inet.ip.forwarding', value: ' ' }), /one-line value/],
    ['pkg: a shell word', () => pkg('x', { name: ['frr', 'frr; reboot'] }), /not a package name: "frr; reboot"/],
    ['pkg: no names', () => pkg('x', { name: [] }), /not a package name/],
    ['service: a path', () => service('x', { name: '../frr' }), /not a service name/],
    // A cluster manager's service: its running state and boot are not ferry's to set.
    [
      'service: held, and started by ferry',
      () => service('x', { name: 'frr', heldBy: 'heartbeat', state: 'running' }),
      /frr is held by heartbeat, which starts and stops it: state running is not ferry's/,
    ],
    [
      'service: held, and stopped by ferry',
      () => service('x', { name: 'frr', heldBy: 'heartbeat', state: 'stopped' }),
      /state stopped is not ferry's/,
    ],
    [
      'service: held, and started at boot',
      () => service('x', { name: 'frr', heldBy: 'heartbeat', enabled: true }),
      /frr is held by heartbeat: started at boot, it would run beside heartbeat's choice/,
    ],
    [
      'service: held by a shell word',
      () => service('x', { name: 'frr', heldBy: 'a;b' }),
      /not a cluster manager's name/,
    ],
    [
      'service: a var named enable',
      () => service('x', { name: 'quagga', vars: { enable: 'YES' } }),
      /not a service variable: "enable" \(use enabled\)/,
    ],
    [
      'service: a var that is no shell name',
      () => service('x', { name: 'quagga', vars: { 'daemons; x': 'zebra' } }),
      /not a service variable/,
    ],
    [
      'iface: a bare address',
      () => iface('x', { name: 'lo1', kind: 'loopback', addresses: ['10.0.0.1'] }),
      /neither IPv4 CIDR/,
    ],
    [
      'iface: a bad octet',
      () => iface('x', { name: 'lo1', kind: 'loopback', addresses: ['10.0.0.256/32'] }),
      /neither IPv4 CIDR/,
    ],
    ['iface: gre without a tunnel', () => iface('x', { name: 'gre0', kind: 'gre' }), /a gre interface needs a tunnel/],
    [
      'iface: a tunnel on a tap',
      () => iface('x', { name: 'tap0', kind: 'tap', tunnel: { local: '192.0.2.1', remote: '192.0.2.2' } }),
      /only a gre interface takes a tunnel/,
    ],
    [
      'iface: a hostname as endpoint',
      () => iface('x', { name: 'gre0', kind: 'gre', tunnel: { local: 'me', remote: '192.0.2.2' } }),
      /endpoints must be IPv4/,
    ],
    [
      'iface: a name with a slash',
      () => iface('x', { name: 'gre/0', kind: 'gre', tunnel: { local: '192.0.2.1', remote: '192.0.2.2' } }),
      /not an interface name/,
    ],
    ['iface: a vlan without its tag', () => iface('x', { name: 'vlan6', kind: 'vlan' }), /a vlan interface needs vlan/],
    [
      'iface: a tag on a loopback',
      () => iface('x', { name: 'lo1', kind: 'loopback', vlan: { id: 6, parent: 'ix0' } }),
      /only a vlan interface takes vlan/,
    ],
    [
      'iface: vlan id 4095',
      () => iface('x', { name: 'vlan6', kind: 'vlan', vlan: { id: 4095, parent: 'ix0' } }),
      /a vlan id is a whole number from 1 to 4094: 4095/,
    ],
    [
      'iface: a parent with a space',
      () => iface('x', { name: 'vlan6', kind: 'vlan', vlan: { id: 6, parent: 'ix0 up' } }),
      /not an interface name \(vlan parent\)/,
    ],
    ['iface: domain 256', () => iface('x', { name: 'lo1', kind: 'loopback', domain: 256 }), /from 0 to 255: 256/],
    ['iface: a vrf with no domain', () => iface('x', { name: 'vrf1', kind: 'vrf' }), /a vrf interface says its domain/],
    [
      'iface: a description that a shell would read',
      () => iface('x', { name: 'lo1', kind: 'loopback', description: 'C1"; reboot' }),
      /a description is 1 to 64 letters/,
    ],
  ])('%s', (_what, build, message) => {
    expect(build).toThrow(StepError)
    expect(build).toThrow(message)
  })

  it('accepts point-to-point addresses with any spacing, normalised', () => {
    const step = iface('x', {
      name: 'gre0',
      kind: 'gre',
      tunnel: { local: '192.0.2.1', remote: '192.0.2.2' },
      addresses: [' 172.16.2.1   peer 172.16.2.2 '],
    })
    expect(step.kind).toBe('iface')
    // Normalised: the address reads as the probe prints it (src/platform/linux.ts's `addr=A peer B`),
    // so an interface holding it needs no change, and one without it gets it single-spaced.
    // (gre1: Linux refuses to configure gre0.)
    const linux = platformFor('linux')
    const ctx: CheckContext = { host: {} as CheckContext['host'], platform: linux, pending: new Set() }
    const gre1 = iface('x', {
      name: 'gre1',
      kind: 'gre',
      tunnel: { local: '192.0.2.1', remote: '192.0.2.2' },
      addresses: [' 172.16.2.1   peer 172.16.2.2 '],
      persist: false,
    })
    expect(
      gre1.check(
        { stdout: 'exists=1\nup=1\naddr=172.16.2.1 peer 172.16.2.2\ntunnel=192.0.2.1 192.0.2.2\n', code: 0 },
        ctx,
      ),
    ).toEqual([])
    expect(gre1.check({ stdout: 'exists=1\nup=1\ntunnel=192.0.2.1 192.0.2.2\n', code: 0 }, ctx)).toEqual([
      { summary: 'gre1: add 172.16.2.1 peer 172.16.2.2' },
    ])
  })
})

describe('resource keys', () => {
  it('a package install may change anything; the others name what they touch', () => {
    expect(pkg('x', { name: ['frr', 'openvpn'] })).toMatchObject({
      touches: [ANYTHING, 'pkg:frr', 'pkg:openvpn'],
      reads: ['pkg:frr', 'pkg:openvpn'],
    })
    // A service also reads its script or unit: one written earlier in the run makes it probe again.
    expect(service('x', { name: 'frr', state: 'reloaded' })).toMatchObject({
      touches: ['service:frr'],
      reads: [
        'service:frr',
        'file:/etc/init.d/frr',
        'file:/etc/rc.d/frr',
        'file:/usr/local/etc/rc.d/frr',
        'file:/etc/systemd/system/frr.service',
      ],
    })
    expect(sysctl('x', { key: 'net.inet.ip.forwarding', value: '1' })).toMatchObject({
      touches: ['sysctl:net.inet.ip.forwarding'],
    })
    expect(iface('x', { name: 'lo1', kind: 'loopback' })).toMatchObject({ touches: ['if:lo1'], reads: ['if:lo1'] })
    // What may make parents touches every directory above, and reads them, so a step that makes
    // one makes the probe stale (and the parent is not this step's to undo); so do owners.
    expect(file('x', { path: '/etc/ceo/a.conf', content: '', owner: 'ceo:adm', dirOwner: '0' })).toMatchObject({
      touches: ['file:/etc/ceo/a.conf', 'dir:/etc', 'dir:/etc/ceo'],
      reads: ['file:/etc/ceo/a.conf', 'dir:/etc', 'dir:/etc/ceo', 'user:ceo', 'group:adm'],
    })
    expect(file('x', { path: '/etc/ceo/a.conf', state: 'absent' })).toMatchObject({
      touches: ['file:/etc/ceo/a.conf'],
      reads: ['file:/etc/ceo/a.conf'],
    })
    expect(directory('x', { path: '/srv/www', owner: 'www-data' })).toMatchObject({
      touches: ['dir:/srv/www', 'dir:/srv'],
      reads: ['dir:/srv/www', 'dir:/srv', 'user:www-data'],
    })
    expect(link('x', { path: '/etc/nginx/sites-enabled/a', target: '../sites-available/a' })).toMatchObject({
      touches: ['file:/etc/nginx/sites-enabled/a', 'dir:/etc', 'dir:/etc/nginx', 'dir:/etc/nginx/sites-enabled'],
      reads: [
        'file:/etc/nginx/sites-enabled/a',
        'dir:/etc',
        'dir:/etc/nginx',
        'dir:/etc/nginx/sites-enabled',
        'file:/etc/nginx/sites-available/a',
        'dir:/etc/nginx/sites-available/a',
      ],
    })
    expect(line('x', { path: '/etc/hosts', line: 'a', notify: 'h', risky: true })).toMatchObject({
      touches: ['file:/etc/hosts', 'dir:/etc'],
      reads: ['file:/etc/hosts', 'dir:/etc'],
      notify: ['h'],
      risky: true,
    })
  })
})

describe('parents a step records as its own', () => {
  // A risky step's record is taken when the revert job is armed, against the plan's probe: the
  // OpenVPN directory deploy-mesh's `directory` step makes was also in each key file's record,
  // and both undos removed it (the second failed).
  const probe = { stdout: 'missing=/etc/openvpn/ferry\nbase=drwxr-xr-x 0\nme=0\n', code: 1 }
  const ctx = (pending: string[]): CheckContext => ({
    host: { name: 'h', os: 'linux', vars: {} } as unknown as CheckContext['host'],
    platform: platformFor('linux'),
    pending: new Set(pending),
  })
  it.each([
    ['file', file('k', { path: '/etc/openvpn/ferry/mesh.key', content: 'x' })],
    ['link', link('k', { path: '/etc/openvpn/ferry/current', target: 'mesh.key', force: true })],
    ['directory', directory('k', { path: '/etc/openvpn/ferry/ccd' })],
  ])('%s: not one an earlier step makes (dir: pending), which that step undoes', (_, step) => {
    expect(step.record(probe, ctx([]))).toMatchObject({ created: ['/etc/openvpn/ferry'] })
    expect(step.record(probe, ctx(['dir:/etc/openvpn/ferry']))).not.toHaveProperty('created')
  })
})

describe("a service held by a cluster manager (seed 002's Heartbeat)", () => {
  const linux = platformFor('linux')
  const ctx = { platform: linux, pending: new Set<string>() } as unknown as CheckContext
  const held = service('frr', { name: 'frr', heldBy: 'heartbeat' })
  const probe = (enabled: number, running: number) => ({
    stdout: `exists=1\nenabled=${enabled}\nrunning=${running}\nlinks=1\n`,
    code: 0,
  })

  it('a second run and drift: running or stopped, the active node and the standby alike are in sync', () => {
    expect(held.check(probe(0, 1), ctx)).toEqual([])
    expect(held.check(probe(0, 0), ctx)).toEqual([])
  })

  it('enabled at boot (as Debian installs it) is a change, shown with whose running state it is', () => {
    expect(held.check(probe(1, 0), ctx).map((c) => c.summary)).toEqual(['disable frr', "running: heartbeat's"])
  })

  it('what is put back is the boot setting only: the revert job never stops or starts the daemon', () => {
    const record = held.record(probe(1, 0), ctx)
    expect(record).toMatchObject({ enabled: true, running: false })
    // The revert job's lines: enable again, nothing about running.
    expect(held.revert!(record, linux)).toEqual([
      'if [ -d /run/systemd/system ]; then systemctl enable frr; else update-rc.d frr defaults && update-rc.d frr enable; fi',
    ])
  })
})
