// Seed 003: isakmpd with -K (`rcctl enable isakmpd`, `rcctl set isakmpd flags -K`), ospfd, and
// the ipsec special service that loads /etc/ipsec.conf at boot. Seed 001: a second bgpd in
// rdomain 1, an instance of bgpd's rc.d script.
import { service } from '../../../src/steps/service.ts'
import { PROBE, type Case } from '../harness.ts'
import { script } from '../scripts.ts'

// Seed 001, in its order: ln -s /etc/rc.d/bgpd /etc/rc.d/bgpd_rd1, rcctl enable bgpd_rd1, rcctl
// set bgpd_rd1 rtable 1, rcctl set bgpd_rd1 flags "-f /etc/bgpd_rd1.conf", then start it.
const bgpdRd1 = () =>
  service('bgpd in rdomain 1', {
    name: 'bgpd_rd1',
    instanceOf: 'bgpd',
    enabled: true,
    state: 'running',
    vars: { rtable: '1', flags: '-f /etc/bgpd_rd1.conf' },
  })
const LINKED = 'base=1\ndir=/etc/rc.d\ninstance=link\n'
const RD1 = `exists=1\nenabled=1\nrunning=1\nvar rtable=1\nvar flags=-f /etc/bgpd_rd1.conf\n${LINKED}`
const UNLINK = 'if [ "$(readlink /etc/rc.d/bgpd_rd1 2>/dev/null)" = /etc/rc.d/bgpd ]; then rm -f /etc/rc.d/bgpd_rd1; fi'

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
  {
    name: "openbsd service: seed 001's bgpd_rd1 → the link to bgpd's script, rcctl enable, rtable 1, flags, start; undo takes all of it away",
    os: 'openbsd',
    step: bgpdRd1(),
    // No script yet: rcctl knows no bgpd_rd1.
    probe: 'exists=0\nbase=1\ndir=/etc/rc.d\ninstance=none\n',
    after: RD1,
    expect: {
      probe: [
        'rcctl get bgpd_rd1 status >/dev/null 2>&1; s=$?',
        'if [ -x /etc/rc.d/bgpd ]; then echo base=1; else echo base=0; fi',
        'if [ -h /etc/rc.d/bgpd_rd1 ]; then case $(readlink /etc/rc.d/bgpd_rd1) in /etc/rc.d/bgpd|bgpd) echo instance=link ;; *) echo instance=other ;; esac',
        'elif [ -e /etc/rc.d/bgpd_rd1 ] || [ -h /etc/rc.d/bgpd_rd1 ]; then echo instance=other; else echo instance=none; fi',
      ],
      changes: [
        'link /etc/rc.d/bgpd_rd1 to bgpd',
        'enable bgpd_rd1',
        'bgpd_rd1 rtable: (unset) → 1',
        'bgpd_rd1 flags: (unset) → -f /etc/bgpd_rd1.conf',
        'start bgpd_rd1',
      ],
      apply: [
        script(
          'ln -s /etc/rc.d/bgpd /etc/rc.d/bgpd_rd1',
          'rcctl enable bgpd_rd1',
          'rcctl set bgpd_rd1 rtable 1',
          "rcctl set bgpd_rd1 flags '-f /etc/bgpd_rd1.conf'",
          'rcctl start bgpd_rd1',
        ),
      ],
      // rcctl disable drops pkg_scripts' word and every bgpd_rd1_* line; the link goes last.
      undo: [
        PROBE,
        script(
          'rcctl stop bgpd_rd1',
          'rcctl set bgpd_rd1 rtable',
          'rcctl set bgpd_rd1 flags',
          'rcctl disable bgpd_rd1',
          UNLINK,
        ),
      ],
      // A routing daemon: risky as bgpd is, so the revert job can take it back too.
      revert: [
        'rcctl stop bgpd_rd1',
        'rcctl set bgpd_rd1 rtable',
        'rcctl set bgpd_rd1 flags',
        'rcctl disable bgpd_rd1',
        UNLINK,
      ],
    },
  },
  {
    name: 'openbsd service: bgpd_rd1 linked, enabled, set and running → in sync',
    os: 'openbsd',
    step: bgpdRd1(),
    probe: RD1,
    expect: { changes: [] },
  },
  {
    name: 'openbsd service: bgpd_rd1 linked by hand and stopped → only started; undo stops it and leaves the link it did not make',
    os: 'openbsd',
    step: bgpdRd1(),
    probe: `exists=1\nenabled=1\nrunning=0\nvar rtable=1\nvar flags=-f /etc/bgpd_rd1.conf\n${LINKED}`,
    after: RD1,
    expect: {
      changes: ['start bgpd_rd1'],
      apply: ['rcctl start bgpd_rd1'],
      undo: [PROBE, 'rcctl stop bgpd_rd1'],
    },
  },
  {
    name: 'openbsd service: /etc/rc.d/bgpd_rd1 is a script of its own, not a link to bgpd → refused',
    os: 'openbsd',
    step: bgpdRd1(),
    probe: 'exists=1\nenabled=0\nrunning=0\nvar rtable\nvar flags\nbase=1\ndir=/etc/rc.d\ninstance=other\n',
    expect: { error: /\/etc\/rc\.d\/bgpd_rd1 is there and is not a link to bgpd: ferry leaves it alone/ },
  },
  {
    name: 'openbsd service: an instance named bgpd-rd1 → refused (rcctl takes letters, digits and _)',
    os: 'openbsd',
    step: service('bgpd', { name: 'bgpd-rd1', instanceOf: 'bgpd', enabled: true }),
    probe: 'exists=0\nbase=1\ndir=/etc/rc.d\ninstance=none\n',
    expect: {
      error: /bgpd-rd1 cannot be an instance of bgpd: bgpd-rd1: an rc\.d script's name is letters, digits and _ only/,
    },
  },
  {
    name: 'openbsd service: an instance of a daemon whose package is not installed, nothing installing it → refused',
    os: 'openbsd',
    step: service('openvpn 2', { name: 'openvpn_2', instanceOf: 'openvpn', enabled: true }),
    probe: 'exists=0\nbase=0\ndir=/etc/rc.d\ninstance=none\n',
    expect: { error: /service openvpn does not exist \(install its package first\)/ },
  },
  {
    name: 'openbsd service: an instance of a daemon an earlier step installs → the link and the enable are planned',
    os: 'openbsd',
    step: service('openvpn 2', { name: 'openvpn_2', instanceOf: 'openvpn', enabled: true }),
    probe: 'exists=0\nbase=0\ndir=/etc/rc.d\ninstance=none\n',
    pending: ['*', 'pkg:openvpn'],
    after: 'exists=1\nenabled=1\nrunning=0\nbase=1\ndir=/etc/rc.d\ninstance=link\n',
    expect: {
      changes: ['link /etc/rc.d/openvpn_2 to openvpn', 'enable openvpn_2'],
      apply: [script('ln -s /etc/rc.d/openvpn /etc/rc.d/openvpn_2', 'rcctl enable openvpn_2')],
      undo: [
        PROBE,
        script(
          'rcctl disable openvpn_2',
          'if [ "$(readlink /etc/rc.d/openvpn_2 2>/dev/null)" = /etc/rc.d/openvpn ]; then rm -f /etc/rc.d/openvpn_2; fi',
        ),
      ],
    },
  },
  {
    name: 'openbsd service: flags for a disabled daemon left disabled → refused (rcctl set refuses a disabled daemon)',
    os: 'openbsd',
    step: service('isakmpd flags', { name: 'isakmpd', flags: '-K' }),
    probe: 'exists=1\nenabled=0\nrunning=0\nvar flags\n',
    expect: {
      error: /^isakmpd is disabled, and openbsd keeps no settings for a disabled service \(flags\): add enabled: true$/,
    },
  },
  {
    name: 'openbsd service: flags for an enabled daemon, enabled left alone → set',
    os: 'openbsd',
    step: service('isakmpd flags', { name: 'isakmpd', flags: '-K' }),
    probe: 'exists=1\nenabled=1\nrunning=1\nvar flags=\n',
    after: 'exists=1\nenabled=1\nrunning=1\nvar flags=-K\n',
    expect: {
      changes: ['isakmpd flags: "" → -K'],
      apply: ['rcctl set isakmpd flags -K'],
      undo: [PROBE, "rcctl set isakmpd flags ''"],
    },
  },
] satisfies Case[]
