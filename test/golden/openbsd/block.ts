// Managed blocks on a seed-003 OpenBSD gateway: pf rules for the IPsec tunnels, parsed by pfctl
// before they land; an ipsec.conf policy whose psk is masked; /etc/hosts.
import { block } from '../../../src/steps/block.ts'
import { PROBE, type Case } from '../harness.ts'
import { fileRestore, fileWrite, lsProbe, fileProbe } from '../scripts.ts'

const PF = '/etc/pf.conf'
const SHIPPED = `#	$OpenBSD: pf.conf,v 1.55 2017/12/03 20:40:04 sthen Exp $
#
# See pf.conf(5) and /etc/examples/pf.conf

set skip on lo

block return	# block stateless traffic
pass		# establish keep-state
`
const RULES = 'pass quick proto { esp gre }\npass quick proto udp to port { isakmp ipsec-nat-t }\n'

const IPSEC = '/etc/ipsec.conf'
const POLICY = 'ike esp from 10.0.0.1 to 10.0.0.2 peer 203.0.113.2 psk "s3cret-psk"\n'
const ipsec = () =>
  block('office tunnel', {
    path: IPSEC,
    content: POLICY,
    mode: 0o600,
    mask: [/psk "([^"]*)"/],
    validate: 'ipsecctl -n -f %s',
  })

const HOSTS = '/etc/hosts'

export default [
  {
    name: 'openbsd block: the IPsec pass rules before `block return` in pf.conf, parsed by pfctl -nf first',
    os: 'openbsd',
    step: block('ipsec', { path: PF, content: RULES, before: /^block return/, validate: 'pfctl -nf %s' }),
    probe: lsProbe('-rw-------', 'root', 'wheel', SHIPPED),
    expect: {
      probe: fileProbe(PF),
      changes: [
        {
          summary: `add block ipsec to ${PF}`,
          diff: `--- ${PF}\n+++ ${PF}\n@@ -4,5 +4,9 @@\n \n set skip on lo\n \n+# BEGIN FERRY ipsec\n+pass quick proto { esp gre }\n+pass quick proto udp to port { isakmp ipsec-nat-t }\n+# END FERRY ipsec\n block return\t# block stateless traffic\n pass\t\t# establish keep-state\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: PF, mode: '0600', owner: 'root:wheel', validate: 'pfctl -nf %s', existed: true }),
          input: SHIPPED.replace('block return', `# BEGIN FERRY ipsec\n${RULES}# END FERRY ipsec\nblock return`),
        },
      ],
      undo: [fileRestore(PF, '0600', 'root:wheel')],
    },
  },
  {
    name: 'openbsd block: no ipsec.conf → created 0600 holding the block, its psk masked in the diff and only on stdin',
    os: 'openbsd',
    step: ipsec(),
    probe: { stdout: '', code: 1 },
    expect: {
      changes: [
        {
          summary: `create ${IPSEC}`,
          diff: `--- /dev/null\n+++ ${IPSEC}\n@@ -0,0 +1,3 @@\n+# BEGIN FERRY office tunnel\n+ike esp from 10.0.0.1 to 10.0.0.2 peer 203.0.113.2 psk "********"\n+# END FERRY office tunnel\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: IPSEC, mode: '0600', validate: 'ipsecctl -n -f %s', existed: false }),
          input: `# BEGIN FERRY office tunnel\n${POLICY}# END FERRY office tunnel\n`,
        },
      ],
      undo: [`rm -f ${IPSEC}`],
    },
  },
  {
    name: 'openbsd block: the block in place but ipsec.conf world-readable → the mode alone, put back on undo',
    os: 'openbsd',
    step: ipsec(),
    probe: lsProbe('-rw-r--r--', 'root', 'wheel', `# BEGIN FERRY office tunnel\n${POLICY}# END FERRY office tunnel\n`),
    expect: {
      changes: [`mode of ${IPSEC}: 0644 → 0600`],
      apply: [
        PROBE,
        {
          cmd: fileWrite({
            path: IPSEC,
            mode: '0600',
            owner: 'root:wheel',
            validate: 'ipsecctl -n -f %s',
            existed: true,
          }),
          input: `# BEGIN FERRY office tunnel\n${POLICY}# END FERRY office tunnel\n`,
        },
      ],
      undo: [fileRestore(IPSEC, '0644', 'root:wheel')],
    },
  },
  {
    name: 'openbsd block: state absent, and no block in /etc/hosts → nothing to do',
    os: 'openbsd',
    step: block('mesh loopbacks', { path: HOSTS, content: '10.0.0.1 gw1-lo\n', state: 'absent' }),
    probe: lsProbe('-rw-r--r--', 'root', 'wheel', '127.0.0.1\tlocalhost\n::1\t\tlocalhost\n'),
    expect: { changes: [] },
  },
  {
    name: 'openbsd block: an END marker with no BEGIN before it → refused at plan time',
    os: 'openbsd',
    step: block('mesh loopbacks', { path: HOSTS, content: '10.0.0.1 gw1-lo\n', state: 'absent' }),
    probe: lsProbe('-rw-r--r--', 'root', 'wheel', '# END FERRY mesh loopbacks\n# BEGIN FERRY mesh loopbacks\n'),
    expect: {
      error:
        /^\/etc\/hosts: the markers of block "mesh loopbacks" do not pair up \(# BEGIN FERRY mesh loopbacks: line 2; # END FERRY mesh loopbacks: line 1\): mend the file by hand$/,
    },
  },
] satisfies Case[]
