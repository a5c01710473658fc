// /etc/frr/daemons switches, /etc/hosts and sshd_config, on Debian.
import { line } from '../../../src/steps/line.ts'
import { PROBE, type Case } from '../harness.ts'
import {
  fileProbe,
  fileRestore,
  fileRestoreScript,
  fileWrite,
  lsProbe,
  missingLines,
  removedParents,
} from '../scripts.ts'

const DAEMONS = '/etc/frr/daemons'
const SHIPPED = 'bgpd=no\nospfd=no\nospf6d=no\n'
const ospfd = () => line('enable ospfd', { path: DAEMONS, line: 'ospfd=yes', match: '^ospfd=', notify: 'restart frr' })
const HOSTS = '/etc/hosts'
const SSHD = '/etc/ssh/sshd_config'
const SSHD_SHIPPED = `Include /etc/ssh/sshd_config.d/*.conf

#LoginGraceTime 2m
#PermitRootLogin prohibit-password
#StrictModes yes
`

export default [
  {
    name: 'linux line: ospfd=no in frr/daemons → ospfd=yes in its place, owner frr:frr kept',
    os: 'linux',
    step: ospfd(),
    probe: lsProbe('-rw-r-----', 'frr', 'frr', SHIPPED),
    expect: {
      changes: [
        {
          summary: `replace line in ${DAEMONS}`,
          diff: `--- ${DAEMONS}\n+++ ${DAEMONS}\n@@ -1,3 +1,3 @@\n bgpd=no\n-ospfd=no\n+ospfd=yes\n ospf6d=no\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: DAEMONS, mode: '0640', owner: 'frr:frr', existed: true }),
          input: 'bgpd=no\nospfd=yes\nospf6d=no\n',
        },
      ],
      undo: [fileRestore(DAEMONS, '0640', 'frr:frr')],
    },
  },
  {
    name: 'linux line: ospfd=yes already → in sync (ospf6d=no is not matched)',
    os: 'linux',
    step: ospfd(),
    probe: lsProbe('-rw-r-----', 'frr', 'frr', 'bgpd=no\nospfd=yes\nospf6d=no\n'),
    expect: { changes: [] },
  },
  {
    name: 'linux line: a loopback name in /etc/hosts without a final newline → added on a line of its own',
    os: 'linux',
    step: line('name the loopback', { path: HOSTS, line: '10.0.0.1\tlab1-lo', match: /\slab1-lo$/ }),
    probe: lsProbe('-rw-r--r--', 'root', 'root', '127.0.0.1\tlocalhost'),
    expect: {
      changes: [
        {
          summary: `add line to ${HOSTS}`,
          diff: `--- ${HOSTS}\n+++ ${HOSTS}\n@@ -1,1 +1,2 @@\n-127.0.0.1\tlocalhost\n\\ No newline at end of file\n+127.0.0.1\tlocalhost\n+10.0.0.1\tlab1-lo\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: HOSTS, mode: '0644', owner: 'root:root', existed: true }),
          input: '127.0.0.1\tlocalhost\n10.0.0.1\tlab1-lo\n',
        },
      ],
      undo: [fileRestore(HOSTS, '0644', 'root:root')],
    },
  },
  {
    // As `file` does: a new file's missing directory is made first, and goes again on undo.
    name: 'linux line: a new file in /etc/ceo, which the host lacks → the directory made 0755 first, removed by undo',
    os: 'linux',
    step: line('level', { path: '/etc/ceo/a.conf', line: 'level=1' }),
    probe: { stdout: missingLines(['/etc/ceo']), code: 1 },
    expect: {
      probe: fileProbe('/etc/ceo/a.conf'),
      changes: ['create directory /etc/ceo (mode 0755)', 'create /etc/ceo/a.conf'],
      apply: [
        PROBE,
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
    },
  },
  {
    name: 'linux line: state absent on a file that does not exist → nothing to do',
    os: 'linux',
    step: line('no old name', { path: HOSTS, line: '10.0.0.9\tlab1-lo', state: 'absent' }),
    probe: { stdout: '', code: 1 },
    expect: { changes: [] },
  },
  {
    name: 'linux line: PermitRootLogin in sshd_config → checked by sshd -t on the new file before it lands; risky, so the revert job restores it',
    os: 'linux',
    step: line('no root login', {
      path: SSHD,
      line: 'PermitRootLogin no',
      match: /^#?PermitRootLogin\b/,
      validate: 'sshd -t -f %s',
    }),
    probe: lsProbe('-rw-r--r--', 'root', 'root', SSHD_SHIPPED),
    expect: {
      changes: [
        {
          summary: `replace line in ${SSHD}`,
          diff: `--- ${SSHD}\n+++ ${SSHD}\n@@ -1,5 +1,5 @@\n Include /etc/ssh/sshd_config.d/*.conf\n \n #LoginGraceTime 2m\n-#PermitRootLogin prohibit-password\n+PermitRootLogin no\n #StrictModes yes\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: SSHD, mode: '0644', owner: 'root:root', validate: 'sshd -t -f %s', existed: true }),
          input: SSHD_SHIPPED.replace('#PermitRootLogin prohibit-password', 'PermitRootLogin no'),
        },
      ],
      undo: [fileRestore(SSHD, '0644', 'root:root')],
      revert: [fileRestoreScript(SSHD, '0644', 'root:root')],
    },
  },
] satisfies Case[]
