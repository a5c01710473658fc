// Seed 000's two Quagga files, zebra.conf and ospfd.conf, as `file` writes them.
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

const ZEBRA = 'hostname server1\npassword CorrectHorseBatteryStaple\n'

const tap = (n: number) => `interface tap${n}
 description TAP to server ${n}
 ip ospf authentication message-digest
 ip ospf message-digest-key 1 md5 CorrectHorseBatteryRoute
!
`
const OSPFD = `hostname server1
password CorrectHorseBatteryStaple
service advanced-vty
!
${[1, 2, 3, 4, 5].map(tap).join('')}router ospf
 ospf router-id 10.0.0.1
 passive-interface default
 no passive-interface tap1
 no passive-interface tap2
 no passive-interface tap3
 no passive-interface tap4
 no passive-interface tap5
 network 172.16.2.0/23 area 0.0.0.0
 area 0.0.0.0 authentication
!
line vty
!
`
const ZEBRA_PATH = '/usr/local/etc/quagga/zebra.conf'
const OSPFD_PATH = '/usr/local/etc/quagga/ospfd.conf'

export default [
  {
    name: 'freebsd file: zebra.conf absent → created with the seed content, mode 0600',
    os: 'freebsd',
    step: file('zebra.conf', { path: ZEBRA_PATH, content: ZEBRA, mode: 0o600 }),
    probe: { stdout: '', code: 1 },
    expect: {
      probe: fileProbe(ZEBRA_PATH),
      changes: [
        {
          summary: `create ${ZEBRA_PATH} (mode 0600)`,
          diff: `--- /dev/null\n+++ ${ZEBRA_PATH}\n@@ -0,0 +1,2 @@\n+hostname server1\n+password CorrectHorseBatteryStaple\n`,
        },
      ],
      apply: [{ cmd: fileWrite({ path: ZEBRA_PATH, mode: '0600', existed: false }), input: ZEBRA }],
      undo: [`rm -f ${ZEBRA_PATH}`],
    },
  },
  {
    name: 'freebsd file: ospfd.conf with another router-id → rewritten, the backup put back on undo',
    os: 'freebsd',
    step: file('ospfd.conf', { path: OSPFD_PATH, content: OSPFD, mode: 0o600, owner: 'root:wheel' }),
    probe: lsProbe('-rw-------', 'root', 'wheel', OSPFD.replace('router-id 10.0.0.1', 'router-id 10.0.0.9')),
    expect: {
      changes: [
        {
          summary: `content of ${OSPFD_PATH}`,
          diff: `--- ${OSPFD_PATH}\n+++ ${OSPFD_PATH}\n@@ -28,7 +28,7 @@\n  ip ospf message-digest-key 1 md5 CorrectHorseBatteryRoute\n !\n router ospf\n- ospf router-id 10.0.0.9\n+ ospf router-id 10.0.0.1\n  passive-interface default\n  no passive-interface tap1\n  no passive-interface tap2\n`,
        },
      ],
      apply: [{ cmd: fileWrite({ path: OSPFD_PATH, mode: '0600', owner: 'root:wheel', existed: true }), input: OSPFD }],
      undo: [fileRestore(OSPFD_PATH, '0600', 'root:wheel')],
    },
  },
  {
    name: 'freebsd file: zebra.conf as the seed has it → in sync',
    os: 'freebsd',
    step: file('zebra.conf', { path: ZEBRA_PATH, content: ZEBRA, mode: 0o600 }),
    probe: lsProbe('-rw-------', 'root', 'wheel', ZEBRA),
    expect: { changes: [] },
  },
  {
    name: 'freebsd file: zebra.conf readable by all (the seed warns telnet users see it) → mode only',
    os: 'freebsd',
    step: file('zebra.conf', { path: ZEBRA_PATH, content: ZEBRA, mode: 0o600 }),
    probe: lsProbe('-rw-r--r--', 'root', 'wheel', ZEBRA),
    expect: {
      changes: [`mode of ${ZEBRA_PATH}: 0644 → 0600`],
      apply: [{ cmd: fileWrite({ path: ZEBRA_PATH, mode: '0600', owner: 'root:wheel', existed: true }), input: ZEBRA }],
      undo: [fileRestore(ZEBRA_PATH, '0644', 'root:wheel')],
    },
  },
  {
    name: "freebsd file: zebra.conf root's, group quagga, given as :quagga and as numbers → in sync",
    os: 'freebsd',
    step: file('zebra.conf', { path: ZEBRA_PATH, content: ZEBRA, mode: 0o640, owner: ':quagga' }),
    probe: lsProbe('-rw-r-----', 'root', 'quagga', ZEBRA),
    expect: { changes: [] },
  },
  {
    name: 'freebsd file: zebra.conf owned 0:92 (root, quagga) → in sync',
    os: 'freebsd',
    step: file('zebra.conf', { path: ZEBRA_PATH, content: ZEBRA, mode: 0o640, owner: '0:92' }),
    probe: lsProbe('-rw-r-----', 'root', 'quagga', ZEBRA),
    expect: { changes: [] },
  },
  {
    // The copy that replaces it is made by root: chown :quagga alone would leave it root's.
    name: 'freebsd file: zebra.conf quagga:wheel, owner :quagga → the group set, its user kept',
    os: 'freebsd',
    step: file('zebra.conf', { path: ZEBRA_PATH, content: ZEBRA, mode: 0o640, owner: ':quagga' }),
    probe: lsProbe('-rw-r-----', 'quagga', 'wheel', ZEBRA),
    expect: {
      changes: [`owner of ${ZEBRA_PATH}: quagga:wheel → :quagga`],
      apply: [
        { cmd: fileWrite({ path: ZEBRA_PATH, mode: '0640', owner: 'quagga:quagga', existed: true }), input: ZEBRA },
      ],
      undo: [fileRestore(ZEBRA_PATH, '0640', 'quagga:wheel')],
    },
  },
  {
    // As the port leaves it: /usr/local/etc/quagga is quagga's, 0750; here before the package ran.
    name: 'freebsd file: zebra.conf with no /usr/local/etc/quagga → the directory made quagga:quagga 0750 first',
    os: 'freebsd',
    step: file('zebra.conf', {
      path: ZEBRA_PATH,
      content: ZEBRA,
      mode: 0o600,
      owner: 'quagga:quagga',
      dirOwner: 'quagga:quagga',
      dirMode: 0o750,
    }),
    probe: { stdout: `${missingLines(['/usr/local/etc/quagga'])}uid=quagga 101\n`, code: 1 },
    expect: {
      probe: fileProbe(ZEBRA_PATH, { owners: [userProbe('quagga'), groupProbe('quagga')] }),
      changes: [
        'create directory /usr/local/etc/quagga (mode 0750, owner quagga:quagga)',
        `create ${ZEBRA_PATH} (mode 0600)`,
      ],
      apply: [
        {
          cmd: fileWrite({
            path: ZEBRA_PATH,
            mode: '0600',
            owner: 'quagga:quagga',
            existed: false,
            parents: { dirs: ['/usr/local/etc/quagga'], mode: '00750', owner: 'quagga:quagga' },
          }),
          input: ZEBRA,
        },
      ],
      undo: [`rm -f ${ZEBRA_PATH} && ${removedParents(['/usr/local/etc/quagga'])}`],
    },
  },
  {
    name: 'freebsd file: zebra.conf owned by quagga on a host without the quagga package → the plan fails, naming the user',
    os: 'freebsd',
    step: file('zebra.conf', { path: ZEBRA_PATH, content: ZEBRA, mode: 0o600, owner: 'quagga:quagga' }),
    probe: { stdout: 'nouser=quagga\nnogroup=quagga\n', code: 1 },
    expect: { error: /^there is no user quagga on this host$/ },
  },
  {
    name: 'freebsd file: /usr/local/etc/quagga/zebra.conf where both etc levels are missing → made root:wheel 0755, outermost first',
    os: 'freebsd',
    step: file('zebra.conf', { path: ZEBRA_PATH, content: ZEBRA, mode: 0o600 }),
    probe: { stdout: missingLines(['/usr/local/etc', '/usr/local/etc/quagga']), code: 1 },
    expect: {
      changes: [
        'create directory /usr/local/etc (mode 0755)',
        'create directory /usr/local/etc/quagga (mode 0755)',
        `create ${ZEBRA_PATH} (mode 0600)`,
      ],
      apply: [
        {
          cmd: fileWrite({
            path: ZEBRA_PATH,
            mode: '0600',
            existed: false,
            parents: { dirs: ['/usr/local/etc', '/usr/local/etc/quagga'], mode: '00755' },
          }),
          input: ZEBRA,
        },
      ],
      undo: [`rm -f ${ZEBRA_PATH} && ${removedParents(['/usr/local/etc', '/usr/local/etc/quagga'])}`],
    },
  },
  {
    name: 'freebsd file: two levels owned by quagga → refused: quagga could swap the inner one',
    os: 'freebsd',
    step: file('zebra.conf', { path: ZEBRA_PATH, content: ZEBRA, dirOwner: 'quagga' }),
    probe: { stdout: `${missingLines(['/usr/local/etc', '/usr/local/etc/quagga'])}uid=quagga 101\n`, code: 1 },
    expect: {
      error:
        /^\/usr\/local\/etc would be made writable by another user \(dirOwner quagga, dirMode 0755\), who could then steer what ferry writes below/,
    },
  },
  {
    name: 'freebsd file: absent, the ospf6d.conf seed 000 does not use → removed, restored on undo',
    os: 'freebsd',
    step: file('ospf6d.conf', { path: '/usr/local/etc/quagga/ospf6d.conf', state: 'absent' }),
    probe: lsProbe('-rw-------', 'quagga', 'quagga', 'hostname server1\npassword CorrectHorseBatteryStaple\n'),
    expect: {
      // Its password stays out of the plan, the terminal and the journal: no diff of what goes.
      changes: [{ summary: 'remove /usr/local/etc/quagga/ospf6d.conf (2 lines; kept in /var/backups/ferry)' }],
      apply: [fileRemove('/usr/local/etc/quagga/ospf6d.conf')],
      undo: [fileRestore('/usr/local/etc/quagga/ospf6d.conf', '0600', 'quagga:quagga')],
      revert: [fileRestoreScript('/usr/local/etc/quagga/ospf6d.conf', '0600', 'quagga:quagga')],
    },
  },
] satisfies Case[]
