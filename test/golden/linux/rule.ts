// Policy-routing rules on Debian: `ip rule add pref P fwmark M lookup T` live, kept with an
// interface as a pair of up/down lines in its ifupdown stanza, or as a [RoutingPolicyRule] drop-in
// beside its systemd-networkd .network (deploy-tenants keeps its rules with a tenant's VRF device).
import { rule } from '../../../src/steps/rule.ts'
import { PROBE, type Case } from '../harness.ts'
import { editInPlace, script, writeLines } from '../scripts.ts'

const VRF2 = '/etc/network/interfaces.d/00-vrf2'
// The stanza iface writes for vrf2 (a VRF device, table 2): the rule lines go after it.
const STANZA = [
  '# vrf2, managed by ferry',
  'auto vrf2',
  'iface vrf2 inet manual',
  '    pre-up ip link add vrf2 type vrf table 2',
  '    up ip link set vrf2 up',
  '    post-down ip link del vrf2',
]
const text = (lines: string[]) => lines.map((l) => `${l}\n`).join('')
const saved = (lines: string[]) => lines.map((l) => `saved=${l}\n`).join('')

const UP = '    up ip rule add pref 900 fwmark 0xfe lookup main'
const DOWN = '    down ip rule del pref 900 fwmark 0xfe lookup main'
// A rule's own lines in the stanza, by priority and mark (K): dropped, the rest printed.
const OWN_LINES =
  '($1 == "up" || $1 == "down") && $2 == "ip" && $3 == "rule" { k = $6 " " $8; t = ""; if (k == ENVIRON["K"] && t == ENVIRON["T"]) { next } } { print }'
const edit = (add: string[]) =>
  editInPlace(
    VRF2,
    `K='900 0xfe' T='' awk '${OWN_LINES}' "$o"${add.length ? `; printf '%s\\n' ${add.map((l) => `'${l}'`).join(' ')}` : ''}`,
  )
const toMain = (o: { state?: 'absent' } = {}) =>
  rule('to the main table', { pref: 900, fwmark: 254, table: 'main', iface: 'vrf2', ...o })

const NETWORKD = '/etc/systemd/network'
const DROPIN = `${NETWORKD}/50-ferry-vrf2.network.d/ferry-rule-900-0x2.conf`
const DROPIN_LINES = [
  '# pref 900 fwmark 0x2 lookup 2, managed by ferry',
  '[RoutingPolicyRule]',
  'Priority=900',
  'FirewallMark=2',
  'Table=2',
]
const RELOAD = 'if [ -d /run/systemd/system ] && systemctl is-active -q systemd-networkd; then networkctl reload; fi'

