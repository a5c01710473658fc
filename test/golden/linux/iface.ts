// Loopback, gre and tap on Debian: `ip` live, ifupdown files in /etc/network/interfaces.d.
import { iface } from '../../../src/steps/iface.ts'
import { PROBE, type Case } from '../harness.ts'
import { script, writeLines } from '../scripts.ts'

const D = '/etc/network/interfaces.d'
const LO1 = [
  '# lo1, managed by ferry',
  'auto lo:1',
  'iface lo:1 inet manual',
  '    up ip addr add 10.0.0.1/32 dev lo label lo:1',
  '    down ip addr del 10.0.0.1/32 dev lo label lo:1',
]
const GRE1 = [
  '# gre1, managed by ferry',
  'auto gre1',
  'iface gre1 inet manual',
  '    pre-up ip tunnel add gre1 mode gre local 203.0.113.21 remote 203.0.113.22 ttl 255',
  '    up ip addr add 172.16.2.5 peer 172.16.2.6 dev gre1',
  '    up ip link set gre1 up',
  '    post-down ip tunnel del gre1',
]
const saved = (lines: string[]) => lines.map((l) => `saved=${l}\n`).join('')

// systemd-networkd, where the host keeps its interfaces there (the probe says netconfig=networkd).
const N = '/etc/systemd/network'
const LO_BASE = `${N}/50-ferry-lo.network`
const LO_NETWORK = [
  '# lo, managed by ferry: the addresses of its loopback aliases are in 50-ferry-lo.network.d',
  '[Match]',
  'Name=lo',
  '',
  '[Network]',
  'KeepConfiguration=static',
]
const LO1_CONF = `${N}/50-ferry-lo.network.d/lo1.conf`
const LO1_DROPIN = ['# lo1, managed by ferry', '[Address]', 'Address=10.0.0.1/32', 'Label=lo:1']
const GRE1_NETDEV = [
  '# gre1, managed by ferry',
  '[NetDev]',
  'Name=gre1',
  'Kind=gre',
  '',
  '[Tunnel]',
  'Local=203.0.113.21',
  'Remote=203.0.113.22',
  'TTL=255',
  'Independent=yes',
]
const GRE1_NETWORK = [
  '# gre1, managed by ferry',
  '[Match]',
  'Name=gre1',
  '',
  '[Address]',
  'Address=172.16.2.5/32',
  'Peer=172.16.2.6/32',
]
const GRE1_ROUTE = `${N}/50-ferry-gre1.network.d/ferry-route-10.2.0.0_16.conf`
const GRE1_ROUTE_DROPIN = [
  '# 10.2.0.0/16, managed by ferry',
  '[Route]',
  'Destination=10.2.0.0/16',
  'Gateway=172.16.2.6',
]
const files = (...f: [string, string[]][]) => f.flatMap(([path, lines]) => [`==> ${path} <==`, ...lines])
const added = (path: string, lines: string[]) =>
  `--- ${path}\n+++ ${path}\n@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}\n`).join('')}`
const RELOAD = 'if [ -d /run/systemd/system ] && systemctl is-active -q systemd-networkd; then networkctl reload; fi'
// lo's .network goes when no drop-in is left under it: the directory emptied, or gone.
const LO_LAST = `if rmdir ${N}/50-ferry-lo.network.d 2>/dev/null || [ ! -e ${N}/50-ferry-lo.network.d ]; then f=${LO_BASE}; rm -f "$f"; fi`
const text = (lines: string[]) => lines.map((l) => `${l}\n`).join('')
const lo1 = () => iface('loopback', { name: 'lo1', kind: 'loopback', addresses: ['10.0.0.1/32'] })

/** lo1 made on a networkd host where lo has no .network of ferry's yet: lo's, and lo1's drop-in under it. */
const LO1_ON_NETWORKD = {
  changes: [
    'create lo1',
    'lo1: add 10.0.0.1/32',
    {
      summary: `lo1 at boot: ${LO_BASE}, ${LO1_CONF}`,
      diff: added(LO_BASE, LO_NETWORK) + added(LO1_CONF, LO1_DROPIN),
    },
  ],
  apply: [
    script(
      'ip addr add 10.0.0.1/32 dev lo label lo:1',
      writeLines(LO_BASE, '0644', LO_NETWORK),
      `mkdir -p ${N}/50-ferry-lo.network.d`,
      writeLines(LO1_CONF, '0644', LO1_DROPIN),
      RELOAD,
    ),
  ],
}

export default [
  {
    name: 'linux iface: lo1 → an address on lo labelled lo:1, and an ifupdown stanza for it',
    os: 'linux',
    step: lo1(),
    probe: 'exists=0\nup=1\n',
    after: `exists=1\naddr=10.0.0.1/32\nup=1\n${saved(LO1)}`,
    expect: {
      probe: [`a=$(ip -o -4 addr show dev lo label lo:1 | awk '`, `[ ! -f ${D}/lo1 ] || sed 's/^/saved=/' ${D}/lo1`],
      changes: [
        'create lo1',
        'lo1: add 10.0.0.1/32',
        {
          summary: `lo1 at boot: ${D}/lo1`,
          diff: `--- ${D}/lo1\n+++ ${D}/lo1\n@@ -0,0 +1,5 @@\n${LO1.map((l) => `+${l}\n`).join('')}`,
        },
      ],
      apply: [script('ip addr add 10.0.0.1/32 dev lo label lo:1', writeLines(`${D}/lo1`, '0644', LO1))],
      undo: [PROBE, script('ip addr del 10.0.0.1/32 dev lo label lo:1', `f=${D}/lo1; rm -f "$f"`)],
      files: { after: { [`${D}/lo1`]: LO1.map((l) => `${l}\n`).join('') } },
    },
  },
  {
    name: 'linux iface: lo1 configured and persisted → in sync',
    os: 'linux',
    step: lo1(),
    probe: `exists=1\naddr=10.0.0.1/32\nup=1\n${saved(LO1)}`,
    expect: { changes: [] },
  },
  {
    name: 'linux iface: gre1 → ip tunnel add … ttl 255, a peer address, link up; ifupdown runs the same',
    os: 'linux',
    step: iface('gre to r2', {
      name: 'gre1',
      kind: 'gre',
      tunnel: { local: '203.0.113.21', remote: '203.0.113.22' },
      addresses: ['172.16.2.5 peer 172.16.2.6'],
    }),
    probe: 'exists=0\nup=0\n',
    after: `exists=1\nup=1\naddr=172.16.2.5 peer 172.16.2.6\ntunnel=203.0.113.21 203.0.113.22\n${saved(GRE1)}`,
    expect: {
      revert: ['ip tunnel del gre1', 'f=/etc/network/interfaces.d/gre1; rm -f "$f"'],
      probe: [`if ip link show dev gre1 >/dev/null 2>&1; then`, `ip tunnel show gre1 2>/dev/null | awk '`],
      changes: [
        'create gre1',
        'gre1 tunnel: (none) → 203.0.113.21 203.0.113.22',
        'gre1: add 172.16.2.5 peer 172.16.2.6',
        'gre1: up',
        {
          summary: `gre1 at boot: ${D}/gre1`,
          diff: `--- ${D}/gre1\n+++ ${D}/gre1\n@@ -0,0 +1,7 @@\n${GRE1.map((l) => `+${l}\n`).join('')}`,
        },
      ],
      apply: [
        script(
          'ip tunnel add gre1 mode gre local 203.0.113.21 remote 203.0.113.22 ttl 255',
          'ip addr add 172.16.2.5 peer 172.16.2.6 dev gre1',
          'ip link set gre1 up',
          writeLines(`${D}/gre1`, '0644', GRE1),
        ),
      ],
      undo: [PROBE, script('ip tunnel del gre1', `f=${D}/gre1; rm -f "$f"`)],
    },
  },
  {
    name: 'linux iface: tap0 holding a stale address → the stale one removed, the right one added',
    os: 'linux',
    step: iface('tap to r3', { name: 'tap0', kind: 'tap', addresses: ['172.16.2.9/30'], persist: false }),
    probe: 'exists=1\nup=1\naddr=172.16.2.1/30\n',
    after: 'exists=1\nup=1\naddr=172.16.2.9/30\n',
    expect: {
      changes: ['tap0: remove 172.16.2.1/30', 'tap0: add 172.16.2.9/30'],
      apply: [script('ip addr del 172.16.2.1/30 dev tap0', 'ip addr add 172.16.2.9/30 dev tap0')],
      undo: [PROBE, script('ip addr del 172.16.2.9/30 dev tap0', 'ip addr add 172.16.2.1/30 dev tap0')],
    },
  },
  {
    name: "linux iface: a gre tunnel named gre0 → refused (the gre module's fallback device)",
    os: 'linux',
    step: iface('gre', { name: 'gre0', kind: 'gre', tunnel: { local: '203.0.113.21', remote: '203.0.113.22' } }),
    probe: 'exists=1\nup=0\n',
    expect: { error: /gre0 is the fallback device of the Linux gre module/ },
  },
  {
    name: 'linux iface: lo1 on a systemd-networkd host → lo matched by 50-ferry-lo.network, the address in its drop-in lo1.conf',
    os: 'linux',
    step: lo1(),
    probe: 'exists=0\nup=1\nnetconfig=networkd\n',
    after: `exists=1\naddr=10.0.0.1/32\nup=1\nnetconfig=networkd\n${saved(files([LO_BASE, LO_NETWORK], [LO1_CONF, LO1_DROPIN]))}`,
    expect: {
      probe: [
        `[ ! -f ${D}/lo1 ] || sed 's/^/saved=/' ${D}/lo1\nelif [ -d ${N} ]; then\necho netconfig=networkd\n`,
        `for p in ${LO_BASE} ${LO1_CONF}; do [ ! -f "$p" ] || { echo "saved===> $p <=="; sed 's/^/saved=/' "$p"; }; done`,
      ],
      ...LO1_ON_NETWORKD,
      // lo's .network goes with the last drop-in under it.
      undo: [PROBE, script('ip addr del 10.0.0.1/32 dev lo label lo:1', `f=${LO1_CONF}; rm -f "$f"`, LO_LAST, RELOAD)],
      files: { after: { [LO_BASE]: text(LO_NETWORK), [LO1_CONF]: text(LO1_DROPIN) } },
    },
  },
  {
    name: "linux iface: lo1's drop-in deleted by hand, then lo1 undone → lo's .network goes too, no drop-in being left",
    os: 'linux',
    step: lo1(),
    probe: 'exists=0\nup=1\nnetconfig=networkd\n',
    after: `exists=1\naddr=10.0.0.1/32\nup=1\nnetconfig=networkd\n${saved(files([LO_BASE, LO_NETWORK]))}`,
    expect: {
      ...LO1_ON_NETWORKD,
      undo: [PROBE, script('ip addr del 10.0.0.1/32 dev lo label lo:1', LO_LAST, RELOAD)],
    },
  },
  {
    name: "linux iface: lo2 beside lo1 on networkd → its own drop-in only, lo's .network left as lo1's step wrote it",
    os: 'linux',
    step: iface('jails', { name: 'lo2', kind: 'loopback', addresses: ['172.16.3.1/32', '172.16.3.2/32'] }),
    probe: `exists=0\nup=1\nnetconfig=networkd\n${saved(files([LO_BASE, LO_NETWORK]))}`,
    expect: {
      changes: [
        'create lo2',
        'lo2: add 172.16.3.1/32',
        'lo2: add 172.16.3.2/32',
        {
          summary: `lo2 at boot: ${LO_BASE}, ${N}/50-ferry-lo.network.d/lo2.conf`,
          diff: added(`${N}/50-ferry-lo.network.d/lo2.conf`, [
            '# lo2, managed by ferry',
            '[Address]',
            'Address=172.16.3.1/32',
            'Label=lo:2',
            '',
            '[Address]',
            'Address=172.16.3.2/32',
            'Label=lo:2',
          ]),
        },
      ],
      apply: [
        script(
          'ip addr add 172.16.3.1/32 dev lo label lo:2',
          'ip addr add 172.16.3.2/32 dev lo label lo:2',
          `mkdir -p ${N}/50-ferry-lo.network.d`,
          writeLines(`${N}/50-ferry-lo.network.d/lo2.conf`, '0644', [
            '# lo2, managed by ferry',
            '[Address]',
            'Address=172.16.3.1/32',
            'Label=lo:2',
            '',
            '[Address]',
            'Address=172.16.3.2/32',
            'Label=lo:2',
          ]),
          RELOAD,
        ),
      ],
      undo: [PROBE],
    },
  },
  {
    name: 'linux iface: gre1 on networkd → a .netdev (an independent gre tunnel, ttl 255) and a .network with the peer address',
    os: 'linux',
    step: iface('gre to r2', {
      name: 'gre1',
      kind: 'gre',
      tunnel: { local: '203.0.113.21', remote: '203.0.113.22' },
      addresses: ['172.16.2.5 peer 172.16.2.6'],
    }),
    probe: 'exists=0\nup=0\nnetconfig=networkd\n',
    expect: {
      changes: [
        'create gre1',
        'gre1 tunnel: (none) → 203.0.113.21 203.0.113.22',
        'gre1: add 172.16.2.5 peer 172.16.2.6',
        'gre1: up',
        {
          summary: `gre1 at boot: ${N}/50-ferry-gre1.netdev, ${N}/50-ferry-gre1.network`,
          diff: added(`${N}/50-ferry-gre1.netdev`, GRE1_NETDEV) + added(`${N}/50-ferry-gre1.network`, GRE1_NETWORK),
        },
      ],
      apply: [
        script(
          'ip tunnel add gre1 mode gre local 203.0.113.21 remote 203.0.113.22 ttl 255',
          'ip addr add 172.16.2.5 peer 172.16.2.6 dev gre1',
          'ip link set gre1 up',
          writeLines(`${N}/50-ferry-gre1.netdev`, '0644', GRE1_NETDEV),
          writeLines(`${N}/50-ferry-gre1.network`, '0644', GRE1_NETWORK),
          RELOAD,
        ),
      ],
      undo: [PROBE],
      revert: [
        'ip tunnel del gre1',
        `f=${N}/50-ferry-gre1.netdev; rm -f "$f"`,
        `f=${N}/50-ferry-gre1.network; rm -f "$f"`,
        RELOAD,
      ],
      files: {
        after: { [`${N}/50-ferry-gre1.netdev`]: text(GRE1_NETDEV), [`${N}/50-ferry-gre1.network`]: text(GRE1_NETWORK) },
      },
    },
  },
  {
    // A route step's drop-in beside gre1's .network is listed with gre1's files: kept while gre1
    // is, and gone with it, as the kernel takes gre1's routes with it.
    name: "linux iface: gre1 on networkd with a route's drop-in beside its .network → the probe lists it with gre1's files; in sync",
    os: 'linux',
    step: iface('gre to r2', {
      name: 'gre1',
      kind: 'gre',
      tunnel: { local: '203.0.113.21', remote: '203.0.113.22' },
      addresses: ['172.16.2.5 peer 172.16.2.6'],
    }),
    probe: `exists=1\nup=1\naddr=172.16.2.5 peer 172.16.2.6\ntunnel=203.0.113.21 203.0.113.22\nnetconfig=networkd\n${saved(
      files(
        [`${N}/50-ferry-gre1.netdev`, GRE1_NETDEV],
        [`${N}/50-ferry-gre1.network`, GRE1_NETWORK],
        [GRE1_ROUTE, GRE1_ROUTE_DROPIN],
      ),
    )}`,
    expect: {
      probe: [
        `for p in ${N}/50-ferry-gre1.netdev ${N}/50-ferry-gre1.network ${N}/50-ferry-gre1.network.d/ferry-route-*.conf; do`,
      ],
      changes: [],
    },
  },
  {
    name: 'linux iface: tap0 on networkd, configured and saved → in sync (carrier not needed, not waited for at boot)',
    os: 'linux',
    step: iface('tap', { name: 'tap0', kind: 'tap', addresses: ['10.255.1.1/30'] }),
    probe: `exists=1\nup=1\naddr=10.255.1.1/30\nnetconfig=networkd\n${saved(
      files(
        [`${N}/50-ferry-tap0.netdev`, ['# tap0, managed by ferry', '[NetDev]', 'Name=tap0', 'Kind=tap']],
        [
          `${N}/50-ferry-tap0.network`,
          [
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
            'Address=10.255.1.1/30',
          ],
        ],
      ),
    )}`,
    expect: { changes: [] },
  },
  {
    name: "linux iface: tap0's address changed where routes keep their lines in its ifupdown file → rewritten, the route lines kept after the stanza",
    os: 'linux',
    step: iface('tap', { name: 'tap0', kind: 'tap', addresses: ['10.255.1.5/30'], persist: true }),
    probe: `exists=1\nup=1\naddr=10.255.1.1/30\n${saved([
      '# tap0, managed by ferry',
      'auto tap0',
      'iface tap0 inet manual',
      '    pre-up ip tuntap add dev tap0 mode tap',
      '    up ip addr add 10.255.1.1/30 dev tap0',
      '    up ip link set tap0 up',
      '    post-down ip tuntap del dev tap0 mode tap',
      '    up ip route replace 10.99.0.0/16 via 10.255.1.2 dev tap0 proto static',
      '    down ip route del 10.99.0.0/16',
    ])}`,
    expect: {
      changes: [
        'tap0: remove 10.255.1.1/30',
        'tap0: add 10.255.1.5/30',
        {
          summary: `tap0 at boot: ${D}/tap0`,
          diff: `--- ${D}/tap0\n+++ ${D}/tap0\n@@ -2,7 +2,7 @@\n auto tap0\n iface tap0 inet manual\n     pre-up ip tuntap add dev tap0 mode tap\n-    up ip addr add 10.255.1.1/30 dev tap0\n+    up ip addr add 10.255.1.5/30 dev tap0\n     up ip link set tap0 up\n     post-down ip tuntap del dev tap0 mode tap\n     up ip route replace 10.99.0.0/16 via 10.255.1.2 dev tap0 proto static\n`,
        },
      ],
      apply: [
        script(
          'ip addr del 10.255.1.1/30 dev tap0',
          'ip addr add 10.255.1.5/30 dev tap0',
          writeLines(`${D}/tap0`, '0644', [
            '# tap0, managed by ferry',
            'auto tap0',
            'iface tap0 inet manual',
            '    pre-up ip tuntap add dev tap0 mode tap',
            '    up ip addr add 10.255.1.5/30 dev tap0',
            '    up ip link set tap0 up',
            '    post-down ip tuntap del dev tap0 mode tap',
            '    up ip route replace 10.99.0.0/16 via 10.255.1.2 dev tap0 proto static',
            '    down ip route del 10.99.0.0/16',
          ]),
        ),
      ],
      undo: [PROBE],
    },
  },
  {
    name: 'linux iface: neither ifupdown nor systemd-networkd keeps interfaces here → refused at plan time, naming both',
    os: 'linux',
    step: lo1(),
    probe:
      'exists=0\nup=1\nnosave=neither /etc/network/interfaces.d (ifupdown) nor /etc/systemd/network (systemd-networkd) is here\n',
    expect: {
      error:
        /^lo1 cannot be configured for boot: neither \/etc\/network\/interfaces\.d \(ifupdown\) nor \/etc\/systemd\/network \(systemd-networkd\) is here; or set persist: false$/,
    },
  },
  {
    name: "linux iface: gre1 on a kernel without GRE (the lab's: no ip_gre, no modules) → refused at plan",
    os: 'linux',
    step: iface('gre to r2', { name: 'gre1', kind: 'gre', tunnel: { local: '203.0.113.21', remote: '203.0.113.22' } }),
    probe: 'exists=0\nup=0\nnocreate=the kernel has no GRE (ip_gre is neither loaded nor loadable)\n',
    expect: { error: /^gre1 cannot be created here: the kernel has no GRE/ },
  },
  {
    name: 'linux iface: tap0 in a container without /dev/net/tun → refused at plan',
    os: 'linux',
    step: iface('tap', { name: 'tap0', kind: 'tap', addresses: ['172.16.2.9/30'], persist: false }),
    probe: 'exists=0\nup=0\nnocreate=/dev/net/tun is missing (no TUN/TAP in this kernel or container)\n',
    expect: {
      probe: [
        "else echo exists=0; echo up=0; [ -c /dev/net/tun ] || echo 'nocreate=/dev/net/tun is missing (no TUN/TAP in this kernel or container)'; fi",
      ],
      error: /^tap0 cannot be created here: \/dev\/net\/tun is missing/,
    },
  },
  {
    name: 'linux iface: tap0 already there → what the kernel could not create does not matter',
    os: 'linux',
    step: iface('tap', { name: 'tap0', kind: 'tap', addresses: ['172.16.2.9/30'], persist: false }),
    probe: 'exists=1\nup=1\naddr=172.16.2.9/30\n',
    expect: { changes: [] },
  },
] satisfies Case[]
