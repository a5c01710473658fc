// FreeBSD: vtysh in root's own bin (a parent to make), the time zone as a link where tzsetup
// left a copy, and a link a jail tree already has.
import { link } from '../../../src/steps/link.ts'
import type { Case } from '../harness.ts'
import {
  linkFileRestore,
  linkFileRestoreScript,
  linkProbe,
  linkReplaced,
  madeParents,
  missingLines,
  removedParents,
} from '../scripts.ts'

export default [
  {
    name: "freebsd link: vtysh in root's ~/bin, which does not exist yet → /root/bin made 0755, then the link",
    os: 'freebsd',
    step: link('vtysh', { path: '/root/bin/vtysh', target: '/usr/local/bin/vtysh' }),
    probe: `${missingLines(['/root/bin'], 'drwxr-x--- 0')}target=1\n`,
    expect: {
      probe: linkProbe('/root/bin/vtysh', '/usr/local/bin/vtysh'),
      changes: ['create directory /root/bin (mode 0755)', 'create link /root/bin/vtysh → /usr/local/bin/vtysh'],
      apply: [
        ['set -e', madeParents(['/root/bin'], '00755'), linkReplaced('/root/bin/vtysh', '/usr/local/bin/vtysh')].join(
          '\n',
        ),
      ],
      undo: [['set -e', '[ ! -h /root/bin/vtysh ] || rm -f /root/bin/vtysh', removedParents(['/root/bin'])].join('\n')],
    },
  },
  {
    name: 'freebsd link: /etc/localtime a copy tzsetup made, with force → kept, replaced by a link; undo puts the copy back',
    os: 'freebsd',
    step: link('time zone', { path: '/etc/localtime', target: '/usr/share/zoneinfo/UTC', force: true }),
    probe: 'file=-r--r--r-- root wheel\ntarget=1\n',
    expect: {
      changes: ['replace the file /etc/localtime by a link → /usr/share/zoneinfo/UTC (the file is kept for undo)'],
      apply: [linkReplaced('/etc/localtime', '/usr/share/zoneinfo/UTC', true)],
      // The link goes only when the copy is there to put back (undo says if it was pruned).
      undo: [linkFileRestore('/etc/localtime', '0444', 'root:wheel')],
      revert: linkFileRestoreScript('/etc/localtime', '0444', 'root:wheel'),
    },
  },
  {
    name: 'freebsd link: the web jail’s /etc/localtime already → UTC → in sync',
    os: 'freebsd',
    step: link('jail time zone', { path: '/usr/jails/web/etc/localtime', target: '/usr/share/zoneinfo/UTC' }),
    probe: 'link=/usr/share/zoneinfo/UTC\n',
    expect: { changes: [] },
  },
] satisfies Case[]
