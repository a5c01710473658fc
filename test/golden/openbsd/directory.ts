// OpenBSD: a tenant's web root under httpd's chroot (seed 001's tenants), isakmpd's key
// directory as the system ships it, an old site removed with what it held.
import { directory } from '../../../src/steps/directory.ts'
import type { Case } from '../harness.ts'
import {
  dirBackupOf,
  dirMade,
  dirProbe,
  dirRemoved,
  dirRestore,
  dirRestored,
  groupProbe,
  userProbe,
} from '../scripts.ts'

const TENANT = '/var/www/htdocs/tenant-a'
const OLD = '/var/www/htdocs/old-site'

export default [
  {
    name: 'openbsd directory: a tenant web root → made www:www 0755 beside its siblings, renamed into place',
    os: 'openbsd',
    step: directory('tenant-a htdocs', { path: TENANT, owner: 'www:www' }),
    probe: { stdout: 'uid=www 67\n', code: 1 },
    expect: {
      probe: dirProbe(TENANT, { owners: [userProbe('www'), groupProbe('www')] }),
      changes: [`create directory ${TENANT} (mode 0755, owner www:www)`],
      apply: [dirMade(TENANT, '00755', 'www:www')],
      undo: [`[ ! -d ${TENANT} ] || rmdir ${TENANT}`],
    },
  },
  {
    name: 'openbsd directory: /etc/isakmpd/pubkeys/ipv4 as the system ships it → in sync',
    os: 'openbsd',
    step: directory('isakmpd keys', { path: '/etc/isakmpd/pubkeys/ipv4', owner: 'root:wheel' }),
    probe: 'uid=root 0\ndir=drwxr-xr-x root wheel 0 0 51873\n',
    expect: { changes: [] },
  },
  {
    name: 'openbsd directory: absent, an old site with content → archived and removed; undo unpacks it with its owner',
    os: 'openbsd',
    step: directory('old site', { path: OLD, state: 'absent', recurse: true, backups: 1 }),
    probe: 'dir=drwxr-xr-x www www 67 67 51990\nempty=0\n',
    expect: {
      probe: dirProbe(OLD, { absent: true }),
      changes: [`remove directory ${OLD} and all it holds (kept in /var/backups/ferry for undo)`],
      apply: [dirRemoved(OLD, dirBackupOf(OLD))],
      undo: [dirRestore(OLD, '00755', 'www:www')],
      revert: [dirRestored(OLD, '00755', 'www:www')],
    },
  },
  {
    name: 'openbsd directory: a symbolic link at the path → the plan fails',
    os: 'openbsd',
    step: directory('tenant-a htdocs', { path: TENANT }),
    probe: { stdout: '', code: 2 },
    expect: { error: /is a symbolic link: ferry manages directories, not links to them/ },
  },
] satisfies Case[]
