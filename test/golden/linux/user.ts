// Accounts on Debian: useradd, usermod and userdel from shadow; the hash through chpasswd -e,
// which reads `NAME:HASH` on stdin; /etc/shadow read by getent.
import { user } from '../../../src/steps/user.ts'
import type { Case } from '../harness.ts'
import { hashBackupOf as b, keepHash, restoreHash, script } from '../scripts.ts'
import { HASH, HASH_SUM, OTHER_SUM, account, userProbe } from '../users.ts'

const shadow = (name: string) => `getent shadow ${name} | awk -F: 'NR == 1 { print $2 }'`
const digest = (name: string) => `${shadow(name)} | tr -d '\\n' | sha256sum`
const chpasswd = (name: string, file = '') => `{ printf '%s:' ${name} && cat${file && ` ${file}`}; } | chpasswd -e`

const alice = () =>
  user('alice', {
    name: 'alice',
    uid: 4243,
    group: 'ops',
    groups: ['wheel', 'adm'],
    comment: 'Alice Liddell',
    shell: '/bin/sh',
    passwordHash: HASH,
  })
const aliceNow = (o: { shell: string; members: string[]; hash: string }) =>
  account({
    uid: 4243,
    gid: 4200,
    group: 'ops',
    comment: 'Alice Liddell',
    home: '/home/alice',
    has: ['adm', 'ops', 'wheel'],
    ...o,
  })

export default [
  {
    name: 'linux user: alice missing → useradd with every setting and -m, the hash on stdin; undo removes her and the home ferry made',
    os: 'linux',
    step: alice(),
    probe: 'has=adm\nhas=ops\nhas=wheel\n',
    expect: {
      probe: userProbe({
        name: 'alice',
        uid: 4243,
        asked: "'adm ops wheel'",
        home: '/home/alice',
        digest: digest('alice'),
      }),
      changes: [
        'create user alice: uid 4243, group ops, groups adm,wheel, comment "Alice Liddell", home /home/alice (created), shell /bin/sh',
        'password of alice: set',
      ],
      apply: [
        "useradd -u 4243 -g ops -G adm,wheel -c 'Alice Liddell' -d /home/alice -s /bin/sh -m alice",
        { cmd: chpasswd('alice'), input: `${HASH}\n` },
      ],
      undo: ['if getent passwd alice >/dev/null; then userdel -r alice; fi'],
      revert: ['if getent passwd alice >/dev/null; then userdel -r alice; fi'],
    },
  },
  {
    name: 'linux user: alice with another shell, one group short and another password → usermod, the old hash kept in a 0600 backup first',
    os: 'linux',
    step: alice(),
    probe: aliceNow({ shell: '/bin/bash', members: ['adm'], hash: OTHER_SUM }),
    expect: {
      changes: [
        'groups of alice: adm → adm, wheel',
        'shell of alice: /bin/bash → /bin/sh',
        'password of alice: changed',
      ],
      apply: [
        script(keepHash('alice', shadow('alice')), 'usermod -G adm,wheel -s /bin/sh alice'),
        { cmd: chpasswd('alice'), input: `${HASH}\n` },
      ],
      undo: [
        script(
          'usermod -G adm -s /bin/bash alice',
          restoreHash('alice', `{ [ ! -s ${b('alice')} ] || ${chpasswd('alice', b('alice'))}; }`),
        ),
      ],
    },
  },
  {
    name: 'linux user: alice as wanted, her hash the same (by its SHA-256) → in sync',
    os: 'linux',
    step: alice(),
    probe: aliceNow({ shell: '/bin/sh', members: ['adm', 'wheel'], hash: HASH_SUM }),
    expect: { changes: [] },
  },
  {
    name: 'linux user: append → wheel added beside her other groups, which stay',
    os: 'linux',
    step: user('alice in wheel', { name: 'alice', groups: ['wheel'], append: true }),
    probe: aliceNow({ shell: '/bin/sh', members: ['adm', 'ops'], hash: HASH_SUM }),
    expect: {
      changes: ['groups of alice: adm, ops → adm, ops, wheel'],
      apply: ['usermod -G adm,ops,wheel alice'],
      undo: ['usermod -G adm,ops alice'],
    },
  },
  {
    name: 'linux user: a bare service user whose home exists → useradd -M, and undo leaves the home',
    os: 'linux',
    step: user('svc', { name: 'svc' }),
    probe: 'home_dir=1\n',
    expect: {
      probe: userProbe({ name: 'svc', asked: 'svc', home: '/home/svc' }),
      changes: ['create user svc: home /home/svc'],
      apply: ['useradd -d /home/svc -M svc'],
      undo: ['if getent passwd svc >/dev/null; then userdel svc; fi'],
    },
  },
  {
    name: 'linux user: bob absent → his hash kept, userdel (home stays); undo puts back his group, account and hash',
    os: 'linux',
    step: user('bob gone', { name: 'bob', state: 'absent' }),
    probe: account({
      uid: 4300,
      gid: 4300,
      group: 'bob',
      home: '/home/bob',
      shell: '/bin/bash',
      members: ['adm'],
      has: ['bob'],
    }),
    expect: {
      changes: ['remove user bob (uid 4300; its home /home/bob stays)'],
      apply: [script(keepHash('bob', shadow('bob')), 'userdel bob')],
      undo: [
        `if ! getent passwd bob >/dev/null; then { getent group bob >/dev/null || groupadd -g 4300 bob; } && useradd -u 4300 -g bob -G adm -c '' -d /home/bob -s /bin/bash -M bob && ${restoreHash('bob', `{ [ ! -s ${b('bob')} ] || ${chpasswd('bob', b('bob'))}; }`)}; fi`,
      ],
    },
  },
  {
    name: 'linux user: a group to join that does not exist → refused at plan time',
    os: 'linux',
    step: alice(),
    probe: 'has=adm\nhas=ops\n',
    expect: { error: /^group wheel does not exist \(a group step before this one can make it\)$/ },
  },
  {
    name: 'linux user: a group of the new user’s name exists, none given → refused (useradd would fail)',
    os: 'linux',
    step: user('svc', { name: 'svc' }),
    probe: 'has=svc\n',
    expect: { error: /a group svc exists already: give group: 'svc'/ },
  },
  {
    name: 'linux user: the uid belongs to another user → refused',
    os: 'linux',
    step: alice(),
    probe: 'has=adm\nhas=ops\nhas=wheel\nuid_user=carol\n',
    expect: { error: /^uid 4243 belongs to user carol$/ },
  },
] satisfies Case[]
