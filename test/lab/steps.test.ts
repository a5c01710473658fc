// Each built-in step type on a Linux lab host, through the real CLI (issue 3). file, command and
// verify are covered by engine.test.ts through twelve.ts; these are the others (iface twice: a
// loopback alias and a tap device). Each of those tests makes the same moves, on one step of
// test/fixtures/runbooks/steps-linux.ts:
//
//   1. snapshot the state the step may touch, read from outside: nsenter, not ssh or a probe;
//   2. `ferry run` changes the host, reports exactly those changes, and the host really changed;
//   3. a second run changes nothing;
//   4. drift by hand, then `--dry-run` exits 2 with exactly that drift, written out literally here,
//      and changes nothing;
//   5. a run repairs the drift (or the boot configuration does), and `ferry rollback`, newest run
//      first, puts back the snapshot exactly.
//
// The last two are plans that refuse: iface on a host with neither ifupdown nor networkd, and a
// step of each type whose apply would fail for a reason its probe sees. Each test puts its host
// back in `finally`, whatever failed, so the other lab tests start clean.
import { beforeAll, describe, expect } from 'vitest'
import { execFileSync } from 'node:child_process'
import { addRepo, copyInto, debFile, debs, removeRepo } from './apt-repo.ts'
import {
  installDummyService,
  labIt as it,
  removeDummyService,
  runbookRunner,
  sh,
  type RunOut,
  type StepReport,
} from './helpers.ts'

const RUNBOOK = 'test/fixtures/runbooks/steps-linux.ts'
/** Fetched once for the file: pkg installs hello, iface unpacks ifupdown's ifup and ifdown. */
const DEBS = ['hello', 'ifupdown']

/**
 * The run exited `code` and its one step reported exactly `step` (no diff means none). A dry run
 * also lists the commands the step would send: each of `sends` must be in them.
 */
function expectStep(r: RunOut, code: number, step: StepReport, sends: string[] = []): void {
  const host = r.report.hosts[0]
  expect(r.code, `${host?.error ?? ''}\n${r.stderr}`).toBe(code)
  const [{ commands, ...reported } = { name: '', status: '' }] = host?.steps ?? []
  expect(host?.steps).toHaveLength(1)
  expect(reported).toEqual(step)
  expect(commands === undefined).toBe(sends.length === 0)
  for (const part of sends) expect(commands!.join('\n')).toContain(part)
}

/** A second run: exit 0, nothing changed. */
function expectNoop(r: RunOut, name: string): void {
  expectStep(r, 0, { name, status: 'ok' })
  expect(r.report.summary).toMatchObject({ ok: 1, changed: 0, failed: 0 })
}

describe('sysctl', () => {
  it('net.ipv4.ip_forward live and in /etc/sysctl.d/60-ferry.conf: apply, no-op, drift diff, rollback', async () => {
    const h = 'lab1'
    const conf = '/etc/sysctl.d/60-ferry.conf'
    const { run, rollback } = runbookRunner(RUNBOOK, h, { only: 'sysctl' })
    const original = sh(h, 'sysctl -n net.ipv4.ip_forward').trim()
    const neighbour = sh('lab2', 'sysctl -n net.ipv4.ip_forward')
    // Another step's key is already in ferry's file: edits and undo must leave it alone.
    sh(
      h,
      `sysctl -qw net.ipv4.ip_forward=0 && printf '# set by ferry\\nnet.ipv4.tcp_syncookies=1\\n' > ${conf} && chmod 644 ${conf}`,
    )
    const snapshot = () => sh(h, `sysctl -n net.ipv4.ip_forward; stat -c '%a %U:%G' ${conf}; cat ${conf}`)
    const before = snapshot()
    expect(before).toBe('0\n644 root:root\n# set by ferry\nnet.ipv4.tcp_syncookies=1\n')
    try {
      const first = await run()
      expectStep(first, 0, {
        name: 'ip forwarding',
        status: 'changed',
        diff: `net.ipv4.ip_forward: 0 → 1\nnet.ipv4.ip_forward in ${conf}: (unset) → 1`,
      })
      const applied = '1\n644 root:root\n# set by ferry\nnet.ipv4.tcp_syncookies=1\nnet.ipv4.ip_forward=1\n'
      expect(snapshot()).toBe(applied)
      // Per network namespace: the other hosts keep their own value.
      expect(sh('lab2', 'sysctl -n net.ipv4.ip_forward')).toBe(neighbour)

      expectNoop(await run(), 'ip forwarding')

      // Both halves drift: the kernel value, and the file, edited the way people write it.
      sh(h, `sysctl -qw net.ipv4.ip_forward=0 && sed -i 's/^net.ipv4.ip_forward=1$/net.ipv4.ip_forward = 0/' ${conf}`)
      const drifted = snapshot()
      expect(drifted).toBe('0\n644 root:root\n# set by ferry\nnet.ipv4.tcp_syncookies=1\nnet.ipv4.ip_forward = 0\n')
      const plan = `net.ipv4.ip_forward: 0 → 1\nnet.ipv4.ip_forward in ${conf}: 0 → 1`
      expectStep(await run('--dry-run'), 2, { name: 'ip forwarding', status: 'changed', diff: plan }, [
        'sysctl -w net.ipv4.ip_forward=1',
        `f=${conf};`,
      ])
      expect(snapshot()).toBe(drifted)

      const repair = await run()
      expectStep(repair, 0, { name: 'ip forwarding', status: 'changed', diff: plan })
      expect(snapshot()).toBe(applied) // the line replaced in place, not appended again

      await rollback(repair.report.runId)
      await rollback(first.report.runId)
      expect(snapshot()).toBe(before)
    } finally {
      sh(h, `sysctl -qw net.ipv4.ip_forward=${original}; rm -f ${conf}`)
    }
  })
})

