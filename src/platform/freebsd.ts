// FreeBSD: pkg, rc.d services driven by rc.conf variables through sysrc, /etc/sysctl.conf, and
// interfaces cloned at boot from `cloned_interfaces` and `ifconfig_NAME` in rc.conf.
//
// Service settings go to /etc/rc.conf.local, as seed 000 does (`sysrc quagga_enable=YES -f
// /etc/rc.conf.local`; sysrc takes its options first). rc.conf.local is read after rc.conf, so
// a value there wins wherever else the variable is set. Interface settings are written by plain
// sysrc, which edits the file that already sets a variable and otherwise /etc/rc.conf, where
// seed 000 puts `cloned_interfaces="lo1"` and `ifconfig_lo1="inet 10.0.0.1/32"`. Static routes
// are rc.conf's too: `route_NAME` holds what rc.d/routing passes to `route add`, and NAME's word
// in `static_routes` has it added at boot.

import { quote, quoteArgv } from '../shell/quote.ts'
import { freebsdJails } from '../jails/freebsd.ts'
import {
  accountFlags,
  bsdHash,
  bsdLiveProbe,
  bsdNet,
  bsdStaticRoutes,
  bsdRefuse,
  bsdRouteProbe,
  bsdTunnelName,
  CRON_SPECIALS,
  groupProbe,
  ifaceDelta,
  instanceState,
  localOf,
  newAccountFlags,
  pair,
  routeDest,
  sysctlIn,
  siblingLink,
  userProbe,
  vixieCron,
} from './common.ts'
import type { Iface, IfaceState, Platform, Route, RouteState } from './types.ts'

const RC_LOCAL = '/etc/rc.conf.local'
/** Where rc.d scripts are, base system's first, as service(8) looks. */
const RC_DIRS = ['/etc/rc.d', '/usr/local/etc/rc.d']

/** `10.0.0.1/32` → `inet 10.0.0.1/32`; `A peer B` → `inet A B netmask 0xffffffff`. */
function inet(address: string): string {
  return `inet ${pair(address) ?? address}`
}

/** rc.conf lines (as the probe prints them, `NAME="VALUE"`) into a map. */
function vars(lines: readonly string[]): Map<string, string> {
  return new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 2, -1)]))
}

const members = (list: string | undefined) => (list ?? '').split(/\s+/).filter(Boolean)

/**
 * rc.conf lines for one member of a list variable (`cloned_interfaces`, `static_routes`) and its
 * own variables (`NAME="VALUE"`): the member keeps its place in the list, a new one goes last.
 */
function listed(list: string, member: string, wanted: boolean, own: string[], current: readonly string[]): string[] {
  const value = vars(current).get(list)
  const had = members(value)
  const next = wanted ? (had.includes(member) ? had : [...had, member]) : had.filter((m) => m !== member)
  return [...(value !== undefined || next.length ? [`${list}="${next.join(' ')}"`] : []), ...own.sort()]
}

/** sysrc lines that turn `current` into `lines` (as `listed` gives them): the list by its word, the rest by key. */
function saveListed(list: string, member: string, lines: readonly string[], current: readonly string[]): string[] {
  const want = vars(lines)
  const have = vars(current)
  const wanted = members(want.get(list)).includes(member)
  const had = members(have.get(list)).includes(member)
  const out = wanted === had ? [] : [`sysrc ${list}${wanted ? '+' : '-'}=${quote(member)}`]
  for (const [k, v] of want) if (k !== list && have.get(k) !== v) out.push(`sysrc ${quote(k)}=${quote(v)}`)
  for (const k of have.keys()) if (k !== list && !want.has(k)) out.push(`sysrc -x ${quote(k)}`)
  return out
}

/** `route_NAME`'s NAME: the destination and fib in letters, digits and `_`, as rc.d/routing reads it. */
const routeName = (r: Route) =>
  `ferry_${r.to === 'default' ? 'default' : r.to.replace(/[./]/g, '_')}${r.table ? `_fib${r.table}` : ''}`

