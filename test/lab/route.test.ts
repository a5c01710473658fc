// The route step on Linux lab hosts, through the real CLI and test/fixtures/runbooks/route-linux.ts:
// tap0, a route through it in the main table, the same destination in table 100, and a blackhole
// in table 100, all kept at boot with tap0. Twice: on a host that keeps its interfaces with
// ifupdown (given interfaces.d and ifupdown's ifup/ifdown, as steps.test.ts does), and on one
// that keeps them with systemd-networkd (the lab hosts have /etc/systemd/network and no
// interfaces.d; networkd itself does not run in the lab, so the ifupdown story also proves the
// boot half with ifdown/ifup, and test/unit/route.test.ts runs networkd on the same kind of files).
//
// Each test: snapshot the host from outside (nsenter); apply; a no-op; drift by hand (a route
// deleted, another moved to a new gateway) that --dry-run reports exactly and leaves alone; a
// repair; rollback of both runs, newest first, leaving the snapshot exactly. The host is put back
// in `finally`, whatever failed.
import { beforeAll, describe, expect } from 'vitest'
import { copyInto, debFile, debs } from './apt-repo.ts'
import { labIt as it, runbookRunner, sh, type Report } from './helpers.ts'

const RUNBOOK = 'test/fixtures/runbooks/route-linux.ts'

/** Each step's status and diff (diff only where the step has one), by name. */
const steps = (r: Report) =>
  Object.fromEntries(r.hosts[0]!.steps.map((s) => [s.name, s.diff === undefined ? s.status : `${s.status}: ${s.diff}`]))

const NAMES = ['tap0', 'site b', 'site b, table 100', 'bogons, table 100']

/** The routes the runbook makes, both tables, sorted; tap0's address; then `files`' output. */
const snapshot = (host: string, files: string) =>
  sh(
    host,
    [
      "{ ip -4 route show table main; ip -4 route show table 100 2>/dev/null | sed 's/^/table 100: /'; } | grep -E '10\\.9[89]\\.' | sort",
      "echo '--- tap0'; if ip link show dev tap0 >/dev/null 2>&1; then ip -o -4 addr show dev tap0 | awk '{ print $4 }'; else echo 'no tap0'; fi",
      `echo '--- files'; ${files}`,
    ].join('\n'),
  )

const ROUTES = [
  '10.99.0.0/16 via 10.255.2.2 dev tap0 proto static linkdown ',
  'table 100: 10.99.0.0/16 via 10.255.2.2 dev tap0 proto static linkdown ',
  'table 100: blackhole 10.98.0.0/16 proto static ',
]
const LIVE = `${ROUTES.join('\n')}\n--- tap0\n10.255.2.1/29\n--- files\n`
const NONE = `--- tap0\nno tap0\n--- files\n`

/**
 * The whole story on one host. `files` prints the boot configuration; `saved` is what it prints
 * once applied; `boot`, if given, brings tap0 down and up again from the saved files alone.
 */
