// FRR on Debian, with or without systemd: every command decides on the host.
import { service } from '../../../src/steps/service.ts'
import { PROBE, type Case } from '../harness.ts'
import { script } from '../scripts.ts'

const SYSTEMD = '[ -d /run/systemd/system ]'
const frr = () => service('frr', { name: 'frr', enabled: true, state: 'running' })

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
] satisfies Case[]