/** The destination as route(8) takes it: `default`, `-host A`, `-net A/P`. */
function routeTo(r: Route): string {
  const { address, prefix } = routeDest(r.to)
  return prefix === 0 ? 'default' : prefix === 32 ? `-host ${address}` : `-net ${r.to}`
}
const fib = (r: Route) => (r.table ? ` -fib ${r.table}` : '')

/**
 * `route add`'s arguments, as rc.conf's route_NAME holds them too. route(8): a blackhole's or a
 * reject's gateway is lo0 (`-iface lo0`, as rc.d/routing adds its own loopback route); an
 * interface route names the interface with `-iface` too; -ifp pins a gateway route to one.
 */
function routeArgs(r: Route, s: RouteState): string {
  const target =
    s.type === 'blackhole' || s.type === 'reject'
      ? `-iface lo0 -${s.type}`
      : s.via
        ? `${quote(s.via)}${s.dev ? ` -ifp ${quote(s.dev)}` : ''}`
        : `-iface ${quote(s.dev ?? '')}`
  return `${routeTo(r)} ${target}${fib(r)}`
}

export const freebsd: Platform = {
  os: 'freebsd',
  kernel: 'FreeBSD',
  // Seed 000's routing.
  routing: 'quagga',
  // daemon(8) detaches from the session and ignores SIGHUP; FreeBSD has no setsid(1).
  detach: (command) => `daemon -f ${command} </dev/null >/dev/null 2>&1`,

  packages: {
    // `pkg -N` tells whether pkg itself is installed yet; otherwise /usr/sbin/pkg would offer to
    // bootstrap it. The bootstrapper only installs unprompted with ASSUME_ALWAYS_YES.
    probe: (names) =>
      [
        `for p in ${quoteArgv(names)}; do`,
        'v=$(pkg -N >/dev/null 2>&1 && pkg query %v "$p" 2>/dev/null)',
        `printf '%s\\t%s\\n' "$p" "\${v:--}"`,
        'done',
      ].join('\n'),
    install: (names) => `ASSUME_ALWAYS_YES=yes pkg install -y ${quoteArgv(names)}`,
    remove: (names) => `pkg delete -y ${quoteArgv(names)}`,
  },

  services: {
    probe(name, keys) {
      const n = quote(name)
      return [
        `if [ -x /etc/rc.d/${n} ] || [ -x /usr/local/etc/rc.d/${n} ]; then`,
        'echo exists=1',
        `if service ${n} enabled; then echo enabled=1; else echo enabled=0; fi`,
        `if service ${n} onestatus >/dev/null 2>&1; then echo running=1; else echo running=0; fi`,
        ...keys.map(
          (k) =>
            `if v=$(sysrc -n ${quote(`${name}_${k}`)} 2>/dev/null); then printf 'var ${k}=%s\\n' "$v"; else echo 'var ${k}'; fi`,
        ),
        'else echo exists=0; fi',
      ].join('\n')
    },
    enable: (name) => `sysrc -f ${RC_LOCAL} ${quote(`${name}_enable=YES`)}`,
    disable: (name) => `sysrc -f ${RC_LOCAL} ${quote(`${name}_enable=NO`)}`,
    // rc.subr answers `start` on a disabled service with a notice and exit 0, doing nothing.
    run: (name, action, enabled) => `service ${quote(name)} ${enabled ? '' : 'one'}${action}`,
    vars: {
      set: (name, key, value) =>
        value === undefined
          ? `sysrc -f ${RC_LOCAL} -x ${quote(`${name}_${key}`)}`
          : `sysrc -f ${RC_LOCAL} ${quote(`${name}_${key}`)}=${quote(value)}`,
    },
    unregister: (name) => `sysrc -f ${RC_LOCAL} -x ${quote(`${name}_enable`)}`,
    // A port's script that names itself after the name it is run by runs a second instance
    // through a link beside it (the openvpn port's: `ln -s openvpn openvpn_foo`, then
    // openvpn_foo_* variables). Most scripts set a literal name="…" instead: run under the new
    // name, their rcvar is still BASE_enable. The probe reads the script for such a line; it never
    // runs it (a port's script is not the probe's to run, even its rcvar).
    instances: {
      // NAME_enable and NAME_KEY must be sh variables.
      refuse: (_base, name) =>
        /^[A-Za-z0-9_]+$/.test(name) ? undefined : `${name}: an rc.d instance's name is letters, digits and _ only`,
      probe(base, name) {
        const dirs = RC_DIRS.map((d) => quote(`${d}/${name}`))
        return [
          `d=; for x in ${RC_DIRS.join(' ')}; do [ -n "$d" ] || [ ! -x "$x"/${quote(base)} ] || d=$x; done`,
          `if [ -n "$d" ]; then echo base=1; else echo base=0; d=${RC_DIRS[1]}; fi`,
          'echo "dir=$d"',
          instanceState(`"$d"/${quote(name)}`, [quote(base), `"$d"/${quote(base)}`], dirs),
          `if [ -x "$d"/${quote(base)} ] && grep -Eq ${quote(`^[[:space:]]*name=["']?[A-Za-z0-9_]+["']?[[:space:]]*(#.*)?$`)} "$d"/${quote(base)}; then`,
          `echo ${quote(`refuse=${base}'s rc.d script does not name itself after the name it is run by (it sets name=…, so its rcvar run as ${name} is still ${base}_enable)`)}`,
          'fi',
        ].join('\n')
      },
      ...siblingLink,
    },
  },

  sysctl: sysctlIn('/etc/sysctl.conf', (assignment) => `sysctl ${assignment}`),

  interfaces: {
    refuse: (iface) =>
      iface.kind === 'vlan'
        ? `${iface.name}: ferry does not configure FreeBSD's vlan interfaces yet (rc.conf's vlans_PARENT)`
        : bsdRefuse(iface, true),
    tunnelName: bsdTunnelName,

    probe(iface) {
      const n = iface.name
      return [
        bsdLiveProbe(n),
        `c=$(sysrc -n cloned_interfaces 2>/dev/null) && printf 'saved=cloned_interfaces="%s"\\n' "$c"`,
        `sysrc -a 2>/dev/null | sed -n 's/^\\(ifconfig_${n}\\(_alias[0-9]*\\)\\{0,1\\}\\): \\(.*\\)$/saved=\\1="\\3"/p' | LC_ALL=C sort`,
      ].join('\n')
    },

    change(iface, from, to) {
      const n = quote(iface.name)
      const d = ifaceDelta(from, to)
      if (d.destroy) return [`ifconfig ${n} destroy`]
      const adds = d.add.map((a, i) => `ifconfig ${n} ${inet(a)}${d.kept + i > 0 ? ' alias' : ''}`)
      if (d.up && adds.length) adds[adds.length - 1] += ' up'
      return [
        ...(d.create ? [`ifconfig ${n} create`] : []),
        ...(d.tunnel ? [`ifconfig ${n} tunnel ${quote(d.tunnel.local)} ${quote(d.tunnel.remote)}`] : []),
        ...d.remove.map((a) => `ifconfig ${n} inet ${localOf(a)} -alias`),
        ...adds,
        ...(d.up === false || (d.up && !adds.length) ? [`ifconfig ${n} ${d.up ? 'up' : 'down'}`] : []),
      ]
    },

    savedIn: () => '/etc/rc.conf',

    render(iface: Iface, state: IfaceState, current) {
      const n = iface.name
      const lines: string[] = []
      if (state.exists) {
        const [first, ...aliases] = state.addresses.map(inet)
        const main = [first, state.tunnel && `tunnel ${state.tunnel.local} ${state.tunnel.remote}`]
          .filter(Boolean)
          .join(' ')
        if (main) lines.push(`ifconfig_${n}="${main}"`)
        aliases.forEach((a, i) => lines.push(`ifconfig_${n}_alias${i}="${a}"`))
      }
      return listed('cloned_interfaces', n, state.exists, lines, current)
    },

    save: (iface, lines, current) => saveListed('cloned_interfaces', iface.name, lines, current),
  },

  net: { ...bsdNet, staticRoutes: bsdStaticRoutes((t) => `netstat -rn -4 -F ${t}`) },
  jails: freebsdJails,

  // cron(8) reads /etc/cron.d and /usr/local/etc/cron.d (pathnames.h SYSCRONTABS), skipping
  // names that start with `.`; its crontab(5) adds @every_minute and @every_second.
  cron: vixieCron({
    spool: '/var/cron/tabs',
    dir: '/etc/cron.d',
    specials: [...CRON_SPECIALS, 'every_minute', 'every_second'],
  }),
  // pw(8). Without -g, pw useradd makes a group named after the user, and pw userdel removes it
  // again if it has no members. -G sets the supplementary groups exactly (-G '' : none), and -H 0
  // reads an encrypted password on stdin.
  users: {
    probeUser: (name, o) => userProbe(name, o, bsdHash(name), 'sha256'),
    probeGroup: groupProbe,
    addUser: (name, a, home) => `pw useradd ${quoteArgv([name, ...newAccountFlags(a), ...(home ? ['-m'] : [])])}`,
    modUser: (name, a) => `pw usermod ${quoteArgv([name, ...accountFlags(a)])}`,
    delUser: (name, o) => `pw userdel ${quote(name)}${o.home ? ' -r' : ''}`,
    printHash: bsdHash,
    setHash: (name, file) => `pw usermod ${quote(name)} -H 0${file ? ` < ${quote(file)}` : ''}`,
    addGroup: (name, gid) => `pw groupadd ${quote(name)}${gid === undefined ? '' : ` -g ${gid}`}`,
    modGroup: (name, gid) => `pw groupmod ${quote(name)} -g ${gid}`,
    delGroup: (name) => `pw groupdel ${quote(name)}`,
    addMembers: (name, users) => `pw groupmod ${quote(name)} -m ${quote(users.join(','))}`,
  },
  routes: {
    // fibs are numbered below net.fibs, at most 65536 of them (RT_MAXFIBS); FreeBSD keeps routes
    // in rc.conf, not with an interface, so `iface` has nothing to say here.
    refuse: (r) => (r.table !== undefined && r.table > 65535 ? `FreeBSD has no fib ${r.table}` : undefined),

    probe(r) {
      const n = routeName(r)
      return [
        bsdRouteProbe(`route -n get ${routeTo(r)}${fib(r)}`, r.to),
        ...(r.table
          ? [
              `n=$(sysctl -n net.fibs 2>/dev/null || echo 1); [ "$n" -gt ${r.table} ] || echo "cannot=fib ${r.table} does not exist: net.fibs is $n"`,
            ]
          : []),
        ...(r.persist
          ? [
              `l=$(sysrc -n static_routes 2>/dev/null) && printf 'saved=static_routes="%s"\\n' "$l"`,
              `v=$(sysrc -n ${quote(`route_${n}`)} 2>/dev/null) && printf 'saved=%s="%s"\\n' ${quote(`route_${n}`)} "$v"`,
            ]
          : []),
      ].join('\n')
    },

    change(r, from, to) {
      if (!to) return from ? [`route -n delete ${routeTo(r)}${fib(r)}`] : []
      if (!from) return [`route -n add ${routeArgs(r, to)}`]
      // A new gateway is a change; another kind of route is made anew.
      if (from.via && to.via && !from.type && !to.type) return [`route -n change ${routeArgs(r, to)}`]
      return [`route -n delete ${routeTo(r)}${fib(r)}`, `route -n add ${routeArgs(r, to)}`]
    },

    savedIn: () => '/etc/rc.conf',

    render: (r, state, current) =>
      listed(
        'static_routes',
        routeName(r),
        !!state,
        state ? [`route_${routeName(r)}="${routeArgs(r, state)}"`] : [],
        current,
      ),

    save: (r, lines, current) => saveListed('static_routes', routeName(r), lines, current),
    // A sysctl step raising net.fibs makes the fib.
    tablesBy: 'sysctl:net.fibs',
  },

  // pkg never starts a service: rc.d scripts run only once enabled in rc.conf.
  heldInstall: { probe: '', install: (names) => `ASSUME_ALWAYS_YES=yes pkg install -y ${quoteArgv(names)}` },
}
