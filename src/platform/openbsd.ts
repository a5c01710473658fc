// OpenBSD: pkg_add, rcctl, /etc/sysctl.conf, /etc/hostname.if. ospfd, bgpd, isakmpd and
// ipsecctl are in base, not packages.
//
// hostname.if lines are fed to ifconfig by netstart, except that a line starting with `inet` is
// read as `inet ADDRESS [NETMASK [BROADCAST]] [OPTIONS]`. Seed 003's point-to-point `ifconfig
// gre0 inet A B netmask 0xffffffff link0 up` therefore goes in without its `inet`: a bare
// address line is passed through whole, and ifconfig's family defaults to inet.

import { quote, quoteArgv } from '../shell/quote.ts'
import {
  bsdLiveProbe,
  bsdNet,
  bsdRefuse,
  bsdTunnelName,
  ifaceDelta,
  instanceState,
  localOf,
  pair,
  saveFile,
  sysctlIn,
  unlinkIf,
} from './common.ts'
import type { Iface, Platform } from './types.ts'

/** The flags that come with `up`: seed 003 sets link0 on gre, with up, on the address line. */
const upFlags = (iface: Iface) => (iface.kind === 'gre' ? 'link0 up' : 'up')

const hostnameIf = (iface: Iface) => `/etc/hostname.${iface.name}`

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
        ...d.remove.map((a) => `ifconfig ${n} inet ${localOf(a)} delete`),
        ...adds,
        ...(d.up === false ? [`ifconfig ${n} down`] : d.up && !adds.length ? [`ifconfig ${n} ${upFlags(iface)}`] : []),
      ]
    },

    savedIn: hostnameIf,

    render(iface, state) {
      if (!state.exists) return []
      const lines = state.tunnel ? [`tunnel ${state.tunnel.local} ${state.tunnel.remote}`] : []
      state.addresses.forEach((a, i) =>
        lines.push(pair(a) ? `${pair(a)}${i ? ' alias' : ''}` : `inet ${i ? 'alias ' : ''}${a}`),
      )
      // Options may follow a bare address line, not an `inet` one (netstart reads its netmask there).
      const last = state.addresses.at(-1)
      if (last && pair(last)) lines[lines.length - 1] += ` ${upFlags(iface)}`
      else lines.push(upFlags(iface))
      return lines
    },

    save: (iface, lines, current) => saveFile(hostnameIf(iface), lines, current, 0o640),
  },

  net: bsdNet,
}
