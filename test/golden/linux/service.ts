// FRR on Debian, with or without systemd: every command decides on the host.
import { service } from '../../../src/steps/service.ts'
import { PROBE, type Case } from '../harness.ts'
import { script } from '../scripts.ts'

const SYSTEMD = '[ -d /run/systemd/system ]'
const frr = () => service('frr', { name: 'frr', enabled: true, state: 'running' })
const held = () => service('frr', { name: 'frr', heldBy: 'heartbeat' })

// Instances: BASE@INSTANCE, a systemd template's, or without systemd a link in /etc/init.d to a
// script that says it names itself after the name it is run by (the lab's stand-in does).
const two = () =>
  service('dummy two', { name: 'ferry-dummy@two', instanceOf: 'ferry-dummy', enabled: true, state: 'running' })
const SYSV = 'dir=/etc/init.d\nbase=1\n'
const UNLINK_TWO =
  'if [ "$(readlink /etc/init.d/ferry-dummy@two 2>/dev/null)" = ferry-dummy ]; then rm -f /etc/init.d/ferry-dummy@two; fi'
const tap2 = () =>
  service('openvpn tap2', { name: 'openvpn@tap2', instanceOf: 'openvpn', enabled: true, state: 'running' })

export default [
  {
    name: 'linux service: frr disabled and stopped → enabled and started, systemd or not',
    os: 'linux',
    step: frr(),
    probe: 'exists=1\nenabled=0\nrunning=0\n',
    after: 'exists=1\nenabled=1\nrunning=1\n',
    expect: {
      revert: [
        'if [ -d /run/systemd/system ]; then systemctl stop frr; else service frr stop; fi',
        'if [ -d /run/systemd/system ]; then systemctl disable frr; else update-rc.d frr disable; fi',
      ],
      probe: `if ${SYSTEMD}; then
if [ "$(systemctl show -p LoadState --value frr 2>/dev/null)" = loaded ]; then echo exists=1; else echo exists=0; fi
if systemctl is-enabled -q frr 2>/dev/null; then echo enabled=1; else echo enabled=0; fi
if systemctl is-active -q frr; then echo running=1; else echo running=0; fi
else
if [ -x /etc/init.d/frr ]; then echo exists=1; else echo exists=0; fi
set -- /etc/rc[2345].d/S??frr; if [ -e "$1" ]; then echo enabled=1; else echo enabled=0; fi
if /etc/init.d/frr status >/dev/null 2>&1; then echo running=1; else echo running=0; fi
set -- /etc/rc[0-6S].d/[SK]??frr; if [ -e "$1" ]; then echo links=1; else echo links=0; fi
fi`,
      changes: ['enable frr', 'start frr'],
      apply: [
        script(
          `if ${SYSTEMD}; then systemctl enable frr; else update-rc.d frr defaults && update-rc.d frr enable; fi`,
          `if ${SYSTEMD}; then systemctl start frr; else service frr start; fi`,
        ),
      ],
      undo: [
        PROBE,
        script(
          `if ${SYSTEMD}; then systemctl stop frr; else service frr stop; fi`,
          `if ${SYSTEMD}; then systemctl disable frr; else update-rc.d frr disable; fi`,
        ),
      ],
    },
  },
  {
    name: 'linux service: frr enabled and running → in sync',
    os: 'linux',
    step: frr(),
    probe: 'exists=1\nenabled=1\nrunning=1\n',
    expect: { changes: [] },
  },
  {
    name: 'linux service: restart handler on a stopped frr → nothing (it reads its config when it starts)',
    os: 'linux',
    step: service('restart frr', { name: 'frr', state: 'restarted' }),
    probe: 'exists=1\nenabled=1\nrunning=0\n',
    expect: { changes: [] },
  },
  {
    name: 'linux service: restart handler on frr that an earlier step starts → planned',
    os: 'linux',
    step: service('restart frr', { name: 'frr', state: 'restarted' }),
    probe: 'exists=1\nenabled=0\nrunning=0\n',
    pending: ['service:frr'],
    expect: {
      changes: ['restart frr'],
      apply: [`if ${SYSTEMD}; then systemctl restart frr; else service frr restart; fi`],
    },
  },
  {
    name: 'linux service: restart frr handler → one restart',
    os: 'linux',
    step: service('restart frr', { name: 'frr', state: 'restarted' }),
    probe: 'exists=1\nenabled=1\nrunning=1\n',
    expect: {
      changes: ['restart frr'],
      apply: [`if ${SYSTEMD}; then systemctl restart frr; else service frr restart; fi`],
    },
  },
  {
    name: 'linux service: running but it should not be → stopped only',
    os: 'linux',
    step: service('no openvpn', { name: 'openvpn', state: 'stopped' }),
    probe: 'exists=1\nenabled=1\nrunning=1\n',
    after: 'exists=1\nenabled=1\nrunning=0\n',
    expect: {
      changes: ['stop openvpn'],
      apply: [`if ${SYSTEMD}; then systemctl stop openvpn; else service openvpn stop; fi`],
      undo: [PROBE, `if ${SYSTEMD}; then systemctl start openvpn; else service openvpn start; fi`],
    },
  },
  {
    name: 'linux service: flags asked of a Linux service → refused, pointing at /etc/default',
    os: 'linux',
    step: service('frr', { name: 'frr', enabled: true, flags: '-A 127.0.0.1' }),
    probe: 'exists=1\nenabled=1\nrunning=1\n',
    expect: { error: /linux services have no variables \(flags\); write \/etc\/default\/frr with file or line/ },
  },
  {
    name: 'linux service: without systemd, ferry-dummy@two → a link to the script, update-rc.d, start; undo removes the links and the link',
    os: 'linux',
    step: two(),
    probe: `exists=0\nenabled=0\nrunning=0\nlinks=0\n${SYSV}instance=none\n`,
    after: `exists=1\nenabled=1\nrunning=1\nlinks=1\n${SYSV}instance=link\n`,
    expect: {
      probe: [
        `if systemctl cat ferry-dummy@.service >/dev/null 2>&1; then echo base=1; else echo base=0; fi`,
        `if [ -x /etc/init.d/ferry-dummy ] && ! sed -n '/^### BEGIN INIT INFO/,/^### END INIT INFO/p' /etc/init.d/ferry-dummy | grep -q '^# X-Ferry-Instances: *yes'; then`,
        'if { [ -x /sbin/insserv ] || [ -x /usr/lib/insserv/insserv ]; } && [ -e /etc/insserv.conf ]; then',
        'if [ -h /etc/init.d/ferry-dummy@two ]; then case $(readlink /etc/init.d/ferry-dummy@two) in ferry-dummy|/etc/init.d/ferry-dummy) echo instance=link ;; *) echo instance=other ;; esac',
      ],
      changes: ['link /etc/init.d/ferry-dummy@two to ferry-dummy', 'enable ferry-dummy@two', 'start ferry-dummy@two'],
      apply: [
        script(
          'ln -s ferry-dummy /etc/init.d/ferry-dummy@two',
          `if ${SYSTEMD}; then systemctl enable ferry-dummy@two; else update-rc.d ferry-dummy@two defaults && update-rc.d ferry-dummy@two enable; fi`,
          `if ${SYSTEMD}; then systemctl start ferry-dummy@two; else service ferry-dummy@two start; fi`,
        ),
      ],
      undo: [
        PROBE,
        script(
          `if ${SYSTEMD}; then systemctl stop ferry-dummy@two; else service ferry-dummy@two stop; fi`,
          `if ${SYSTEMD}; then systemctl disable ferry-dummy@two; else update-rc.d ferry-dummy@two remove; fi`,
          UNLINK_TWO,
        ),
      ],
    },
  },
  {
    name: 'linux service: with systemd, openvpn@tap2 of the template openvpn@.service → enable and start, nothing to link',
    os: 'linux',
    step: tap2(),
    probe: 'exists=1\nenabled=0\nrunning=0\nbase=1\ninstance=template\n',
    after: 'exists=1\nenabled=1\nrunning=1\nbase=1\ninstance=template\n',
    expect: {
      changes: ['enable openvpn@tap2', 'start openvpn@tap2'],
      apply: [
        script(
          `if ${SYSTEMD}; then systemctl enable openvpn@tap2; else update-rc.d openvpn@tap2 defaults && update-rc.d openvpn@tap2 enable; fi`,
          `if ${SYSTEMD}; then systemctl start openvpn@tap2; else service openvpn@tap2 start; fi`,
        ),
      ],
      undo: [
        PROBE,
        script(
          `if ${SYSTEMD}; then systemctl stop openvpn@tap2; else service openvpn@tap2 stop; fi`,
          `if ${SYSTEMD}; then systemctl disable openvpn@tap2; else update-rc.d openvpn@tap2 disable; fi`,
        ),
      ],
    },
  },
  {
    name: 'linux service: with systemd and no openvpn@.service → refused, naming openvpn',
    os: 'linux',
    step: tap2(),
    probe: 'exists=0\nenabled=0\nrunning=0\nbase=0\ninstance=template\n',
    expect: { error: /service openvpn does not exist \(install its package first\)/ },
  },
  {
    name: 'linux service: an instance not named BASE@INSTANCE → refused',
    os: 'linux',
    step: service('openvpn 2', { name: 'openvpn2', instanceOf: 'openvpn', enabled: true }),
    probe: 'exists=0\nenabled=0\nrunning=0\nbase=1\ninstance=template\n',
    expect: { error: /openvpn2: an instance of openvpn is named openvpn@INSTANCE on Linux/ },
  },
  {
    name: 'linux service: without systemd, frr@two of an init script that does not name itself after its name → refused',
    os: 'linux',
    step: service('frr two', { name: 'frr@two', instanceOf: 'frr', enabled: true }),
    probe:
      'exists=0\nenabled=0\nrunning=0\nlinks=0\ndir=/etc/init.d\nbase=1\nrefuse=/etc/init.d/frr does not say it names itself after the name it is run by ("# X-Ferry-Instances: yes" in its LSB header), so a link would run frr itself again\ninstance=none\n',
    expect: { error: /frr@two cannot be an instance of frr: \/etc\/init\.d\/frr does not say it names itself/ },
  },
  // Seed 002: Heartbeat starts frr (through its zebra and bgpd resources) on the active gateway.
  {
    name: 'linux service: held by heartbeat, enabled by its package and running (the active node) → disabled at boot only, left running',
    os: 'linux',
    step: held(),
    probe: 'exists=1\nenabled=1\nrunning=1\nlinks=1\n',
    after: 'exists=1\nenabled=0\nrunning=1\nlinks=1\n',
    expect: {
      changes: ['disable frr', "running: heartbeat's"],
      apply: [`if ${SYSTEMD}; then systemctl disable frr; else update-rc.d frr disable; fi`],
      undo: [
        PROBE,
        `if ${SYSTEMD}; then systemctl enable frr; else update-rc.d frr defaults && update-rc.d frr enable; fi`,
      ],
      revert: [`if ${SYSTEMD}; then systemctl enable frr; else update-rc.d frr defaults && update-rc.d frr enable; fi`],
    },
  },
  {
    name: 'linux service: held by heartbeat, disabled, stopped (the standby) or running (the active node) → in sync either way',
    os: 'linux',
    step: held(),
    probe: 'exists=1\nenabled=0\nrunning=0\nlinks=1\n',
    expect: { changes: [] },
  },
  {
    name: 'linux service: held by heartbeat, disabled and running → in sync',
    os: 'linux',
    step: held(),
    probe: 'exists=1\nenabled=0\nrunning=1\nlinks=1\n',
    expect: { changes: [] },
  },
  {
    name: 'linux service: held by heartbeat, its reload handler where it is not running (the standby) → nothing',
    os: 'linux',
    step: service('reload frr', { name: 'frr', state: 'reloaded', heldBy: 'heartbeat' }),
    probe: 'exists=1\nenabled=0\nrunning=0\n',
    expect: { changes: [] },
  },
  {
    name: 'linux service: held by heartbeat, its reload handler where it runs (the active node) → one reload',
    os: 'linux',
    step: service('reload frr', { name: 'frr', state: 'reloaded', heldBy: 'heartbeat' }),
    probe: 'exists=1\nenabled=0\nrunning=1\n',
    expect: {
      changes: ['reload frr', "running: heartbeat's"],
      apply: [`if ${SYSTEMD}; then systemctl reload frr; else service frr reload; fi`],
    },
  },
] satisfies Case[]
