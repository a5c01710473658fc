// Static routes on OpenBSD: route(8) live, in another rtable with `-T N`; at boot, a `!route`
// line in the interface's /etc/hostname.IF, after the lines that give it its address (seed 003's
// gre0, the other office's LAN behind it).
import { route } from '../../../src/steps/route.ts'
import { PROBE, type Case } from '../harness.ts'
import { editInPlace, script } from '../scripts.ts'
import { SEED } from './iface.ts'

const GRE0 = '/etc/hostname.gre0'
const EM0 = '/etc/hostname.em0'
const text = (lines: string[]) => lines.map((l) => `${l}\n`).join('')
// A route's own `!route` line, by destination (K) and rtable (T): dropped, the rest printed.
const OWN_LINE =
  '$1 == "!route" { t = ""; k = ""; for (i = 2; i < NF; i++) { if ($i == "-T") t = $(i + 1); else if ($i ~ /^-T[0-9]/) t = substr($i, 3); if ($i == "add") { k = $(i + 1); if (k == "-inet") k = $(i + 2); break } }; if (k == ENVIRON["K"] && t == ENVIRON["T"]) { next } } { print }'
const edit = (path: string, keys: string, add?: string) =>
  editInPlace(path, `${keys} awk '${OWN_LINE}' "$o"${add ? `; printf '%s\\n' '${add}'` : ''}`, '0640')

const LAN_B = '!route -qn add -inet 10.2.0.0/16 172.16.2.2 -ifp gre0'
const lanB = () => route('office b lan', { to: '10.2.0.0/16', via: '172.16.2.2', dev: 'gre0' })

export default [
  {
    name: "openbsd route: office B's LAN over seed 003's gre0 → route add -inet, and a !route line after gre0's own",
    os: 'openbsd',
    step: lanB(),
    probe: '',
    after: `route=via 172.16.2.2 dev gre0\nsaved=${LAN_B}\n`,
    expect: {
      probe: [
        'if out=$(route -n get 10.2.0.0/16 2>/dev/null); then printf \'%s\\n\' "$out" | D=10.2.0.0 M=255.255.0.0 awk',
        `if [ -f ${GRE0} ]; then K=10.2.0.0/16 T='' awk '$1 == "!route" {`,
        `else echo 'nosave=gre0 has no ${GRE0} (give it an iface step)'; fi`,
      ],
      changes: [
        '10.2.0.0/16: (none) → via 172.16.2.2 dev gre0',
        { summary: `10.2.0.0/16 at boot: ${GRE0}`, diff: `--- ${GRE0}\n+++ ${GRE0}\n@@ -0,0 +1,1 @@\n+${LAN_B}\n` },
      ],
      apply: [script('route -qn add -inet 10.2.0.0/16 172.16.2.2 -ifp gre0', edit(GRE0, "K=10.2.0.0/16 T=''", LAN_B))],
      undo: [PROBE, script('route -qn delete -inet 10.2.0.0/16', edit(GRE0, "K=10.2.0.0/16 T=''"))],
      revert: ['route -qn delete -inet 10.2.0.0/16', edit(GRE0, "K=10.2.0.0/16 T=''")],
      files: { before: { [GRE0]: text(SEED) }, after: { [GRE0]: text([...SEED, LAN_B]) } },
    },
  },
  {
    name: 'openbsd route: live and in hostname.gre0 → in sync',
    os: 'openbsd',
    step: lanB(),
    probe: `route=via 172.16.2.2 dev gre0\nsaved=${LAN_B}\n`,
    expect: { changes: [] },
  },
  {
    // route(8) -ifp: without it, the plan would want gre0 every run and apply never pin it.
    name: 'openbsd route: the gateway right but the route leaving by em0, not gre0 → route change … -ifp gre0',
    os: 'openbsd',
    step: route('office b lan', { to: '10.2.0.0/16', via: '172.16.2.2', dev: 'gre0', persist: false }),
    probe: 'route=via 172.16.2.2 dev em0\n',
    after: 'route=via 172.16.2.2 dev gre0\n',
    expect: {
      changes: ['10.2.0.0/16: via 172.16.2.2 dev em0 → via 172.16.2.2 dev gre0'],
      apply: ['route -qn change -inet 10.2.0.0/16 172.16.2.2 -ifp gre0'],
      undo: [PROBE, 'route -qn change -inet 10.2.0.0/16 172.16.2.2 -ifp em0'],
    },
  },
  {
    name: "openbsd route: a tenant's default route in rtable 2 moved to a new gateway → route -T2 change, its line replaced, em0's others kept",
    os: 'openbsd',
    step: route('tenant default', { to: 'default', via: '192.0.2.1', dev: 'em0', table: 2 }),
    probe: 'route=via 192.0.2.9 dev em0\nsaved=!route -T2 -qn add default 192.0.2.9 -ifp em0\n',
    after: 'route=via 192.0.2.1 dev em0\nsaved=!route -T2 -qn add default 192.0.2.1 -ifp em0\n',
    expect: {
      probe: [
        'if out=$(route -T2 -n get default 2>/dev/null); then printf \'%s\\n\' "$out" | D=default M=default awk',
        `if [ -f ${EM0} ]; then K=default T=2 awk`,
      ],
      changes: [
        'default (table 2): via 192.0.2.9 dev em0 → via 192.0.2.1 dev em0',
        {
          summary: `default (table 2) at boot: ${EM0}`,
          diff: `--- ${EM0}\n+++ ${EM0}\n@@ -1,1 +1,1 @@\n-!route -T2 -qn add default 192.0.2.9 -ifp em0\n+!route -T2 -qn add default 192.0.2.1 -ifp em0\n`,
        },
      ],
      apply: [
        script(
          'route -T2 -qn change default 192.0.2.1 -ifp em0',
          edit(EM0, 'K=default T=2', '!route -T2 -qn add default 192.0.2.1 -ifp em0'),
        ),
      ],
      undo: [
        PROBE,
        script(
          'route -T2 -qn change default 192.0.2.9 -ifp em0',
          edit(EM0, 'K=default T=2', '!route -T2 -qn add default 192.0.2.9 -ifp em0'),
        ),
      ],
      files: {
        before: {
          [EM0]: text([
            'inet 192.0.2.10 255.255.255.0',
            '!route -T2 -qn add default 192.0.2.9 -ifp em0',
            '!route -qn add default 198.51.100.1',
          ]),
        },
        after: {
          [EM0]: text([
            'inet 192.0.2.10 255.255.255.0',
            '!route -qn add default 198.51.100.1',
            '!route -T2 -qn add default 192.0.2.1 -ifp em0',
          ]),
        },
      },
    },
  },
  {
    name: 'openbsd route: a blackhole, live only → route add … 127.0.0.1 -blackhole',
    os: 'openbsd',
    step: route('bogons', { to: '10.0.0.0/8', type: 'blackhole', persist: false }),
    probe: '',
    after: 'route=blackhole\n',
    expect: {
      changes: ['10.0.0.0/8: (none) → blackhole'],
      apply: ['route -qn add -inet 10.0.0.0/8 127.0.0.1 -blackhole'],
      undo: [PROBE, 'route -qn delete -inet 10.0.0.0/8'],
    },
  },
  {
    name: 'openbsd route: an interface route by name → refused (route(8) takes the interface by its address)',
    os: 'openbsd',
    step: route('lan', { to: '10.2.0.0/16', dev: 'gre0' }),
    probe: '',
    expect: { error: /^OpenBSD's route\(8\) names an interface route by the interface's own address/ },
  },
] satisfies Case[]
