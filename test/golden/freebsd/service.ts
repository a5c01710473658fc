// Seed 000: sysrc quagga_enable=YES, quagga_flags="-A 127.0.0.1", quagga_daemons="zebra ospfd"
// in /etc/rc.conf.local, then `service quagga start`; and an OpenVPN TAP instance per link, the
// port's script linked as openvpn_tapN (deploy-mesh's FreeBSD plan).
import { service } from '../../../src/steps/service.ts'
import { PROBE, type Case } from '../harness.ts'
import { script } from '../scripts.ts'

const quagga = () =>
  service('quagga', {
    name: 'quagga',
    enabled: true,
    state: 'running',
    flags: '-A 127.0.0.1',
    vars: { daemons: 'zebra ospfd' },
  })
const SEED = script(
  'sysrc -f /etc/rc.conf.local quagga_enable=YES',
  "sysrc -f /etc/rc.conf.local quagga_flags='-A 127.0.0.1'",
  "sysrc -f /etc/rc.conf.local quagga_daemons='zebra ospfd'",
  'service quagga start',
)
const RUNNING = 'exists=1\nenabled=1\nrunning=1\nvar flags=-A 127.0.0.1\nvar daemons=zebra ospfd\n'
const UNDO_SEED = script(
  'service quagga stop',
  'sysrc -f /etc/rc.conf.local -x quagga_flags',
  'sysrc -f /etc/rc.conf.local -x quagga_daemons',
  'sysrc -f /etc/rc.conf.local quagga_enable=NO',
)
const SEED_CHANGES = [
  'enable quagga',
  'quagga flags: (unset) → -A 127.0.0.1',
  'quagga daemons: (unset) → zebra ospfd',
  'start quagga',
]

const tap2 = () =>
  service('openvpn_tap2', {
    name: 'openvpn_tap2',
    instanceOf: 'openvpn',
    enabled: true,
    state: 'running',
    vars: { configfile: '/usr/local/etc/openvpn/ferry/tap2.conf', if: 'tap' },
  })
const TAP2 =
  'exists=1\nenabled=1\nrunning=1\nvar configfile=/usr/local/etc/openvpn/ferry/tap2.conf\nvar if=tap\nbase=1\ndir=/usr/local/etc/rc.d\ninstance=link\n'
const UNLINK_TAP2 =
  'if [ "$(readlink /usr/local/etc/rc.d/openvpn_tap2 2>/dev/null)" = openvpn ]; then rm -f /usr/local/etc/rc.d/openvpn_tap2; fi'
const TAP2_APPLY = script(
  'ln -s openvpn /usr/local/etc/rc.d/openvpn_tap2',
  'sysrc -f /etc/rc.conf.local openvpn_tap2_enable=YES',
  'sysrc -f /etc/rc.conf.local openvpn_tap2_configfile=/usr/local/etc/openvpn/ferry/tap2.conf',
  'sysrc -f /etc/rc.conf.local openvpn_tap2_if=tap',
  'service openvpn_tap2 start',
)
const TAP2_CHANGES = [
  'link /usr/local/etc/rc.d/openvpn_tap2 to openvpn',
  'enable openvpn_tap2',
  'openvpn_tap2 configfile: (unset) → /usr/local/etc/openvpn/ferry/tap2.conf',
  'openvpn_tap2 if: (unset) → tap',
  'start openvpn_tap2',
]
// Every line the instance had goes, openvpn_tap2_enable too (not left as NO), then the link.
const TAP2_UNDO = [
  'service openvpn_tap2 stop',
  'sysrc -f /etc/rc.conf.local -x openvpn_tap2_configfile',
  'sysrc -f /etc/rc.conf.local -x openvpn_tap2_if',
  'sysrc -f /etc/rc.conf.local -x openvpn_tap2_enable',
  UNLINK_TAP2,
]

