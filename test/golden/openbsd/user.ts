// Accounts on OpenBSD through useradd(8) and its kin: usermod -S sets the supplementary groups
// exactly. OpenBSD takes a password hash only in argv (usermod -p), so ferry sets none there: a
// hash to change is refused at plan time, one already right is in sync all the same.
import { user } from '../../../src/steps/user.ts'
import type { Case } from '../harness.ts'
import { hashBackupOf as b, keepHash, restoreHash, script } from '../scripts.ts'
import { HASH, HASH_SUM, OTHER_SUM, account, userProbe } from '../users.ts'

const master = (name: string) => `U=${name} awk -F: '$1 == ENVIRON["U"] { print $2; exit }' /etc/master.passwd`

// Seed 003's offices: a network operator on each gateway, in wheel to use doas.
const netop = (o: { passwordHash?: string } = {}) =>
  user('netop', { name: 'netop', uid: 1001, groups: ['wheel'], comment: 'Network operator', shell: '/bin/ksh', ...o })
const netopNow = (o: { members: string[]; shell: string; hash?: string }) =>
  account({
    uid: 1001,
    gid: 1001,
    group: 'netop',
    comment: 'Network operator',
    home: '/home/netop',
    has: ['netop', 'wheel'],
    ...o,
  })

export default [
  {
    name: 'openbsd user: netop missing → useradd -m; undo removes it, its home and the group useradd made (userdel leaves it)',
    os: 'openbsd',
    step: netop(),
    probe: 'has=wheel\n',
    expect: {
      probe: userProbe({ name: 'netop', uid: 1001, asked: "'netop wheel'", home: '/home/netop' }),
      changes: [
        'create user netop: uid 1001, groups wheel, comment "Network operator", home /home/netop (created), shell /bin/ksh',
      ],
      apply: ["useradd -u 1001 -G wheel -c 'Network operator' -d /home/netop -s /bin/ksh -m netop"],
      undo: [
        'if getent passwd netop >/dev/null; then userdel -r netop && { ! getent group netop >/dev/null || groupdel netop; }; fi',
      ],
    },
  },
  {
    name: 'openbsd user: netop in staff, not wheel, with sh → usermod -S (exactly these groups) and -s; back on undo',
    os: 'openbsd',
    step: netop(),
    probe: netopNow({ members: ['staff'], shell: '/bin/sh' }),
    expect: {
      changes: ['groups of netop: staff → wheel', 'shell of netop: /bin/sh → /bin/ksh'],
      apply: ['usermod -S wheel -s /bin/ksh netop'],
      undo: ['usermod -S staff -s /bin/sh netop'],
    },
  },
  {
    name: 'openbsd user: a password hash to change → refused at plan time: usermod -p would show it in ps',
    os: 'openbsd',
    step: netop({ passwordHash: HASH }),
    probe: netopNow({ members: ['wheel'], shell: '/bin/ksh', hash: OTHER_SUM }),
    expect: {
      probe: [`echo "hash=$(${master('netop')} | tr -d '\\n' | sha256)"`],
      error:
        /^OpenBSD takes a password hash only as an argument \(usermod -p\), which any local user can read with ps: ferry sets none there/,
    },
  },
  {
    name: 'openbsd user: the password hash already the wanted one (by SHA-256) → in sync',
    os: 'openbsd',
    step: netop({ passwordHash: HASH }),
    probe: netopNow({ members: ['wheel'], shell: '/bin/ksh', hash: HASH_SUM }),
    expect: { changes: [] },
  },
  {
    // Rollback would make netop again with a locked password: it could never give this one back.
    name: 'openbsd user: netop absent with a password (its hash not a locked one) → refused at plan time: rollback could not put it back',
    os: 'openbsd',
    step: user('no netop', { name: 'netop', state: 'absent' }),
    probe: netopNow({ members: ['wheel'], shell: '/bin/ksh' }),
    expect: {
      probe: [`case $(${master('netop')}) in '*'* | '!'*) echo locked=1 ;; esac`],
      error:
        /^removing user netop could not be rolled back with its password: OpenBSD takes a password hash only as an argument \(usermod -p\), which any local user can read with ps, so ferry sets none there/,
    },
  },
  {
    name: 'openbsd user: netop absent, its password locked → hash kept, userdel; undo re-adds it, and keeps the backup (failing) unless the hash came back the same',
    os: 'openbsd',
    step: user('no netop', { name: 'netop', state: 'absent' }),
    probe: `${netopNow({ members: ['wheel'], shell: '/bin/ksh' })}locked=1\n`,
    expect: {
      changes: ['remove user netop (uid 1001; its home /home/netop stays)'],
      apply: [script(keepHash('netop', master('netop')), 'userdel netop')],
      undo: [
        `if ! getent passwd netop >/dev/null; then { getent group netop >/dev/null || groupadd -g 1001 netop; } && useradd -u 1001 -g netop -G wheel -c 'Network operator' -d /home/netop -s /bin/ksh netop && ${restoreHash(
          'netop',
          `{ [ "$(${master('netop')})" = "$(cat ${b('netop')})" ] || { echo 'ferry: netop'\\''s old password hash is in ${b('netop')}: ferry sets none on OpenBSD (put it back with vipw)' >&2; exit 1; }; }`,
        )}; fi`,
      ],
    },
  },
] satisfies Case[]