export default [
  {
    name: 'linux rule: mark 254 to the main table, kept with vrf2 → ip rule add, and its up/down lines after the stanza',
    os: 'linux',
    step: toMain(),
    probe: '',
    after: `rule=1\n${saved([UP, DOWN])}`,
    expect: {
      probe: [
        `ip -4 rule show pref 900 2>/dev/null | W='900: from all fwmark 0xfe lookup main' awk '{ sub(/\\t/, " ") } $0 == ENVIRON["W"] { print "rule=1"; exit }'`,
        `if [ -f ${VRF2} ]; then K='900 0xfe' T='' awk`,
      ],
      changes: [
        'rule 900 (fwmark 0xfe → table main): add',
        {
          summary: `rule 900 (fwmark 0xfe → table main) at boot: ${VRF2}`,
          diff: `--- ${VRF2}\n+++ ${VRF2}\n@@ -0,0 +1,2 @@\n+${UP}\n+${DOWN}\n`,
        },
      ],
      apply: [script('ip rule add pref 900 fwmark 0xfe lookup main', edit([UP, DOWN]))],
      undo: [PROBE, script('ip rule del pref 900 fwmark 0xfe lookup main', edit([]))],
      revert: ['ip rule del pref 900 fwmark 0xfe lookup main', edit([])],
      files: { before: { [VRF2]: text(STANZA) }, after: { [VRF2]: text([...STANZA, UP, DOWN]) } },
    },
  },
  {
    name: 'linux rule: live and in the stanza → in sync',
    os: 'linux',
    step: toMain(),
    probe: `rule=1\n${saved([UP, DOWN])}`,
    expect: { changes: [] },
  },
  {
    name: 'linux rule: deleted by hand, its lines still there → added again, the file left alone',
    os: 'linux',
    step: toMain(),
    probe: saved([UP, DOWN]),
    after: `rule=1\n${saved([UP, DOWN])}`,
    expect: {
      changes: ['rule 900 (fwmark 0xfe → table main): add'],
      apply: ['ip rule add pref 900 fwmark 0xfe lookup main'],
      undo: [PROBE, 'ip rule del pref 900 fwmark 0xfe lookup main'],
    },
  },
  {
    name: 'linux rule: state absent → deleted, and its lines taken out of the stanza',
    os: 'linux',
    step: toMain({ state: 'absent' }),
    probe: `rule=1\n${saved([UP, DOWN])}`,
    after: '',
    expect: {
      changes: [
        'rule 900 (fwmark 0xfe → table main): remove',
        {
          summary: `rule 900 (fwmark 0xfe → table main) at boot: ${VRF2}`,
          diff: `--- ${VRF2}\n+++ ${VRF2}\n@@ -1,2 +0,0 @@\n-${UP}\n-${DOWN}\n`,
        },
      ],
      apply: [script('ip rule del pref 900 fwmark 0xfe lookup main', edit([]))],
      undo: [PROBE, script('ip rule add pref 900 fwmark 0xfe lookup main', edit([UP, DOWN]))],
      files: { before: { [VRF2]: text([...STANZA, UP, DOWN]) }, after: { [VRF2]: text(STANZA) } },
    },
  },
  {
    name: 'linux rule: mark 2 to table 2 on a systemd-networkd host → a [RoutingPolicyRule] drop-in beside 50-ferry-vrf2.network',
    os: 'linux',
    step: rule('back into domain 2', { pref: 900, fwmark: 2, table: 2, iface: 'vrf2' }),
    probe: 'netconfig=networkd\n',
    after: `rule=1\nnetconfig=networkd\n${saved(DROPIN_LINES)}`,
    expect: {
      probe: [
        `[ -f ${NETWORKD}/50-ferry-vrf2.network ] || echo 'nosave=vrf2 has no ${NETWORKD}/50-ferry-vrf2.network (give it an iface step)'`,
        `[ ! -f ${DROPIN} ] || sed 's/^/saved=/' ${DROPIN}`,
      ],
      changes: [
        'rule 900 (fwmark 0x2 → table 2): add',
        {
          summary: `rule 900 (fwmark 0x2 → table 2) at boot: ${DROPIN}`,
          diff: `--- ${DROPIN}\n+++ ${DROPIN}\n@@ -0,0 +1,5 @@\n${DROPIN_LINES.map((l) => `+${l}\n`).join('')}`,
        },
      ],
      apply: [
        script(
          'ip rule add pref 900 fwmark 0x2 lookup 2',
          `mkdir -p ${NETWORKD}/50-ferry-vrf2.network.d`,
          writeLines(DROPIN, '0644', DROPIN_LINES),
          RELOAD,
        ),
      ],
      undo: [
        PROBE,
        script(
          'ip rule del pref 900 fwmark 0x2 lookup 2',
          `f=${DROPIN}; rm -f "$f"`,
          `rmdir ${NETWORKD}/50-ferry-vrf2.network.d 2>/dev/null || :`,
          RELOAD,
        ),
      ],
      files: { after: { [DROPIN]: text(DROPIN_LINES) } },
    },
  },
  {
    name: 'linux rule: kept with an interface that has no ifupdown file → refused at plan time, naming it',
    os: 'linux',
    step: toMain(),
    probe: 'nosave=vrf2 has no file in /etc/network/interfaces.d (give it an iface step)\n',
    expect: {
      error:
        /^rule 900 \(fwmark 0xfe → table main\) cannot be configured for boot: vrf2 has no file in \/etc\/network\/interfaces\.d \(give it an iface step\); or set persist: false$/,
    },
  },
  {
    name: 'linux rule: persisted with no iface → refused (Linux keeps rules with an interface)',
    os: 'linux',
    step: rule('to main', { pref: 900, fwmark: 254, table: 'main' }),
    probe: '',
    expect: { error: /^Linux keeps a rule with an interface .*: give iface, or set persist: false$/ },
  },
  {
    name: 'linux rule: live only (persist: false) → ip rule add, no file read or written',
    os: 'linux',
    step: rule('x', { pref: 900, fwmark: 254, table: 'main', persist: false }),
    probe: '',
    after: 'rule=1\n',
    expect: {
      changes: ['rule 900 (fwmark 0xfe → table main): add'],
      apply: ['ip rule add pref 900 fwmark 0xfe lookup main'],
      undo: [PROBE, 'ip rule del pref 900 fwmark 0xfe lookup main'],
    },
  },
] satisfies Case[]