describe('line', () => {
  it('replaces the commented default in a file under /etc/ferry-steps: apply, no-op, exact unified diff, rollback', async () => {
    const h = 'lab1'
    const dir = '/etc/ferry-steps'
    const app = `${dir}/app.conf`
    const { run, rollback } = runbookRunner(RUNBOOK, h, { only: 'line' })
    sh(
      h,
      `rm -rf ${dir} && mkdir ${dir} && printf '# app.conf\\n#listen 80\\nworkers 4\\n' > ${app} && chmod 640 ${app}`,
    )
    // The file, its mode, and how many backups of it the file machinery keeps on the host.
    const snapshot = () =>
      sh(
        h,
        `stat -c '%n %a %U:%G' ${dir} ${app}; cat ${app}; ls /var/backups/ferry/%2Fetc%2Fferry-steps%2Fapp.conf 2>/dev/null | wc -l`,
      )
    const before = snapshot()
    expect(before).toBe(`${dir} 755 root:root\n${app} 640 root:root\n# app.conf\n#listen 80\nworkers 4\n0\n`)
    try {
      const first = await run()
      expectStep(first, 0, {
        name: 'listen',
        status: 'changed',
        diff: `--- ${app}\n+++ ${app}\n@@ -1,3 +1,3 @@\n # app.conf\n-#listen 80\n+listen 8080\n workers 4\n`,
      })
      const applied = `${dir} 755 root:root\n${app} 640 root:root\n# app.conf\nlisten 8080\nworkers 4\n1\n`
      expect(snapshot()).toBe(applied) // the mode kept, one backup for undo

      expectNoop(await run(), 'listen')

      // Someone changes the port and adds a second listen line: the first is replaced, the second goes.
      sh(h, `printf '# app.conf\\nlisten 9090\\nworkers 4\\nlisten 443\\n' > ${app}`)
      const drifted = snapshot()
      const plan = `--- ${app}\n+++ ${app}\n@@ -1,4 +1,3 @@\n # app.conf\n-listen 9090\n+listen 8080\n workers 4\n-listen 443\n`
      expectStep(await run('--dry-run'), 2, { name: 'listen', status: 'changed', diff: plan })
      expect(snapshot()).toBe(drifted)

      const repair = await run()
      expectStep(repair, 0, { name: 'listen', status: 'changed', diff: plan })
      expect(sh(h, `cat ${app}`)).toBe('# app.conf\nlisten 8080\nworkers 4\n')

      await rollback(repair.report.runId)
      expect(sh(h, `cat ${app}`)).toBe('# app.conf\nlisten 9090\nworkers 4\nlisten 443\n')
      await rollback(first.report.runId)
      expect(snapshot()).toBe(before)
    } finally {
      sh(
        h,
        `rm -rf ${dir} /var/backups/ferry/%2Fetc%2Fferry-steps%2Fapp.conf; rmdir /var/backups/ferry 2>/dev/null; true`,
      )
    }
  })
})

