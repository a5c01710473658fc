// OpenBSD's cron: crontabs in /var/cron/tabs through crontab(1) (`-u user`, `-` for stdin, as
// its crontab.c parses them); no directory of system crontabs, so `file` is refused.
import { cron } from '../../../src/steps/cron.ts'
import { PROBE, type Case } from '../harness.ts'
import { crontabProbe, crontabRestore, crontabRestoreScript, crontabWrite } from '../scripts.ts'

const SPOOL = '/var/cron/tabs'

export default [
  {
    name: "openbsd cron: _backup's crontab missing → a new one with MAILTO and @daily; undo removes it",
    os: 'openbsd',
    step: cron('offsite', {
      user: '_backup',
      special: '@daily',
      job: '/usr/local/bin/offsite-sync',
      env: { MAILTO: 'root' },
    }),
    probe: 'user=1\ncrontab=1\ntab=0\n',
    expect: {
      probe: crontabProbe(SPOOL, '_backup'),
      changes: [
        {
          summary: 'add cron entry "offsite" to _backup\'s crontab',
          diff: "--- _backup's crontab\n+++ _backup's crontab\n@@ -0,0 +1,3 @@\n+#ferry: offsite\n+MAILTO=********\n+@daily /usr/local/bin/offsite-sync\n",
        },
      ],
      apply: [
        PROBE,
        {
          cmd: crontabWrite(SPOOL, '_backup', { existed: false }),
          input: '#ferry: offsite\nMAILTO=root\n@daily /usr/local/bin/offsite-sync\n',
        },
      ],
      undo: [crontabRestoreScript(SPOOL, '_backup', false)],
      revert: [crontabRestoreScript(SPOOL, '_backup', false)],
    },
  },
  {
    name: "openbsd cron: root's crontab as the system installs it → the entry for ospfd's state added at the end",
    os: 'openbsd',
    step: cron('ospf state', {
      minute: '*/5',
      job: 'ospfctl show neighbor > /var/log/ospf-neighbors 2>&1',
    }),
    probe:
      'user=1\ncrontab=1\ntab=1\nSHELL=/bin/sh\nPATH=/bin:/sbin:/usr/bin:/usr/sbin\nHOME=/var/log\n#\n#minute\thour\tmday\tmonth\twday\t[flags] command\n30\t1\t*\t*\t*\t/bin/sh /etc/daily\n',
    expect: {
      changes: ['add cron entry "ospf state" to root\'s crontab'],
      apply: [
        PROBE,
        {
          cmd: crontabWrite(SPOOL, 'root', { existed: true }),
          input:
            'SHELL=/bin/sh\nPATH=/bin:/sbin:/usr/bin:/usr/sbin\nHOME=/var/log\n#\n#minute\thour\tmday\tmonth\twday\t[flags] command\n30\t1\t*\t*\t*\t/bin/sh /etc/daily\n#ferry: ospf state\n*/5 * * * * ospfctl show neighbor > /var/log/ospf-neighbors 2>&1\n',
        },
      ],
      undo: [crontabRestore(SPOOL, 'root')],
    },
  },
  {
    name: 'openbsd cron: absent, and the user has no crontab → in sync',
    os: 'openbsd',
    step: cron('offsite', { user: '_backup', state: 'absent' }),
    probe: 'user=1\ncrontab=1\ntab=0\n',
    expect: { changes: [] },
  },
  {
    name: 'openbsd cron: a cron.d file → refused at plan time: OpenBSD has none',
    os: 'openbsd',
    step: cron('offsite', { file: 'offsite', job: '/usr/local/bin/offsite-sync', hour: '1' }),
    probe: '',
    expect: {
      probe: 'true',
      error: /^openbsd's cron reads no cron\.d directory: leave out file, for an entry in root's crontab$/,
    },
  },
] satisfies Case[]
