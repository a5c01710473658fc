// Debian, with or without systemd. Whether systemd runs is decided on the host, in each snippet
// (`/run/systemd/system` exists only while it is PID 1), never from the inventory: the lab and
// many containers run Debian without it, with sysvinit scripts and update-rc.d.
//
// Interfaces persist through ifupdown: one file per interface in /etc/network/interfaces.d,
// whose `up`/`pre-up` lines are the very `ip` commands ferry runs live.

import { quote, quoteArgv } from '../shell/quote.ts'
import type { Fact } from '../facts/ospf.ts'
import { linuxLabJails } from '../jails/linux-lab.ts'
import { ifaceDelta, instanceState, saveFile, sysctlIn, tcpCheck, unlinkIf } from './common.ts'
import type { Iface, NextHop, Platform, Tunnel, TunnelIfaceKind } from './types.ts'

const SYSTEMD = '[ -d /run/systemd/system ]'
const INIT_D = '/etc/init.d'

// Three `ip -o` outputs, normalised: the flags of `ip -o link`, the addresses of `ip -o -4 addr`
// (`inet 172.16.2.1 peer 172.16.2.2/32` for point-to-point) and the endpoints of `ip tunnel`.
const UP_AWK = `{ u = ($3 ~ /[<,]UP[,>]/); print "up=" u }`
const ADDR_AWK = `{ for (i = 1; i < NF; i++) if ($i == "inet") { a = $(i + 1); if ($(i + 2) == "peer") { p = $(i + 3); sub(/\\/32$/, "", p); print "addr=" a " peer " p } else print "addr=" a; break } }`
const TUNNEL_AWK = `{ for (i = 1; i < NF; i++) { if ($i == "local") l = $(i + 1); if ($i == "remote") r = $(i + 1) } } END { if (l != "" && l != "any" && r != "" && r != "any") print "tunnel=" l " " r }`

// What creating a device of each kind needs of the kernel, where the probe can tell it is not
// there: a container without /dev/net/tun; a kernel whose ip_gre is neither loaded (nor built
// in: /sys/module has it then too) nor loadable (the lab's has no module support at all).
const NO_CREATE: Record<TunnelIfaceKind, string> = {
  tap: "[ -c /dev/net/tun ] || echo 'nocreate=/dev/net/tun is missing (no TUN/TAP in this kernel or container)'",
  tun: "[ -c /dev/net/tun ] || echo 'nocreate=/dev/net/tun is missing (no TUN/TAP in this kernel or container)'",
  gre: "[ -d /sys/module/ip_gre ] || { [ -e /proc/modules ] && modprobe -n -q ip_gre 2>/dev/null; } || echo 'nocreate=the kernel has no GRE (ip_gre is neither loaded nor loadable)'",
}

/** Loopback addresses go on `lo` itself, labelled `lo:1` for `lo1`, so the probe can tell them apart. */
function label(iface: Iface): string {
  return `lo:${iface.name.slice(2)}`
}

function dev(iface: Iface): string {
  return iface.kind === 'loopback' ? 'lo' : iface.name
}

function savedIn(iface: Iface): string {
  return `/etc/network/interfaces.d/${iface.name}`
}

// An address is `A/P` or `A peer B`: its words go to `ip addr` as separate arguments.
const addrAdd = (i: Iface, a: string) =>
  `ip addr add ${quoteArgv(a.split(' '))} dev ${quote(dev(i))}${i.kind === 'loopback' ? ` label ${quote(label(i))}` : ''}`
const addrDel = (i: Iface, a: string) =>
  `ip addr del ${quoteArgv(a.split(' '))} dev ${quote(dev(i))}${i.kind === 'loopback' ? ` label ${quote(label(i))}` : ''}`
const linkSet = (i: Iface, up: boolean) => `ip link set ${quote(dev(i))} ${up ? 'up' : 'down'}`
const greTunnel = (i: Iface, verb: 'add' | 'change', t: Tunnel) =>
  `ip tunnel ${verb} ${quote(i.name)} mode gre local ${quote(t.local)} remote ${quote(t.remote)} ttl 255`

