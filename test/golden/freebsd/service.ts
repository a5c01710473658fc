// Seed 000: sysrc quagga_enable=YES, quagga_flags="-A 127.0.0.1", quagga_daemons="zebra ospfd"
// in /etc/rc.conf.local, then `service quagga start`.
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
] satisfies Case[]
