// /etc/frr/daemons switches, and /etc/hosts, on Debian.
import { line } from '../../../src/steps/line.ts'
import { PROBE, type Case } from '../harness.ts'
import { fileRestore, fileWrite, lsProbe } from '../scripts.ts'

const DAEMONS = '/etc/frr/daemons'
const SHIPPED = 'bgpd=no\nospfd=no\nospf6d=no\n'
const ospfd = () => line('enable ospfd', { path: DAEMONS, line: 'ospfd=yes', match: '^ospfd=', notify: 'restart frr' })
const HOSTS = '/etc/hosts'

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
    name: 'linux line: state absent on a file that does not exist → nothing to do',
    os: 'linux',
    step: line('no old name', { path: HOSTS, line: '10.0.0.9\tlab1-lo', state: 'absent' }),
    probe: { stdout: '', code: 1 },
    expect: { changes: [] },
  },
  {
    name: 'linux line: frr/daemons on a host without /etc/frr (frr not installed) → refused: line makes no directories',
    os: 'linux',
    step: ospfd(),
    probe: { stdout: '', code: 4 },
    expect: {
      error: /^cannot create \/etc\/frr\/daemons: there is no directory \/etc\/frr \(line makes none\)$/,
    },
  },
  {
    name: 'linux line: the same after a step that may make /etc/frr (its package) → planned as a new file',
    os: 'linux',
    step: ospfd(),
    probe: { stdout: '', code: 4 },
    pending: ['*', 'pkg:frr'],
    expect: {
      // A directory at the path (3), or none to make the file in (4), before the file's own probe.
      probe: [`if [ -d ${DAEMONS} ]; then exit 3; elif [ ! -d /etc/frr ]; then exit 4; fi\nif [ -h ${DAEMONS} ]`],
      changes: [{ summary: `create ${DAEMONS}`, diff: `--- /dev/null\n+++ ${DAEMONS}\n@@ -0,0 +1,1 @@\n+ospfd=yes\n` }],
      apply: [PROBE, { cmd: fileWrite({ path: DAEMONS, mode: '0644', existed: false }), input: 'ospfd=yes\n' }],
      undo: [`rm -f ${DAEMONS}`],
    },
  },
  {
    name: 'linux line: state absent with no directory → nothing to do, nothing refused',
    os: 'linux',
    step: line('no ospfd', { path: DAEMONS, line: 'ospfd=yes', state: 'absent' }),
    probe: { stdout: '', code: 4 },
    expect: { changes: [] },
  },
  {
    name: 'linux line: a directory where the file should be → refused',
    os: 'linux',
    step: line('name the loopback', { path: HOSTS, line: '10.0.0.1\tlab1-lo' }),
    probe: { stdout: '', code: 3 },
    expect: { error: /^\/etc\/hosts is a directory$/ },
  },
] satisfies Case[]
