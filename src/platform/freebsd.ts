// FreeBSD: pkg, rc.d services driven by rc.conf variables through sysrc, /etc/sysctl.conf, and
// interfaces cloned at boot from `cloned_interfaces` and `ifconfig_NAME` in rc.conf.
//
// Service settings go to /etc/rc.conf.local, as seed 000 does (`sysrc quagga_enable=YES -f
// /etc/rc.conf.local`; sysrc takes its options first). rc.conf.local is read after rc.conf, so
// a value there wins wherever else the variable is set. Interface settings are written by plain
// sysrc, which edits the file that already sets a variable and otherwise /etc/rc.conf, where
// seed 000 puts `cloned_interfaces="lo1"` and `ifconfig_lo1="inet 10.0.0.1/32"`.

import { quote, quoteArgv } from '../shell/quote.ts'
import { freebsdJails } from '../jails/freebsd.ts'
import {
  bsdLiveProbe,
  bsdNet,
  bsdRefuse,
  bsdTunnelName,
  ifaceDelta,
  instanceState,
  localOf,
  pair,
  sysctlIn,
  unlinkIf,
} from './common.ts'
import type { Iface, IfaceState, Platform } from './types.ts'

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
    // openvpn_foo_* variables). Most scripts set name="…" instead: run under the new name, their
    // rcvar is still BASE_enable, which the probe asks of the script itself (rcvar only prints).
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
          `if [ -x "$d"/${quote(base)} ] && ! B="$d"/${quote(base)} sh -c '. "$B"' "$d"/${quote(name)} rcvar 2>/dev/null | grep -q ${quote(`^${name}_enable=`)}; then`,
          `echo ${quote(`refuse=${base}'s rc.d script does not name itself after the name it is run by (its rcvar run as ${name} is not ${name}_enable)`)}`,
          'fi',
        ].join('\n')
      },
      link: (base, name, dir) => `ln -s ${quote(base)} ${quote(`${dir}/${name}`)}`,
      unlink: (base, name, dir) => unlinkIf(`${dir}/${name}`, base),
    },
  },

  sysctl: sysctlIn('/etc/sysctl.conf', (assignment) => `sysctl ${assignment}`),

  interfaces: {
    refuse: (iface) => bsdRefuse(iface, true),
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
      const cloned = vars(current).get('cloned_interfaces')
      const had = members(cloned)
      // The interface keeps its place in the list; a new one goes last.
      const list = state.exists ? (had.includes(n) ? had : [...had, n]) : had.filter((m) => m !== n)
      const lines: string[] = []
      if (state.exists) {
        const [first, ...aliases] = state.addresses.map(inet)
        const main = [first, state.tunnel && `tunnel ${state.tunnel.local} ${state.tunnel.remote}`]
          .filter(Boolean)
          .join(' ')
        if (main) lines.push(`ifconfig_${n}="${main}"`)
        aliases.forEach((a, i) => lines.push(`ifconfig_${n}_alias${i}="${a}"`))
      }
      return [
        ...(cloned !== undefined || list.length ? [`cloned_interfaces="${list.join(' ')}"`] : []),
        ...lines.sort(),
      ]
    },

    save(iface, lines, current) {
      const n = iface.name
      const want = vars(lines)
      const have = vars(current)
      const wanted = members(want.get('cloned_interfaces')).includes(n)
      const had = members(have.get('cloned_interfaces')).includes(n)
      const out = wanted === had ? [] : [`sysrc cloned_interfaces${wanted ? '+' : '-'}=${quote(n)}`]
      for (const [k, v] of want)
        if (k !== 'cloned_interfaces' && have.get(k) !== v) out.push(`sysrc ${quote(k)}=${quote(v)}`)
      for (const k of have.keys()) if (k !== 'cloned_interfaces' && !want.has(k)) out.push(`sysrc -x ${quote(k)}`)
      return out
    },
  },

  net: bsdNet,
  jails: freebsdJails,
}