describe('pkg', () => {
  // In a hook, whose timeout is 5 minutes: a fresh machine may first need `apt-get update`.
  beforeAll(() => void debs(DEBS))

  it('installs hello from a local apt repository: apply, no-op, plan after apt-get remove, rollback removes it', async () => {
    const h = 'lab2'
    const { run, rollback } = runbookRunner(RUNBOOK, h, { only: 'pkg' })
    const dir = debs(DEBS)
    // The version apt must install, read from the .deb itself rather than from ferry.
    const version = execFileSync('dpkg-deb', ['--field', debFile(dir, 'hello'), 'Version'], { encoding: 'utf8' }).trim()
    const snapshot = () =>
      sh(
        h,
        "dpkg-query -W -f='${db:Status-Abbrev}${Version}\\n' hello 2>/dev/null || echo 'unknown to dpkg'; command -v hello || echo 'no hello command'",
      )
    const before = snapshot()
    expect(before).toBe('unknown to dpkg\nno hello command\n')
    addRepo(h, dir)
    // man-db re-indexes every manual page after each install and remove (3 s each here); its
    // auto-update flag file turns that off while the test runs.
    sh(h, 'mv /var/lib/man-db/auto-update /var/lib/man-db/auto-update.ferry-test 2>/dev/null; true')
    try {
      const first = await run()
      expectStep(first, 0, { name: 'hello', status: 'changed', diff: 'install hello' })
      const installed = `ii ${version}\n/usr/bin/hello\n`
      expect(snapshot()).toBe(installed)
      expect(sh(h, 'hello')).toBe('Hello, world!\n')

      expectNoop(await run(), 'hello')

      sh(h, 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -q hello >/dev/null 2>&1')
      expect(snapshot()).toBe(before)
      expectStep(await run('--dry-run'), 2, { name: 'hello', status: 'changed', diff: 'install hello' }, [
        'DEBIAN_FRONTEND=noninteractive apt-get install -y hello',
      ])
      expect(snapshot()).toBe(before)

      const repair = await run()
      expectStep(repair, 0, { name: 'hello', status: 'changed', diff: 'install hello' })
      expect(snapshot()).toBe(installed)

      await rollback(repair.report.runId)
      await rollback(first.report.runId)
      expect(snapshot()).toBe(before)
    } finally {
      sh(
        h,
        'if dpkg -s hello >/dev/null 2>&1; then DEBIAN_FRONTEND=noninteractive apt-get remove -y -q hello >/dev/null 2>&1; fi; mv /var/lib/man-db/auto-update.ferry-test /var/lib/man-db/auto-update 2>/dev/null; true',
      )
      removeRepo(h)
    }
  })
})

describe('service', () => {
  it('enables and starts a sysvinit service: apply, no-op, plan after stop+disable, rollback stops and disables it', async () => {
    const h = 'lab2'
    const { run, rollback } = runbookRunner(RUNBOOK, h, { only: 'service' })
    installDummyService(h)
    // Boot links in every runlevel, and what `service` says (its exit status too).
    const snapshot = () =>
      sh(h, 'find /etc/rc?.d -name \'[SK][0-9][0-9]ferry-dummy\' | sort; service ferry-dummy status; echo "exit $?"')
    const pid = () => sh(h, 'cat /run/ferry-dummy.pid').trim()
    const before = snapshot()
    expect(before).toBe('ferry-dummy is not running\nexit 3\n')
    try {
      const first = await run()
      expectStep(first, 0, { name: 'dummy', status: 'changed', diff: 'enable ferry-dummy\nstart ferry-dummy' })
      const running = () => {
        const s = snapshot()
        for (const rl of [2, 3, 4, 5]) expect(s).toMatch(new RegExp(`^/etc/rc${rl}\\.d/S\\d\\dferry-dummy$`, 'm'))
        expect(s).toMatch(/ferry-dummy is running\nexit 0\n$/)
        expect(sh(h, `ps -o args= -p ${pid()}`)).toBe('sleep 100000\n')
      }
      running()

      expectNoop(await run(), 'dummy')

      sh(h, 'service ferry-dummy stop && update-rc.d ferry-dummy disable')
      const drifted = snapshot()
      expect(drifted).not.toMatch(/\/S\d\dferry-dummy$/m)
      expectStep(
        await run('--dry-run'),
        2,
        { name: 'dummy', status: 'changed', diff: 'enable ferry-dummy\nstart ferry-dummy' },
        ['update-rc.d ferry-dummy defaults && update-rc.d ferry-dummy enable', 'service ferry-dummy start'],
      )
      expect(snapshot()).toBe(drifted)

      const repair = await run()
      expectStep(repair, 0, { name: 'dummy', status: 'changed', diff: 'enable ferry-dummy\nstart ferry-dummy' })
      running()
      const daemon = pid()

      await rollback(repair.report.runId)
      await rollback(first.report.runId)
      // Gone, or a zombie: no PID namespace here, so the machine's init reaps it, in its own time.
      expect(sh(h, `ps -o stat= -p ${daemon} | grep -v '^Z' || echo gone`)).toBe('gone\n')
      expect(snapshot()).not.toMatch(/\/S\d\dferry-dummy$/m) // disabled...
      // ...and with no rc.d links left at all: there were none before.
      expect(snapshot()).toBe(before)
    } finally {
      removeDummyService(h)
    }
  })
})

describe('iface', () => {
  // The lab image has no ifupdown. Installing the package would also add a group and systemd
  // links to the host, so a test gives the host only what ifupdown's package leaves on /etc (an
  // empty interfaces.d and a stock /etc/network/interfaces that sources it) and unpacks ifup and
  // ifdown into /tmp, to prove the saved configuration is what boot would bring up.
  const IFUPDOWN = '/tmp/ferry-ifupdown'
  beforeAll(() => void debs(DEBS))
  const INTERFACES =
    '# interfaces(5) file used by ifup(8) and ifdown(8)\n# Include files from /etc/network/interfaces.d:\nsource /etc/network/interfaces.d/*\n'

  /** Prepares `host` as above; returns the function that takes it all away again. */
  function withIfupdown(host: string): () => void {
    const had =
      sh(
        host,
        'if [ -e /etc/network/interfaces ] || [ -e /etc/network/interfaces.d ]; then echo yes; else echo no; fi',
      ).trim() === 'yes'
    copyInto(host, debFile(debs(DEBS), 'ifupdown'), `${IFUPDOWN}.deb`)
    sh(host, `mkdir -p ${IFUPDOWN}/state && dpkg-deb -x ${IFUPDOWN}.deb ${IFUPDOWN} && rm ${IFUPDOWN}.deb`)
    if (!had) sh(host, 'mkdir /etc/network/interfaces.d && cat > /etc/network/interfaces', INTERFACES)
    return () => sh(host, `rm -rf ${IFUPDOWN}${had ? '' : ' /etc/network/interfaces /etc/network/interfaces.d'}`)
  }

  /** ifup/ifdown as at boot, without other packages' hook scripts (openvpn's, for one). */
  const ifupdown = (host: string, cmd: 'ifup' | 'ifdown', args: string) =>
    sh(
      host,
      `${IFUPDOWN}/sbin/${cmd} -i /etc/network/interfaces --state-dir ${IFUPDOWN}/state --no-scripts ${args} 2>&1`,
    )

  /** The expected changes for creating an interface: the live ones, then the new file as a unified diff. */
  const creation = (live: string[], file: string, lines: string[]) =>
    [...live, `--- ${file}\n+++ ${file}\n@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}\n`).join('')}`].join(
      '\n',
    )

  const LO1 = '/etc/network/interfaces.d/lo1'
  const LO1_LINES = [
    '# lo1, managed by ferry',
    'auto lo:1',
    'iface lo:1 inet manual',
    '    up ip addr add 10.255.0.1/32 dev lo label lo:1',
    '    down ip addr del 10.255.0.1/32 dev lo label lo:1',
  ]

  it('loopback alias lo1 (10.255.0.1/32 on lo, label lo:1) persisted via ifupdown: apply, no-op, plan after ifdown, ifup, rollback', async () => {
    const h = 'lab1'
    const { run, rollback } = runbookRunner(RUNBOOK, h, { only: 'iface' })
    const cleanup = withIfupdown(h)
    const snapshot = () =>
      sh(h, `ip -o -4 addr show dev lo; ls -A /etc/network/interfaces.d; cat ${LO1} 2>/dev/null; true`)
    const before = snapshot()
    expect(before).not.toContain('10.255.0.1')
    try {
      const first = await run()
      expectStep(first, 0, {
        name: 'loopback',
        status: 'changed',
        diff: creation(['create lo1', 'lo1: add 10.255.0.1/32'], LO1, LO1_LINES),
      })
      const address = () => sh(h, 'ip -o -4 addr show dev lo label lo:1').replace(/\\.*/s, '').trim()
      expect(address()).toBe('1: lo    inet 10.255.0.1/32 scope global lo:1')
      expect(sh(h, `stat -c '%a %U:%G' ${LO1}; cat ${LO1}`)).toBe(`644 root:root\n${LO1_LINES.join('\n')}\n`)
      // What a runbook does stays on its host.
      expect(sh('lab2', 'ip -o -4 addr show to 10.255.0.1')).toBe('')

      expectNoop(await run(), 'loopback')

      // ifdown with the saved file: its `down` line takes the address away.
      ifupdown(h, 'ifdown', '--force lo:1')
      expect(address()).toBe('')
      const drifted = snapshot()
      expectStep(
        await run('--dry-run'),
        2,
        { name: 'loopback', status: 'changed', diff: 'create lo1\nlo1: add 10.255.0.1/32' },
        ['ip addr add 10.255.0.1/32 dev lo label lo:1'],
      )
      expect(snapshot()).toBe(drifted)

      // Boot (`ifup -a`) brings back exactly what ferry set up live: ferry then has nothing to do.
      ifupdown(h, 'ifup', '-a')
      expect(address()).toBe('1: lo    inet 10.255.0.1/32 scope global lo:1')
      expectNoop(await run(), 'loopback')

      await rollback(first.report.runId)
      expect(snapshot()).toBe(before)
    } finally {
      sh(h, `ip addr del 10.255.0.1/32 dev lo 2>/dev/null; rm -f ${LO1}; true`)
      cleanup()
    }
  })

  it('tap0 (a TUN/TAP device; the lab kernel has no GRE) persisted via ifupdown: apply, no-op, plan after flush+down, ifdown/ifup, rollback', async () => {
    const h = 'lab2'
    const file = '/etc/network/interfaces.d/tap0'
    const lines = [
      '# tap0, managed by ferry',
      'auto tap0',
      'iface tap0 inet manual',
      '    pre-up ip tuntap add dev tap0 mode tap',
      '    up ip addr add 10.255.1.1/30 dev tap0',
      '    up ip link set tap0 up',
      '    post-down ip tuntap del dev tap0 mode tap',
    ]
    const { run, rollback } = runbookRunner(RUNBOOK, h, { only: 'tap' })
    const cleanup = withIfupdown(h)
    const snapshot = () =>
      sh(h, `ip -o link show dev tap0 2>&1; ls -A /etc/network/interfaces.d; cat ${file} 2>/dev/null; true`)
    const before = snapshot()
    expect(before).toBe('Device "tap0" does not exist.\n')
    // Kind, UP flag and IPv4 addresses of tap0; the MAC address changes whenever it is made again.
    const tap0 = () =>
      sh(
        h,
        `ip -d -o link show dev tap0 | grep -o 'tun type tap'; ip -o link show dev tap0 | grep -o '<[^>]*>'; ip -o -4 addr show dev tap0 | awk '{ print $4 }'`,
      )
    const up = 'tun type tap\n<NO-CARRIER,BROADCAST,MULTICAST,UP>\n10.255.1.1/30\n'
    try {
      const first = await run()
      expectStep(first, 0, {
        name: 'tap',
        status: 'changed',
        diff: creation(['create tap0', 'tap0: add 10.255.1.1/30', 'tap0: up'], file, lines),
      })
      expect(tap0()).toBe(up)
      expect(sh(h, `cat ${file}`)).toBe(`${lines.join('\n')}\n`)

      expectNoop(await run(), 'tap')

      sh(h, 'ip addr flush dev tap0 && ip link set tap0 down')
      const drifted = snapshot()
      expectStep(
        await run('--dry-run'),
        2,
        { name: 'tap', status: 'changed', diff: 'tap0: add 10.255.1.1/30\ntap0: up' },
        ['ip addr add 10.255.1.1/30 dev tap0', 'ip link set tap0 up'],
      )
      expect(snapshot()).toBe(drifted)

      // The saved file on its own: ifdown's post-down deletes the device, ifup makes it whole again.
      ifupdown(h, 'ifdown', '--force tap0')
      expect(sh(h, 'ip link show dev tap0 2>&1; true')).toBe('Device "tap0" does not exist.\n')
      ifupdown(h, 'ifup', 'tap0')
      expect(tap0()).toBe(up)
      expectNoop(await run(), 'tap')

      await rollback(first.report.runId)
      expect(snapshot()).toBe(before)
    } finally {
      sh(h, `ip tuntap del dev tap0 mode tap 2>/dev/null; rm -f ${file}; true`)
      cleanup()
    }
  })

  it('on a host with neither ifupdown nor systemd-networkd, the plan promises only what apply can do', async () => {
    const h = 'lab2'
    const { run } = runbookRunner(RUNBOOK, h, { only: 'iface' })
    // The lab hosts have networkd's directory (empty), which would keep lo1 (networkd.test.ts):
    // hidden for this test.
    expect(sh(h, 'ls -d /etc/network/interfaces.d 2>&1; ls -A /etc/systemd/network')).toBe(
      "ls: cannot access '/etc/network/interfaces.d': No such file or directory\n",
    )
    sh(h, 'rmdir /etc/systemd/network')
    const snapshot = () => sh(h, `ip -o -4 addr show dev lo; cat ${LO1} 2>/dev/null; true`)
    const before = snapshot()
    try {
      // Nothing would read a boot file, so a persisted interface is refused at plan time, with why.
      const dry = await run('--dry-run')
      expect(dry.code).toBe(1)
      const host = dry.report.hosts[0]!
      expect(host.error).toBe(
        'loopback: lo1 cannot be configured for boot: neither /etc/network/interfaces.d (ifupdown) nor /etc/systemd/network (systemd-networkd) is here; or set persist: false',
      )
      expect(snapshot()).toBe(before)
      // And so is a real run: nothing half-applied.
      const real = await run()
      expect(real.code).toBe(1)
      expect(real.report.hosts[0]!.status).toBe('failed')
      expect(snapshot()).toBe(before)
    } finally {
      sh(
        h,
        `ip addr del 10.255.0.1/32 dev lo 2>/dev/null; rm -f ${LO1}; rmdir /etc/network/interfaces.d 2>/dev/null; mkdir -p /etc/systemd/network; true`,
      )
    }
  })
})

describe('plan-time refusals', () => {
  it('a line whose path is a directory, a package apt does not know, a read-only sysctl, a gre device this kernel cannot make: each fails the plan with its reason, and the real run changes nothing', async () => {
    const h = 'lab3'
    const snapshot = () =>
      sh(
        h,
        'ls -ld --time-style=full-iso /etc/default; dpkg-query -W ferry-no-such-package 2>&1; cat /proc/sys/net/ipv4/tcp_available_congestion_control; ip -o link show dev gre1 2>&1; true',
      )
    const before = snapshot()
    const refusals: [string, string][] = [
      ['at-dir', 'at a directory: /etc/default is a directory'],
      ['no-package', 'unknown: cannot install ferry-no-such-package: Unable to locate package ferry-no-such-package'],
      [
        'read-only',
        'read-only: net.ipv4.tcp_available_congestion_control cannot be set here: /proc/sys/net/ipv4/tcp_available_congestion_control is not writable (a value fixed at boot, or /proc/sys mounted read-only)',
      ],
      ['no-gre', 'gre: gre1 cannot be created here: the kernel has no GRE (ip_gre is neither loaded nor loadable)'],
    ]
    try {
      for (const [only, error] of refusals) {
        const { run } = runbookRunner(RUNBOOK, h, { only })
        const dry = await run('--dry-run')
        expect(dry.code, dry.stdout + dry.stderr).toBe(1)
        expect(dry.report.hosts[0]!.error).toBe(error)
        const real = await run()
        expect(real.code).toBe(1)
        expect(real.report.hosts[0]!.error).toBe(error)
      }
      expect(snapshot()).toBe(before)
    } finally {
      sh(h, 'ip link del gre1 2>/dev/null; true')
    }
  })
})