async function story(host: string, files: string, saved: string, boot?: () => void): Promise<void> {
  const { run, rollback } = runbookRunner(RUNBOOK, host)
  const before = snapshot(host, files)
  expect(before).toBe(NONE)

  const first = await run()
  expect(first.code, first.report.hosts[0]?.error ?? first.stderr).toBe(0)
  expect(Object.keys(steps(first.report))).toEqual(NAMES)
  expect(first.report.hosts[0]!.steps.map((s) => s.status)).toEqual(NAMES.map(() => 'changed'))
  // Each route planned from a probe taken after tap0 was made (it reads if:tap0, which iface touches).
  const plan = steps(first.report)
  expect(plan['site b']).toMatch(/^changed: 10\.99\.0\.0\/16: \(none\) → via 10\.255\.2\.2 dev tap0\n--- \//)
  expect(plan['site b, table 100']).toMatch(
    /^changed: 10\.99\.0\.0\/16 \(table 100\): \(none\) → via 10\.255\.2\.2 dev tap0\n--- \//,
  )
  expect(plan['bogons, table 100']).toMatch(/^changed: 10\.98\.0\.0\/16 \(table 100\): \(none\) → blackhole\n/)
  const applied = `${LIVE}${saved}`
  expect(snapshot(host, files)).toBe(applied)
  // What a runbook does stays on its host.
  expect(sh('lab3', "ip -4 route show table all | grep -c '10\\.9[89]\\.' || true")).toBe('0\n')

  const again = await run()
  expect(again.code).toBe(0)
  expect(steps(again.report)).toEqual(Object.fromEntries(NAMES.map((n) => [n, 'ok'])))

  // Drift: table 100's route deleted, the main table's moved to another gateway on tap0's network.
  sh(host, 'ip route del 10.99.0.0/16 table 100 && ip route replace 10.99.0.0/16 via 10.255.2.3 dev tap0')
  const drifted = snapshot(host, files)
  const dry = await run('--dry-run')
  expect(dry.code).toBe(2)
  expect(steps(dry.report)).toEqual({
    tap0: 'ok',
    'site b': 'changed: 10.99.0.0/16: via 10.255.2.3 dev tap0 → via 10.255.2.2 dev tap0',
    'site b, table 100': 'changed: 10.99.0.0/16 (table 100): (none) → via 10.255.2.2 dev tap0',
    'bogons, table 100': 'ok',
  })
  expect(dry.report.hosts[0]!.steps[2]!.commands).toEqual([
    'ip route replace 10.99.0.0/16 via 10.255.2.2 dev tap0 table 100 proto static',
  ])
  expect(snapshot(host, files)).toBe(drifted)

  const repair = await run()
  expect(repair.code).toBe(0)
  expect(snapshot(host, files)).toBe(applied)

  if (boot) {
    boot()
    expect(snapshot(host, files)).toBe(applied)
    expect(steps((await run()).report)).toEqual(Object.fromEntries(NAMES.map((n) => [n, 'ok'])))
  }

  await rollback(repair.report.runId)
  await rollback(first.report.runId)
  expect(snapshot(host, files)).toBe(before)
}

/** Whatever a failed test left: the routes, tap0, and the files it may have written. */
const cleanup = (host: string, files: string) =>
  sh(
    host,
    `ip route del 10.99.0.0/16 2>/dev/null; ip route flush table 100 2>/dev/null; ip tuntap del dev tap0 mode tap 2>/dev/null; rm -rf ${files}; true`,
  )

describe('route', () => {
  const IFUPDOWN = '/tmp/ferry-ifupdown'
  beforeAll(() => void debs(['ifupdown']))

  it('ifupdown: tap0 and routes in the main table and table 100, kept as up/down lines in its stanza; ifdown/ifup brings them back; rollback leaves no trace', async () => {
    const h = 'lab1'
    const file = '/etc/network/interfaces.d/tap0'
    // No ifupdown yet: its file and directory are what this test brings (other packages may
    // have hook directories here, as uml-utilities' if-pre-up.d).
    expect(sh(h, 'ls -d /etc/network/interfaces /etc/network/interfaces.d 2>/dev/null; true')).toBe('')
    // What ifupdown's package leaves on /etc, and its ifup/ifdown unpacked aside (steps.test.ts).
    copyInto(h, debFile(debs(['ifupdown']), 'ifupdown'), `${IFUPDOWN}.deb`)
    sh(
      h,
      `mkdir -p ${IFUPDOWN}/state && dpkg-deb -x ${IFUPDOWN}.deb ${IFUPDOWN} && rm ${IFUPDOWN}.deb && mkdir /etc/network/interfaces.d && printf 'source /etc/network/interfaces.d/*\\n' > /etc/network/interfaces`,
    )
    const ifupdown = (cmd: string, args: string) =>
      sh(
        h,
        `${IFUPDOWN}/sbin/${cmd} -i /etc/network/interfaces --state-dir ${IFUPDOWN}/state --no-scripts ${args} 2>&1`,
      )
    const stanza = [
      '# tap0, managed by ferry',
      'auto tap0',
      'iface tap0 inet manual',
      '    pre-up ip tuntap add dev tap0 mode tap',
      '    up ip addr add 10.255.2.1/29 dev tap0',
      '    up ip link set tap0 up',
      '    post-down ip tuntap del dev tap0 mode tap',
      // Each route's pair, in the order the runbook applied them, after the stanza.
      '    up ip route replace 10.99.0.0/16 via 10.255.2.2 dev tap0 proto static',
      '    down ip route del 10.99.0.0/16',
      '    up ip route replace 10.99.0.0/16 via 10.255.2.2 dev tap0 table 100 proto static',
      '    down ip route del 10.99.0.0/16 table 100',
      '    up ip route replace blackhole 10.98.0.0/16 table 100 proto static',
      '    down ip route del 10.98.0.0/16 table 100',
    ]
    const files = `cat ${file} 2>/dev/null; true`
    try {
      await story(h, files, `${stanza.join('\n')}\n`, () => {
        // Boot, as far as tap0 goes: down takes the routes and the device away, up brings all back.
        ifupdown('ifdown', '--force tap0')
        expect(snapshot(h, files)).toBe(`${NONE}${stanza.join('\n')}\n`)
        ifupdown('ifup', 'tap0')
      })
    } finally {
      cleanup(h, `${file} ${IFUPDOWN} /etc/network/interfaces /etc/network/interfaces.d`)
    }
  })

  it('systemd-networkd: the same, kept as .netdev, .network and one drop-in per route (networkd does not run here); rollback leaves no trace', async () => {
    const h = 'lab2'
    const N = '/etc/systemd/network'
    // The lab hosts as they are: networkd's directory, empty, and no ifupdown.
    expect(sh(h, `ls -A ${N}; ls -d /etc/network/interfaces.d 2>&1 | grep -c 'No such file'`)).toBe('1\n')
    const files = `find ${N} -type f | LC_ALL=C sort | while read -r f; do echo "== $f"; cat "$f"; done`
    const route = (name: string, lines: string[]) => [`== ${N}/50-ferry-tap0.network.d/${name}`, ...lines]
    const saved = [
      `== ${N}/50-ferry-tap0.netdev`,
      '# tap0, managed by ferry',
      '[NetDev]',
      'Name=tap0',
      'Kind=tap',
      `== ${N}/50-ferry-tap0.network`,
      '# tap0, managed by ferry',
      '[Match]',
      'Name=tap0',
      '',
      '[Network]',
      'ConfigureWithoutCarrier=yes',
      '',
      '[Link]',
      'RequiredForOnline=no',
      '',
      '[Address]',
      'Address=10.255.2.1/29',
      ...route('ferry-route-10.98.0.0_16-table100.conf', [
        '# 10.98.0.0/16 (table 100), managed by ferry',
        '[Route]',
        'Type=blackhole',
        'Destination=10.98.0.0/16',
        'Table=100',
      ]),
      ...route('ferry-route-10.99.0.0_16-table100.conf', [
        '# 10.99.0.0/16 (table 100), managed by ferry',
        '[Route]',
        'Destination=10.99.0.0/16',
        'Gateway=10.255.2.2',
        'Table=100',
      ]),
      ...route('ferry-route-10.99.0.0_16.conf', [
        '# 10.99.0.0/16, managed by ferry',
        '[Route]',
        'Destination=10.99.0.0/16',
        'Gateway=10.255.2.2',
      ]),
    ]
    try {
      await story(h, files, `${saved.join('\n')}\n`)
      // Not even the drop-in directory is left.
      expect(sh(h, `ls -A ${N}`)).toBe('')
    } finally {
      cleanup(h, `${N}/50-ferry-tap0.netdev ${N}/50-ferry-tap0.network ${N}/50-ferry-tap0.network.d`)
    }
  })
})
