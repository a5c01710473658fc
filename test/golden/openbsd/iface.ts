// Seed 003's gre0: `ifconfig gre0 create`, `ifconfig gre0 tunnel …`, `ifconfig gre0 inet …
// netmask 0xffffffff link0 up`, and the same in /etc/hostname.gre0.
import { iface } from '../../../src/steps/iface.ts'
import { PROBE, type Case } from '../harness.ts'
import { script, writeLines } from '../scripts.ts'

const gre0 = (remote = '203.0.113.2') =>
  iface('gre to the 5GT', {
    name: 'gre0',
    kind: 'gre',
    tunnel: { local: '198.51.100.1', remote },
    addresses: ['172.16.2.1 peer 172.16.2.2'],
  })
const HOSTNAME = '/etc/hostname.gre0'
/** /etc/hostname.gre0 as the step writes it for seed 003's tunnel (test/unit/templates.test.ts checks the template against it). */
export const SEED = ['tunnel 198.51.100.1 203.0.113.2', '172.16.2.1 172.16.2.2 netmask 0xffffffff link0 up']
/** Seed 001's vlan6, with the tag and parent its ifconfig output shows and its file leaves out. */
const vlan6 = () =>
  iface('C1', {
    name: 'vlan6',
    kind: 'vlan',
    vlan: { id: 6, parent: 'ix0' },
    description: 'C1',
    domain: 1,
    addresses: ['172.16.6.1/30'],
  })
const VLAN6 = ['vnetid 6 parent ix0', 'description C1', 'rdomain 1', 'inet 172.16.6.1 255.255.255.252 NONE']
const UP = 'exists=1\nup=1\naddr=172.16.2.1 peer 172.16.2.2\n'
const saved = (lines: string[]) => lines.map((l) => `saved=${l}\n`).join('')

