// OpenBSD: pkg_add, rcctl, /etc/sysctl.conf, /etc/hostname.if. ospfd, bgpd, isakmpd and
// ipsecctl are in base, not packages.
//
// hostname.if lines are fed to ifconfig by netstart, except that a line starting with `inet` is
// read as `inet ADDRESS [NETMASK [BROADCAST]] [OPTIONS]`. Seed 003's point-to-point `ifconfig
// gre0 inet A B netmask 0xffffffff link0 up` therefore goes in without its `inet`: a bare
// address line is passed through whole, and ifconfig's family defaults to inet.
//
// A line starting with `!` is run by the shell (hostname.if(5)): that is where a static route
// lives, `!route [-TN] -qn add -inet DEST GATEWAY` as seed 001 writes it, after the lines that
// give the interface its address. `iface` writes the rest of the file and keeps the `!route`
// lines it finds; `route` edits only its own line.
//
// An interface in a routing domain says `rdomain N` before its addresses: moving it drops them.
// The kernel makes domain N with its loopback loN the first time an interface joins it.

import { quote, quoteArgv } from '../shell/quote.ts'
import {
  accountFlags,
  bootIface,
  bsdHash,
  bsdLiveProbe,
  bsdNet,
  bsdStaticRoutes,
  bsdRefuse,
  bsdRouteProbe,
  bsdTunnelName,
  CRON_SPECIALS,
  dottedMask,
  groupProbe,
  ifaceDelta,
  instanceState,
  localOf,
  newAccountFlags,
  pair,
  routeDest,
  routeLinesProbe,
  saveFile,
  saveRouteLines,
  type RouteLines,
  sysctlIn,
  userProbe,
  vixieCron,
  unlinkIf,
} from './common.ts'
import type { Iface, Platform, Route, RouteState } from './types.ts'

/** The flags that come with `up`: seed 003 sets link0 on gre, with up, on the address line. */
const upFlags = (iface: Iface) => (iface.kind === 'gre' ? 'link0 up' : 'up')

const hostnameIf = (iface: Iface) => `/etc/hostname.${iface.name}`

/**
 * A description on a hostname.if line: netstart reads each line as shell words, so one of several
 * words is double-quoted (the iface step allows no quote, `$` or backslash in one).
 */
const hostnameIfWord = (text: string) => (/\s/.test(text) ? `"${text}"` : text)

/** The lines of hostname.if that run route(8): they belong to `route` steps, not to the interface. */
const ROUTE_LINE = /^!route\s/

/**
 * route(8) in a routing table, quiet and numeric, as seed 001 and netstart write it: `route -T1
 * -qn`; `get`, which must print, without -q.
 */
const route = (r: Route, flags = '-qn') => `route${r.table ? ` -T${r.table}` : ''} ${flags}`

/**
 * The destination as route(8) reads it: `default`, a bare address for a host, else the CIDR
 * network; the loopback network as netstart and seed 001 write it, `127` (route(8) reads a bare
 * class A number as its /8).
 */
function routeTo(r: Route): string {
  const { address, prefix } = routeDest(r.to)
  if (r.to === '127.0.0.0/8') return '127'
  return prefix === 0 ? 'default' : prefix === 32 ? address : r.to
}

/** `-inet DEST`; `default` alone, as seed 001 writes it (route(8)'s family is inet unless told). */
const inetTo = (r: Route) => (routeTo(r) === 'default' ? 'default' : `-inet ${routeTo(r)}`)

/**
 * `route add`'s arguments. route(8): -blackhole and -reject are flags on a route whose gateway is
 * the loopback address; an interface route is named by the interface's own address (-iface
 * ADDRESS), which `refuse` turns away; -ifp pins a gateway route to an interface.
 */
function routeArgs(r: Route, s: RouteState): string {
  if (s.type === 'blackhole' || s.type === 'reject') return `${inetTo(r)} 127.0.0.1 -${s.type}`
  return `${inetTo(r)} ${quote(s.via ?? '')}${s.dev ? ` -ifp ${quote(s.dev)}` : ''}`
}

