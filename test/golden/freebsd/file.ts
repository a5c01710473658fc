// Seed 000's two Quagga files, zebra.conf and ospfd.conf, as `file` writes them.
import { file } from '../../../src/steps/file.ts'
import type { Case } from '../harness.ts'
import { fileRestore, fileWrite, lsProbe } from '../scripts.ts'

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
      probe: `if [ -h ${ZEBRA_PATH} ]; then exit 2; elif [ -f ${ZEBRA_PATH} ]; then set -- $(ls -ld ${ZEBRA_PATH}); printf '%s %s %s\\n' "$1" "$3" "$4"; cat ${ZEBRA_PATH}; else exit 1; fi`,
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
] satisfies Case[]