export default [
  {
    name: "openbsd iface: no gre0 → seed 003's three ifconfig commands, and /etc/hostname.gre0",
    os: 'openbsd',
    step: gre0(),
    probe: 'exists=0\nup=0\n',
    after: `${UP}tunnel=198.51.100.1 203.0.113.2\n${saved(SEED)}`,
    expect: {
      revert: ['ifconfig gre0 destroy', 'f=/etc/hostname.gre0; rm -f "$f"'],
      probe: [
        'if out=$(ifconfig gre0 2>/dev/null); then echo exists=1;',
        `[ ! -f ${HOSTNAME} ] || sed 's/^/saved=/' ${HOSTNAME}`,
      ],
      changes: [
        'create gre0',
        'gre0 tunnel: (none) → 198.51.100.1 203.0.113.2',
        'gre0: add 172.16.2.1 peer 172.16.2.2',
        'gre0: up',
        {
          summary: `gre0 at boot: ${HOSTNAME}`,
          diff: `--- ${HOSTNAME}\n+++ ${HOSTNAME}\n@@ -0,0 +1,2 @@\n+${SEED[0]}\n+${SEED[1]}\n`,
        },
      ],
      apply: [
        script(
          'ifconfig gre0 create',
          'ifconfig gre0 tunnel 198.51.100.1 203.0.113.2',
          'ifconfig gre0 inet 172.16.2.1 172.16.2.2 netmask 0xffffffff link0 up',
          writeLines(HOSTNAME, '0640', SEED),
        ),
      ],
      undo: [PROBE, script('ifconfig gre0 destroy', `f=${HOSTNAME}; rm -f "$f"`)],
      files: { after: { [HOSTNAME]: `${SEED.join('\n')}\n` } },
    },
  },
  {
    name: 'openbsd iface: gre0 as the seed configures it → in sync',
    os: 'openbsd',
    step: gre0(),
    probe: `${UP}tunnel=198.51.100.1 203.0.113.2\n${saved(SEED)}`,
    expect: { changes: [] },
  },
  {
    name: 'openbsd iface: the peer moved to a new global address → tunnel reset live and in hostname.gre0',
    os: 'openbsd',
    step: gre0('203.0.113.3'),
    probe: `${UP}tunnel=198.51.100.1 203.0.113.2\n${saved(SEED)}`,
    after: `${UP}tunnel=198.51.100.1 203.0.113.3\nsaved=tunnel 198.51.100.1 203.0.113.3\nsaved=${SEED[1]}\n`,
    expect: {
      changes: [
        'gre0 tunnel: 198.51.100.1 203.0.113.2 → 198.51.100.1 203.0.113.3',
        {
          summary: `gre0 at boot: ${HOSTNAME}`,
          diff: `--- ${HOSTNAME}\n+++ ${HOSTNAME}\n@@ -1,2 +1,2 @@\n-tunnel 198.51.100.1 203.0.113.2\n+tunnel 198.51.100.1 203.0.113.3\n ${SEED[1]}\n`,
        },
      ],
      apply: [
        script(
          'ifconfig gre0 tunnel 198.51.100.1 203.0.113.3',
          writeLines(HOSTNAME, '0640', ['tunnel 198.51.100.1 203.0.113.3', SEED[1]!]),
        ),
      ],
      undo: [PROBE, script('ifconfig gre0 tunnel 198.51.100.1 203.0.113.2', writeLines(HOSTNAME, '0640', SEED))],
      files: {
        before: { [HOSTNAME]: `${SEED.join('\n')}\n` },
        after: { [HOSTNAME]: `tunnel 198.51.100.1 203.0.113.3\n${SEED[1]}\n` },
      },
    },
  },
  {
    name: 'openbsd iface: lo1 with two addresses → the second as an alias; hostname.lo1 in hostname.if(5) form, inet ADDRESS NETMASK NONE, up by its first address',
    os: 'openbsd',
    step: iface('loopback', { name: 'lo1', kind: 'loopback', addresses: ['10.0.0.1/32', '10.0.0.2/32'] }),
    probe: 'exists=0\nup=0\n',
    after:
      'exists=1\nup=1\naddr=10.0.0.1/32\naddr=10.0.0.2/32\nsaved=inet 10.0.0.1 255.255.255.255 NONE\nsaved=inet alias 10.0.0.2 255.255.255.255 NONE\n',
    expect: {
      changes: [
        'create lo1',
        'lo1: add 10.0.0.1/32',
        'lo1: add 10.0.0.2/32',
        'lo1: up',
        {
          summary: 'lo1 at boot: /etc/hostname.lo1',
          diff: '--- /etc/hostname.lo1\n+++ /etc/hostname.lo1\n@@ -0,0 +1,2 @@\n+inet 10.0.0.1 255.255.255.255 NONE\n+inet alias 10.0.0.2 255.255.255.255 NONE\n',
        },
      ],
      apply: [
        script(
          'ifconfig lo1 create',
          'ifconfig lo1 inet 10.0.0.1/32',
          'ifconfig lo1 inet alias 10.0.0.2/32 up',
          writeLines('/etc/hostname.lo1', '0640', [
            'inet 10.0.0.1 255.255.255.255 NONE',
            'inet alias 10.0.0.2 255.255.255.255 NONE',
          ]),
        ),
      ],
      undo: [PROBE, script('ifconfig lo1 destroy', 'f=/etc/hostname.lo1; rm -f "$f"')],
      files: {
        after: {
          '/etc/hostname.lo1': 'inet 10.0.0.1 255.255.255.255 NONE\ninet alias 10.0.0.2 255.255.255.255 NONE\n',
        },
      },
    },
  },
  {
    name: "openbsd iface: the peer moved where a route keeps its !route line in hostname.gre0 → rewritten, the route's line kept after gre0's own",
    os: 'openbsd',
    step: gre0('203.0.113.3'),
    probe: `${UP}tunnel=198.51.100.1 203.0.113.2\n${saved([...SEED, '!route -qn add -inet 10.2.0.0/16 172.16.2.2'])}`,
    expect: {
      changes: [
        'gre0 tunnel: 198.51.100.1 203.0.113.2 → 198.51.100.1 203.0.113.3',
        {
          summary: `gre0 at boot: ${HOSTNAME}`,
          diff: `--- ${HOSTNAME}\n+++ ${HOSTNAME}\n@@ -1,3 +1,3 @@\n-tunnel 198.51.100.1 203.0.113.2\n+tunnel 198.51.100.1 203.0.113.3\n ${SEED[1]}\n !route -qn add -inet 10.2.0.0/16 172.16.2.2\n`,
        },
      ],
      apply: [
        script(
          'ifconfig gre0 tunnel 198.51.100.1 203.0.113.3',
          writeLines(HOSTNAME, '0640', [
            'tunnel 198.51.100.1 203.0.113.3',
            SEED[1]!,
            '!route -qn add -inet 10.2.0.0/16 172.16.2.2',
          ]),
        ),
      ],
      undo: [PROBE],
    },
  },
  {
    name: "openbsd iface: seed 001's vlan6 for Customer 1 → tagged on ix0, described, in rdomain 1 before its address; hostname.vlan6 in that order",
    os: 'openbsd',
    step: vlan6(),
    probe: 'exists=0\nup=0\n',
    after: `exists=1\nup=1\naddr=172.16.6.1/30\nvlan=6 ix0\ndomain=1\ndescription=C1\n${saved(VLAN6)}`,
    expect: {
      changes: [
        'create vlan6',
        'vlan6 vlan: (none) → 6 on ix0',
        'vlan6 description: "C1"',
        'vlan6 routing domain: 0 → 1',
        'vlan6: add 172.16.6.1/30',
        'vlan6: up',
        {
          summary: 'vlan6 at boot: /etc/hostname.vlan6',
          diff: `--- /etc/hostname.vlan6\n+++ /etc/hostname.vlan6\n@@ -0,0 +1,4 @@\n${VLAN6.map((l) => `+${l}\n`).join('')}`,
        },
      ],
      apply: [
        script(
          'ifconfig vlan6 create',
          'ifconfig vlan6 vnetid 6 parent ix0',
          'ifconfig vlan6 description C1',
          'ifconfig vlan6 rdomain 1',
          'ifconfig vlan6 inet 172.16.6.1/30 up',
          writeLines('/etc/hostname.vlan6', '0640', VLAN6),
        ),
      ],
      undo: [PROBE, script('ifconfig vlan6 destroy', 'f=/etc/hostname.vlan6; rm -f "$f"')],
    },
  },
  {
    name: 'openbsd iface: vlan6 found in the default domain with its address → the address off, rdomain 1, the address back (rdomain drops it anyway)',
    os: 'openbsd',
    step: vlan6(),
    probe: `exists=1\nup=1\naddr=172.16.6.1/30\nvlan=6 ix0\ndescription=C1\n${saved(VLAN6)}`,
    expect: {
      changes: ['vlan6: remove 172.16.6.1/30', 'vlan6 routing domain: 0 → 1', 'vlan6: add 172.16.6.1/30'],
      apply: [
        script(
          'ifconfig vlan6 inet 172.16.6.1 delete',
          'ifconfig vlan6 rdomain 1',
          'ifconfig vlan6 inet 172.16.6.1/30',
        ),
      ],
      undo: [PROBE],
    },
  },
  {
    name: 'openbsd iface: a gre interface not named greN → refused',
    os: 'openbsd',
    step: iface('bad', { name: 'tun0', kind: 'gre', tunnel: { local: '198.51.100.1', remote: '203.0.113.2' } }),
    probe: 'exists=0\nup=0\n',
    expect: { error: /tun0: a gre interface is named greN/ },
  },
] satisfies Case[]
