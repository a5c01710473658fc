// Static routes on Debian: `ip route replace … proto static` live (in table 100 too), kept with an
// interface as a pair of up/down lines in its ifupdown stanza, or as a drop-in beside its
// systemd-networkd .network.
import { route } from '../../../src/steps/route.ts'
import { PROBE, type Case } from '../harness.ts'
import { editInPlace, script, writeLines } from '../scripts.ts'

const TAP0 = '/etc/network/interfaces.d/tap0'
// The stanza iface writes for tap0 (test/golden/linux/iface.ts): the route lines go after it.
const STANZA = [
  '# tap0, managed by ferry',
  'auto tap0',
  'iface tap0 inet manual',
  '    pre-up ip tuntap add dev tap0 mode tap',
  '    up ip addr add 10.255.2.1/30 dev tap0',
  '    up ip link set tap0 up',
  '    post-down ip tuntap del dev tap0 mode tap',
]
const text = (lines: string[]) => lines.map((l) => `${l}\n`).join('')
const saved = (lines: string[]) => lines.map((l) => `saved=${l}\n`).join('')

const UP100 = '    up ip route replace 10.99.0.0/16 via 10.255.2.2 dev tap0 table 100 proto static'
const DOWN100 = '    down ip route del 10.99.0.0/16 table 100'
// A route's own lines in the stanza, by destination (K) and table (T): dropped, the rest printed.
const OWN_LINES =
  '($1 == "up" || $1 == "down") && $2 == "ip" && $3 == "route" { k = $5; if (k == "blackhole" || k == "unreachable") k = $6; t = ""; for (i = 5; i < NF; i++) if ($i == "table") t = $(i + 1); if (k == ENVIRON["K"] && t == ENVIRON["T"]) { next } } { print }'
const edit = (keys: string, add: string[]) =>
  editInPlace(
    TAP0,
    `${keys} awk '${OWN_LINES}' "$o"${add.length ? `; printf '%s\\n' ${add.map((l) => `'${l}'`).join(' ')}` : ''}`,
  )

const table100 = () => route('site b, table 100', { to: '10.99.0.0/16', via: '10.255.2.2', dev: 'tap0', table: 100 })

const NETWORKD = '/etc/systemd/network'
const BLACKHOLE = `${NETWORKD}/50-ferry-lo.network.d/ferry-route-10.98.0.0_16-table100.conf`
const BLACKHOLE_LINES = [
  '# 10.98.0.0/16 (table 100), managed by ferry',
  '[Route]',
  'Type=blackhole',
  'Destination=10.98.0.0/16',
  'Table=100',
]
const RELOAD = 'if [ -d /run/systemd/system ] && systemctl is-active -q systemd-networkd; then networkctl reload; fi'

