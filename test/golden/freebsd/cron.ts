// FreeBSD's cron: crontabs in /var/cron/tabs through crontab(1); /etc/cron.d read as well (its
// pathnames.h SYSCRONTABS); @every_minute and @every_second besides the classic keywords.
import { cron } from '../../../src/steps/cron.ts'
import { PROBE, type Case } from '../harness.ts'
import { crontabProbe, crontabRestore, crontabWrite, cronFileWrite, fileRestore, lsProbe } from '../scripts.ts'

const SPOOL = '/var/cron/tabs'
const TAB = "root's crontab"
const D = '/etc/cron.d/ferry-jails'
/** Another step's entry, already in the file. */
const SNAPSHOTS = '#ferry: snapshots\n0 * * * * root zfs snapshot -r tank/jails@hourly\n'
const dirProbe = (content?: string) =>
  content === undefined
    ? { stdout: 'user=1\ncrontab=1\n', code: 1 }
    : `user=1\ncrontab=1\n${lsProbe('-rw-r--r--', 'root', 'wheel', content)}`

export default [
  {
    name: "freebsd cron: @every_minute (FreeBSD's own keyword) in root's crontab, under the crontab there",
    os: 'freebsd',
    step: cron('watchdog', { special: 'every_minute', job: '/usr/local/sbin/jail-watchdog' }),
    probe: 'user=1\ncrontab=1\ntab=1\nPATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin\n',
    expect: {
      probe: crontabProbe(SPOOL, 'root'),
      changes: [
        {
          summary: `add cron entry "watchdog" to ${TAB}`,
          diff: `--- ${TAB}\n+++ ${TAB}\n@@ -0,0 +1,2 @@\n+#ferry: watchdog\n+@every_minute /usr/local/sbin/jail-watchdog\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: crontabWrite(SPOOL, 'root', { existed: true }),
          input:
            'PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin\n#ferry: watchdog\n@every_minute /usr/local/sbin/jail-watchdog\n',
        },
      ],
      undo: [crontabRestore(SPOOL, 'root')],
    },
  },
  {
    name: "freebsd cron: /etc/cron.d/ferry-jails holds another step's entry → this one added below it, root:wheel 0644 kept, the file backed up",
    os: 'freebsd',
    step: cron('prune snapshots', {
      file: 'ferry-jails',
      minute: '5',
      hour: '4',
      job: '/usr/local/sbin/zfs-prune tank/jails',
    }),
    probe: dirProbe(SNAPSHOTS),
    expect: {
      changes: [
        {
          summary: `add cron entry "prune snapshots" to ${D}`,
          diff: `--- ${D}\n+++ ${D}\n@@ -0,0 +1,2 @@\n+#ferry: prune snapshots\n+5 4 * * * root /usr/local/sbin/zfs-prune tank/jails\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: cronFileWrite(D, { mode: '0644', owner: 'root:wheel', existed: true }),
          input: `${SNAPSHOTS}#ferry: prune snapshots\n5 4 * * * root /usr/local/sbin/zfs-prune tank/jails\n`,
        },
      ],
      undo: [fileRestore(D, '0644', 'root:wheel')],
    },
  },
  {
    name: 'freebsd cron: absent, the last entry of a cron.d file → the file goes (its backup kept for undo)',
    os: 'freebsd',
    step: cron('snapshots', { file: 'ferry-jails', state: 'absent' }),
    probe: dirProbe(SNAPSHOTS),
    expect: {
      changes: [
        {
          summary: `remove cron entry "snapshots" from ${D}`,
          diff: `--- ${D}\n+++ ${D}\n@@ -1,2 +0,0 @@\n-#ferry: snapshots\n-0 * * * * root zfs snapshot -r tank/jails@hourly\n`,
        },
      ],
      apply: [PROBE, cronFileWrite(D, { mode: '0644', owner: 'root:wheel', existed: true })],
      undo: [fileRestore(D, '0644', 'root:wheel')],
    },
  },
  {
    name: 'freebsd cron: only an env value differs (a rotated password) → changed, and the diff shows neither value',
    os: 'freebsd',
    step: cron('dump', {
      user: 'pgsql',
      hour: '2',
      minute: '0',
      job: 'pg_dumpall > /var/db/pgsql/dump.sql',
      env: { PGPASSWORD: 'new-secret' },
    }),
    probe:
      'user=1\ncrontab=1\ntab=1\n#ferry: dump\nPGPASSWORD=old-secret\n0 2 * * * pg_dumpall > /var/db/pgsql/dump.sql\n',
    expect: {
      changes: [{ summary: 'change cron entry "dump" in pgsql\'s crontab: a masked env value' }],
      apply: [
        PROBE,
        {
          cmd: crontabWrite(SPOOL, 'pgsql', { existed: true }),
          input: '#ferry: dump\nPGPASSWORD=new-secret\n0 2 * * * pg_dumpall > /var/db/pgsql/dump.sql\n',
        },
      ],
      undo: [crontabRestore(SPOOL, 'pgsql')],
    },
  },
  {
    name: 'freebsd cron: disabled → the env and job lines commented out, the name line kept',
    os: 'freebsd',
    step: cron('dump', {
      user: 'pgsql',
      hour: '2',
      minute: '0',
      job: 'pg_dumpall > /var/db/pgsql/dump.sql',
      env: { MAILTO: 'dba' },
      disabled: true,
    }),
    probe: 'user=1\ncrontab=1\ntab=1\n#ferry: dump\nMAILTO=dba\n0 2 * * * pg_dumpall > /var/db/pgsql/dump.sql\n',
    expect: {
      changes: [
        {
          summary: 'change cron entry "dump" in pgsql\'s crontab',
          diff: "--- pgsql's crontab\n+++ pgsql's crontab\n@@ -1,3 +1,3 @@\n #ferry: dump\n-MAILTO=********\n-0 2 * * * pg_dumpall > /var/db/pgsql/dump.sql\n+#MAILTO=********\n+#0 2 * * * pg_dumpall > /var/db/pgsql/dump.sql\n",
        },
      ],
      apply: [
        PROBE,
        {
          cmd: crontabWrite(SPOOL, 'pgsql', { existed: true }),
          input: '#ferry: dump\n#MAILTO=dba\n#0 2 * * * pg_dumpall > /var/db/pgsql/dump.sql\n',
        },
      ],
      undo: [crontabRestore(SPOOL, 'pgsql')],
    },
  },
] satisfies Case[]
