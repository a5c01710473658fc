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
const lo1 = () => iface('loopback', { name: 'lo1', kind: 'loopback', addresses: ['10.0.0.1/32'] })

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
      probe: [
        `if ip link show dev gre1 >/dev/null 2>&1; then`,
        `ip tunnel show gre1 2>/dev/null | awk '`,
        "else echo exists=0; echo up=0; [ -d /sys/module/ip_gre ] || { [ -e /proc/modules ] && modprobe -n -q ip_gre 2>/dev/null; } || echo 'nocreate=the kernel has no GRE (ip_gre is neither loaded nor loadable)'; fi",
      ],
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
