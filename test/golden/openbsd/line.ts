// /etc/pf.conf as OpenBSD ships it, opened for the seed's gre and IPsec traffic.
import { line } from '../../../src/steps/line.ts'
import { PROBE, type Case } from '../harness.ts'
import { fileRestore, fileRestoreScript, fileWrite, lsProbe } from '../scripts.ts'

const PF = '/etc/pf.conf'
const SHIPPED = `#	$OpenBSD: pf.conf,v 1.55 2017/12/03 20:40:04 sthen Exp $
#
# See pf.conf(5) and /etc/examples/pf.conf

set skip on lo

block return	# block stateless traffic
pass		# establish keep-state
`
const skipGre = () => line('skip gre0', { path: PF, line: 'set skip on { lo gre0 }', match: /^set skip on / })
const write = (input: string) => [
  PROBE,
  { cmd: fileWrite({ path: PF, mode: '0600', owner: 'root:wheel', existed: true }), input },
]

export default [
  {
    name: 'openbsd line: `set skip on lo` → replaced where it stands by one that skips gre0 too',
    os: 'openbsd',
    step: skipGre(),
    probe: lsProbe('-rw-------', 'root', 'wheel', SHIPPED),
    expect: {
      changes: [
        {
          summary: `replace line in ${PF}`,
          diff: `--- ${PF}\n+++ ${PF}\n@@ -2,7 +2,7 @@\n #\n # See pf.conf(5) and /etc/examples/pf.conf\n \n-set skip on lo\n+set skip on { lo gre0 }\n \n block return\t# block stateless traffic\n pass\t\t# establish keep-state\n`,
        },
      ],
      apply: write(SHIPPED.replace('set skip on lo', 'set skip on { lo gre0 }')),
      undo: [fileRestore(PF, '0600', 'root:wheel')],
    },
  },
  {
    name: 'openbsd line: a pass rule for esp and gre missing → appended',
    os: 'openbsd',
    step: line('pass ipsec', { path: PF, line: 'pass quick proto { esp gre }' }),
    probe: lsProbe('-rw-------', 'root', 'wheel', SHIPPED),
    expect: {
      changes: [
        {
          summary: `add line to ${PF}`,
          diff: `--- ${PF}\n+++ ${PF}\n@@ -6,3 +6,4 @@\n \n block return\t# block stateless traffic\n pass\t\t# establish keep-state\n+pass quick proto { esp gre }\n`,
        },
      ],
      apply: write(`${SHIPPED}pass quick proto { esp gre }\n`),
      undo: [fileRestore(PF, '0600', 'root:wheel')],
    },
  },
  {
    name: 'openbsd line: gre0 already skipped → in sync',
    os: 'openbsd',
    step: skipGre(),
    probe: lsProbe('-rw-------', 'root', 'wheel', SHIPPED.replace('set skip on lo', 'set skip on { lo gre0 }')),
    expect: { changes: [] },
  },
  {
    name: 'openbsd line: state absent, no match → the exact line removed, the mode widened back on undo',
    os: 'openbsd',
    step: line('no catch-all pass', { path: PF, line: 'pass\t\t# establish keep-state', state: 'absent', mode: 0o600 }),
    probe: lsProbe('-rw-r-----', 'root', 'wheel', SHIPPED),
    expect: {
      changes: [
        {
          summary: `remove line from ${PF}`,
          diff: `--- ${PF}\n+++ ${PF}\n@@ -5,4 +5,3 @@\n set skip on lo\n \n block return\t# block stateless traffic\n-pass\t\t# establish keep-state\n`,
        },
        `mode of ${PF}: 0640 → 0600`,
      ],
      apply: write(SHIPPED.replace('pass\t\t# establish keep-state\n', '')),
      undo: [fileRestore(PF, '0640', 'root:wheel')],
    },
  },
  {
    name: 'openbsd line: isakmpd let in (seed 003), the new pf.conf parsed by pfctl -nf before it lands',
    os: 'openbsd',
    step: line('pass isakmp', {
      path: PF,
      line: 'pass in quick proto udp to port { isakmp ipsec-nat-t }',
      validate: 'pfctl -nf %s',
    }),
    probe: lsProbe('-rw-------', 'root', 'wheel', SHIPPED),
    expect: {
      changes: [
        {
          summary: `add line to ${PF}`,
          diff: `--- ${PF}\n+++ ${PF}\n@@ -6,3 +6,4 @@\n \n block return\t# block stateless traffic\n pass\t\t# establish keep-state\n+pass in quick proto udp to port { isakmp ipsec-nat-t }\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: PF, mode: '0600', owner: 'root:wheel', validate: 'pfctl -nf %s', existed: true }),
          input: `${SHIPPED}pass in quick proto udp to port { isakmp ipsec-nat-t }\n`,
        },
      ],
      undo: [fileRestore(PF, '0600', 'root:wheel')],
      revert: [fileRestoreScript(PF, '0600', 'root:wheel')],
    },
  },
] satisfies Case[]
