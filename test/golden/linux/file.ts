// FRR's integrated config on a Debian mesh member (the lab's routing daemon), checked by vtysh.
import { file } from '../../../src/steps/file.ts'
import type { Case } from '../harness.ts'
import { fileRestore, fileRestoreScript, fileWrite, lsProbe } from '../scripts.ts'

const PATH = '/etc/frr/frr.conf'
const FRR = `frr defaults traditional
hostname lab1
!
interface tap1
 ip ospf network point-to-point
 ip ospf hello-interval 1
 ip ospf dead-interval 4
!
router ospf
 ospf router-id 10.0.0.1
 network 172.16.2.0/23 area 0.0.0.0
!
`
const frrConf = () =>
  file('frr.conf', {
    path: PATH,
    content: FRR,
    mode: 0o640,
    owner: 'frr:frr',
    validate: 'vtysh -C -f %s',
    notify: 'reload frr',
  })

export default [
  {
    name: 'linux file: no frr.conf → written frr:frr 0640 after vtysh -C',
    os: 'linux',
    step: frrConf(),
    probe: { stdout: '', code: 1 },
    expect: {
      changes: [
        {
          summary: `create ${PATH} (mode 0640)`,
          diff: `--- /dev/null\n+++ ${PATH}\n@@ -0,0 +1,12 @@\n${FRR.replace(/^/gm, '+').slice(0, -1)}`,
        },
      ],
      apply: [
        {
          cmd: fileWrite({ path: PATH, mode: '0640', owner: 'frr:frr', validate: 'vtysh -C -f %s', existed: false }),
          input: FRR,
        },
      ],
      undo: [`rm -f ${PATH}`],
    },
  },
  {
    name: 'linux file: frr.conf with a slow dead interval → rewritten, restored on undo',
    os: 'linux',
    step: frrConf(),
    probe: lsProbe('-rw-r-----', 'frr', 'frr', FRR.replace('dead-interval 4', 'dead-interval 40')),
    expect: {
      revert: [fileRestoreScript(PATH, '0640', 'frr:frr')],
      changes: [
        {
          summary: `content of ${PATH}`,
          diff: `--- ${PATH}\n+++ ${PATH}\n@@ -4,7 +4,7 @@\n interface tap1\n  ip ospf network point-to-point\n  ip ospf hello-interval 1\n- ip ospf dead-interval 40\n+ ip ospf dead-interval 4\n !\n router ospf\n  ospf router-id 10.0.0.1\n`,
        },
      ],
      apply: [
        {
          cmd: fileWrite({ path: PATH, mode: '0640', owner: 'frr:frr', validate: 'vtysh -C -f %s', existed: true }),
          input: FRR,
        },
      ],
      undo: [fileRestore(PATH, '0640', 'frr:frr')],
    },
  },
  {
    name: 'linux file: frr.conf in place, owned by frr → in sync',
    os: 'linux',
    step: frrConf(),
    probe: lsProbe('-rw-r-----', 'frr', 'frr', FRR),
    expect: { changes: [] },
  },
  {
    name: 'linux file: frr.conf owned by root → owner only',
    os: 'linux',
    step: frrConf(),
    probe: lsProbe('-rw-r-----', 'root', 'root', FRR),
    expect: {
      changes: [`owner of ${PATH}: root:root → frr:frr`],
      apply: [
        {
          cmd: fileWrite({ path: PATH, mode: '0640', owner: 'frr:frr', validate: 'vtysh -C -f %s', existed: true }),
          input: FRR,
        },
      ],
      undo: [fileRestore(PATH, '0640', 'root:root')],
    },
  },
] satisfies Case[]
