// Seed 003: isakmpd with -K (`rcctl enable isakmpd`, `rcctl set isakmpd flags -K`), ospfd, and
// the ipsec special service that loads /etc/ipsec.conf at boot.
import { service } from '../../../src/steps/service.ts'
import { PROBE, type Case } from '../harness.ts'
import { script } from '../scripts.ts'

const isakmpd = () => service('isakmpd', { name: 'isakmpd', enabled: true, state: 'running', flags: '-K' })

export default [
  {
    name: 'openbsd service: isakmpd disabled → rcctl enable, set flags -K, start; undone in reverse',
    os: 'openbsd',
    step: isakmpd(),
    probe: 'exists=1\nenabled=0\nrunning=0\nvar flags\n',
    after: 'exists=1\nenabled=1\nrunning=1\nvar flags=-K\n',
    expect: {
      revert: ['rcctl stop isakmpd', 'rcctl set isakmpd flags', 'rcctl disable isakmpd'],
      probe: [
        'rcctl get isakmpd status >/dev/null 2>&1; s=$?',
        'if rcctl check isakmpd >/dev/null 2>&1; then echo running=1; else echo running=0; fi',
        `if [ "$s" -eq 0 ]; then printf 'var flags=%s\\n' "$(rcctl get isakmpd flags)"; else echo 'var flags'; fi`,
      ],
      changes: ['enable isakmpd', 'isakmpd flags: (unset) → -K', 'start isakmpd'],
      apply: [script('rcctl enable isakmpd', 'rcctl set isakmpd flags -K', 'rcctl start isakmpd')],
      undo: [PROBE, script('rcctl stop isakmpd', 'rcctl set isakmpd flags', 'rcctl disable isakmpd')],
    },
  },
  {
    name: 'openbsd service: isakmpd enabled with default flags → only the flags; undo sets them back to ""',
    os: 'openbsd',
    step: isakmpd(),
    probe: 'exists=1\nenabled=1\nrunning=1\nvar flags=\n',
    after: 'exists=1\nenabled=1\nrunning=1\nvar flags=-K\n',
    expect: {
      changes: ['isakmpd flags: "" → -K'],
      apply: ['rcctl set isakmpd flags -K'],
      undo: [PROBE, "rcctl set isakmpd flags ''"],
    },
  },
  {
    name: 'openbsd service: ospfd enabled and running → in sync',
    os: 'openbsd',
    step: service('ospfd', { name: 'ospfd', enabled: true, state: 'running' }),
    probe: 'exists=1\nenabled=1\nrunning=1\n',
    expect: { changes: [] },
  },
  {
    name: 'openbsd service: reload ospfd handler → rcctl reload',
    os: 'openbsd',
    step: service('reload ospfd', { name: 'ospfd', state: 'reloaded' }),
    probe: 'exists=1\nenabled=1\nrunning=1\n',
    expect: { changes: ['reload ospfd'], apply: ['rcctl reload ospfd'] },
  },
  {
    name: 'openbsd service: ipsec (a special service, no rc.d script) → rcctl enable ipsec',
    os: 'openbsd',
    step: service('load ipsec.conf at boot', { name: 'ipsec', enabled: true }),
    probe: 'exists=1\nenabled=0\nrunning=0\n',
    after: 'exists=1\nenabled=1\nrunning=0\n',
    expect: { changes: ['enable ipsec'], apply: ['rcctl enable ipsec'], undo: [PROBE, 'rcctl disable ipsec'] },
  },
  {
    name: 'openbsd service: a disabled daemon started without enabling it → rcctl -f start',
    os: 'openbsd',
    step: service('ospfd for now', { name: 'ospfd', state: 'running' }),
    probe: 'exists=1\nenabled=0\nrunning=0\n',
    after: 'exists=1\nenabled=0\nrunning=1\n',
    expect: { changes: ['start ospfd'], apply: ['rcctl -f start ospfd'], undo: [PROBE, 'rcctl -f stop ospfd'] },
  },
  {
    name: 'openbsd service: no such service and no package coming → refused',
    os: 'openbsd',
    step: service('openvpn', { name: 'openvpn', enabled: true }),
    probe: 'exists=0\n',
    expect: { error: /service openvpn does not exist/ },
  },
  {
    name: 'openbsd service: reload ospfd handler on a stopped ospfd → nothing (it reads its config when it starts)',
    os: 'openbsd',
    step: service('reload ospfd', { name: 'ospfd', state: 'reloaded' }),
    probe: 'exists=1\nenabled=1\nrunning=0\n',
    expect: { changes: [] },
  },
] satisfies Case[]
