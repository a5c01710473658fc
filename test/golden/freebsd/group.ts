// Groups on FreeBSD through pw(8); members put back with pw groupmod -m.
import { group } from '../../../src/steps/group.ts'
import type { Case } from '../harness.ts'
import { groupProbe } from '../users.ts'

// The group a jail host's operators share, as pw.conf would not make on its own.
const staff = (gid?: number) => group('jail operators', { name: 'jailops', gid })

export default [
  {
    name: 'freebsd group: jailops missing → pw groupadd -g; undo removes it',
    os: 'freebsd',
    step: staff(2000),
    probe: '',
    expect: {
      probe: groupProbe({ name: 'jailops', gid: 2000 }),
      changes: ['create group jailops (gid 2000)'],
      apply: ['pw groupadd jailops -g 2000'],
      undo: ['if getent group jailops >/dev/null; then pw groupdel jailops; fi'],
    },
  },
  {
    name: 'freebsd group: jailops with another gid → pw groupmod -g, and back',
    os: 'freebsd',
    step: staff(2000),
    probe: 'exists=1\ngid=1005\ngid_group=jailops\n',
    expect: {
      changes: ['gid of group jailops: 1005 → 2000'],
      apply: ['pw groupmod jailops -g 2000'],
      undo: ['pw groupmod jailops -g 1005'],
    },
  },
  {
    name: 'freebsd group: jailops at its gid → in sync',
    os: 'freebsd',
    step: staff(2000),
    probe: 'exists=1\ngid=2000\ngid_group=jailops\n',
    expect: { changes: [] },
  },
  {
    name: 'freebsd group: jailops absent → pw groupdel; undo puts it back with its members',
    os: 'freebsd',
    step: group('no jailops', { name: 'jailops', state: 'absent' }),
    probe: 'exists=1\ngid=2000\nmember=jane\n',
    expect: {
      changes: ['remove group jailops (gid 2000, members jane)'],
      apply: ['pw groupdel jailops'],
      undo: [
        'if ! getent group jailops >/dev/null; then pw groupadd jailops -g 2000 && pw groupmod jailops -m jane; fi',
      ],
    },
  },
] satisfies Case[]
