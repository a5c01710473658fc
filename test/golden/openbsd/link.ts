// OpenBSD: the time zone link the installer makes, a tenant's `current` release that an
// earlier step of the run creates, and a directory in the way.
import { link } from '../../../src/steps/link.ts'
import type { Case } from '../harness.ts'
import { linkProbe, linkReplaced } from '../scripts.ts'

const CURRENT = '/var/www/htdocs/tenant-a/current'

export default [
  {
    name: 'openbsd link: /etc/localtime → Canada/Mountain as installed, set to UTC; undo sets it back',
    os: 'openbsd',
    step: link('time zone', { path: '/etc/localtime', target: '/usr/share/zoneinfo/UTC' }),
    probe: 'link=/usr/share/zoneinfo/Canada/Mountain\ntarget=1\n',
    expect: {
      probe: linkProbe('/etc/localtime', '/usr/share/zoneinfo/UTC'),
      changes: ['link /etc/localtime: → /usr/share/zoneinfo/Canada/Mountain becomes → /usr/share/zoneinfo/UTC'],
      apply: [linkReplaced('/etc/localtime', '/usr/share/zoneinfo/UTC')],
      undo: [linkReplaced('/etc/localtime', '/usr/share/zoneinfo/Canada/Mountain')],
    },
  },
  {
    name: 'openbsd link: a release directory an earlier step makes → planned although it is not there yet',
    os: 'openbsd',
    step: link('current release', { path: CURRENT, target: 'releases/2024-06' }),
    probe: '',
    pending: ['dir:/var/www/htdocs/tenant-a/releases/2024-06'],
    expect: {
      probe: linkProbe(CURRENT, 'releases/2024-06', '/var/www/htdocs/tenant-a/releases/2024-06'),
      changes: [`create link ${CURRENT} → releases/2024-06`],
      apply: [linkReplaced(CURRENT, 'releases/2024-06')],
      undo: [`[ ! -h ${CURRENT} ] || rm -f ${CURRENT}`],
    },
  },
  {
    name: 'openbsd link: a directory where the link should be → the plan fails, even with force',
    os: 'openbsd',
    step: link('current release', { path: CURRENT, target: 'releases/2024-06', force: true }),
    probe: 'isdir=1\ntarget=1\n',
    expect: { error: /is a directory: ferry does not replace a directory by a link$/ },
  },
] satisfies Case[]
