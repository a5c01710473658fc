// Seed 003's /etc/ipsec.conf and /etc/ospfd.conf, checked by ipsecctl and ospfd before they land.
import { file } from '../../../src/steps/file.ts'
import type { Case } from '../harness.ts'
import {
  fileProbe,
  fileRemove,
  fileRestore,
  fileRestoreScript,
  fileWrite,
  groupProbe,
  lsProbe,
  missingLines,
  removedParents,
  userProbe,
} from '../scripts.ts'

const IPSEC = `mypeer = "203.0.113.2"
me = "198.51.100.1"
mypassword = "password"
ike esp from $me to $mypeer peer $mypeer \\
main auth hmac-sha1 enc 3des group modp1024 \\
srcid $me/32 dstid $mypeer/32 \\
psk $mypassword
`
const OSPFD = `password="mypassword"
auth-md 1 $password
auth-type crypt
auth-md-keyid 1
area 0.0.0.0 {
interface gre0 { }
interface vr1 { passive }
}
`
const ipsecConf = () =>
  file('ipsec.conf', { path: '/etc/ipsec.conf', content: IPSEC, mode: 0o600, validate: 'ipsecctl -n -f %s' })
const ospfdConf = () =>
  file('ospfd.conf', {
    path: '/etc/ospfd.conf',
    content: OSPFD,
    mode: 0o600,
    validate: 'ospfd -n -f %s',
    notify: 'reload ospfd',
  })

export default [
  {
    name: 'openbsd file: no ipsec.conf → the seed policy, validated by ipsecctl -n, its psk only on stdin',
    os: 'openbsd',
    step: ipsecConf(),
    probe: { stdout: '', code: 1 },
    expect: {
      changes: [
        {
          summary: 'create /etc/ipsec.conf (mode 0600)',
          diff: `--- /dev/null\n+++ /etc/ipsec.conf\n@@ -0,0 +1,7 @@\n${IPSEC.replace(/^/gm, '+').slice(0, -1)}`,
        },
      ],
      apply: [
        {
          cmd: fileWrite({ path: '/etc/ipsec.conf', mode: '0600', validate: 'ipsecctl -n -f %s', existed: false }),
          input: IPSEC,
        },
      ],
      undo: ['rm -f /etc/ipsec.conf'],
    },
  },
  {
    name: 'openbsd file: ospfd.conf with a passive gre0 → rewritten after ospfd -n, restored on undo',
    os: 'openbsd',
    step: ospfdConf(),
    probe: lsProbe('-rw-------', 'root', 'wheel', OSPFD.replace('interface gre0 { }', 'interface gre0 { passive }')),
    expect: {
      changes: [
        {
          summary: 'content of /etc/ospfd.conf',
          diff: '--- /etc/ospfd.conf\n+++ /etc/ospfd.conf\n@@ -3,6 +3,6 @@\n auth-type crypt\n auth-md-keyid 1\n area 0.0.0.0 {\n-interface gre0 { passive }\n+interface gre0 { }\n interface vr1 { passive }\n }\n',
        },
      ],
      apply: [
        {
          cmd: fileWrite({
            path: '/etc/ospfd.conf',
            mode: '0600',
            owner: 'root:wheel',
            validate: 'ospfd -n -f %s',
            existed: true,
          }),
          input: OSPFD,
        },
      ],
      undo: [fileRestore('/etc/ospfd.conf', '0600', 'root:wheel')],
    },
  },
  {
    name: 'openbsd file: ospfd.conf as the seed has it → in sync',
    os: 'openbsd',
    step: ospfdConf(),
    probe: lsProbe('-rw-------', 'root', 'wheel', OSPFD),
    expect: { changes: [] },
  },
  {
    // Seed 001: each tenant's rules in a file of its own, which pf.conf includes.
    name: 'openbsd file: a tenant ruleset in /etc/pf.d, which the host lacks → the directory made first',
    os: 'openbsd',
    step: file('tenant-a rules', { path: '/etc/pf.d/tenant-a.conf', content: 'pass on rdomain 1\n', mode: 0o600 }),
    probe: { stdout: missingLines(['/etc/pf.d']), code: 1 },
    expect: {
      probe: fileProbe('/etc/pf.d/tenant-a.conf'),
      changes: ['create directory /etc/pf.d (mode 0755)', 'create /etc/pf.d/tenant-a.conf (mode 0600)'],
      apply: [
        {
          cmd: fileWrite({
            path: '/etc/pf.d/tenant-a.conf',
            mode: '0600',
            existed: false,
            parents: { dirs: ['/etc/pf.d'], mode: '00755' },
          }),
          input: 'pass on rdomain 1\n',
        },
      ],
      undo: [`rm -f /etc/pf.d/tenant-a.conf && ${removedParents(['/etc/pf.d'])}`],
    },
  },
  {
    name: 'openbsd file: owned by _openvpn on a host without the openvpn package → the plan fails, naming the user',
    os: 'openbsd',
    step: file('tap0.conf', { path: '/etc/openvpn/tap0.conf', content: 'dev tap0\n', owner: '_openvpn:_openvpn' }),
    probe: { stdout: `${missingLines(['/etc/openvpn'])}nouser=_openvpn\nnogroup=_openvpn\n`, code: 1 },
    expect: {
      probe: fileProbe('/etc/openvpn/tap0.conf', { owners: [userProbe('_openvpn'), groupProbe('_openvpn')] }),
      error: /^there is no user _openvpn on this host$/,
    },
  },
  {
    name: 'openbsd file: owned by root:_openvpn, the group alone missing → the plan fails, naming the group',
    os: 'openbsd',
    step: file('tap0.conf', { path: '/etc/openvpn/tap0.conf', content: 'dev tap0\n', owner: 'root:_openvpn' }),
    probe: { stdout: 'uid=root 0\nnogroup=_openvpn\n', code: 1 },
    expect: { error: /^there is no group _openvpn on this host$/ },
  },
  {
    // Seed 003's tunnel to a peer that is gone: its hostname.if goes (risky: an interface at boot).
    name: 'openbsd file: absent, /etc/hostname.gre1 of a retired tunnel → removed, and the revert job can put it back',
    os: 'openbsd',
    step: file('retired tunnel', { path: '/etc/hostname.gre1', state: 'absent' }),
    probe: lsProbe('-rw-r-----', 'root', 'wheel', '172.16.0.1 172.16.0.2 netmask 0xffffffff link0 up\n'),
    expect: {
      changes: ['remove /etc/hostname.gre1 (1 line; kept in /var/backups/ferry)'],
      apply: [fileRemove('/etc/hostname.gre1')],
      undo: [fileRestore('/etc/hostname.gre1', '0640', 'root:wheel')],
      revert: [fileRestoreScript('/etc/hostname.gre1', '0640', 'root:wheel')],
    },
  },
] satisfies Case[]
