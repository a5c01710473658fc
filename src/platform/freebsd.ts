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
  CRON_SPECIALS,
  accountFlags,
  bsdHash,
  bsdLiveProbe,
  bsdNet,
  bsdRefuse,
  bsdTunnelName,
  ifaceDelta,
  localOf,
  pair,
  sysctlIn,
  vixieCron,
  groupProbe,
  hashDigest,
  newAccountFlags,
  userProbe,
} from './common.ts'
import type { Iface, IfaceState, Platform } from './types.ts'

const RC_LOCAL = '/etc/rc.conf.local'

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
    probeUser: (name, o) => userProbe(name, o, o.hash ? hashDigest(bsdHash(name), 'sha256') : undefined),
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
}
