// Seed 000's FreeBSD hosts: the jail tree on a fresh host, Quagga's log directory handed to
// quagga, an emptied config directory gone, and a file where a directory should be.
import { directory } from '../../../src/steps/directory.ts'
import type { Case } from '../harness.ts'
import { dirAttrsSet, dirMade, dirProbe, madeParents, missingLines, removedParents } from '../scripts.ts'

export default [
  {
    name: 'freebsd directory: the web jail root on a host without /usr/jails → both made root 0755, outermost first',
    os: 'freebsd',
    step: directory('web jail', { path: '/usr/jails/web' }),
    probe: { stdout: missingLines(['/usr/jails']), code: 1 },
    expect: {
      probe: dirProbe('/usr/jails/web'),
      changes: ['create directory /usr/jails (mode 0755)', 'create directory /usr/jails/web (mode 0755)'],
      apply: [['set -e', madeParents(['/usr/jails'], '00755'), dirMade('/usr/jails/web', '00755')].join('\n')],
      undo: [['set -e', '[ ! -d /usr/jails/web ] || rmdir /usr/jails/web', removedParents(['/usr/jails'])].join('\n')],
    },
  },
  {
    name: "freebsd directory: /var/log/quagga still root:wheel → chowned to quagga through '.', mode kept",
    os: 'freebsd',
    step: directory('quagga logs', { path: '/var/log/quagga', owner: 'quagga:quagga', mode: 0o750 }),
    probe: 'uid=quagga 101\ndir=drwxr-x--- root wheel 0 0 8812\n',
    expect: {
      changes: ['owner of /var/log/quagga: root:wheel → quagga:quagga'],
      apply: [dirAttrsSet('/var/log/quagga', '8812', '00750', 'quagga:quagga')],
      undo: [dirAttrsSet('/var/log/quagga', '8812', '00750', 'root:wheel')],
    },
  },
  {
    name: 'freebsd directory: absent, an empty /usr/local/etc/quagga.old → rmdir; undo makes it again as it was',
    os: 'freebsd',
    step: directory('old quagga', { path: '/usr/local/etc/quagga.old', state: 'absent' }),
    probe: 'dir=drwxr-x--- quagga quagga 101 101 11210\nempty=1\n',
    expect: {
      changes: ['remove directory /usr/local/etc/quagga.old'],
      apply: ['rmdir /usr/local/etc/quagga.old'],
      undo: [
        `if [ ! -d /usr/local/etc/quagga.old ]; then ${dirMade('/usr/local/etc/quagga.old', '00750', 'quagga:quagga')}; fi`,
      ],
    },
  },
  {
    name: 'freebsd directory: a file where /usr/jails/web should be → the plan fails',
    os: 'freebsd',
    step: directory('web jail', { path: '/usr/jails/web' }),
    probe: { stdout: '', code: 3 },
    expect: { error: /^\/usr\/jails\/web exists and is not a directory$/ },
  },
] satisfies Case[]