/** A route's own `!route` line in its interface's hostname.if, by destination and rtable; netstart wants the file 0640. */
const ownRoute = (r: Route): RouteLines => ({
  path: `/etc/hostname.${bootIface(r)}`,
  match: '$1 == "!route"',
  keys: 't = ""; k = ""; for (i = 2; i < NF; i++) { if ($i == "-T") t = $(i + 1); else if ($i ~ /^-T[0-9]/) t = substr($i, 3); if ($i == "add") { k = $(i + 1); if (k == "-inet") k = $(i + 2); break } }',
  dest: routeTo(r),
  table: r.table,
  mode: 0o640,
})
const RC_D = '/etc/rc.d'

export const openbsd: Platform = {
  os: 'openbsd',
  kernel: 'OpenBSD',
  // ospfd, bgpd and isakmpd are in base.
  routing: 'openbsd',
  ike: 'isakmpd',
  // No setsid(1) or daemon(8) in base: nohup ignores SIGHUP, & leaves the session's wait.
  detach: (command) => `nohup ${command} </dev/null >/dev/null 2>&1 &`,

  packages: {
    // pkg_info's database is a directory per installed package, named stem-version[-flavor].
    probe: (names) =>
      [
        `for p in ${quoteArgv(names)}; do`,
        'v=-',
        'for d in /var/db/pkg/"$p"-[0-9]*; do [ -d "$d" ] && v=${d#/var/db/pkg/"$p"-}; done',
        `printf '%s\\t%s\\n' "$p" "$v"`,
        'done',
      ].join('\n'),
    install: (names) => `pkg_add -I ${quoteArgv(names)}`,
    remove: (names) => `pkg_delete -I ${quoteArgv(names)}`,
  },

  services: {
    // `rcctl get NAME status` exits 0 when enabled, 1 when not, 2 when there is no such service
    // (special services such as ipsec and pf have no rc.d script but are services all the same).
    // A disabled daemon has no settings: `rcctl disable` drops them and `rcctl set` refuses.
    probe(name, keys) {
      const n = quote(name)
      return [
        `rcctl get ${n} status >/dev/null 2>&1; s=$?`,
        'if [ "$s" -gt 1 ]; then echo exists=0; else',
        'echo exists=1',
        'if [ "$s" -eq 0 ]; then echo enabled=1; else echo enabled=0; fi',
        `if rcctl check ${n} >/dev/null 2>&1; then echo running=1; else echo running=0; fi`,
        ...keys.map(
          (k) =>
            `if [ "$s" -eq 0 ]; then printf 'var ${k}=%s\\n' "$(rcctl get ${n} ${quote(k)})"; else echo 'var ${k}'; fi`,
        ),
        'fi',
      ].join('\n')
    },
    enable: (name) => `rcctl enable ${quote(name)}`,
    disable: (name) => `rcctl disable ${quote(name)}`,
    // rc.d scripts refuse to act on a daemon whose flags are NO unless forced.
    run: (name, action, enabled) => `rcctl ${enabled ? '' : '-f '}${action} ${quote(name)}`,
    vars: {
      // rcctl drops the rc.conf.local line when the value is the default, or none is given.
      set: (name, key, value) =>
        `rcctl set ${quote(name)} ${quote(key)}${value === undefined ? '' : ` ${quote(value)}`}`,
      whileEnabled: true,
    },
    // rc.subr names a daemon, and reads its NAME_flags, NAME_rtable…, after the script's name
    // (${0##*/}), so any rc.d script runs a second instance through a link to it; rcctl then
    // lists the instance in pkg_scripts, and `rcctl disable` takes every line of it away.
    instances: {
      // rc.subr's _rc_check_name: rcctl refuses any other name.
      refuse: (_base, name) =>
        /^[A-Za-z0-9_]+$/.test(name) ? undefined : `${name}: an rc.d script's name is letters, digits and _ only`,
      probe: (base, name) =>
        [
          `if [ -x ${quote(`${RC_D}/${base}`)} ]; then echo base=1; else echo base=0; fi`,
          `echo dir=${RC_D}`,
          instanceState(quote(`${RC_D}/${name}`), [quote(`${RC_D}/${base}`), quote(base)]),
        ].join('\n'),
      // As seed 001 makes it.
      link: (base, name, dir) => `ln -s ${quote(`${dir}/${base}`)} ${quote(`${dir}/${name}`)}`,
      unlink: (base, name, dir) => unlinkIf(`${dir}/${name}`, `${dir}/${base}`),
    },
  },

  sysctl: sysctlIn('/etc/sysctl.conf', (assignment) => `sysctl ${assignment}`),

  interfaces: {
    refuse: (iface) => bsdRefuse(iface, false),
    tunnelName: bsdTunnelName,
    domainIface: (n) => ({ name: `lo${n}`, kind: 'loopback' }),

    probe(iface) {
      const file = quote(hostnameIf(iface))
      return `${bsdLiveProbe(iface.name)}\n[ ! -f ${file} ] || sed 's/^/saved=/' ${file}`
    },

    change(iface, from, to) {
      const n = quote(iface.name)
      const d = ifaceDelta(from, to)
      if (d.destroy) return [`ifconfig ${n} destroy`]
      const adds = d.add.map((a, i) => {
        const alias = d.kept + i > 0 ? 'alias ' : ''
        return `ifconfig ${n} inet ${alias}${pair(a) ?? a}`
      })
      if (d.up && adds.length) adds[adds.length - 1] += ` ${upFlags(iface)}`
      return [
        ...(d.create ? [`ifconfig ${n} create`] : []),
        ...(d.tunnel ? [`ifconfig ${n} tunnel ${quote(d.tunnel.local)} ${quote(d.tunnel.remote)}`] : []),
        ...(d.vlan ? [`ifconfig ${n} vnetid ${d.vlan.id} parent ${quote(d.vlan.parent)}`] : []),
        ...(d.description === undefined
          ? []
          : [`ifconfig ${n} ${d.description ? `description ${quote(d.description)}` : '-description'}`]),
        ...d.remove.map((a) => `ifconfig ${n} inet ${localOf(a)} delete`),
        ...(d.domain === undefined ? [] : [`ifconfig ${n} ${d.domain ? `rdomain ${d.domain}` : '-rdomain'}`]),
        ...adds,
        ...(d.up === false ? [`ifconfig ${n} down`] : d.up && !adds.length ? [`ifconfig ${n} ${upFlags(iface)}`] : []),
      ]
    },

    savedIn: hostnameIf,

    // Seed 001's order: the vlan and its description, the domain, then the addresses, in
    // hostname.if(5)'s `inet ADDRESS NETMASK BROADCAST` form. The first address brings the
    // interface up (ifconfig(8)), so `up` is written only where there is none, or seed 003's
    // `link0 up` after a tunnel's pair.
    render(iface, state, current) {
      if (!state.exists) return []
      const lines = [
        ...(state.tunnel ? [`tunnel ${state.tunnel.local} ${state.tunnel.remote}`] : []),
        ...(state.vlan ? [`vnetid ${state.vlan.id} parent ${state.vlan.parent}`] : []),
        ...(state.description ? [`description ${hostnameIfWord(state.description)}`] : []),
        ...(state.domain ? [`rdomain ${state.domain}`] : []),
      ]
      state.addresses.forEach((a, i) => {
        const { address, prefix } = routeDest(a)
        lines.push(
          pair(a) ? `${pair(a)}${i ? ' alias' : ''}` : `inet ${i ? 'alias ' : ''}${address} ${dottedMask(prefix)} NONE`,
        )
      })
      // Options may follow a bare address line, not an `inet` one (netstart reads its netmask there).
      const last = state.addresses.at(-1)
      if (last && pair(last)) lines[lines.length - 1] += ` ${upFlags(iface)}`
      else if (!last || iface.kind === 'gre') lines.push(upFlags(iface))
      // Routes (route steps' lines) stay, after the address they need.
      return [...lines, ...current.filter((l) => ROUTE_LINE.test(l))]
    },

    save: (iface, lines, current) => saveFile(hostnameIf(iface), lines, current, 0o640),
  },

  net: { ...bsdNet, staticRoutes: bsdStaticRoutes((t) => `route -T${t} -n show -inet`) },

  // cron(8) reads only /var/cron/tabs and /etc/crontab: no directory of system crontabs.
  cron: vixieCron({ spool: '/var/cron/tabs', specials: CRON_SPECIALS }),
  // useradd(8) and its kin. Without -g, useradd makes a group named after the user (usermgmt.conf's
  // default `=uid`), which userdel leaves behind. usermod -S sets the supplementary groups exactly
  // (-G appends). No setHash: useradd -p, usermod -p and chpass -a take the hash only in argv,
  // where ps shows it to every user (usermod blanks its copy only once it has started), and chpass
  // otherwise reads one only from $EDITOR's file, rewriting the whole entry (the comment too).
  users: {
    probeUser: (name, o) => userProbe(name, o, bsdHash(name), 'sha256'),
    probeGroup: groupProbe,
    addUser: (name, a, home) => `useradd ${quoteArgv([...newAccountFlags(a), ...(home ? ['-m'] : []), name])}`,
    modUser: (name, a) => `usermod ${quoteArgv([...accountFlags(a, '-S'), name])}`,
    delUser: (name, o) =>
      `userdel ${o.home ? '-r ' : ''}${quote(name)}${o.group ? ` && { ! getent group ${quote(name)} >/dev/null || groupdel ${quote(name)}; }` : ''}`,
    printHash: bsdHash,
    addGroup: (name, gid) => `groupadd ${gid === undefined ? '' : `-g ${gid} `}${quote(name)}`,
    modGroup: (name, gid) => `groupmod -g ${gid} ${quote(name)}`,
    delGroup: (name) => `groupdel ${quote(name)}`,
    // groupmod takes no members: each user is appended to the group (-G).
    addMembers: (name, users) => users.map((u) => `usermod -G ${quote(name)} ${quote(u)}`).join(' && '),
    noSetHash: {
      why: 'OpenBSD takes a password hash only as an argument (usermod -p), which any local user can read with ps',
      byHand: 'vipw',
    },
  },
  routes: {
    refuse(r) {
      if (r.dev && !r.via && !r.type)
        return "OpenBSD's route(8) names an interface route by the interface's own address (-iface ADDRESS), not by its name: give via"
      if (r.table !== undefined && r.table > 255) return `OpenBSD has no rtable ${r.table} (0 to 255)`
      if (r.persist && !bootIface(r))
        return "OpenBSD keeps a route as a `!route` line in an interface's /etc/hostname.IF: give dev or iface, or set persist: false"
      return undefined
    },

    probe(r) {
      const live = bsdRouteProbe(`${route(r, '-n')} get ${routeTo(r)}`, r.to)
      const iface = r.persist ? bootIface(r) : undefined
      if (!iface) return live
      return `${live}\n${routeLinesProbe(ownRoute(r), `${iface} has no /etc/hostname.${iface} (give it an iface step)`)}`
    },

    change(r, from, to) {
      const del = `${route(r)} delete ${inetTo(r)}`
      if (!to) return from ? [del] : []
      if (!from) return [`${route(r)} add ${routeArgs(r, to)}`]
      // A new gateway is a change; another kind of route is made anew.
      if (from.via && to.via && !from.type && !to.type) return [`${route(r)} change ${routeArgs(r, to)}`]
      return [del, `${route(r)} add ${routeArgs(r, to)}`]
    },

    savedIn: (r) => `/etc/hostname.${bootIface(r)}`,

    render: (r, state) => (state ? [`!${route(r)} add ${routeArgs(r, state)}`] : []),

    // In place: the interface's lines and other routes stay.
    save: (r, lines, current) => saveRouteLines(ownRoute(r), lines, current),
  },

  // pkg_add never starts a service: rc.d scripts run only once enabled.
  heldInstall: { probe: '', install: (names) => `pkg_add -I ${quoteArgv(names)}` },
}
