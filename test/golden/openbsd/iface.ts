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
    name: 'openbsd iface: lo1 with two addresses → the second as an alias; hostname.lo1 in netstart syntax',
    os: 'openbsd',
    step: iface('loopback', { name: 'lo1', kind: 'loopback', addresses: ['10.0.0.1/32', '10.0.0.2/32'] }),
    probe: 'exists=0\nup=0\n',
    after:
      'exists=1\nup=1\naddr=10.0.0.1/32\naddr=10.0.0.2/32\nsaved=inet 10.0.0.1/32\nsaved=inet alias 10.0.0.2/32\nsaved=up\n',
    expect: {
      changes: [
        'create lo1',
        'lo1: add 10.0.0.1/32',
        'lo1: add 10.0.0.2/32',
        'lo1: up',
        {
          summary: 'lo1 at boot: /etc/hostname.lo1',
          diff: '--- /etc/hostname.lo1\n+++ /etc/hostname.lo1\n@@ -0,0 +1,3 @@\n+inet 10.0.0.1/32\n+inet alias 10.0.0.2/32\n+up\n',
        },
      ],
      apply: [
        script(
          'ifconfig lo1 create',
          'ifconfig lo1 inet 10.0.0.1/32',
          'ifconfig lo1 inet alias 10.0.0.2/32 up',
          writeLines('/etc/hostname.lo1', '0640', ['inet 10.0.0.1/32', 'inet alias 10.0.0.2/32', 'up']),
        ),
      ],
      undo: [PROBE, script('ifconfig lo1 destroy', 'f=/etc/hostname.lo1; rm -f "$f"')],
      files: { after: { '/etc/hostname.lo1': 'inet 10.0.0.1/32\ninet alias 10.0.0.2/32\nup\n' } },
    },
  },
  {
    name: "openbsd iface: the peer moved where a route keeps its !route line in hostname.gre0 → rewritten, the route's line kept after gre0's own",
    os: 'openbsd',
    step: gre0('203.0.113.3'),
    probe: `${UP}tunnel=198.51.100.1 203.0.113.2\n${saved([...SEED, '!route -n add -inet 10.2.0.0/16 172.16.2.2'])}`,
    expect: {
      changes: [
        'gre0 tunnel: 198.51.100.1 203.0.113.2 → 198.51.100.1 203.0.113.3',
        {
          summary: `gre0 at boot: ${HOSTNAME}`,
          diff: `--- ${HOSTNAME}\n+++ ${HOSTNAME}\n@@ -1,3 +1,3 @@\n-tunnel 198.51.100.1 203.0.113.2\n+tunnel 198.51.100.1 203.0.113.3\n ${SEED[1]}\n !route -n add -inet 10.2.0.0/16 172.16.2.2\n`,
        },
      ],
      apply: [
        script(
          'ifconfig gre0 tunnel 198.51.100.1 203.0.113.3',
          writeLines(HOSTNAME, '0640', [
            'tunnel 198.51.100.1 203.0.113.3',
            SEED[1]!,
            '!route -n add -inet 10.2.0.0/16 172.16.2.2',
          ]),
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
