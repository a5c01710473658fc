// Directories a Debian mesh member needs: a deploy user's .ssh in a home that is not root's,
// a web root with a parent to make, FRR's own directory set back to its mode, an old site gone.
import { directory } from '../../../src/steps/directory.ts'
import type { Case } from '../harness.ts'
import {
  dirAttrsSet,
  dirBackupOf,
  dirMade,
  dirProbe,
  dirRemoved,
  dirRestore,
  dirRestored,
  groupProbe,
  madeParents,
  missingLines,
  removedParents,
  userProbe,
} from '../scripts.ts'

const SSH = '/home/deploy/.ssh'
const SITE = '/srv/www/site'
const OLD = '/etc/nginx/sites-old'

export default [
  {
    // /home/deploy is deploy's: made in a private directory beside it and renamed into place.
    name: "linux directory: deploy's .ssh missing → made deploy:deploy 0700 beside it, renamed into place; undo removes it",
    os: 'linux',
    step: directory('deploy ssh', { path: SSH, owner: 'deploy', group: 'deploy', mode: 0o700 }),
    probe: { stdout: 'uid=deploy 1000\n', code: 1 },
    expect: {
      probe: dirProbe(SSH, { owners: [userProbe('deploy'), groupProbe('deploy')] }),
      changes: [`create directory ${SSH} (mode 0700, owner deploy:deploy)`],
      apply: [dirMade(SSH, '00700', 'deploy:deploy')],
      undo: [`[ ! -d ${SSH} ] || rmdir ${SSH}`],
      revert: [`[ ! -d ${SSH} ] || rmdir ${SSH}`],
    },
  },
  {
    name: 'linux directory: a web root whose /srv/www is missing → the parent made root 0755, then the site www-data 0750',
    os: 'linux',
    step: directory('site', { path: SITE, owner: 'www-data:www-data', mode: 0o750 }),
    probe: { stdout: `${missingLines(['/srv/www'])}uid=www-data 33\n`, code: 1 },
    expect: {
      changes: [
        'create directory /srv/www (mode 0755)',
        `create directory ${SITE} (mode 0750, owner www-data:www-data)`,
      ],
      apply: [['set -e', madeParents(['/srv/www'], '00755'), dirMade(SITE, '00750', 'www-data:www-data')].join('\n')],
      undo: [['set -e', `[ ! -d ${SITE} ] || rmdir ${SITE}`, removedParents(['/srv/www'])].join('\n')],
    },
  },
  {
    name: "linux directory: /etc/frr opened to all by hand → its mode set back through '.', checked to be the probed inode",
    os: 'linux',
    step: directory('frr dir', { path: '/etc/frr', owner: 'frr:frr', mode: 0o750 }),
    probe: 'uid=frr 101\ndir=drwxrwxrwx frr frr 101 103 393220\n',
    expect: {
      changes: ['mode of /etc/frr: 0777 → 0750'],
      apply: [dirAttrsSet('/etc/frr', '393220', '00750', 'frr:frr')],
      undo: [dirAttrsSet('/etc/frr', '393220', '00777', 'frr:frr')],
    },
  },
  {
    name: 'linux directory: /etc/frr as FRR leaves it, owner given by uid and gid → in sync',
    os: 'linux',
    step: directory('frr dir', { path: '/etc/frr', owner: '101:103', mode: 0o750 }),
    probe: 'dir=drwxr-x--- frr frr 101 103 393220\n',
    expect: { changes: [] },
  },
  {
    name: 'linux directory: absent, an old sites directory with files → archived 0600, removed; undo unpacks it',
    os: 'linux',
    step: directory('old sites', { path: OLD, state: 'absent', recurse: true }),
    probe: 'dir=drwxr-xr-x root root 0 0 524301\nempty=0\n',
    expect: {
      probe: dirProbe(OLD, { absent: true }),
      changes: [`remove directory ${OLD} and all it holds (kept in /var/backups/ferry for undo)`],
      apply: [dirRemoved(OLD, dirBackupOf(OLD))],
      undo: [dirRestore(OLD, '00755', 'root:root')],
      revert: [dirRestored(OLD, '00755', 'root:root')],
    },
  },
  {
    name: 'linux directory: absent without recurse, and something in it → the plan fails rather than remove it',
    os: 'linux',
    step: directory('old sites', { path: OLD, state: 'absent' }),
    probe: 'dir=drwxr-xr-x root root 0 0 524301\nempty=0\n',
    expect: {
      error: /^\/etc\/nginx\/sites-old is not empty: ferry removes it with what it holds only with recurse: true/,
    },
  },
] satisfies Case[]
