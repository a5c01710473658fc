// The route step and the Linux boot configuration it shares with iface, beyond the goldens: what
// is refused when a runbook is built, what a plan may count on (an earlier step's interface or
// fib), and the probes and commands run for real. Linux ones run in private namespaces (a network
// namespace for the routes, a mount namespace with tmpfs over /etc/network and /etc/systemd, so
// ifupdown's and networkd's files are written for real and the probe decides between them);
// the BSDs' `route -n get` is answered by a shell function printing what route(8) prints.

import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { route } from '../../src/steps/route.ts'
import { iface } from '../../src/steps/iface.ts'
import { linux } from '../../src/platform/linux.ts'
import { freebsd } from '../../src/platform/freebsd.ts'
import { openbsd } from '../../src/platform/openbsd.ts'
import { StepError, type CheckContext, type ProbeResult, type Step } from '../../src/steps/step.ts'
import type { Platform } from '../../src/platform/platform.ts'

const ctx = (platform: Platform, pending: string[] = []): CheckContext => ({
  host: {} as CheckContext['host'],
  platform,
  pending: new Set(pending),
})
const out = (stdout: string): ProbeResult => ({ stdout, code: 0 })

describe('route: refused at build time', () => {
  it.each([
    ['a network with host bits', { to: '10.1.2.0/16', via: '192.0.2.1' }, /10\.1\.2\.0\/16 has host bits set/],
    ['a bad octet', { to: '10.1.0.256', via: '192.0.2.1' }, /to must be default, an IPv4 address or an IPv4 network/],
    ['a prefix over 32', { to: '10.1.0.0/33', via: '192.0.2.1' }, /to must be default/],
    ['a name', { to: 'office-b', via: '192.0.2.1' }, /to must be default/],
    ['a gateway by name', { to: '10.1.0.0/16', via: 'gw' }, /via must be an IPv4 address/],
    ['a blackhole with a gateway', { to: '10.1.0.0/16', via: '192.0.2.1', type: 'blackhole' }, /has no gateway/],
    ['nothing to route by', { to: '10.1.0.0/16' }, /needs via, dev or type/],
    ['a table that is no number', { to: '10.1.0.0/16', via: '192.0.2.1', table: 1.5 }, /table is a whole number/],
    ['a dev with a space', { to: '10.1.0.0/16', dev: 'gre 1' }, /not an interface name \(dev\)/],
    ['an unknown type', { to: '10.1.0.0/16', type: 'prohibit' }, /type is blackhole or reject/],
  ] as const)('%s', (_what, opts, message) => {
    const build = () => route('r', opts as Parameters<typeof route>[1])
    expect(build).toThrow(StepError)
    expect(build).toThrow(message)
  })

  it('0.0.0.0/0 is the default route, a bare address a /32; absent needs no target', () => {
    const plan = (step: Step<unknown>, stdout: string) => step.check(out(stdout), ctx(linux)).map((c) => c.summary)
    expect(plan(route('r', { to: '0.0.0.0/0', via: '192.0.2.1', persist: false }), '')).toEqual([
      'default: (none) → via 192.0.2.1',
    ])
    expect(plan(route('r', { to: '192.0.2.7', dev: 'eth0', persist: false }), '')).toEqual([
      '192.0.2.7: (none) → dev eth0',
    ])
    expect(plan(route('r', { to: '10.9.0.0/16', state: 'absent', persist: false }), 'route=blackhole\n')).toEqual([
      '10.9.0.0/16: blackhole → (none)',
    ])
  })
})