export default [
  {
    name: "freebsd service: quagga installed, never enabled → seed 000's sysrc lines, then started",
    os: 'freebsd',
    step: quagga(),
    probe: 'exists=1\nenabled=0\nrunning=0\nvar flags\nvar daemons\n',
    after: RUNNING,
    expect: {
      revert: [
        'service quagga stop',
        'sysrc -f /etc/rc.conf.local -x quagga_flags',
        'sysrc -f /etc/rc.conf.local -x quagga_daemons',
        'sysrc -f /etc/rc.conf.local quagga_enable=NO',
      ],
      probe: [
        'if [ -x /etc/rc.d/quagga ] || [ -x /usr/local/etc/rc.d/quagga ]; then',
        'if service quagga enabled; then echo enabled=1; else echo enabled=0; fi',
        'if service quagga onestatus >/dev/null 2>&1; then echo running=1; else echo running=0; fi',
        `if v=$(sysrc -n quagga_flags 2>/dev/null); then printf 'var flags=%s\\n' "$v"; else echo 'var flags'; fi`,
        `if v=$(sysrc -n quagga_daemons 2>/dev/null); then printf 'var daemons=%s\\n' "$v"; else echo 'var daemons'; fi`,
      ],
      changes: SEED_CHANGES,
      apply: [SEED],
      undo: [PROBE, UNDO_SEED],
    },
  },
  {
    name: 'freebsd service: quagga enabled, running, same settings → in sync',
    os: 'freebsd',
    step: quagga(),
    probe: RUNNING,
    expect: { changes: [] },
  },
  {
    name: 'freebsd service: reload handler → one reload each time, nothing to undo',
    os: 'freebsd',
    step: service('reload quagga', { name: 'quagga', state: 'reloaded' }),
    probe: 'exists=1\nenabled=1\nrunning=1\n',
    expect: { changes: ['reload quagga'], apply: ['service quagga reload'], undo: [] },
  },
  {
    name: 'freebsd service: not installed yet, but an earlier step installs packages → the whole plan',
    os: 'freebsd',
    step: quagga(),
    probe: 'exists=0\n',
    pending: ['*', 'pkg:quagga'],
    after: RUNNING,
    expect: { changes: SEED_CHANGES, apply: [SEED], undo: [PROBE, UNDO_SEED] },
  },
  {
    name: 'freebsd service: not installed and nothing will install it → refused',
    os: 'freebsd',
    step: quagga(),
    probe: 'exists=0\n',
    expect: { error: /service quagga does not exist/ },
  },
  {
    name: 'freebsd service: stopped and disabled → onestop once disabled; undo restarts it with onestart, then re-enables',
    os: 'freebsd',
    step: service('no openvpn', { name: 'openvpn', enabled: false, state: 'stopped' }),
    probe: 'exists=1\nenabled=1\nrunning=1\n',
    after: 'exists=1\nenabled=0\nrunning=0\n',
    expect: {
      changes: ['disable openvpn', 'stop openvpn'],
      apply: [script('sysrc -f /etc/rc.conf.local openvpn_enable=NO', 'service openvpn onestop')],
      undo: [PROBE, script('service openvpn onestart', 'sysrc -f /etc/rc.conf.local openvpn_enable=YES')],
    },
  },
  {
    name: 'freebsd service: reload quagga handler on a stopped quagga → nothing (it reads its config when it starts)',
    os: 'freebsd',
    step: service('reload quagga', { name: 'quagga', state: 'reloaded' }),
    probe: 'exists=1\nenabled=1\nrunning=0\n',
    expect: { changes: [] },
  },
  {
    name: "freebsd service: openvpn_tap2, an instance of the port's openvpn script → ln -s openvpn beside it, its sysrc lines, start; undo leaves no trace",
    os: 'freebsd',
    step: tap2(),
    probe: 'exists=0\nbase=1\ndir=/usr/local/etc/rc.d\ninstance=none\n',
    after: TAP2,
    expect: {
      probe: [
        'd=; for x in /etc/rc.d /usr/local/etc/rc.d; do [ -n "$d" ] || [ ! -x "$x"/openvpn ] || d=$x; done',
        'if [ -n "$d" ]; then echo base=1; else echo base=0; d=/usr/local/etc/rc.d; fi',
        'if [ -h "$d"/openvpn_tap2 ]; then case $(readlink "$d"/openvpn_tap2) in openvpn|"$d"/openvpn) echo instance=link ;; *) echo instance=other ;; esac',
        'elif [ -e /etc/rc.d/openvpn_tap2 ] || [ -h /etc/rc.d/openvpn_tap2 ] || [ -e /usr/local/etc/rc.d/openvpn_tap2 ] || [ -h /usr/local/etc/rc.d/openvpn_tap2 ]; then echo instance=other; else echo instance=none; fi',
        // The script read, never run: a literal name=… line names it openvpn whatever it is run as.
        `if [ -x "$d"/openvpn ] && grep -Eq '^[[:space:]]*name=["'\\'']?[A-Za-z0-9_]+["'\\'']?[[:space:]]*(#.*)?$' "$d"/openvpn; then`,
      ],
      changes: TAP2_CHANGES,
      apply: [TAP2_APPLY],
      undo: [PROBE, script(...TAP2_UNDO)],
      revert: TAP2_UNDO,
    },
  },
  {
    name: 'freebsd service: openvpn_tap2 linked, enabled, set and running → in sync',
    os: 'freebsd',
    step: tap2(),
    probe: TAP2,
    expect: { changes: [] },
  },
  {
    name: 'freebsd service: openvpn not installed yet, an earlier step installs it → the instance planned in /usr/local/etc/rc.d',
    os: 'freebsd',
    step: tap2(),
    probe: 'exists=0\nbase=0\ndir=/usr/local/etc/rc.d\ninstance=none\n',
    pending: ['*', 'pkg:openvpn'],
    after: TAP2,
    expect: { changes: TAP2_CHANGES, apply: [TAP2_APPLY], undo: [PROBE, script(...TAP2_UNDO)] },
  },
  {
    name: 'freebsd service: an instance of quagga, whose script names itself quagga whatever it is run as → refused',
    os: 'freebsd',
    step: service('quagga 2', { name: 'quagga_2', instanceOf: 'quagga', enabled: true }),
    probe:
      "exists=0\nbase=1\ndir=/usr/local/etc/rc.d\ninstance=none\nrefuse=quagga's rc.d script does not name itself after the name it is run by (it sets name=…, so its rcvar run as quagga_2 is still quagga_enable)\n",
    expect: {
      error:
        /quagga_2 cannot be an instance of quagga: quagga's rc\.d script does not name itself after the name it is run by/,
    },
  },
  {
    name: 'freebsd service: /usr/local/etc/rc.d/openvpn_tap2 is a copy, not a link → refused, left alone',
    os: 'freebsd',
    step: tap2(),
    probe: 'exists=1\nenabled=0\nrunning=0\nvar configfile\nvar if\nbase=1\ndir=/usr/local/etc/rc.d\ninstance=other\n',
    expect: { error: /\/usr\/local\/etc\/rc\.d\/openvpn_tap2 is there and is not a link to openvpn/ },
  },
  {
    name: "freebsd service: flags for a disabled service left disabled → set (rc.conf keeps them; OpenBSD's rcctl would refuse)",
    os: 'freebsd',
    step: service('quagga flags', { name: 'quagga', flags: '-A 127.0.0.1' }),
    probe: 'exists=1\nenabled=0\nrunning=0\nvar flags\n',
    after: 'exists=1\nenabled=0\nrunning=0\nvar flags=-A 127.0.0.1\n',
    expect: {
      changes: ['quagga flags: (unset) → -A 127.0.0.1'],
      apply: ["sysrc -f /etc/rc.conf.local quagga_flags='-A 127.0.0.1'"],
      undo: [PROBE, 'sysrc -f /etc/rc.conf.local -x quagga_flags'],
    },
  },
] satisfies Case[]
