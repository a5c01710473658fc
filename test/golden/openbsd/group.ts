// Groups on OpenBSD: groupadd, groupmod, groupdel. groupmod takes no members, so a group put
// back gets each of its members appended with usermod -G.
import { group } from '../../../src/steps/group.ts'
import type { Case } from '../harness.ts'
import { groupProbe } from '../users.ts'

export default [
  {
    name: 'openbsd group: netops missing → groupadd -g; undo removes it',
    os: 'openbsd',
    step: group('network operators', { name: 'netops', gid: 2000 }),
    probe: '',
    expect: {
      probe: groupProbe({ name: 'netops', gid: 2000 }),
      changes: ['create group netops (gid 2000)'],
      apply: ['groupadd -g 2000 netops'],
      undo: ['if getent group netops >/dev/null; then groupdel netops; fi'],
    },
  },
  {
    name: 'openbsd group: netops missing, no gid → groupadd picks one',
    os: 'openbsd',
    step: group('network operators', { name: 'netops' }),
    probe: '',
    expect: {
      changes: ['create group netops'],
      apply: ['groupadd netops'],
      undo: ['if getent group netops >/dev/null; then groupdel netops; fi'],
    },
  },
  {
    name: 'openbsd group: netops with another gid → groupmod -g, and back',
    os: 'openbsd',
    step: group('network operators', { name: 'netops', gid: 2000 }),
    probe: 'exists=1\ngid=1003\ngid_group=netops\n',
    expect: {
      changes: ['gid of group netops: 1003 → 2000'],
      apply: ['groupmod -g 2000 netops'],
      undo: ['groupmod -g 1003 netops'],
    },
  },
  {
    name: 'openbsd group: netops absent → groupdel; undo puts it back and appends each member',
    os: 'openbsd',
    step: group('no netops', { name: 'netops', state: 'absent' }),
    probe: 'exists=1\ngid=2000\nmember=netop\nmember=amy\n',
    expect: {
      changes: ['remove group netops (gid 2000, members netop, amy)'],
      apply: ['groupdel netops'],
      undo: [
        'if ! getent group netops >/dev/null; then groupadd -g 2000 netops && usermod -G netops netop && usermod -G netops amy; fi',
      ],
    },
  },
] satisfies Case[]
