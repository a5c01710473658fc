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

// vlan and vrf. vlan6 carries tag 6 on eth0, is in routing domain 1 (its VRF vrf1, table 1) and
// has a description; vrf1 holds the domain's loopback address, 127.0.0.1/8, as the kernel's
// vrf.rst has it. The ifupdown file of a VRF sorts first (00-vrf1), before its members'.
const VLAN6 = [
  '# vlan6, managed by ferry',
  'auto vlan6',
  'iface vlan6 inet manual',
  '    pre-up ip link add link eth0 name vlan6 type vlan id 6',
  "    pre-up ip link set dev vlan6 alias 'C1 uplink'",
  '    pre-up ip link set dev vlan6 master vrf1',
  '    up ip addr add 172.16.6.1/30 dev vlan6',
  '    up ip link set vlan6 up',
  '    post-down ip link del vlan6',
]
const VRF1 = [
  '# vrf1, managed by ferry',
  'auto vrf1',
  'iface vrf1 inet manual',
  '    pre-up ip link add vrf1 type vrf table 1',
  '    up ip addr add 127.0.0.1/8 dev vrf1',
  '    up ip link set vrf1 up',
  '    post-down ip link del vrf1',
]
const ETH0_NETWORK = '/usr/lib/systemd/network/10-eth0.network'
const VLAN6_NETDEV = ['# vlan6, managed by ferry', '[NetDev]', 'Name=vlan6', 'Kind=vlan', '', '[VLAN]', 'Id=6']
const VLAN6_NETWORK = [
  '# vlan6, managed by ferry',
  '[Match]',
  'Name=vlan6',
  '',
  '[Network]',
  'VRF=vrf1',
  '',
  '[Address]',
  'Address=172.16.6.1/30',
]
const VLAN6_LINK = [
  '# vlan6, managed by ferry: udev sets its description when it appears',
  '[Match]',
  'OriginalName=vlan6',
  '',
  '[Link]',
  'Alias=C1 uplink',
]
// Beside the parent's .network, whichever directory that is in: drop-ins under /etc count for it.
const VLAN6_DROPIN_DIR = `${N}/10-eth0.network.d`
const VLAN6_DROPIN = `${VLAN6_DROPIN_DIR}/ferry-vlan-vlan6.conf`
const VLAN6_DROPIN_LINES = ['# vlan6 on eth0, managed by ferry', '[Network]', 'VLAN=vlan6']
const VRF1_NETDEV = ['# vrf1, managed by ferry', '[NetDev]', 'Name=vrf1', 'Kind=vrf', '', '[VRF]', 'Table=1']
const VRF1_NETWORK = ['# vrf1, managed by ferry', '[Match]', 'Name=vrf1', '', '[Address]', 'Address=127.0.0.1/8']
const vlan6 = (o: { id?: number; domain?: number; persist?: boolean } = {}) =>
  iface('C1', {
    name: 'vlan6',
    kind: 'vlan',
    vlan: { id: o.id ?? 6, parent: 'eth0' },
    domain: o.domain ?? 1,
    description: 'C1 uplink',
    addresses: ['172.16.6.1/30'],
    persist: o.persist,
  })
