// Static routes on FreeBSD: route(8) live, in another fib with `-fib N`; at boot, rc.conf's
// `static_routes` list and a `route_NAME` whose value rc.d/routing passes to `route add`.
import { route } from '../../../src/steps/route.ts'
import { PROBE, type Case } from '../harness.ts'
import { script } from '../scripts.ts'

const NAME = 'route_ferry_10_2_0_0_16_fib1'
const saved = (lines: string[]) => lines.map((l) => `saved=${l}\n`).join('')
const IN_FIB1 = ['static_routes="office ferry_10_2_0_0_16_fib1"', `${NAME}="-net 10.2.0.0/16 172.16.2.2 -fib 1"`]
const fib1 = (via = '172.16.2.2') => route('office b in fib 1', { to: '10.2.0.0/16', via, table: 1 })

export default [
  {
    name: 'freebsd route: 10.2.0.0/16 in fib 1 → route add … -fib 1, and static_routes gains its word beside the one already there',
    os: 'freebsd',
    step: fib1(),
    probe: 'saved=static_routes="office"\n',
    after: `route=via 172.16.2.2 dev tap0\n${saved(IN_FIB1)}`,
    expect: {
      probe: [
        'if out=$(route -n get -net 10.2.0.0/16 -fib 1 2>/dev/null); then printf \'%s\\n\' "$out" | D=10.2.0.0 M=255.255.0.0 awk',
        'n=$(sysctl -n net.fibs 2>/dev/null || echo 1); [ "$n" -gt 1 ] || echo "cannot=fib 1 does not exist: net.fibs is $n"',
        `l=$(sysrc -n static_routes 2>/dev/null) && printf 'saved=static_routes="%s"\\n' "$l"`,
        `v=$(sysrc -n ${NAME} 2>/dev/null) && printf 'saved=%s="%s"\\n' ${NAME} "$v"`,
      ],
      changes: [
        '10.2.0.0/16 (table 1): (none) → via 172.16.2.2',
        {
          summary: '10.2.0.0/16 (table 1) at boot: /etc/rc.conf',
          diff: `--- /etc/rc.conf\n+++ /etc/rc.conf\n@@ -1,1 +1,2 @@\n-static_routes="office"\n+${IN_FIB1[0]}\n+${IN_FIB1[1]}\n`,
        },
      ],
      apply: [
        script(
          'route -n add -net 10.2.0.0/16 172.16.2.2 -fib 1',
          'sysrc static_routes+=ferry_10_2_0_0_16_fib1',
          `sysrc ${NAME}='-net 10.2.0.0/16 172.16.2.2 -fib 1'`,
        ),
      ],
      undo: [
        PROBE,
        script(
          'route -n delete -net 10.2.0.0/16 -fib 1',
          'sysrc static_routes-=ferry_10_2_0_0_16_fib1',
          `sysrc -x ${NAME}`,
        ),
      ],
      revert: [
        'route -n delete -net 10.2.0.0/16 -fib 1',
        'sysrc static_routes-=ferry_10_2_0_0_16_fib1',
        `sysrc -x ${NAME}`,
      ],
    },
  },
  {
    name: 'freebsd route: live in fib 1 and in rc.conf → in sync',
    os: 'freebsd',
    step: fib1(),
    probe: `route=via 172.16.2.2 dev tap0\n${saved(IN_FIB1)}`,
    expect: { changes: [] },
  },
  {
    name: 'freebsd route: a new gateway → route change, and route_NAME set again; undo changes it back',
    os: 'freebsd',
    step: fib1('172.16.2.6'),
    probe: `route=via 172.16.2.2 dev tap0\n${saved(IN_FIB1)}`,
    after: `route=via 172.16.2.6 dev tap1\nsaved=${IN_FIB1[0]}\nsaved=${NAME}="-net 10.2.0.0/16 172.16.2.6 -fib 1"\n`,
    expect: {
      changes: [
        '10.2.0.0/16 (table 1): via 172.16.2.2 dev tap0 → via 172.16.2.6',
        {
          summary: '10.2.0.0/16 (table 1) at boot: /etc/rc.conf',
          diff: `--- /etc/rc.conf\n+++ /etc/rc.conf\n@@ -1,2 +1,2 @@\n ${IN_FIB1[0]}\n-${IN_FIB1[1]}\n+${NAME}="-net 10.2.0.0/16 172.16.2.6 -fib 1"\n`,
        },
      ],
      apply: [
        script(
          'route -n change -net 10.2.0.0/16 172.16.2.6 -fib 1',
          `sysrc ${NAME}='-net 10.2.0.0/16 172.16.2.6 -fib 1'`,
        ),
      ],
      undo: [
        PROBE,
        script(
          'route -n change -net 10.2.0.0/16 172.16.2.2 -ifp tap0 -fib 1',
          `sysrc ${NAME}='-net 10.2.0.0/16 172.16.2.2 -fib 1'`,
        ),
      ],
    },
  },
  {
    // route(8) -ifp: without it, the plan would want tap1 every run and apply never pin it.
    name: 'freebsd route: the gateway right but the route leaving by tap0, not tap1 → route change … -ifp tap1, and in route_NAME',
    os: 'freebsd',
    step: route('office b in fib 1', { to: '10.2.0.0/16', via: '172.16.2.2', dev: 'tap1', table: 1 }),
    probe: `route=via 172.16.2.2 dev tap0\n${saved(IN_FIB1)}`,
    after: `route=via 172.16.2.2 dev tap1\nsaved=${IN_FIB1[0]}\nsaved=${NAME}="-net 10.2.0.0/16 172.16.2.2 -ifp tap1 -fib 1"\n`,
    expect: {
      changes: [
        '10.2.0.0/16 (table 1): via 172.16.2.2 dev tap0 → via 172.16.2.2 dev tap1',
        {
          summary: '10.2.0.0/16 (table 1) at boot: /etc/rc.conf',
          diff: `--- /etc/rc.conf\n+++ /etc/rc.conf\n@@ -1,2 +1,2 @@\n ${IN_FIB1[0]}\n-${IN_FIB1[1]}\n+${NAME}="-net 10.2.0.0/16 172.16.2.2 -ifp tap1 -fib 1"\n`,
        },
      ],
      apply: [
        script(
          'route -n change -net 10.2.0.0/16 172.16.2.2 -ifp tap1 -fib 1',
          `sysrc ${NAME}='-net 10.2.0.0/16 172.16.2.2 -ifp tap1 -fib 1'`,
        ),
      ],
      undo: [
        PROBE,
        script(
          'route -n change -net 10.2.0.0/16 172.16.2.2 -ifp tap0 -fib 1',
          `sysrc ${NAME}='-net 10.2.0.0/16 172.16.2.2 -fib 1'`,
        ),
      ],
    },
  },
  {
    name: "freebsd route: seed 000's jail pool blackholed, so a moved jail's /32 wins → -iface lo0 -blackhole",
    os: 'freebsd',
    step: route('jail pool', { to: '172.16.3.0/24', type: 'blackhole', persist: false }),
    probe: '',
    after: 'route=blackhole\n',
    expect: {
      probe:
        'if out=$(route -n get -net 172.16.3.0/24 2>/dev/null); then printf \'%s\\n\' "$out" | D=172.16.3.0 M=255.255.255.0 awk \'function z(v) { return v == "0.0.0.0" ? "default" : v }\n$1 == "destination:" { d = z($2) } $1 == "mask:" { m = z($2) } $1 == "gateway:" { g = $2 } $1 == "interface:" { i = $2 } $1 == "flags:" { f = $2 }\nEND { if (d != ENVIRON["D"] || m != ENVIRON["M"]) exit; if (f ~ /BLACKHOLE/) print "route=blackhole"; else if (f ~ /REJECT/) print "route=reject"; else if (f ~ /GATEWAY/) print "route=via " g " dev " i; else print "route=dev " i }\'; fi',
      changes: ['172.16.3.0/24: (none) → blackhole'],
      apply: ['route -n add -net 172.16.3.0/24 -iface lo0 -blackhole'],
      undo: [PROBE, 'route -n delete -net 172.16.3.0/24'],
    },
  },
  {
    name: 'freebsd route: a host route through a tunnel, kept in rc.conf where no static_routes was set → -host … -iface gre0',
    os: 'freebsd',
    step: route('peer loopback', { to: '10.0.0.2', dev: 'gre0' }),
    probe: 'route=via 198.51.100.254 dev vtnet0\n',
    after:
      'route=dev gre0\nsaved=static_routes="ferry_10_0_0_2_32"\nsaved=route_ferry_10_0_0_2_32="-host 10.0.0.2 -iface gre0"\n',
    expect: {
      probe: ["route -n get -host 10.0.0.2 2>/dev/null); then printf '%s\\n' \"$out\" | D=10.0.0.2 M='' awk"],
      changes: [
        '10.0.0.2: via 198.51.100.254 dev vtnet0 → dev gre0',
        {
          summary: '10.0.0.2 at boot: /etc/rc.conf',
          diff: '--- /etc/rc.conf\n+++ /etc/rc.conf\n@@ -0,0 +1,2 @@\n+static_routes="ferry_10_0_0_2_32"\n+route_ferry_10_0_0_2_32="-host 10.0.0.2 -iface gre0"\n',
        },
      ],
      // Another kind of route is made anew, not changed.
      apply: [
        script(
          'route -n delete -host 10.0.0.2',
          'route -n add -host 10.0.0.2 -iface gre0',
          'sysrc static_routes+=ferry_10_0_0_2_32',
          "sysrc route_ferry_10_0_0_2_32='-host 10.0.0.2 -iface gre0'",
        ),
      ],
      undo: [
        PROBE,
        script(
          'route -n delete -host 10.0.0.2',
          'route -n add -host 10.0.0.2 198.51.100.254 -ifp vtnet0',
          'sysrc static_routes-=ferry_10_0_0_2_32',
          'sysrc -x route_ferry_10_0_0_2_32',
        ),
      ],
    },
  },
  {
    name: 'freebsd route: a fib beyond net.fibs → refused at plan time, naming it',
    os: 'freebsd',
    step: route('tenant', { to: 'default', via: '192.0.2.1', table: 3 }),
    probe: 'cannot=fib 3 does not exist: net.fibs is 2\n',
    expect: { error: /^default \(table 3\): fib 3 does not exist: net\.fibs is 2$/ },
  },
] satisfies Case[]
