// Debian's cron: root's crontab through crontab(1) (spool /var/spool/cron/crontabs), and a file
// in /etc/cron.d whose lines name their user.
import { cron } from '../../../src/steps/cron.ts'
import { PROBE, type Case } from '../harness.ts'
import { crontabProbe, crontabRestore, crontabRestoreScript, crontabWrite, cronFileWrite } from '../scripts.ts'

const SPOOL = '/var/spool/cron/crontabs'
const TAB = "root's crontab"
/** A crontab ferry did not write, with a secret in an env line: it must stay out of diffs. */
const THEIRS = 'SHELL=/bin/sh\nAPI_TOKEN=hunter2-not-in-diffs\n17 * * * * /usr/local/bin/report\n'
const BACKUP_ENTRY = '#ferry: nightly backup\nMAILTO=ops@example.com\n30 3 * * * /usr/local/sbin/backup --all\n'
const backup = () =>
  cron('nightly backup', {
    minute: '30',
    hour: '3',
    job: '/usr/local/sbin/backup --all',
    env: { MAILTO: 'ops@example.com' },
  })
const listed = (content: string) => `user=1\ncrontab=1\ntab=1\n${content}`

export default [
  {
    name: "linux cron: root's crontab holds other jobs and a secret → the entry appended, the old crontab backed up, diff of the entry alone",
    os: 'linux',
    step: backup(),
    probe: listed(THEIRS),
    expect: {
      probe: crontabProbe(SPOOL, 'root'),
      changes: [
        {
          summary: `add cron entry "nightly backup" to ${TAB}`,
          diff: `--- ${TAB}\n+++ ${TAB}\n@@ -0,0 +1,3 @@\n+#ferry: nightly backup\n+MAILTO=********\n+30 3 * * * /usr/local/sbin/backup --all\n`,
        },
      ],
      apply: [PROBE, { cmd: crontabWrite(SPOOL, 'root', { existed: true }), input: THEIRS + BACKUP_ENTRY }],
      undo: [crontabRestore(SPOOL, 'root')],
      revert: [crontabRestoreScript(SPOOL, 'root', true)],
    },
  },
  {
    name: 'linux cron: no crontab yet, @reboot → a new crontab of the entry; undo removes it',
    os: 'linux',
    step: cron('tunnel at boot', { special: '@reboot', job: '/usr/local/sbin/tunnel-up' }),
    probe: 'user=1\ncrontab=1\ntab=0\n',
    expect: {
      changes: [
        {
          summary: `add cron entry "tunnel at boot" to ${TAB}`,
          diff: `--- ${TAB}\n+++ ${TAB}\n@@ -0,0 +1,2 @@\n+#ferry: tunnel at boot\n+@reboot /usr/local/sbin/tunnel-up\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: crontabWrite(SPOOL, 'root', { existed: false }),
          input: '#ferry: tunnel at boot\n@reboot /usr/local/sbin/tunnel-up\n',
        },
      ],
      undo: [crontabRestoreScript(SPOOL, 'root', false)],
    },
  },
  {
    name: 'linux cron: the entry in place, between other lines, the crontab without a final newline → in sync',
    os: 'linux',
    step: backup(),
    probe: listed(`SHELL=/bin/sh\n${BACKUP_ENTRY}17 * * * * /usr/local/bin/report`),
    expect: { changes: [] },
  },
  {
    name: 'linux cron: the hour changed by hand and the entry pasted twice → the first replaced in place, the second gone',
    os: 'linux',
    step: backup(),
    probe: listed(
      `${BACKUP_ENTRY.replace('30 3', '30 4')}17 * * * * /usr/local/bin/report\n#ferry: nightly backup\n30 3 * * * /usr/local/sbin/backup --all\n`,
    ),
    expect: {
      changes: [
        {
          summary: `change cron entry "nightly backup" in ${TAB}`,
          diff: `--- ${TAB}\n+++ ${TAB}\n@@ -1,5 +1,3 @@\n #ferry: nightly backup\n MAILTO=********\n-30 4 * * * /usr/local/sbin/backup --all\n-#ferry: nightly backup\n 30 3 * * * /usr/local/sbin/backup --all\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: crontabWrite(SPOOL, 'root', { existed: true }),
          input: `${BACKUP_ENTRY}17 * * * * /usr/local/bin/report\n`,
        },
      ],
      undo: [crontabRestore(SPOOL, 'root')],
    },
  },
  {
    name: 'linux cron: absent, the only entry of the crontab → the crontab removed (kept in the backup)',
    os: 'linux',
    step: cron('old report', { state: 'absent' }),
    probe: listed('#ferry: old report\n0 * * * * /usr/local/bin/old-report\n'),
    expect: {
      changes: [
        {
          summary: `remove cron entry "old report" from ${TAB}`,
          diff: `--- ${TAB}\n+++ ${TAB}\n@@ -1,2 +0,0 @@\n-#ferry: old report\n-0 * * * * /usr/local/bin/old-report\n`,
        },
      ],
      apply: [PROBE, crontabWrite(SPOOL, 'root', { existed: true, remove: true })],
      undo: [crontabRestore(SPOOL, 'root')],
    },
  },
  {
    name: 'linux cron: /etc/cron.d/ferry-backup missing → created 0644 with the user field, MAILTO="" masked; undo removes it',
    os: 'linux',
    step: cron('backup', {
      file: 'ferry-backup',
      user: 'backup',
      minute: '*/15',
      job: 'flock -n /run/backup.lock /usr/local/sbin/backup',
      env: { MAILTO: '' },
    }),
    probe: { stdout: 'user=1\ncrontab=1\n', code: 1 },
    expect: {
      probe: [
        'if id backup >/dev/null 2>&1; then echo user=1; else echo user=0; fi\nif [ -d /etc/cron.d ]; then echo crontab=1; else echo crontab=0; fi\nif [ -h /etc/cron.d/ferry-backup ]; then exit 2;',
      ],
      changes: [
        {
          summary: 'add cron entry "backup" to /etc/cron.d/ferry-backup',
          diff: '--- /etc/cron.d/ferry-backup\n+++ /etc/cron.d/ferry-backup\n@@ -0,0 +1,3 @@\n+#ferry: backup\n+MAILTO=********\n+*/15 * * * * backup flock -n /run/backup.lock /usr/local/sbin/backup\n',
        },
      ],
      apply: [
        PROBE,
        {
          cmd: cronFileWrite('/etc/cron.d/ferry-backup', { mode: '0644', existed: false }),
          input: '#ferry: backup\nMAILTO=""\n*/15 * * * * backup flock -n /run/backup.lock /usr/local/sbin/backup\n',
        },
      ],
      undo: ['rm -f /etc/cron.d/ferry-backup'],
    },
  },
  {
    name: 'linux cron: no such user → refused at plan time',
    os: 'linux',
    step: cron('backup', { user: 'backup', hour: '2', job: '/usr/local/sbin/backup' }),
    probe: 'user=0\ncrontab=1\ntab=0\n',
    expect: { error: /^there is no user backup$/ },
  },
  {
    name: "linux cron: @every_second (FreeBSD's) → refused at plan time, naming what Debian's cron knows",
    os: 'linux',
    step: cron('poll', { special: '@every_second', job: '/usr/local/bin/poll' }),
    probe: 'user=1\ncrontab=1\ntab=0\n',
    expect: {
      error:
        /^linux's cron has no @every_second \(it has @reboot, @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly\)$/,
    },
  },
  {
    name: 'linux cron: no crontab command → refused at plan time',
    os: 'linux',
    step: backup(),
    probe: 'user=1\ncrontab=0\n',
    expect: { error: /crontab\(1\) is missing \(is cron installed\?\)/ },
  },
  {
    name: 'linux cron: no crontab command, but an earlier step installs packages → planned against an empty crontab',
    os: 'linux',
    step: backup(),
    probe: 'user=1\ncrontab=0\n',
    after: 'user=1\ncrontab=1\ntab=0\n',
    pending: ['*', 'pkg:cron'],
    expect: {
      changes: [`add cron entry "nightly backup" to ${TAB}`],
      apply: [PROBE, { cmd: crontabWrite(SPOOL, 'root', { existed: false }), input: BACKUP_ENTRY }],
      undo: [crontabRestoreScript(SPOOL, 'root', false)],
    },
  },
] satisfies Case[]
