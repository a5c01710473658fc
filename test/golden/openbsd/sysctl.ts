// Seed 003: `sysctl net.inet.gre.allow=1` and `sysctl net.inet.ip.forwarding=1`, kept in
// /etc/sysctl.conf, which OpenBSD does not ship.
import { sysctl } from '../../../src/steps/sysctl.ts'
import { PROBE, type Case } from '../harness.ts'
import { confValue, editConf, script } from '../scripts.ts'

const CONF = '/etc/sysctl.conf'
const GRE = 'net.inet.gre.allow'
const FWD = 'net.inet.ip.forwarding'

export default [
  {
    name: 'openbsd sysctl: gre not allowed, no sysctl.conf → allowed, and sysctl.conf created with the seed line',
    os: 'openbsd',
    step: sysctl('allow gre', { key: GRE, value: '1' }),
    probe: 'live=0\n',
    after: 'live=1\nsaved=1\n',
    expect: {
      probe: `if v=$(sysctl -n ${GRE} 2>/dev/null); then printf 'live=%s\\n' "$v"; fi\n${confValue(CONF, GRE)}`,
      changes: [`${GRE}: 0 → 1`, `${GRE} in ${CONF}: (unset) → 1`],
      apply: [script(`sysctl ${GRE}=1`, editConf(CONF, GRE, `${GRE}=1`))],
      undo: [PROBE, script(`sysctl ${GRE}=0`, editConf(CONF, GRE, ''))],
      files: { after: { [CONF]: `${GRE}=1\n` } },
    },
  },
  {
    name: "openbsd sysctl: forwarding after gre → sysctl.conf holds seed 003's two lines",
    os: 'openbsd',
    step: sysctl('enable forwarding', { key: FWD, value: '1' }),
    probe: 'live=0\n',
    after: 'live=1\nsaved=1\n',
    expect: {
      changes: [`${FWD}: 0 → 1`, `${FWD} in ${CONF}: (unset) → 1`],
      apply: [script(`sysctl ${FWD}=1`, editConf(CONF, FWD, `${FWD}=1`))],
      undo: [PROBE, script(`sysctl ${FWD}=0`, editConf(CONF, FWD, ''))],
      files: { before: { [CONF]: `${GRE}=1\n` }, after: { [CONF]: `${GRE}=1\n${FWD}=1\n` } },
    },
  },
  {
    name: 'openbsd sysctl: forwarding on and persisted → in sync',
    os: 'openbsd',
    step: sysctl('enable forwarding', { key: FWD, value: '1' }),
    probe: 'live=1\nsaved=1\n',
    expect: { changes: [] },
  },
  {
    name: 'openbsd sysctl: on live but commented out in sysctl.conf → only the file, the comment left alone',
    os: 'openbsd',
    step: sysctl('enable forwarding', { key: FWD, value: '1' }),
    probe: 'live=1\n',
    after: 'live=1\nsaved=1\n',
    expect: {
      changes: [`${FWD} in ${CONF}: (unset) → 1`],
      apply: [editConf(CONF, FWD, `${FWD}=1`)],
      undo: [PROBE, editConf(CONF, FWD, '')],
      files: {
        before: { [CONF]: `#${FWD}=1\t# 1=Permit forwarding (routing) of IPv4 packets\n` },
        after: { [CONF]: `#${FWD}=1\t# 1=Permit forwarding (routing) of IPv4 packets\n${FWD}=1\n` },
      },
    },
  },
] satisfies Case[]
