// Groups on Debian: groupadd, groupmod, groupdel from shadow; members put back with gpasswd -M.
import { group } from '../../../src/steps/group.ts'
import type { Case } from '../harness.ts'
import { groupProbe } from '../users.ts'

const ops = (gid?: number) => group('operators', { name: 'ops', gid })

export default [
  {
    name: 'linux group: ops missing → groupadd -g; undo removes it',
    os: 'linux',
    step: ops(4200),
    probe: '',
    expect: {
      probe: groupProbe({ name: 'ops', gid: 4200 }),
      changes: ['create group ops (gid 4200)'],
      apply: ['groupadd -g 4200 ops'],
      undo: ['if getent group ops >/dev/null; then groupdel ops; fi'],
      revert: ['if getent group ops >/dev/null; then groupdel ops; fi'],
    },
  },
  {
    name: 'linux group: ops with another gid → groupmod -g, and back on undo',
    os: 'linux',
    step: ops(4200),
    probe: 'exists=1\ngid=1001\nmember=alice\n',
    expect: {
      changes: ['gid of group ops: 1001 → 4200'],
      apply: ['groupmod -g 4200 ops'],
      undo: ['groupmod -g 1001 ops'],
    },
  },
  {
    name: 'linux group: ops exists, no gid asked → in sync',
    os: 'linux',
    step: ops(),
    probe: 'exists=1\ngid=1001\n',
    expect: { probe: groupProbe({ name: 'ops' }), changes: [] },
  },
  {
    name: 'linux group: ops absent → groupdel; undo puts it back with its gid and members',
    os: 'linux',
    step: group('no ops', { name: 'ops', state: 'absent' }),
    probe: 'exists=1\ngid=4200\nmember=alice\nmember=bob\n',
    expect: {
      probe: groupProbe({ name: 'ops', primary: true }),
      changes: ['remove group ops (gid 4200, members alice, bob)'],
      apply: ['groupdel ops'],
      undo: ['if ! getent group ops >/dev/null; then groupadd -g 4200 ops && gpasswd -M alice,bob ops; fi'],
    },
  },
  {
    name: "linux group: ops absent, but it is carol's primary group → refused (groupdel would fail)",
    os: 'linux',
    step: group('no ops', { name: 'ops', state: 'absent' }),
    probe: 'exists=1\ngid=4200\nprimary=carol\n',
    expect: { error: /^group ops is the primary group of carol: give them another first$/ },
  },
  {
    name: 'linux group: the gid belongs to another group → refused',
    os: 'linux',
    step: ops(4200),
    probe: 'gid_group=staff\n',
    expect: { error: /^gid 4200 belongs to group staff$/ },
  },
] satisfies Case[]
