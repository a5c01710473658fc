// FRR's integrated config on a Debian mesh member (the lab's routing daemon), checked by vtysh.
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
  {
    // The report behind issue 18: a runbook's file in a directory bare hosts lack. The dry run
    // said all was well and the run then failed in mktemp; now the plan makes the directory.
    name: 'linux file: /etc/ceo missing on a bare host → made 0755 first, and removed by undo',
    os: 'linux',
    step: file('a.conf', { path: '/etc/ceo/a.conf', content: 'level=1\n' }),
    probe: { stdout: missingLines(['/etc/ceo']), code: 1 },
    expect: {
      probe: fileProbe('/etc/ceo/a.conf'),
      changes: ['create directory /etc/ceo (mode 0755)', 'create /etc/ceo/a.conf (mode 0644)'],
      apply: [
        {
          cmd: fileWrite({
            path: '/etc/ceo/a.conf',
            mode: '0644',
            existed: false,
            parents: { dirs: ['/etc/ceo'], mode: '00755' },
          }),
          input: 'level=1\n',
        },
      ],
      undo: [`rm -f /etc/ceo/a.conf && ${removedParents(['/etc/ceo'])}`],
      revert: [`rm -f /etc/ceo/a.conf && ${removedParents(['/etc/ceo'])}`],
    },
  },
  {
    name: 'linux file: frr.conf owned by frr where no frr user exists yet → the plan fails, naming it',
    os: 'linux',
    step: frrConf(),
    probe: { stdout: 'nouser=frr\nnogroup=frr\n', code: 1 },
    expect: {
      probe: fileProbe(PATH, { owners: [userProbe('frr'), groupProbe('frr')] }),
      error: /^there is no user frr on this host$/,
    },
  },
  {
    name: 'linux file: frr.conf owned by frr, with an earlier step that installs FRR (and its user) → planned',
    os: 'linux',
    step: frrConf(),
    probe: { stdout: 'nouser=frr\nnogroup=frr\n', code: 1 },
    pending: ['*', 'pkg:frr'],
    expect: {
      changes: [`create ${PATH} (mode 0640)`],
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
    name: "linux file: a directory under deploy's home → refused: deploy could swap it for a link under what ferry writes",
    os: 'linux',
    step: file('app.conf', { path: '/home/deploy/app/app.conf', content: 'x\n' }),
    probe: { stdout: missingLines(['/home/deploy/app'], 'drwxr-xr-x 1000'), code: 1 },
    expect: {
      error:
        /^ferry makes directories only where no other user can write, and \/home\/deploy belongs to uid 1000: .*\(make \/home\/deploy\/app yourself\)$/,
    },
  },
  {
    name: 'linux file: absent, an old apt source → removed, kept for undo with its mode and owner',
    os: 'linux',
    step: file('old source', { path: '/etc/apt/sources.list.d/old.list', state: 'absent' }),
    probe: lsProbe('-rw-r--r--', 'root', 'root', 'deb http://deb.example.org/ bookworm main\n'),
    expect: {
      probe: fileProbe('/etc/apt/sources.list.d/old.list', { parents: false }),
      // No diff: what a removed file held may be a secret.
      changes: [{ summary: 'remove /etc/apt/sources.list.d/old.list (1 line; kept in /var/backups/ferry)' }],
      apply: [fileRemove('/etc/apt/sources.list.d/old.list')],
      undo: [fileRestore('/etc/apt/sources.list.d/old.list', '0644', 'root:root')],
    },
  },
  {
    name: 'linux file: absent, and already gone → in sync',
    os: 'linux',
    step: file('old source', { path: '/etc/apt/sources.list.d/old.list', state: 'absent' }),
    probe: { stdout: '', code: 1 },
    expect: { changes: [] },
  },
] satisfies Case[]
