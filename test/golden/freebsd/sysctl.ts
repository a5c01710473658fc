// Forwarding on a FreeBSD mesh member, live and in /etc/sysctl.conf.
import { sysctl } from '../../../src/steps/sysctl.ts'
import { PROBE, type Case } from '../harness.ts'
import { confValue, editConf, script } from '../scripts.ts'

const CONF = '/etc/sysctl.conf'
// What FreeBSD ships in /etc/sysctl.conf.
const SHIPPED = `# $FreeBSD$
#
#  This file is read when going to multi-user and its contents piped thru
#  \`\`sysctl'' to adjust kernel values.  \`\`man 5 sysctl.conf'' for details.
#

# Uncomment this to prevent users from seeing information about processes that
# are being run under another UID.
#security.bsd.see_other_uids=0
`
const forwarding = (o: { persist?: boolean } = {}) =>
  sysctl('enable forwarding', { key: 'net.inet.ip.forwarding', value: '1', ...o })
const KEY = 'net.inet.ip.forwarding'

export default [
  {
    name: 'freebsd sysctl: forwarding off, not in sysctl.conf → set and appended to the shipped file',
    os: 'freebsd',
    step: forwarding(),
    probe: 'live=0\n',
    after: 'live=1\nsaved=1\n',
    expect: {
      probe: `if v=$(sysctl -n ${KEY} 2>/dev/null); then printf 'live=%s\\n' "$v"; fi\n${confValue(CONF, KEY)}`,
      changes: [`${KEY}: 0 → 1`, `${KEY} in ${CONF}: (unset) → 1`],
      apply: [script(`sysctl ${KEY}=1`, editConf(CONF, KEY, `${KEY}=1`))],
      undo: [PROBE, script(`sysctl ${KEY}=0`, editConf(CONF, KEY, ''))],
      files: { before: { [CONF]: SHIPPED }, after: { [CONF]: `${SHIPPED}${KEY}=1\n` } },
    },
  },
  {
    name: 'freebsd sysctl: sysctl.conf says 0 → that line replaced in place, not a second one added',
    os: 'freebsd',
    step: forwarding(),
    probe: 'live=0\nsaved=0\n',
    after: 'live=1\nsaved=1\n',
    expect: {
      changes: [`${KEY}: 0 → 1`, `${KEY} in ${CONF}: 0 → 1`],
      apply: [script(`sysctl ${KEY}=1`, editConf(CONF, KEY, `${KEY}=1`))],
      undo: [PROBE, script(`sysctl ${KEY}=0`, editConf(CONF, KEY, `${KEY}=0`))],
      files: {
        before: { [CONF]: `${KEY}=0 # until the tunnels are up\nkern.ipc.somaxconn=1024\n${KEY} = 0\n` },
        after: { [CONF]: `${KEY}=1\nkern.ipc.somaxconn=1024\n` },
      },
    },
  },
  {
    name: 'freebsd sysctl: on and persisted → in sync',
    os: 'freebsd',
    step: forwarding(),
    probe: 'live=1\nsaved=1\n',
    expect: { changes: [] },
  },
  {
    name: 'freebsd sysctl: persist false → only the live value',
    os: 'freebsd',
    step: forwarding({ persist: false }),
    probe: 'live=0\n',
    after: 'live=1\n',
    expect: { changes: [`${KEY}: 0 → 1`], apply: [`sysctl ${KEY}=1`], undo: [PROBE, `sysctl ${KEY}=0`] },
  },
  {
    name: 'freebsd sysctl: a key the kernel lacks (module not loaded) → refused',
    os: 'freebsd',
    step: sysctl('carp', { key: 'net.inet.carp.allow', value: '1' }),
    probe: '',
    expect: { error: /the kernel has no sysctl net\.inet\.carp\.allow/ },
  },
  {
    name: 'freebsd sysctl: a key the kernel lacks while an earlier step may load its module → planned',
    os: 'freebsd',
    step: sysctl('carp', { key: 'net.inet.carp.allow', value: '1' }),
    probe: '',
    pending: ['*'],
    after: 'live=1\nsaved=1\n',
    expect: {
      changes: ['net.inet.carp.allow: (no such key yet) → 1', `net.inet.carp.allow in ${CONF}: (unset) → 1`],
      apply: [script('sysctl net.inet.carp.allow=1', editConf(CONF, 'net.inet.carp.allow', 'net.inet.carp.allow=1'))],
      undo: [PROBE, editConf(CONF, 'net.inet.carp.allow', '')],
    },
  },
] satisfies Case[]
