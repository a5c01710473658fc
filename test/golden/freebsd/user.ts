// Accounts on FreeBSD through pw(8): -G sets the supplementary groups exactly, and -H 0 reads an
// encrypted password on stdin. The hash is read from /etc/master.passwd.
import { user } from '../../../src/steps/user.ts'
import type { Case } from '../harness.ts'
import { hashBackupOf as b, keepHash, restoreHash, script } from '../scripts.ts'
import { HASH, HASH_SUM, OTHER_SUM, account, userProbe } from '../users.ts'

const master = (name: string) => `U=${name} awk -F: '$1 == ENVIRON["U"] { print $2; exit }' /etc/master.passwd`

// An operator who may su (wheel) and run operator's tasks, with tcsh, FreeBSD's root shell.
const jane = () =>
  user('jane', {
    name: 'jane',
    uid: 1001,
    groups: ['wheel', 'operator'],
    comment: 'Jane Doe',
    shell: '/bin/tcsh',
    passwordHash: HASH,
  })

export default [
  {
    name: 'freebsd user: jane missing → pw useradd with -m (her own group, named after her), then pw usermod -H 0 with the hash on stdin',
    os: 'freebsd',
    step: jane(),
    probe: 'has=operator\nhas=wheel\n',
    expect: {
      probe: userProbe({
        name: 'jane',
        uid: 1001,
        asked: "'jane operator wheel'",
        home: '/home/jane',
        digest: `${master('jane')} | tr -d '\\n' | sha256`,
      }),
      changes: [
        'create user jane: uid 1001, groups operator,wheel, comment "Jane Doe", home /home/jane (created), shell /bin/tcsh',
        'password of jane: set',
      ],
      apply: [
        "pw useradd jane -u 1001 -G operator,wheel -c 'Jane Doe' -d /home/jane -s /bin/tcsh -m",
        { cmd: 'pw usermod jane -H 0', input: `${HASH}\n` },
      ],
      // pw userdel takes the group named after her with her, since it has no other members.
      undo: ['if getent passwd jane >/dev/null; then pw userdel jane -r; fi'],
    },
  },
  {
    name: 'freebsd user: jane out of wheel, with sh and another password → pw usermod, the old hash kept first',
    os: 'freebsd',
    step: jane(),
    probe: account({
      uid: 1001,
      gid: 1001,
      group: 'jane',
      comment: 'Jane Doe',
      home: '/home/jane',
      shell: '/bin/sh',
      members: ['operator'],
      has: ['jane', 'operator', 'wheel'],
      hash: OTHER_SUM,
    }),
    expect: {
      changes: [
        'groups of jane: operator → operator, wheel',
        'shell of jane: /bin/sh → /bin/tcsh',
        'password of jane: changed',
      ],
      apply: [
        script(keepHash('jane', master('jane')), 'pw usermod jane -G operator,wheel -s /bin/tcsh'),
        { cmd: 'pw usermod jane -H 0', input: `${HASH}\n` },
      ],
      undo: [
        script(
          'pw usermod jane -G operator -s /bin/sh',
          restoreHash('jane', `{ [ ! -s ${b('jane')} ] || pw usermod jane -H 0 < ${b('jane')}; }`),
        ),
      ],
    },
  },
  {
    name: 'freebsd user: jane as wanted, the same hash → in sync',
    os: 'freebsd',
    step: jane(),
    probe: account({
      uid: 1001,
      gid: 1001,
      group: 'jane',
      comment: 'Jane Doe',
      home: '/home/jane',
      shell: '/bin/tcsh',
      members: ['operator', 'wheel'],
      has: ['jane', 'operator', 'wheel'],
      hash: HASH_SUM,
    }),
    expect: { changes: [] },
  },
  {
    name: 'freebsd user: no supplementary groups at all → pw usermod -G with an empty list',
    os: 'freebsd',
    step: user('jane alone', { name: 'jane', groups: [] }),
    probe: account({ uid: 1001, gid: 1001, group: 'jane', home: '/home/jane', shell: '/bin/sh', members: ['wheel'] }),
    expect: {
      changes: ['groups of jane: wheel → (none)'],
      apply: ["pw usermod jane -G ''"],
      undo: ['pw usermod jane -G wheel'],
    },
  },
  {
    name: 'freebsd user: old account absent → hash kept, pw userdel; undo re-adds it and its hash',
    os: 'freebsd',
    step: user('old gone', { name: 'old', state: 'absent' }),
    probe: account({
      uid: 1002,
      gid: 1002,
      group: 'old',
      comment: 'Old Timer',
      home: '/home/old',
      shell: '/bin/sh',
      has: ['old'],
    }),
    expect: {
      changes: ['remove user old (uid 1002; its home /home/old stays)'],
      apply: [script(keepHash('old', master('old')), 'pw userdel old')],
      undo: [
        `if ! getent passwd old >/dev/null; then { getent group old >/dev/null || pw groupadd old -g 1002; } && pw useradd old -u 1002 -g old -c 'Old Timer' -d /home/old -s /bin/sh && ${restoreHash('old', `{ [ ! -s ${b('old')} ] || pw usermod old -H 0 < ${b('old')}; }`)}; fi`,
      ],
    },
  },
] satisfies Case[]