const vrf1 = () => iface('domain 1', { name: 'vrf1', kind: 'vrf', domain: 1, addresses: ['127.0.0.1/8'] })
const VLAN6_CHANGES = [
  'create vlan6',
  'vlan6 vlan: (none) → 6 on eth0',
  'vlan6 description: "C1 uplink"',
  'vlan6 routing domain: 0 → 1',
  'vlan6: add 172.16.6.1/30',
  'vlan6: up',
]
const VLAN6_LIVE = [
  'ip link add link eth0 name vlan6 type vlan id 6',
  "ip link set dev vlan6 alias 'C1 uplink'",
  'ip link set dev vlan6 master vrf1',
  'ip addr add 172.16.6.1/30 dev vlan6',
  'ip link set vlan6 up',
]

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
        `for p in ${N}/50-ferry-gre1.netdev ${N}/50-ferry-gre1.network ${N}/50-ferry-gre1.link ${N}/50-ferry-gre1.network.d/ferry-route-*.conf ${N}/50-ferry-gre1.network.d/ferry-rule-*.conf; do`,
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
  {
    name: 'linux iface: vlan6 (tag 6 on eth0) made in routing domain 1 → created, described, into vrf1, then its address and up; ifupdown runs the same',
    os: 'linux',
    step: vlan6(),
    probe: 'exists=0\nup=0\n',
    after: `exists=1\nup=1\naddr=172.16.6.1/30\nvlan=6 eth0\ndomain=1\ndescription=C1 uplink\n${saved(VLAN6)}`,
    expect: {
      probe: [
        `ip -d -o link show dev vlan6 | awk '{ u = ($3 ~ /[<,]UP[,>]/); print "up=" u }`,
        `[ -d /sys/module/8021q ] || { [ -e /proc/modules ] && modprobe -n -q 8021q 2>/dev/null; }`,
        `[ ! -f ${D}/vlan6 ] || sed 's/^/saved=/' ${D}/vlan6`,
      ],
      changes: [...VLAN6_CHANGES, { summary: `vlan6 at boot: ${D}/vlan6`, diff: added(`${D}/vlan6`, VLAN6) }],
      apply: [script(...VLAN6_LIVE, writeLines(`${D}/vlan6`, '0644', VLAN6))],
      undo: [PROBE, script('ip link del vlan6', `f=${D}/vlan6; rm -f "$f"`)],
      revert: ['ip link del vlan6', `f=${D}/vlan6; rm -f "$f"`],
      files: { after: { [`${D}/vlan6`]: text(VLAN6) } },
    },
  },
  {
    name: "linux iface: vlan6 in domain 1 on networkd → a vlan .netdev, a .network with VRF=vrf1, a .link with its alias, and VLAN=vlan6 in a drop-in beside eth0's own .network",
    os: 'linux',
    step: vlan6(),
    probe: `exists=0\nup=0\nnetconfig=networkd ${ETH0_NETWORK}\n`,
    expect: {
      probe: [
        "networkctl status -- eth0 2>/dev/null | sed -n 's|^ *Network File: \\(/.*\\)$|\\1|p'",
        `awk -v p=eth0 '`,
        `' ${N}/*.network 2>/dev/null)`,
        `for p in ${N}/50-ferry-vlan6.netdev ${N}/50-ferry-vlan6.network ${N}/50-ferry-vlan6.link ${N}/50-ferry-vlan6.network.d/ferry-route-*.conf ${N}/50-ferry-vlan6.network.d/ferry-rule-*.conf ${N}/*.network.d/ferry-vlan-vlan6.conf; do`,
      ],
      changes: [
        ...VLAN6_CHANGES,
        {
          summary: `vlan6 at boot: ${N}/50-ferry-vlan6.netdev, ${N}/50-ferry-vlan6.network, ${VLAN6_DROPIN}`,
          diff:
            added(`${N}/50-ferry-vlan6.netdev`, VLAN6_NETDEV) +
            added(`${N}/50-ferry-vlan6.network`, VLAN6_NETWORK) +
            added(`${N}/50-ferry-vlan6.link`, VLAN6_LINK) +
            added(VLAN6_DROPIN, VLAN6_DROPIN_LINES),
        },
      ],
      apply: [
        script(
          ...VLAN6_LIVE,
          writeLines(`${N}/50-ferry-vlan6.netdev`, '0644', VLAN6_NETDEV),
          writeLines(`${N}/50-ferry-vlan6.network`, '0644', VLAN6_NETWORK),
          writeLines(`${N}/50-ferry-vlan6.link`, '0644', VLAN6_LINK),
          `mkdir -p ${VLAN6_DROPIN_DIR}`,
          writeLines(VLAN6_DROPIN, '0644', VLAN6_DROPIN_LINES),
          RELOAD,
        ),
      ],
      undo: [PROBE],
      revert: [
        'ip link del vlan6',
        `f=${N}/50-ferry-vlan6.netdev; rm -f "$f"`,
        `f=${N}/50-ferry-vlan6.network; rm -f "$f"`,
        `f=${N}/50-ferry-vlan6.link; rm -f "$f"`,
        `f=${VLAN6_DROPIN}; rm -f "$f"`,
        `rmdir ${VLAN6_DROPIN_DIR} 2>/dev/null || :`,
        RELOAD,
      ],
      files: {
        after: {
          [`${N}/50-ferry-vlan6.netdev`]: text(VLAN6_NETDEV),
          [`${N}/50-ferry-vlan6.network`]: text(VLAN6_NETWORK),
          [`${N}/50-ferry-vlan6.link`]: text(VLAN6_LINK),
          [VLAN6_DROPIN]: text(VLAN6_DROPIN_LINES),
        },
      },
    },
  },
  {
    // The probe lists a route's drop-in after vlan6's own files and before the one beside eth0's
    // .network; a second run renders them in that order, or it would rewrite them every time.
    name: "linux iface: vlan6 on networkd, saved, with a route's drop-in beside its .network → in sync",
    os: 'linux',
    step: vlan6(),
    probe: `exists=1\nup=1\naddr=172.16.6.1/30\nvlan=6 eth0\ndomain=1\ndescription=C1 uplink\nnetconfig=networkd ${ETH0_NETWORK}\n${saved(
      files(
        [`${N}/50-ferry-vlan6.netdev`, VLAN6_NETDEV],
        [`${N}/50-ferry-vlan6.network`, VLAN6_NETWORK],
        [`${N}/50-ferry-vlan6.link`, VLAN6_LINK],
        [
          `${N}/50-ferry-vlan6.network.d/ferry-route-192.168.1.0_24-table1.conf`,
          [
            '# 192.168.1.0/24 (table 1), managed by ferry',
            '[Route]',
            'Destination=192.168.1.0/24',
            'Gateway=172.16.6.2',
            'Table=1',
          ],
        ],
        [VLAN6_DROPIN, VLAN6_DROPIN_LINES],
      ),
    )}`,
    expect: { changes: [] },
  },
  {
    name: "linux iface: vlan6 on networkd where eth0 has no .network → refused at plan (networkd makes a vlan only from its parent's VLAN=)",
    os: 'linux',
    step: vlan6(),
    probe:
      'exists=0\nup=0\nnetconfig=networkd\nnosave=eth0 has no systemd-networkd .network, which is where networkd makes a vlan from (VLAN=): give eth0 one\n',
    expect: {
      error:
        /^vlan6 cannot be configured for boot: eth0 has no systemd-networkd \.network, which is where networkd makes a vlan from \(VLAN=\): give eth0 one; or set persist: false$/,
    },
  },
  {
    name: "linux iface: vrf1, routing domain 1's own device (table 1), with the domain's loopback 127.0.0.1/8 → its ifupdown file is 00-vrf1, read before its members'",
    os: 'linux',
    step: vrf1(),
    probe: 'exists=0\nup=0\n',
    after: `exists=1\nup=1\naddr=127.0.0.1/8\ndomain=1\n${saved(VRF1)}`,
    expect: {
      probe: [`[ ! -f ${D}/00-vrf1 ] || sed 's/^/saved=/' ${D}/00-vrf1`],
      changes: [
        'create vrf1',
        'vrf1 routing domain: 0 → 1',
        'vrf1: add 127.0.0.1/8',
        'vrf1: up',
        { summary: `vrf1 at boot: ${D}/00-vrf1`, diff: added(`${D}/00-vrf1`, VRF1) },
      ],
      apply: [
        script(
          'ip link add vrf1 type vrf table 1',
          'ip addr add 127.0.0.1/8 dev vrf1',
          'ip link set vrf1 up',
          writeLines(`${D}/00-vrf1`, '0644', VRF1),
        ),
      ],
      undo: [PROBE, script('ip link del vrf1', `f=${D}/00-vrf1; rm -f "$f"`)],
      files: { after: { [`${D}/00-vrf1`]: text(VRF1) } },
    },
  },
  {
    name: 'linux iface: vrf1 on networkd → [NetDev] Kind=vrf with [VRF] Table=1, and its address in its .network',
    os: 'linux',
    step: vrf1(),
    probe: 'exists=0\nup=0\nnetconfig=networkd\n',
    expect: {
      changes: [
        'create vrf1',
        'vrf1 routing domain: 0 → 1',
        'vrf1: add 127.0.0.1/8',
        'vrf1: up',
        {
          summary: `vrf1 at boot: ${N}/50-ferry-vrf1.netdev, ${N}/50-ferry-vrf1.network`,
          diff: added(`${N}/50-ferry-vrf1.netdev`, VRF1_NETDEV) + added(`${N}/50-ferry-vrf1.network`, VRF1_NETWORK),
        },
      ],
      apply: [
        script(
          'ip link add vrf1 type vrf table 1',
          'ip addr add 127.0.0.1/8 dev vrf1',
          'ip link set vrf1 up',
          writeLines(`${N}/50-ferry-vrf1.netdev`, '0644', VRF1_NETDEV),
          writeLines(`${N}/50-ferry-vrf1.network`, '0644', VRF1_NETWORK),
          RELOAD,
        ),
      ],
      undo: [PROBE],
      files: {
        after: {
          [`${N}/50-ferry-vrf1.netdev`]: text(VRF1_NETDEV),
          [`${N}/50-ferry-vrf1.network`]: text(VRF1_NETWORK),
          [`${N}/50-ferry-vrf1.link`]: null,
        },
      },
    },
  },
  {
    name: 'linux iface: vrf1 there and saved → in sync, its table read as its domain',
    os: 'linux',
    step: vrf1(),
    probe: `exists=1\nup=1\naddr=127.0.0.1/8\ndomain=1\n${saved(VRF1)}`,
    expect: { changes: [] },
  },
  {
    name: 'linux iface: vrf1 made by hand with table 7 → deleted and made again with table 1 (a VRF keeps its table), its address back on',
    os: 'linux',
    step: iface('domain 1', { name: 'vrf1', kind: 'vrf', domain: 1, addresses: ['127.0.0.1/8'], persist: false }),
    probe: 'exists=1\nup=1\naddr=127.0.0.1/8\ndomain=7\n',
    after: 'exists=1\nup=1\naddr=127.0.0.1/8\ndomain=1\n',
    expect: {
      changes: ['vrf1: remove 127.0.0.1/8', 'vrf1 routing domain: 7 → 1', 'vrf1: add 127.0.0.1/8'],
      apply: [
        script(
          'ip link del vrf1',
          'ip link add vrf1 type vrf table 1',
          'ip addr add 127.0.0.1/8 dev vrf1',
          'ip link set vrf1 up',
        ),
      ],
      undo: [
        PROBE,
        script(
          'ip link del vrf1',
          'ip link add vrf1 type vrf table 7',
          'ip addr add 127.0.0.1/8 dev vrf1',
          'ip link set vrf1 up',
        ),
      ],
    },
  },
  {
    name: 'linux iface: tap0 moved from domain 1 to 2 → its addresses off, master vrf2, its addresses on again; undo moves it back',
    os: 'linux',
    step: iface('tap', { name: 'tap0', kind: 'tap', addresses: ['10.255.1.1/30'], domain: 2, persist: false }),
    probe: 'exists=1\nup=1\naddr=10.255.1.1/30\ndomain=1\n',
    after: 'exists=1\nup=1\naddr=10.255.1.1/30\ndomain=2\n',
    expect: {
      changes: ['tap0: remove 10.255.1.1/30', 'tap0 routing domain: 1 → 2', 'tap0: add 10.255.1.1/30'],
      apply: [
        script(
          'ip addr del 10.255.1.1/30 dev tap0',
          'ip link set dev tap0 master vrf2',
          'ip addr add 10.255.1.1/30 dev tap0',
        ),
      ],
      undo: [
        PROBE,
        script(
          'ip addr del 10.255.1.1/30 dev tap0',
          'ip link set dev tap0 master vrf1',
          'ip addr add 10.255.1.1/30 dev tap0',
        ),
      ],
    },
  },
  {
    name: 'linux iface: tap0 taken out of domain 1 into the default one → nomaster between its addresses going and coming back',
    os: 'linux',
    step: iface('tap', { name: 'tap0', kind: 'tap', addresses: ['10.255.1.1/30'], persist: false }),
    probe: 'exists=1\nup=1\naddr=10.255.1.1/30\ndomain=1\n',
    after: 'exists=1\nup=1\naddr=10.255.1.1/30\n',
    expect: {
      changes: ['tap0: remove 10.255.1.1/30', 'tap0 routing domain: 1 → 0', 'tap0: add 10.255.1.1/30'],
      apply: [
        script(
          'ip addr del 10.255.1.1/30 dev tap0',
          'ip link set dev tap0 nomaster',
          'ip addr add 10.255.1.1/30 dev tap0',
        ),
      ],
      undo: [
        PROBE,
        script(
          'ip addr del 10.255.1.1/30 dev tap0',
          'ip link set dev tap0 master vrf1',
          'ip addr add 10.255.1.1/30 dev tap0',
        ),
      ],
    },
  },
  {
    name: 'linux iface: vlan6 tagged 7 by hand → deleted and made again with tag 6 (Linux cannot retag a vlan), with its description, domain and address',
    os: 'linux',
    step: vlan6({ persist: false }),
    probe: 'exists=1\nup=1\naddr=172.16.6.1/30\nvlan=7 eth0\ndomain=1\ndescription=C1 uplink\n',
    after: 'exists=1\nup=1\naddr=172.16.6.1/30\nvlan=6 eth0\ndomain=1\ndescription=C1 uplink\n',
    expect: {
      changes: ['vlan6 vlan: 7 on eth0 → 6 on eth0'],
      apply: [script('ip link del vlan6', ...VLAN6_LIVE)],
      undo: [
        PROBE,
        script(
          'ip link del vlan6',
          'ip link add link eth0 name vlan6 type vlan id 7',
          "ip link set dev vlan6 alias 'C1 uplink'",
          'ip link set dev vlan6 master vrf1',
          'ip addr add 172.16.6.1/30 dev vlan6',
          'ip link set vlan6 up',
        ),
      ],
    },
  },
  {
    name: 'linux iface: lo1 in routing domain 1 → refused: lo cannot join a VRF, the domain has vrf1 for that',
    os: 'linux',
    step: iface('lo', { name: 'lo1', kind: 'loopback', domain: 1, addresses: ['10.0.0.1/32'] }),
    probe: 'exists=0\nup=1\n',
    expect: {
      error:
        /^lo1: a loopback alias is addresses on lo, which cannot join a VRF; routing domain 1's own addresses go on its VRF device \(domainIface\(1\): vrf1\)$/,
    },
  },
  {
    name: "linux iface: lo1 with a description → refused (it would be all of lo's)",
    os: 'linux',
    step: iface('lo', { name: 'lo1', kind: 'loopback', description: 'jails', addresses: ['10.0.0.1/32'] }),
    probe: 'exists=0\nup=1\n',
    expect: { error: /^lo1: a loopback alias is addresses on lo, which has one description/ },
  },
  {
    name: 'linux iface: a vrf named red for domain 1 → refused: members join vrf1',
    os: 'linux',
    step: iface('red', { name: 'red', kind: 'vrf', domain: 1 }),
    probe: 'exists=0\nup=0\n',
    expect: { error: /^red: the VRF device of routing domain 1 is named vrf1 \(domainIface\(1\)\)/ },
  },
  {
    name: 'linux iface: vlan6 on a kernel without 802.1Q → refused at plan',
    os: 'linux',
    step: vlan6({ persist: false }),
    probe: 'exists=0\nup=0\nnocreate=the kernel has no 802.1Q (8021q is neither loaded nor loadable)\n',
    expect: { error: /^vlan6 cannot be created here: the kernel has no 802\.1Q/ },
  },
] satisfies Case[]
