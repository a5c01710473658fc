// Links a Debian host is configured with: a site enabled the Debian way, the time zone,
// resolv.conf handed to a resolver (a file replaced, with force), and a target that is not there.
import { link } from '../../../src/steps/link.ts'
import type { Case } from '../harness.ts'
import { linkFileRestore, linkFileRestoreScript, linkProbe, linkReplaced } from '../scripts.ts'

const SITE = '/etc/nginx/sites-enabled/default'

export default [
  {
    name: 'linux link: nginx site enabled → a relative link to ../sites-available/default; undo removes it',
    os: 'linux',
    step: link('default site', { path: SITE, target: '../sites-available/default' }),
    probe: 'target=1\n',
    expect: {
      probe: linkProbe(SITE, '../sites-available/default', '/etc/nginx/sites-available/default'),
      changes: [`create link ${SITE} → ../sites-available/default`],
      apply: [linkReplaced(SITE, '../sites-available/default')],
      undo: [`[ ! -h ${SITE} ] || rm -f ${SITE}`],
    },
  },
  {
    name: 'linux link: /etc/localtime to UTC → pointed at Europe/Berlin in one rename; undo points it back',
    os: 'linux',
    step: link('time zone', { path: '/etc/localtime', target: '/usr/share/zoneinfo/Europe/Berlin' }),
    probe: 'link=/usr/share/zoneinfo/Etc/UTC\ntarget=1\n',
    expect: {
      probe: linkProbe('/etc/localtime', '/usr/share/zoneinfo/Europe/Berlin'),
      changes: ['link /etc/localtime: → /usr/share/zoneinfo/Etc/UTC becomes → /usr/share/zoneinfo/Europe/Berlin'],
      apply: [linkReplaced('/etc/localtime', '/usr/share/zoneinfo/Europe/Berlin')],
      undo: [linkReplaced('/etc/localtime', '/usr/share/zoneinfo/Etc/UTC')],
    },
  },
  {
    name: 'linux link: /etc/localtime already → Europe/Berlin → in sync',
    os: 'linux',
    step: link('time zone', { path: '/etc/localtime', target: '/usr/share/zoneinfo/Europe/Berlin' }),
    probe: 'link=/usr/share/zoneinfo/Europe/Berlin\ntarget=1\n',
    expect: { changes: [] },
  },
  {
    name: 'linux link: resolv.conf a plain file, with force → kept in /var/backups/ferry, replaced; undo puts the file back',
    os: 'linux',
    step: link('resolver', { path: '/etc/resolv.conf', target: '/run/resolvconf/resolv.conf', force: true }),
    probe: 'file=-rw-r--r-- root root\ntarget=1\n',
    expect: {
      changes: [
        'replace the file /etc/resolv.conf by a link → /run/resolvconf/resolv.conf (the file is kept for undo)',
      ],
      apply: [linkReplaced('/etc/resolv.conf', '/run/resolvconf/resolv.conf', true)],
      undo: [linkFileRestore('/etc/resolv.conf', '0644', 'root:root')],
      revert: linkFileRestoreScript('/etc/resolv.conf', '0644', 'root:root'),
    },
  },
  {
    name: 'linux link: resolv.conf a plain file, without force → the plan fails rather than replace it',
    os: 'linux',
    step: link('resolver', { path: '/etc/resolv.conf', target: '/run/resolvconf/resolv.conf' }),
    probe: 'file=-rw-r--r-- root root\ntarget=1\n',
    expect: {
      error: /^\/etc\/resolv\.conf is a regular file: ferry replaces it by a link only with force: true/,
    },
  },
  {
    name: 'linux link: a target that does not exist → the plan fails, naming it',
    os: 'linux',
    step: link('resolver', { path: '/etc/resolv.conf', target: '/run/resolvconf/resolv.conf' }),
    probe: 'link=/run/systemd/resolve/stub-resolv.conf\n',
    expect: {
      error:
        /^\/etc\/resolv\.conf would point to \/run\/resolvconf\/resolv\.conf, which does not exist \(force: true makes a link that dangles until it does\)$/,
    },
  },
] satisfies Case[]
