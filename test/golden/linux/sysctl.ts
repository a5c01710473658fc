// Forwarding on a Debian mesh member: `sysctl -w`, kept in /etc/sysctl.d/60-ferry.conf.
import { sysctl } from '../../../src/steps/sysctl.ts'
import { PROBE, type Case } from '../harness.ts'
import { confValue, editConf, script } from '../scripts.ts'

const CONF = '/etc/sysctl.d/60-ferry.conf'
const FWD = 'net.ipv4.ip_forward'
const READONLY =
  'readonly=/proc/sys/net/ipv4/ip_forward is not writable (a value fixed at boot, or /proc/sys mounted read-only)\n'
const forwarding = () => sysctl('enable forwarding', { key: FWD, value: '1' })

export default [
  {
    name: 'linux sysctl: forwarding off, no ferry file → sysctl -w, and the file created holding the key',
    os: 'linux',
    step: forwarding(),
    probe: 'live=0\n',
    after: 'live=1\nsaved=1\n',
    expect: {
      probe: [
        `if v=$(sysctl -n ${FWD} 2>/dev/null); then printf 'live=%s\\n' "$v"; fi`,
        confValue(CONF, FWD),
        // Root too is refused a write to a 0444 key, or to a read-only /proc/sys.
        "[ ! -e /proc/sys/net/ipv4/ip_forward ] || [ -w /proc/sys/net/ipv4/ip_forward ] || echo 'readonly=/proc/sys/net/ipv4/ip_forward is not writable (a value fixed at boot, or /proc/sys mounted read-only)'",
      ].join('\n'),
      changes: [`${FWD}: 0 → 1`, `${FWD} in ${CONF}: (unset) → 1`],
      apply: [script(`sysctl -w ${FWD}=1`, editConf(CONF, FWD, `${FWD}=1`))],
      undo: [PROBE, script(`sysctl -w ${FWD}=0`, editConf(CONF, FWD, ''))],
      files: { after: { [CONF]: `${FWD}=1\n` } },
    },
  },
  {
    name: 'linux sysctl: the ferry file already holds rp_filter → forwarding added beside it',
    os: 'linux',
    step: forwarding(),
    probe: 'live=1\n',
    after: 'live=1\nsaved=1\n',
    expect: {
      changes: [`${FWD} in ${CONF}: (unset) → 1`],
      apply: [editConf(CONF, FWD, `${FWD}=1`)],
      undo: [PROBE, editConf(CONF, FWD, '')],
      files: {
        before: { [CONF]: 'net.ipv4.conf.all.rp_filter = 0\n' },
        after: { [CONF]: `net.ipv4.conf.all.rp_filter = 0\n${FWD}=1\n` },
      },
    },
  },
  {
    name: 'linux sysctl: forwarding on and persisted → in sync',
    os: 'linux',
    step: forwarding(),
    probe: 'live=1\nsaved=1\n',
    expect: { changes: [] },
  },
  {
    name: 'linux sysctl: a two-valued key, tab-separated live → compared word by word, in sync',
    os: 'linux',
    step: sysctl('ports', { key: 'net.ipv4.ip_local_port_range', value: '32768 60999' }),
    probe: 'live=32768\t60999\nsaved=32768  60999\n',
    expect: { changes: [] },
  },
  {
    name: 'linux sysctl: a two-valued key changed → one quoted argument',
    os: 'linux',
    step: sysctl('ports', { key: 'net.ipv4.ip_local_port_range', value: '20000 60999', persist: false }),
    probe: 'live=32768\t60999\n',
    after: 'live=20000\t60999\n',
    expect: {
      changes: ['net.ipv4.ip_local_port_range: 32768 60999 → 20000 60999'],
      apply: ["sysctl -w 'net.ipv4.ip_local_port_range=20000 60999'"],
      undo: [PROBE, "sysctl -w 'net.ipv4.ip_local_port_range=32768 60999'"],
    },
  },
  {
    name: 'linux sysctl: a key the kernel will not let be written (read-only /proc/sys) → refused',
    os: 'linux',
    step: sysctl('forwarding', { key: FWD, value: '1' }),
    probe: `live=0\n${READONLY}`,
    expect: {
      error:
        /^net\.ipv4\.ip_forward cannot be set here: \/proc\/sys\/net\/ipv4\/ip_forward is not writable \(a value fixed at boot, or \/proc\/sys mounted read-only\)$/,
    },
  },
  {
    name: 'linux sysctl: read-only but already the value wanted → only the file',
    os: 'linux',
    step: sysctl('forwarding', { key: FWD, value: '1' }),
    probe: `live=1\n${READONLY}`,
    after: `live=1\nsaved=1\n${READONLY}`,
    expect: {
      changes: [`${FWD} in ${CONF}: (unset) → 1`],
      apply: [editConf(CONF, FWD, `${FWD}=1`)],
      undo: [PROBE, editConf(CONF, FWD, '')],
    },
  },
] satisfies Case[]