describe('route: resources and what a plan may count on', () => {
  it('touches its destination in its table, and the interface whose file keeps it', () => {
    expect(route('r', { to: '10.1.0.0/16', via: '192.0.2.1', dev: 'gre1', table: 100 })).toMatchObject({
      touches: ['route:100:10.1.0.0/16', 'if:gre1'],
      reads: ['route:100:10.1.0.0/16', 'if:gre1'],
      risky: true,
    })
    expect(route('r', { to: 'default', via: '192.0.2.1', dev: 'em0', persist: false })).toMatchObject({
      touches: ['route:main:default'],
    })
    expect(route('r', { to: '10.0.0.0/8', type: 'blackhole', iface: 'lo1', table: 0 })).toMatchObject({
      touches: ['route:main:10.0.0.0/8', 'if:lo1'],
    })
  })

  it("plans against an earlier iface step's file, and a fib an earlier sysctl step may add; refuses without them", () => {
    const tap = route('r', { to: '10.99.0.0/16', via: '10.255.2.2', dev: 'tap0' })
    const nosave = 'nosave=tap0 has no file in /etc/network/interfaces.d (give it an iface step)\n'
    expect(() => tap.check(out(nosave), ctx(linux))).toThrow(/cannot be configured for boot: tap0 has no file/)
    expect(tap.check(out(nosave), ctx(linux, ['if:tap0'])).map((c) => c.summary)).toEqual([
      '10.99.0.0/16: (none) → via 10.255.2.2 dev tap0',
      '10.99.0.0/16 at boot: /etc/network/interfaces.d/tap0',
    ])
    const fib = route('r', { to: 'default', via: '192.0.2.1', table: 2, persist: false })
    const cannot = 'cannot=fib 2 does not exist: net.fibs is 1\n'
    expect(() => fib.check(out(cannot), ctx(freebsd))).toThrow(/^default \(table 2\): fib 2 does not exist/)
    expect(fib.check(out(cannot), ctx(freebsd, ['sysctl:net.fibs']))).toHaveLength(1)
  })

  it('refuses what an OS cannot keep as asked', () => {
    const check = (p: Platform, opts: Parameters<typeof route>[1]) => () => route('r', opts).check(out(''), ctx(p))
    expect(check(linux, { to: '10.1.0.0/16', via: '192.0.2.1', dev: 'lo1' })).toThrow(/lo1 is a loopback alias/)
    expect(check(linux, { to: '10.1.0.0/16', via: '192.0.2.1', dev: 'eth0', iface: 'gre1' })).toThrow(
      /a route kept with gre1 leaves by gre1 at boot, not by eth0/,
    )
    expect(check(openbsd, { to: '10.1.0.0/16', via: '192.0.2.1' })).toThrow(/give dev or iface, or set persist: false/)
    expect(check(openbsd, { to: '10.1.0.0/16', via: '192.0.2.1', dev: 'em0', table: 256 })).toThrow(/no rtable 256/)
    expect(check(freebsd, { to: '10.1.0.0/16', via: '192.0.2.1', table: 70000 })).toThrow(/no fib 70000/)
    // FreeBSD keeps routes in rc.conf, whatever the interface.
    expect(check(freebsd, { to: '10.1.0.0/16', via: '192.0.2.1' })()).toHaveLength(2)
  })
})

/** Defines shell functions standing in for BSD commands, then runs the snippet. */
const withFakes = (fakes: string, snippet: string) => `${fakes}\n${snippet}`
const shells = ['/bin/sh', '/bin/dash', '/bin/mksh'].filter((s) => existsSync(s))
const sh = (shell: string, script: string) => spawnSync(shell, ['-c', script], { encoding: 'utf8' }).stdout

describe.each(shells)("the BSDs' route -n get, read through %s", (shell) => {
  // FreeBSD 14 prints `gateway:` only for a route with one (RTF_GATEWAY); OpenBSD also prints the
  // interface's address and the route's priority.
  const answer = (lines: string) => `route() { cat <<'EOF'\n${lines}\nEOF\n}`
  const freebsdRoute = `   route to: 10.2.0.0
destination: 10.2.0.0
       mask: 255.255.0.0
    gateway: 172.16.2.2
        fib: 1
  interface: tap0
      flags: <UP,GATEWAY,DONE,STATIC>
 recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire
       0         0         0         0      1500         1         0`
  const openbsdBlackhole = `   route to: 10.0.0.0
destination: 10.0.0.0
       mask: 255.0.0.0
    gateway: 127.0.0.1
  interface: lo0
 if address: 127.0.0.1
   priority: 8 (static)
      flags: <UP,GATEWAY,DONE,STATIC,BLACKHOLE>
     use       mtu    expire
       0     32768         0`
  const defaultRoute = `   route to: default
destination: default
       mask: default
    gateway: 198.51.100.1
  interface: em0
      flags: <UP,GATEWAY,DONE,STATIC>`
  const viaTunnel = `   route to: 10.0.0.2
destination: 10.0.0.2
  interface: gre0
      flags: <UP,HOST,DONE,STATIC>`

  it.each([
    [
      'FreeBSD, a gateway route in fib 1',
      freebsd,
      { to: '10.2.0.0/16', via: '172.16.2.2', table: 1 },
      freebsdRoute,
      'route=via 172.16.2.2 dev tap0\n',
    ],
    ['OpenBSD, a blackhole', openbsd, { to: '10.0.0.0/8', type: 'blackhole' }, openbsdBlackhole, 'route=blackhole\n'],
    [
      'a default route',
      freebsd,
      { to: 'default', via: '198.51.100.1' },
      defaultRoute,
      'route=via 198.51.100.1 dev em0\n',
    ],
    ['FreeBSD, a host route on an interface', freebsd, { to: '10.0.0.2', dev: 'gre0' }, viaTunnel, 'route=dev gre0\n'],
    // The kernel answers a lookup with the best route it has: not the one asked for.
    [
      'only the default route, asked for 10.2.0.0/16',
      openbsd,
      { to: '10.2.0.0/16', via: '172.16.2.2' },
      defaultRoute,
      '',
    ],
    ['10.2.0.0/16, asked for 10.2.0.0/24', freebsd, { to: '10.2.0.0/24', via: '172.16.2.2' }, freebsdRoute, ''],
  ] as const)('%s', (_what, platform, opts, printed, want) => {
    const step = route('r', { ...opts, persist: false } as Parameters<typeof route>[1])
    // Two fibs, so fib 1 is there.
    expect(sh(shell, withFakes(`${answer(printed)}\nsysctl() { echo 2; }`, step.probe(platform)))).toBe(want)
  })
})