/** Creating and destroying the device itself; a loopback "interface" is only its addresses. */
function lifecycle(i: Iface, tunnel: Tunnel | undefined): { create?: string; destroy?: string } {
  const n = quote(i.name)
  if (i.kind === 'gre') return { create: tunnel && greTunnel(i, 'add', tunnel), destroy: `ip tunnel del ${n}` }
  if (i.kind === 'tap' || i.kind === 'tun')
    return { create: `ip tuntap add dev ${n} mode ${i.kind}`, destroy: `ip tuntap del dev ${n} mode ${i.kind}` }
  return {}
}

/** `ip -4 route get`: `172.16.3.17 via 172.16.2.5 dev tap14 src 10.0.0.1 uid 0`. */
export const linuxRouteTo = (address: string): Fact<NextHop | undefined> => ({
  command: `ip -4 route get ${quote(address)}`,
  parse(stdout) {
    const dev = / dev (\S+)/.exec(stdout)?.[1]
    if (!dev) return undefined
    const via = / via (\S+)/.exec(stdout)?.[1]
    return via ? { gateway: via, dev } : { dev }
  },
})

export const linux: Platform = {
  os: 'linux',
  kernel: 'Linux',
  // What the lab runs and proves.
  routing: 'frr',
  ike: 'strongswan',
  // A new session: no SIGHUP when sshd tears the old one down, and no terminal to lose.
  detach: (command) => `setsid -f ${command} </dev/null >/dev/null 2>&1`,

  packages: {
    // One dpkg-query for all the names (it reads the whole status database each time). It also
    // knows removed packages whose conffiles remain ("deinstall ok config-files"), hence the
    // status test; a name may be asked for with its architecture (libc6:amd64) or without.
    probe: (names) =>
      [
        `dpkg-query -W -f='\${binary:Package}\\t\${Package}\\t\${Status}\\t\${Version}\\n' -- ${quoteArgv(names)} 2>/dev/null |`,
        `awk -F '\\t' 'BEGIN { for (i = 1; i < ARGC; i++) want[i] = ARGV[i]; n = ARGC; ARGC = 1 }`,
        '$3 ~ / installed$/ { v[$1] = $4; v[$2] = $4 }',
        `END { for (i = 1; i < n; i++) printf "%s\\t%s\\n", want[i], (want[i] in v ? v[want[i]] : "-") }' ${quoteArgv(names)}`,
      ].join('\n'),
    install: (names) => `DEBIAN_FRONTEND=noninteractive apt-get install -y ${quoteArgv(names)}`,
    remove: (names) => `DEBIAN_FRONTEND=noninteractive apt-get remove -y ${quoteArgv(names)}`,
    // apt-get install installs from the lists as they are (it never updates them), so its
    // simulation, run only for names missing, says what the install would: an unknown package,
    // one with no candidate, dependencies that cannot be met. It reads; it takes no lock.
    installable: (names) =>
      [
        'set --',
        `for p in ${quoteArgv(names)}; do case $(dpkg-query -W -f='\${Status}' -- "$p" 2>/dev/null) in *' installed') ;; *) set -- "$@" "$p" ;; esac; done`,
        `if [ $# -gt 0 ] && ! e=$(LC_ALL=C apt-get install -s -q -y -- "$@" 2>&1 >/dev/null); then printf 'cannot=%s\\n' "$(printf '%s\\n' "$e" | sed -n 's/^E: //p' | head -n 1)"; fi`,
      ].join('\n'),
  },

  services: {
    probe(name) {
      const n = quote(name)
      return [
        `if ${SYSTEMD}; then`,
        `if [ "$(systemctl show -p LoadState --value ${n} 2>/dev/null)" = loaded ]; then echo exists=1; else echo exists=0; fi`,
        `if systemctl is-enabled -q ${n} 2>/dev/null; then echo enabled=1; else echo enabled=0; fi`,
        `if systemctl is-active -q ${n}; then echo running=1; else echo running=0; fi`,
        'else',
        `if [ -x /etc/init.d/${n} ]; then echo exists=1; else echo exists=0; fi`,
        // Globs, not ls: a pattern that matches nothing stays itself, which does not exist.
        `set -- /etc/rc[2345].d/S??${n}; if [ -e "$1" ]; then echo enabled=1; else echo enabled=0; fi`,
        // The init script itself: service(8) only runs it in a clean environment, for a third more.
        `if /etc/init.d/${n} status >/dev/null 2>&1; then echo running=1; else echo running=0; fi`,
        // Any rc.d link at all, S or K: disabling keeps K links, so only this tells a service
        // that was never registered from one that was disabled.
        `set -- /etc/rc[0-6S].d/[SK]??${n}; if [ -e "$1" ]; then echo links=1; else echo links=0; fi`,
        'fi',
      ].join('\n')
    },
    // `defaults` creates the rc.d links a package installed without an init system may lack;
    // `enable` then turns existing K links into S links.
    enable: (name) =>
      `if ${SYSTEMD}; then systemctl enable ${quote(name)}; else update-rc.d ${quote(name)} defaults && update-rc.d ${quote(name)} enable; fi`,
    disable: (name) =>
      `if ${SYSTEMD}; then systemctl disable ${quote(name)}; else update-rc.d ${quote(name)} disable; fi`,
    run: (name, action) =>
      `if ${SYSTEMD}; then systemctl ${action} ${quote(name)}; else service ${quote(name)} ${action}; fi`,
    unregister: (name) =>
      `if ${SYSTEMD}; then systemctl disable ${quote(name)}; else update-rc.d ${quote(name)} remove; fi`,
    // systemd runs BASE@INSTANCE from the template unit BASE@.service, with nothing to make. An
    // LSB init script, though, is one daemon with its pidfile and settings written in: a link to
    // it would only run that daemon again. So without systemd, a link /etc/init.d/BASE@INSTANCE
    // is made only to a script that says, in its LSB header, that it names itself after the
    // name it is run by (`# X-Ferry-Instances: yes`), and only where update-rc.d makes the rc.d
    // links by name: insserv orders scripts by the facilities they provide, and a link would
    // provide BASE's a second time.
    instances: {
      refuse: (base, name) =>
        name.startsWith(`${base}@`) && name.length > base.length + 1
          ? undefined
          : `${name}: an instance of ${base} is named ${base}@INSTANCE on Linux (systemd's template units)`,
      probe(base, name) {
        const script = quote(`${INIT_D}/${base}`)
        return [
          `if ${SYSTEMD}; then`,
          `if systemctl cat ${quote(`${base}@.service`)} >/dev/null 2>&1; then echo base=1; else echo base=0; fi`,
          'echo instance=template',
          'else',
          `echo dir=${INIT_D}`,
          `if [ -x ${script} ]; then echo base=1; else echo base=0; fi`,
          `if [ -x ${script} ] && ! sed -n '/^### BEGIN INIT INFO/,/^### END INIT INFO/p' ${script} | grep -q '^# X-Ferry-Instances: *yes'; then`,
          `echo ${quote(`refuse=${INIT_D}/${base} does not say it names itself after the name it is run by ("# X-Ferry-Instances: yes" in its LSB header), so a link would run ${base} itself again`)}`,
          'fi',
          'if { [ -x /sbin/insserv ] || [ -x /usr/lib/insserv/insserv ]; } && [ -e /etc/insserv.conf ]; then',
          `echo ${quote(`refuse=insserv orders init scripts by the facilities they provide, and a link would provide ${base}'s a second time`)}`,
          'fi',
          instanceState(quote(`${INIT_D}/${name}`), [quote(base), script]),
          'fi',
        ].join('\n')
      },
      link: (base, name, dir) => `ln -s ${quote(base)} ${quote(`${dir}/${name}`)}`,
      unlink: (base, name, dir) => unlinkIf(`${dir}/${name}`, base),
    },
  },

  // 60 sorts after the distribution's 50-*.conf and before the admin's 99-sysctl.conf.
  // A key's file in /proc/sys, whose mode (or a read-only mount, in a container) tells root too
  // whether writing it would fail. A key with a / in it is already that path: its dots are dots.
  sysctl: sysctlIn(
    '/etc/sysctl.d/60-ferry.conf',
    (assignment) => `sysctl -w ${assignment}`,
    (key) => {
      const f = quote(`/proc/sys/${key.includes('/') ? key : key.replaceAll('.', '/')}`)
      return `[ ! -e ${f} ] || [ -w ${f} ] || echo ${quote(`readonly=${f} is not writable (a value fixed at boot, or /proc/sys mounted read-only)`)}`
    },
  ),

  interfaces: {
    refuse(iface) {
      if (iface.name.length > 15) return `${iface.name}: Linux interface names are at most 15 characters`
      if (iface.kind === 'loopback' && !/^lo[0-9]+$/.test(iface.name))
        return `${iface.name}: a loopback alias is named loN (its addresses go on lo, labelled lo:N)`
      if (iface.kind === 'gre' && iface.name === 'gre0')
        return 'gre0 is the fallback device of the Linux gre module and cannot be configured; name the tunnel gre1 or after its peer'
      return undefined
    },

    // gre0 is taken (see refuse), so ferry's GRE tunnels are gre-N; gre-0 is free.
    tunnelName: (kind, n) => `${kind === 'gre' ? 'gre-' : kind}${n}`,

    probe(iface) {
      const file = quote(savedIn(iface))
      // Without ifupdown nothing reads the file at boot, so writing it would be no persistence.
      const saved = `[ ! -f ${file} ] || sed 's/^/saved=/' ${file}\n[ -d /etc/network/interfaces.d ] || echo 'nosave=/etc/network/interfaces.d is missing (is ifupdown installed?)'`
      if (iface.kind === 'loopback') {
        return [
          `a=$(ip -o -4 addr show dev lo label ${label(iface)} | awk '${ADDR_AWK}')`,
          'if [ -n "$a" ]; then echo exists=1; printf \'%s\\n\' "$a"; else echo exists=0; fi',
          `ip -o link show dev lo | awk '${UP_AWK}'`,
          saved,
        ].join('\n')
      }
      const n = quote(iface.name)
      return [
        `if ip link show dev ${n} >/dev/null 2>&1; then`,
        'echo exists=1',
        `ip -o link show dev ${n} | awk '${UP_AWK}'`,
        `ip -o -4 addr show dev ${n} | awk '${ADDR_AWK}'`,
        ...(iface.kind === 'gre' ? [`ip tunnel show ${n} 2>/dev/null | awk '${TUNNEL_AWK}'`] : []),
        `else echo exists=0; echo up=0; ${NO_CREATE[iface.kind]}; fi`,
        saved,
      ].join('\n')
    },

    change(iface, from, to) {
      const d = ifaceDelta(from, to)
      const { create, destroy } = lifecycle(iface, to.tunnel)
      if (d.destroy) return destroy ? [destroy] : from.addresses.map((a) => addrDel(iface, a))
      return [
        ...(d.create && create ? [create] : []),
        ...(d.tunnel && !d.create ? [greTunnel(iface, 'change', d.tunnel)] : []),
        ...d.remove.map((a) => addrDel(iface, a)),
        ...d.add.map((a) => addrAdd(iface, a)),
        ...(d.up === undefined ? [] : [linkSet(iface, d.up)]),
      ]
    },

    savedIn,

    render(iface, state) {
      if (!state.exists) return []
      const { create, destroy } = lifecycle(iface, state.tunnel)
      const stanza = iface.kind === 'loopback' ? label(iface) : iface.name
      return [
        `# ${iface.name}, managed by ferry`,
        `auto ${stanza}`,
        `iface ${stanza} inet manual`,
        ...(create ? [`    pre-up ${create}`] : []),
        ...state.addresses.map((a) => `    up ${addrAdd(iface, a)}`),
        ...(iface.kind === 'loopback'
          ? state.addresses.map((a) => `    down ${addrDel(iface, a)}`)
          : [`    up ${linkSet(iface, true)}`]),
        ...(destroy ? [`    post-down ${destroy}`] : []),
      ]
    },

    save: (iface, lines, current) => saveFile(savedIn(iface), lines, current, 0o644),
  },

  net: {
    routeTo: linuxRouteTo,
    // Debian has bash's /dev/tcp but not always nc. Under sshd, bash reads ~/.bashrc unless told
    // not to, and a slow one (pyenv init took over a second here) would eat the timeout.
    tcpOpen: (address, port) =>
      tcpCheck(`timeout 3 bash --norc --noprofile -c ${quote(`exec 3<>/dev/tcp/${address}/${port}`)}`),
  },
  jails: linuxLabJails,
}
