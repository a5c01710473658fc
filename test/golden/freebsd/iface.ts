// Seed 000's loopback (cloned_interfaces="lo1", ifconfig_lo1="inet 10.0.0.1/32"), its TAP
// links, and a gre tunnel the FreeBSD way.
import { iface } from '../../../src/steps/iface.ts'
import { PROBE, type Case } from '../harness.ts'
import { script } from '../scripts.ts'

const lo1 = () => iface('loopback', { name: 'lo1', kind: 'loopback', addresses: ['10.0.0.1/32'] })
const RC = '/etc/rc.conf'
const diff = (body: string) => `--- ${RC}\n+++ ${RC}\n${body}`

export default [
  {
    name: 'freebsd iface: lo1 absent → created, and rc.conf gets the two lines of seed 000',
    os: 'freebsd',
    step: lo1(),
    probe: 'exists=0\nup=0\n',
    after: 'exists=1\nup=1\naddr=10.0.0.1/32\nsaved=cloned_interfaces="lo1"\nsaved=ifconfig_lo1="inet 10.0.0.1/32"\n',
    expect: {
      revert: ['ifconfig lo1 destroy', 'sysrc cloned_interfaces-=lo1', 'sysrc -x ifconfig_lo1'],
      probe: [
        'if out=$(ifconfig lo1 2>/dev/null); then echo exists=1;',
        `c=$(sysrc -n cloned_interfaces 2>/dev/null) && printf 'saved=cloned_interfaces="%s"\\n' "$c"`,
        `sysrc -a 2>/dev/null | sed -n 's/^\\(ifconfig_lo1\\(_alias[0-9]*\\)\\{0,1\\}\\): \\(.*\\)$/saved=\\1="\\3"/p' | LC_ALL=C sort`,
      ],
      changes: [
        'create lo1',
        'lo1: add 10.0.0.1/32',
        'lo1: up',
        {
          summary: `lo1 at boot: ${RC}`,
          diff: diff('@@ -0,0 +1,2 @@\n+cloned_interfaces="lo1"\n+ifconfig_lo1="inet 10.0.0.1/32"\n'),
        },
      ],
      apply: [
        script(
          'ifconfig lo1 create',
          'ifconfig lo1 inet 10.0.0.1/32 up',
          'sysrc cloned_interfaces+=lo1',
          "sysrc ifconfig_lo1='inet 10.0.0.1/32'",
        ),
      ],
      undo: [PROBE, script('ifconfig lo1 destroy', 'sysrc cloned_interfaces-=lo1', 'sysrc -x ifconfig_lo1')],
    },
  },
  {
    name: 'freebsd iface: lo1 up with its address, lo2 beside it in cloned_interfaces → in sync',
    os: 'freebsd',
    step: lo1(),
    probe:
      'exists=1\nup=1\naddr=10.0.0.1/32\nsaved=cloned_interfaces="lo1 lo2"\nsaved=ifconfig_lo1="inet 10.0.0.1/32"\n',
    expect: { changes: [] },
  },
  {
    name: 'freebsd iface: lo1 holding another address → swapped live and in rc.conf, swapped back on undo',
    os: 'freebsd',
    step: lo1(),
    probe:
      'exists=1\nup=1\naddr=10.0.0.9/32\nsaved=cloned_interfaces="lo1 lo2"\nsaved=ifconfig_lo1="inet 10.0.0.9/32"\n',
    after:
      'exists=1\nup=1\naddr=10.0.0.1/32\nsaved=cloned_interfaces="lo1 lo2"\nsaved=ifconfig_lo1="inet 10.0.0.1/32"\n',
    expect: {
      changes: [
        'lo1: remove 10.0.0.9/32',
        'lo1: add 10.0.0.1/32',
        {
          summary: `lo1 at boot: ${RC}`,
          diff: diff(
            '@@ -1,2 +1,2 @@\n cloned_interfaces="lo1 lo2"\n-ifconfig_lo1="inet 10.0.0.9/32"\n+ifconfig_lo1="inet 10.0.0.1/32"\n',
          ),
        },
      ],
      apply: [
        script(
          'ifconfig lo1 inet 10.0.0.9 -alias',
          'ifconfig lo1 inet 10.0.0.1/32',
          "sysrc ifconfig_lo1='inet 10.0.0.1/32'",
        ),
      ],
      undo: [
        PROBE,
        script(
          'ifconfig lo1 inet 10.0.0.1 -alias',
          'ifconfig lo1 inet 10.0.0.9/32',
          "sysrc ifconfig_lo1='inet 10.0.0.9/32'",
        ),
      ],
    },
  },
  {
    name: 'freebsd iface: gre0 to server2 → created with its tunnel, added to cloned_interfaces after lo1 lo2',
    os: 'freebsd',
    step: iface('gre to server2', {
      name: 'gre0',
      kind: 'gre',
      tunnel: { local: '203.0.113.11', remote: '203.0.113.12' },
      addresses: ['172.16.2.1 peer 172.16.2.2'],
    }),
    probe: 'exists=0\nup=0\nsaved=cloned_interfaces="lo1 lo2"\n',
    after:
      'exists=1\nup=1\naddr=172.16.2.1 peer 172.16.2.2\ntunnel=203.0.113.11 203.0.113.12\nsaved=cloned_interfaces="lo1 lo2 gre0"\nsaved=ifconfig_gre0="inet 172.16.2.1 172.16.2.2 netmask 0xffffffff tunnel 203.0.113.11 203.0.113.12"\n',
    expect: {
      changes: [
        'create gre0',
        'gre0 tunnel: (none) → 203.0.113.11 203.0.113.12',
        'gre0: add 172.16.2.1 peer 172.16.2.2',
        'gre0: up',
        {
          summary: `gre0 at boot: ${RC}`,
          diff: diff(
            '@@ -1,1 +1,2 @@\n-cloned_interfaces="lo1 lo2"\n+cloned_interfaces="lo1 lo2 gre0"\n+ifconfig_gre0="inet 172.16.2.1 172.16.2.2 netmask 0xffffffff tunnel 203.0.113.11 203.0.113.12"\n',
          ),
        },
      ],
      apply: [
        script(
          'ifconfig gre0 create',
          'ifconfig gre0 tunnel 203.0.113.11 203.0.113.12',
          'ifconfig gre0 inet 172.16.2.1 172.16.2.2 netmask 0xffffffff up',
          'sysrc cloned_interfaces+=gre0',
          "sysrc ifconfig_gre0='inet 172.16.2.1 172.16.2.2 netmask 0xffffffff tunnel 203.0.113.11 203.0.113.12'",
        ),
      ],
      undo: [PROBE, script('ifconfig gre0 destroy', 'sysrc cloned_interfaces-=gre0', 'sysrc -x ifconfig_gre0')],
    },
  },
  {
    name: 'freebsd iface: tap1 for the OpenVPN link to server 1 → created with its /30',
    os: 'freebsd',
    step: iface('tap to server1', { name: 'tap1', kind: 'tap', addresses: ['172.16.2.1/30'] }),
    probe: 'exists=0\nup=0\n',
    after:
      'exists=1\nup=1\naddr=172.16.2.1/30\nsaved=cloned_interfaces="tap1"\nsaved=ifconfig_tap1="inet 172.16.2.1/30"\n',
    expect: {
      changes: [
        'create tap1',
        'tap1: add 172.16.2.1/30',
        'tap1: up',
        {
          summary: `tap1 at boot: ${RC}`,
          diff: diff('@@ -0,0 +1,2 @@\n+cloned_interfaces="tap1"\n+ifconfig_tap1="inet 172.16.2.1/30"\n'),
        },
      ],
      apply: [
        script(
          'ifconfig tap1 create',
          'ifconfig tap1 inet 172.16.2.1/30 up',
          'sysrc cloned_interfaces+=tap1',
          "sysrc ifconfig_tap1='inet 172.16.2.1/30'",
        ),
      ],
      undo: [PROBE, script('ifconfig tap1 destroy', 'sysrc cloned_interfaces-=tap1', 'sysrc -x ifconfig_tap1')],
    },
  },
  {
    name: 'freebsd iface: lo0 as a loopback alias → refused',
    os: 'freebsd',
    step: iface('bad', { name: 'lo0', kind: 'loopback', addresses: ['10.0.0.1/32'] }),
    probe: 'exists=1\nup=1\naddr=127.0.0.1/8\n',
    expect: { error: /lo0: a cloned loopback interface is named loN \(N ≥ 1\)/ },
  },
] satisfies Case[]