const root = process.getuid?.() === 0 && spawnSync('unshare', ['-mn', 'true']).status === 0

/**
 * Runs scripts one after another in one private network and mount namespace, with tmpfs over
 * /etc/network and /etc/systemd (then holding only what `layout` makes), printing a mark between
 * them; returns each script's stdout.
 */
function inNamespace(layout: string, scripts: string[]): string[] {
  const mark = '---ferry---'
  const setup = [
    'ip link set lo up',
    'mount -t tmpfs tmpfs /etc/network && mount -t tmpfs tmpfs /etc/systemd',
    layout,
    'ip tuntap add dev tap0 mode tap && ip addr add 10.255.2.1/30 dev tap0 && ip link set tap0 up',
  ]
  const r = spawnSync(
    'unshare',
    ['-mn', 'sh', '-ec', [...setup, ...scripts.flatMap((s) => [s, `echo ${mark}`])].join('\n')],
    {
      encoding: 'utf8',
    },
  )
  expect(r.stderr).toBe('')
  expect(r.status, r.stdout).toBe(0)
  return r.stdout.split(`${mark}\n`).slice(0, scripts.length)
}

describe.skipIf(!root)('Linux: routes and boot files for real, in private namespaces', () => {
  const tableRoute = route('r', { to: '10.99.0.0/16', via: '10.255.2.2', dev: 'tap0', table: 100 })
  const blackhole = route('r', { to: '10.98.0.0/16', type: 'blackhole', iface: 'lo1', table: 100 })
  const lo1 = iface('i', { name: 'lo1', kind: 'loopback', addresses: ['10.0.0.1/32'] })

  it('the probe picks ifupdown where /etc/network/interfaces.d is, else networkd where /etc/systemd/network is, else neither', () => {
    const probe = lo1.probe(linux)
    const [ifupdown, both, networkd, neither] = [
      'mkdir /etc/network/interfaces.d',
      'mkdir /etc/network/interfaces.d /etc/systemd/network',
      'mkdir /etc/systemd/network',
      ':',
    ].map((layout) => inNamespace(layout, [probe])[0]!)
    // networkd does not run here, and ifupdown's directory was there first: ifupdown, as before.
    expect(ifupdown).toBe('exists=0\nup=1\n')
    expect(both).toBe('exists=0\nup=1\n')
    expect(networkd).toBe('exists=0\nup=1\nnetconfig=networkd\n')
    expect(neither).toBe(
      'exists=0\nup=1\nnosave=neither /etc/network/interfaces.d (ifupdown) nor /etc/systemd/network (systemd-networkd) is here\n',
    )
  })

  it("networkd: lo1 and a blackhole kept with it are written, read back in sync, and removed with lo's .network last", () => {
    // The platform's lines, as the steps build them: apply for lo1 then the route, undo in reverse.
    const loWant = { exists: true, up: true, addresses: ['10.0.0.1/32'] }
    const loNone = { exists: false, up: true, addresses: [] }
    const spec = { name: 'lo1', kind: 'loopback' as const }
    const rSpec = { to: '10.98.0.0/16', type: 'blackhole' as const, table: 100, persist: true, iface: 'lo1' }
    const loFiles = linux.interfaces.render(spec, loWant, [], 'networkd')
    const rFiles = linux.routes.render(rSpec, { type: 'blackhole' }, [], 'networkd')
    const apply = [
      ...linux.interfaces.change(spec, loNone, loWant),
      ...linux.interfaces.save(spec, loFiles, [], 'networkd'),
      ...linux.routes.change(rSpec, undefined, { type: 'blackhole' }),
      ...linux.routes.save(rSpec, rFiles, [], 'networkd'),
    ].join('\n')
    const undo = [
      ...linux.routes.change(rSpec, { type: 'blackhole' }, undefined),
      ...linux.routes.save(rSpec, [], rFiles, 'networkd'),
      ...linux.interfaces.change(spec, loWant, loNone),
      ...linux.interfaces.save(spec, [], loFiles, 'networkd'),
    ].join('\n')
    const files =
      'find /etc/systemd/network | sort; cat /etc/systemd/network/50-ferry-lo.network.d/*.conf 2>/dev/null || true'
    const [before, applied, loProbe, rProbe, , undone] = inNamespace('mkdir /etc/systemd/network', [
      files,
      `${apply}\n${files}`,
      lo1.probe(linux),
      blackhole.probe(linux),
      undo,
      `${files}\n${lo1.probe(linux)}\n${blackhole.probe(linux)}`,
    ])
    expect(before).toBe('/etc/systemd/network\n')
    expect(applied).toBe(
      [
        '/etc/systemd/network',
        '/etc/systemd/network/50-ferry-lo.network',
        '/etc/systemd/network/50-ferry-lo.network.d',
        '/etc/systemd/network/50-ferry-lo.network.d/ferry-route-10.98.0.0_16-table100.conf',
        '/etc/systemd/network/50-ferry-lo.network.d/lo1.conf',
        '# 10.98.0.0/16 (table 100), managed by ferry',
        '[Route]',
        'Type=blackhole',
        'Destination=10.98.0.0/16',
        'Table=100',
        '# lo1, managed by ferry',
        '[Address]',
        'Address=10.0.0.1/32',
        'Label=lo:1',
        '',
      ].join('\n'),
    )
    // Read back by the steps' own probes: nothing left to do.
    expect(lo1.check(out(loProbe!), ctx(linux))).toEqual([])
    expect(blackhole.check(out(rProbe!), ctx(linux))).toEqual([])
    expect(undone).toBe(
      '/etc/systemd/network\nexists=0\nup=1\nnetconfig=networkd\nnetconfig=networkd\nnosave=lo1 has no /etc/systemd/network/50-ferry-lo.network (give it an iface step)\n',
    )
  })

  it('networkd: tap0 removed takes the drop-in of the route kept with it (the probe lists it with its files)', () => {
    const spec = { name: 'tap0', kind: 'tap' as const }
    const want = { exists: true, up: true, addresses: ['10.255.2.1/30'] }
    const tap0 = iface('i', { name: 'tap0', kind: 'tap', addresses: ['10.255.2.1/30'] })
    const rSpec = { to: '10.99.0.0/16', via: '10.255.2.2', dev: 'tap0', persist: true }
    const rWant = { via: '10.255.2.2', dev: 'tap0' }
    const made = [
      'mkdir /etc/systemd/network',
      ...linux.interfaces.save(spec, linux.interfaces.render(spec, want, [], 'networkd'), [], 'networkd'),
      ...linux.routes.save(rSpec, linux.routes.render(rSpec, rWant, [], 'networkd'), [], 'networkd'),
    ].join('\n')
    const [probed] = inNamespace(made, [tap0.probe(linux)])
    // In sync, the route's drop-in kept as it is.
    expect(tap0.check(out(probed!), ctx(linux))).toEqual([])
    const saved = probed!.split('\n').flatMap((l) => (l.startsWith('saved=') ? [l.slice(6)] : []))
    expect(saved).toContain('==> /etc/systemd/network/50-ferry-tap0.network.d/ferry-route-10.99.0.0_16.conf <==')
    const [left] = inNamespace(made, [
      [...linux.interfaces.save(spec, [], saved, 'networkd'), 'find /etc/systemd/network'].join('\n'),
    ])
    expect(left).toBe('/etc/systemd/network\n')
  })

  it("ifupdown: a route in table 100 goes live and into tap0's stanza, in sync after, and leaves no trace", () => {
    const stanza = [
      '# tap0, managed by ferry',
      'auto tap0',
      'iface tap0 inet manual',
      '    up ip addr add 10.255.2.1/30 dev tap0',
    ]
    const layout = `mkdir /etc/network/interfaces.d && printf '%s\\n' ${stanza.map((l) => `'${l}'`).join(' ')} > /etc/network/interfaces.d/tap0`
    const spec = { to: '10.99.0.0/16', via: '10.255.2.2', dev: 'tap0', table: 100, persist: true }
    const want = { via: '10.255.2.2', dev: 'tap0' }
    const saved = linux.routes.render(spec, want, [], undefined)
    const apply = [...linux.routes.change(spec, undefined, want), ...linux.routes.save(spec, saved, [])].join('\n')
    const undo = [...linux.routes.change(spec, want, undefined), ...linux.routes.save(spec, [], saved)].join('\n')
    const show = '{ ip -4 route show table 100 2>/dev/null || :; }; cat /etc/network/interfaces.d/tap0'
    const [before, applied, probed, , undone] = inNamespace(layout, [
      show,
      `${apply}\n${show}`,
      tableRoute.probe(linux),
      undo,
      show,
    ])
    expect(applied).toBe(
      `10.99.0.0/16 via 10.255.2.2 dev tap0 proto static linkdown \n${stanza.join('\n')}\n    up ip route replace 10.99.0.0/16 via 10.255.2.2 dev tap0 table 100 proto static\n    down ip route del 10.99.0.0/16 table 100\n`,
    )
    expect(tableRoute.check(out(probed!), ctx(linux))).toEqual([])
    expect(undone).toBe(before)
  })

  const NETWORKD = '/lib/systemd/systemd-networkd'
  // Skipped only off CI, where a machine may lack systemd; on CI a skip would hide a failure.
  it.skipIf(!existsSync(NETWORKD) && process.env.CI !== 'true')(
    "systemd-networkd itself (Debian's) brings up from ferry's files alone what the steps then find in sync",
    () => {
      const lo = { name: 'lo1', kind: 'loopback' as const }
      const loWant = { exists: true, up: true, addresses: ['10.0.0.1/32', '10.0.0.2/32'] }
      const routes = [
        { to: '10.98.0.0/16', type: 'blackhole' as const, table: 100, persist: true, iface: 'lo1' },
        { to: '10.97.0.0/16', type: 'reject' as const, persist: true, iface: 'lo1' },
      ]
      const steps = [iface('i', { ...lo, addresses: loWant.addresses }), ...routes.map((r) => route('r', r))]
      const files = [
        ...linux.interfaces.save(lo, linux.interfaces.render(lo, loWant, [], 'networkd'), [], 'networkd'),
        ...routes.flatMap((r) =>
          linux.routes.save(r, linux.routes.render(r, { type: r.type }, [], 'networkd'), [], 'networkd'),
        ),
      ]
      const wanted = `[ "$(ip -4 -o addr show dev lo label lo:1 | wc -l)" -eq 2 ] && ip route show table 100 | grep -q 10.98 && ip route | grep -q 10.97`
      const script = [
        'ip link set lo up',
        // A boot with only ferry's files: no udev (a read-only /sys says so), no D-Bus.
        'mount -t tmpfs tmpfs /etc/systemd && mkdir /etc/systemd/network && mount -t tmpfs tmpfs /run && mount -t sysfs -o ro sysfs /sys',
        ...files,
        `${NETWORKD} >/dev/null 2>&1 & p=$!`,
        `i=0; until ${wanted} || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done`,
        'kill $p; wait $p || :',
        "ip -4 -o addr show dev lo | awk '{ print $4 }'; ip -4 -o addr show dev lo label lo:1 | awk '{ print $4 }'",
        ...steps.map((s) => `echo ---; ${s.probe(linux)}`),
      ].join('\n')
      const r = spawnSync('unshare', ['-mn', 'sh', '-ec', script], { encoding: 'utf8' })
      expect(r.status, r.stderr).toBe(0)
      const [addresses, ...probes] = r.stdout.split('---\n')
      // lo keeps its own address (KeepConfiguration=static); lo1's are back, labelled.
      expect(addresses).toBe('127.0.0.1/8\n10.0.0.1/32\n10.0.0.2/32\n10.0.0.1/32\n10.0.0.2/32\n')
      steps.forEach((step, i) => expect(step.check(out(probes[i]!), ctx(linux)), step.kind).toEqual([]))
    },
  )
})