export default [
  {
    name: 'linux route: 10.99.0.0/16 via tap0 in table 100 → ip route replace … table 100, and its up/down lines after the stanza',
    os: 'linux',
    step: table100(),
    probe: '',
    after: `route=via 10.255.2.2 dev tap0\n${saved([UP100, DOWN100])}`,
    expect: {
      probe: [
        'ip -4 route show exact 10.99.0.0/16 table 100 2>/dev/null | awk',
        'if [ -d /etc/network/interfaces.d ] && { command -v ifup >/dev/null || ! { [ -d /run/systemd/system ] && systemctl is-active -q systemd-networkd; }; }; then',
        `if [ -f ${TAP0} ]; then K=10.99.0.0/16 T=100 awk`,
        `[ -f ${NETWORKD}/50-ferry-tap0.network ] || echo`,
      ],
      changes: [
        '10.99.0.0/16 (table 100): (none) → via 10.255.2.2 dev tap0',
        {
          summary: `10.99.0.0/16 (table 100) at boot: ${TAP0}`,
          diff: `--- ${TAP0}\n+++ ${TAP0}\n@@ -0,0 +1,2 @@\n+${UP100}\n+${DOWN100}\n`,
        },
      ],
      apply: [
        script(
          'ip route replace 10.99.0.0/16 via 10.255.2.2 dev tap0 table 100 proto static',
          edit('K=10.99.0.0/16 T=100', [UP100, DOWN100]),
        ),
      ],
      undo: [PROBE, script('ip route del 10.99.0.0/16 table 100', edit('K=10.99.0.0/16 T=100', []))],
      revert: ['ip route del 10.99.0.0/16 table 100', edit('K=10.99.0.0/16 T=100', [])],
      files: { before: { [TAP0]: text(STANZA) }, after: { [TAP0]: text([...STANZA, UP100, DOWN100]) } },
    },
  },
  {
    name: 'linux route: configured live and in the stanza → in sync',
    os: 'linux',
    step: table100(),
    probe: `route=via 10.255.2.2 dev tap0\n${saved([UP100, DOWN100])}`,
    expect: { changes: [] },
  },
  {
    name: "linux route: the main table's route moved to another gateway by hand, and its lines edited → both put back, the other route's lines left alone",
    os: 'linux',
    step: route('site b', { to: '10.99.0.0/16', via: '10.255.2.2', dev: 'tap0' }),
    probe: `route=via 10.255.2.3 dev tap0\nsaved=    up ip route add 10.99.0.0/16 via 10.255.2.3\n`,
    after: 'route=via 10.255.2.2 dev tap0\n',
    expect: {
      changes: [
        '10.99.0.0/16: via 10.255.2.3 dev tap0 → via 10.255.2.2 dev tap0',
        {
          summary: `10.99.0.0/16 at boot: ${TAP0}`,
          diff: `--- ${TAP0}\n+++ ${TAP0}\n@@ -1,1 +1,2 @@\n-    up ip route add 10.99.0.0/16 via 10.255.2.3\n+    up ip route replace 10.99.0.0/16 via 10.255.2.2 dev tap0 proto static\n+    down ip route del 10.99.0.0/16\n`,
        },
      ],
      apply: [
        script(
          'ip route replace 10.99.0.0/16 via 10.255.2.2 dev tap0 proto static',
          edit("K=10.99.0.0/16 T=''", [
            '    up ip route replace 10.99.0.0/16 via 10.255.2.2 dev tap0 proto static',
            '    down ip route del 10.99.0.0/16',
          ]),
        ),
      ],
      // Undo puts the hand-made gateway back, live and in the file, which the probe showed.
      undo: [
        PROBE,
        script(
          'ip route replace 10.99.0.0/16 via 10.255.2.3 dev tap0 proto static',
          edit("K=10.99.0.0/16 T=''", ['    up ip route add 10.99.0.0/16 via 10.255.2.3']),
        ),
      ],
      files: {
        before: { [TAP0]: text([...STANZA, '    up ip route add 10.99.0.0/16 via 10.255.2.3', UP100, DOWN100]) },
        after: {
          [TAP0]: text([
            ...STANZA,
            UP100,
            DOWN100,
            '    up ip route replace 10.99.0.0/16 via 10.255.2.2 dev tap0 proto static',
            '    down ip route del 10.99.0.0/16',
          ]),
        },
      },
    },
  },
  {
    name: 'linux route: a blackhole in table 100 kept with lo1 on a systemd-networkd host → a drop-in beside 50-ferry-lo.network',
    os: 'linux',
    step: route('bogons', { to: '10.98.0.0/16', type: 'blackhole', table: 100, iface: 'lo1' }),
    probe: 'netconfig=networkd\n',
    after: `route=blackhole\nnetconfig=networkd\n${saved(BLACKHOLE_LINES)}`,
    expect: {
      probe: [
        'ip -4 route show exact 10.98.0.0/16 table 100 2>/dev/null',
        `[ -f ${NETWORKD}/50-ferry-lo.network ] || echo 'nosave=lo1 has no ${NETWORKD}/50-ferry-lo.network (give it an iface step)'`,
        `[ ! -f ${BLACKHOLE} ] || sed 's/^/saved=/' ${BLACKHOLE}`,
      ],
      changes: [
        '10.98.0.0/16 (table 100): (none) → blackhole',
        {
          summary: `10.98.0.0/16 (table 100) at boot: ${BLACKHOLE}`,
          diff: `--- ${BLACKHOLE}\n+++ ${BLACKHOLE}\n@@ -0,0 +1,5 @@\n${BLACKHOLE_LINES.map((l) => `+${l}\n`).join('')}`,
        },
      ],
      apply: [
        script(
          'ip route replace blackhole 10.98.0.0/16 table 100 proto static',
          `mkdir -p ${NETWORKD}/50-ferry-lo.network.d`,
          writeLines(BLACKHOLE, '0644', BLACKHOLE_LINES),
          RELOAD,
        ),
      ],
      // The last drop-in under lo's .network takes it away; lo1's own keeps it here.
      undo: [
        PROBE,
        script(
          'ip route del 10.98.0.0/16 table 100',
          `f=${BLACKHOLE}; rm -f "$f"`,
          `if rmdir ${NETWORKD}/50-ferry-lo.network.d 2>/dev/null || [ ! -e ${NETWORKD}/50-ferry-lo.network.d ]; then f=${NETWORKD}/50-ferry-lo.network; rm -f "$f"; fi`,
          RELOAD,
        ),
      ],
      files: { after: { [BLACKHOLE]: text(BLACKHOLE_LINES) } },
    },
  },
  {
    name: 'linux route: a reject default route, live only → ip route replace unreachable default',
    os: 'linux',
    step: route('no way out', { to: '0.0.0.0/0', type: 'reject', persist: false }),
    probe: 'route=via 192.0.2.1 dev eth0\n',
    after: 'route=reject\n',
    expect: {
      probe: ["ip -4 route show exact default 2>/dev/null | awk '/^[ \\t]/ || / metric [1-9]/ || n++ { next }"],
      changes: ['default: via 192.0.2.1 dev eth0 → reject'],
      apply: ['ip route replace unreachable default proto static'],
      undo: [PROBE, 'ip route replace default via 192.0.2.1 dev eth0 proto static'],
    },
  },
  {
    name: 'linux route: state absent → deleted, and its lines taken out of the stanza',
    os: 'linux',
    step: route('old site b', { to: '10.99.0.0/16', state: 'absent', iface: 'tap0', table: 100 }),
    probe: `route=via 10.255.2.2 dev tap0\n${saved([UP100, DOWN100])}`,
    after: '',
    expect: {
      changes: [
        '10.99.0.0/16 (table 100): via 10.255.2.2 dev tap0 → (none)',
        {
          summary: `10.99.0.0/16 (table 100) at boot: ${TAP0}`,
          diff: `--- ${TAP0}\n+++ ${TAP0}\n@@ -1,2 +0,0 @@\n-${UP100}\n-${DOWN100}\n`,
        },
      ],
      apply: [script('ip route del 10.99.0.0/16 table 100', edit('K=10.99.0.0/16 T=100', []))],
      undo: [
        PROBE,
        script(
          'ip route replace 10.99.0.0/16 via 10.255.2.2 dev tap0 table 100 proto static',
          edit('K=10.99.0.0/16 T=100', [UP100, DOWN100]),
        ),
      ],
      files: { before: { [TAP0]: text([...STANZA, UP100, DOWN100]) }, after: { [TAP0]: text(STANZA) } },
    },
  },
  {
    name: 'linux route: kept with an interface that has no ifupdown file → refused at plan time, naming it',
    os: 'linux',
    step: route('via eth0', { to: '10.99.0.0/16', via: '192.0.2.9', dev: 'eth0' }),
    probe: 'nosave=eth0 has no file in /etc/network/interfaces.d (give it an iface step)\n',
    expect: {
      error:
        /^10\.99\.0\.0\/16 cannot be configured for boot: eth0 has no file in \/etc\/network\/interfaces\.d \(give it an iface step\); or set persist: false$/,
    },
  },
  {
    name: 'linux route: persisted with neither dev nor iface → refused (Linux keeps routes with an interface)',
    os: 'linux',
    step: route('bogons', { to: '10.0.0.0/8', type: 'blackhole' }),
    probe: '',
    expect: { error: /^Linux keeps a route with an interface .*: give dev or iface, or set persist: false$/ },
  },
  {
    name: 'linux route: a multipath route already there → refused (ferry could not put it back)',
    os: 'linux',
    step: route('site b', { to: '10.99.0.0/16', via: '10.255.2.2', persist: false }),
    probe: 'route=other 10.99.0.0/16 proto zebra\n',
    expect: {
      error:
        /^10\.99\.0\.0\/16 is routed in a way ferry neither makes nor puts back \(10\.99\.0\.0\/16 proto zebra\): remove that route first$/,
    },
  },
] satisfies Case[]
