// Debian, with or without systemd. Whether systemd runs is decided on the host, in each snippet
// (`/run/systemd/system` exists only while it is PID 1), never from the inventory: the lab and
// many containers run Debian without it, with sysvinit scripts and update-rc.d.
//
// Interfaces persist where the host keeps them, as the probe finds it (the plan names the files):
// - ifupdown, when /etc/network/interfaces.d is there (and ifupdown is installed, or systemd-networkd
//   does not run): one file per interface, whose `up`/`pre-up` lines are the very `ip` commands
//   ferry runs live. A `route` kept with the interface is a pair of `up`/`down` lines in it.
// - systemd-networkd, when /etc/systemd/network is there: `50-ferry-IF.netdev` and
//   `50-ferry-IF.network` for a tunnel or tap; a loopback alias is a drop-in of its own,
//   `50-ferry-lo.network.d/loN.conf`, under one `50-ferry-lo.network` that matches lo (networkd
//   applies only the first .network that matches a link, so the aliases cannot each have one).
//   A route is a drop-in of its own beside its interface's. networkd is reloaded when it runs;
//   where it does not, it reads the files when it starts.
// - vlan and vrf: a VRF device vrfN (table N) is a routing domain's own interface; a member joins
//   it with `master vrfN`. ifupdown keeps a vrf in `00-vrfN`, so it comes up before its members
//   (see ifupdownFile); networkd makes a vlan from its parent's .network, so ferry adds a drop-in
//   `ferry-vlan-IF.conf` (`VLAN=IF`) beside the .network the parent already has (see PARENT_NETWORK).
//   A description is the link's alias: an ifupdown `pre-up` line, or a udev .link file.
// With neither, a persisted interface is refused at plan time.

import { quote, quoteArgv } from '../shell/quote.ts'
import type { Fact } from '../facts/ospf.ts'
import { linuxLabJails } from '../jails/linux-lab.ts'
import {
  accountFlags,
  bootIface,
  CRON_SPECIALS,
  dirOf,
  fileHeader,
  groupProbe,
  ifaceDelta,
  linuxStaticRoutes,
  instanceState,
  newAccountFlags,
  removeFile,
  replaceFile,
  routeLinesProbe,
  type RouteLines,
  saveFile,
  saveRouteLines,
  siblingLink,
  splitFiles,
  sysctlIn,
  tcpCheck,
  userProbe,
  vixieCron,
  writeFile,
} from './common.ts'
import type { Iface, IfaceKind, IfaceState, NextHop, Platform, Route, RouteState, Rule, Tunnel } from './types.ts'

const SYSTEMD = '[ -d /run/systemd/system ]'

// invoke-rc.d, which Debian's maintainer scripts start services through (deb-systemd-invoke too),
// asks this script first; 101 is "forbidden". ferry's own answers 101 only while the command that
// wrote it runs (`$$`: that command's sh), so one a killed run left behind forbids nothing, and its
// second line names it ferry's, so the next held install replaces it. Another one (Docker images
// ship one answering 101) is the administrator's: used as it is where it forbids, never replaced.
const POLICY = '/usr/sbin/policy-rc.d'
const POLICY_MINE = '# ferry: held install'
const THEIRS = `{ [ -e ${POLICY} ] || [ -h ${POLICY} ]; } && ! sed -n 2p ${POLICY} 2>/dev/null | grep -qx ${quote(POLICY_MINE)}`
const aptInstall = (names: readonly string[]) => `DEBIAN_FRONTEND=noninteractive apt-get install -y ${quoteArgv(names)}`
const INIT_D = '/etc/init.d'

// Three `ip -o` outputs, normalised: the flags of `ip -o link`, the addresses of `ip -o -4 addr`
// (`inet 172.16.2.1 peer 172.16.2.2/32` for point-to-point) and the endpoints of `ip tunnel`.
const UP_AWK = `{ u = ($3 ~ /[<,]UP[,>]/); print "up=" u }`
// `ip -d -o link show dev X`, one line whose parts `-o` joins with a backslash: the name
// `vlan6@eth0:` (a vlan's parent), then parts such as `vlan protocol 802.1Q id 6 <REORDER_HDR> …`,
// `vrf table 1 …` (a VRF device), `vrf_slave table 1 …` (a VRF's member: the kernel reports its
// master's table) and `alias TEXT` (the description, which cannot hold a backslash).
const LINK_AWK = [
  '{ n = split($0, s, /\\\\/); p = $2; sub(/:$/, "", p); at = index(p, "@"); par = at ? substr(p, at + 1) : ""',
  '  for (i = 2; i <= n; i++) { t = s[i]; sub(/^ +/, "", t); split(t, w, " ")',
  '    if (w[1] == "vlan" && w[2] == "protocol" && w[4] == "id" && par != "") print "vlan=" w[5] " " par',
  '    else if ((w[1] == "vrf" || w[1] == "vrf_slave") && w[2] == "table" && w[3] != "0") print "domain=" w[3]',
  '    else if (w[1] == "alias") { sub(/^alias /, "", t); print "description=" t } } }',
].join('\n')
const ADDR_AWK = `{ for (i = 1; i < NF; i++) if ($i == "inet") { a = $(i + 1); if ($(i + 2) == "peer") { p = $(i + 3); sub(/\\/32$/, "", p); print "addr=" a " peer " p } else print "addr=" a; break } }`
const TUNNEL_AWK = `{ for (i = 1; i < NF; i++) { if ($i == "local") l = $(i + 1); if ($i == "remote") r = $(i + 1) } } END { if (l != "" && l != "any" && r != "" && r != "any") print "tunnel=" l " " r }`

// What creating a device of each kind needs of the kernel, where the probe can tell it is not
// there: a container without /dev/net/tun; a kernel whose ip_gre is neither loaded (nor built
// in: /sys/module has it then too) nor loadable (the lab's has no module support at all).
const needsModule = (module: string, what: string) =>
  `[ -d /sys/module/${module} ] || { [ -e /proc/modules ] && modprobe -n -q ${module} 2>/dev/null; } || echo 'nocreate=the kernel has no ${what} (${module} is neither loaded nor loadable)'`
const NO_TUN = "[ -c /dev/net/tun ] || echo 'nocreate=/dev/net/tun is missing (no TUN/TAP in this kernel or container)'"
const NO_CREATE: Record<Exclude<IfaceKind, 'loopback'>, string> = {
  tap: NO_TUN,
  tun: NO_TUN,
  gre: needsModule('ip_gre', 'GRE'),
  vlan: needsModule('8021q', '802.1Q'),
  vrf: needsModule('vrf', 'VRF'),
}

/** Loopback addresses go on `lo` itself, labelled `lo:1` for `lo1`, so the probe can tell them apart. */
function label(iface: Iface): string {
  return `lo:${iface.name.slice(2)}`
}

function dev(iface: Iface): string {
  return iface.kind === 'loopback' ? 'lo' : iface.name
}

/** The VRF device of routing domain `n`, whose table is `n`: what members join (`master vrfN`). */
const vrfName = (n: number) => `vrf${n}`
const VRF_NAME = /^vrf[0-9]+$/

/**
 * ifupdown's file for an interface, named after it (`lo1` for the alias whose stanza is `lo:1`),
 * but `00-vrfN` for a VRF device. `source /etc/network/interfaces.d/*` reads the files in glob
 * order and `ifup -a` brings the `auto` stanzas up in the order read, and a member's
 * `pre-up ip link set dev IF master vrfN` fails unless vrfN is there: so the VRF's file sorts
 * before every other (digits before letters, in C's order and in the locales'). A member making
 * the VRF itself when it is missing would make it without its stanza (its addresses, its routes),
 * and vrfN's own `pre-up ip link add` would then fail. Routes kept with vrfN find the same file.
 */
function ifupdownFile(name: string): string {
  return `/etc/network/interfaces.d/${VRF_NAME.test(name) ? '00-' : ''}${name}`
}

// Which of the two keeps the boot configuration, decided on the host by every probe that needs
// it. ifupdown wins where its directory is, as before networkd was known here, unless networkd
// runs and ifupdown is not installed (a directory left behind).
const NETWORKD_RUNNING = '[ -d /run/systemd/system ] && systemctl is-active -q systemd-networkd'
const IFUPDOWN_READS = `[ -d /etc/network/interfaces.d ] && { command -v ifup >/dev/null || ! { ${NETWORKD_RUNNING}; }; }`
const NETWORKD = '/etc/systemd/network'
const NOSAVE = 'nosave=neither /etc/network/interfaces.d (ifupdown) nor /etc/systemd/network (systemd-networkd) is here'
/** The network configuration a probe names (`netconfig=networkd`); ifupdown's probes name none, as before. */
const isNetworkd = (netConfig: string | undefined) => netConfig === 'networkd' || !!netConfig?.startsWith('networkd ')
/** A vlan's probe names its parent's .network after the word: `netconfig=networkd /etc/systemd/network/10-eth0.network`. */
const parentNetwork = (netConfig: string | undefined) =>
  netConfig?.startsWith('networkd ') ? netConfig.slice('networkd '.length) : undefined

/**
 * A probe's boot half: ifupdown's lines, or networkd's (after `netconfig=networkd`, or what
 * `named` prints in its place), or why neither.
 */
const netConfigProbe = (ifupdown: string, networkd: string, named = 'echo netconfig=networkd') =>
  [
    `if ${IFUPDOWN_READS}; then`,
    ifupdown,
    `elif [ -d ${NETWORKD} ]; then`,
    named,
    networkd,
    `else echo ${quote(NOSAVE)}`,
    'fi',
  ].join('\n')

/** networkd rereads its files when told; where it does not run, it reads them when it starts. */
const NETWORKD_RELOAD = `if ${NETWORKD_RUNNING}; then networkctl reload; fi`

/** ferry's .network for a device: the tunnel's own, or lo's, shared by every loopback alias. */
const networkFile = (device: string) => `${NETWORKD}/50-ferry-${device}.network`
/** Where drop-ins for that .network go: each loopback alias's addresses, each route. */
const dropinDir = (device: string) => `${networkFile(device)}.d`
const LO_NETWORK = [
  '# lo, managed by ferry: the addresses of its loopback aliases are in 50-ferry-lo.network.d',
  '[Match]',
  'Name=lo',
  '',
  '[Network]',
  // Matching lo makes networkd manage it: its other addresses and routes stay.
  'KeepConfiguration=static',
]

/** The files networkd reads for an interface. */
function networkdFiles(iface: Iface): string[] {
  if (iface.kind === 'loopback') return [networkFile('lo'), `${dropinDir('lo')}/${iface.name}.conf`]
  return [`${NETWORKD}/50-ferry-${iface.name}.netdev`, networkFile(iface.name)]
}
/** Where udev finds a device's description (its alias), when it has one: networkd has no key for it. */
const linkFile = (name: string) => `${NETWORKD}/50-ferry-${name}.link`

// networkd makes a vlan only from its parent's .network (`VLAN=` under [Network]). The parent is
// not ferry's interface, so ferry neither writes nor takes over its .network: it adds a drop-in,
// `ferry-vlan-IF.conf`, beside the one networkd uses for the parent. That is the one `networkctl`
// names where networkd runs; else the first (in networkd's order) of /etc/systemd/network's whose
// [Match] Name= matches the parent (shell globs, as networkd reads them). With none, nothing would
// make the vlan at boot: the probe says nosave. Drop-ins go under /etc even for a .network in
// /usr/lib (networkd reads NAME.network.d in every directory it reads .network files from).
const PARENT_NETWORK_AWK = [
  'FNR == 1 { m = 0 } /^\\[/ { m = ($0 ~ /^\\[Match\\]/) }',
  'm && /^Name=/ { sub(/^Name=/, ""); k = split($0, w, " "); for (i = 1; i <= k; i++) { r = w[i]; if (r ~ /^!/) continue',
  '  gsub(/\\./, "\\\\.", r); gsub(/\\*/, ".*", r); gsub(/\\?/, ".", r); if (p ~ ("^" r "$")) { print FILENAME; exit } } }',
].join('\n')

function parentNetworkProbe(iface: Iface): string {
  const p = quote(iface.parent ?? '')
  const why = `nosave=${iface.parent} has no systemd-networkd .network, which is where networkd makes a vlan from (VLAN=): give ${iface.parent} one`
  return [
    `pn=$(if ${NETWORKD_RUNNING}; then networkctl status -- ${p} 2>/dev/null | sed -n 's|^ *Network File: \\(/.*\\)$|\\1|p'; fi)`,
    `[ -n "$pn" ] || pn=$(awk -v p=${p} '${PARENT_NETWORK_AWK}' ${NETWORKD}/*.network 2>/dev/null)`,
    `if [ -n "$pn" ]; then echo "netconfig=networkd $pn"; else echo netconfig=networkd; echo ${quote(why)}; fi`,
  ].join('\n')
}

/** The drop-in that has networkd make vlan IF on its parent, beside the parent's .network. */
const vlanDropin = (name: string, parentNet: string) =>
  `${NETWORKD}/${parentNet.slice(parentNet.lastIndexOf('/') + 1)}.d/ferry-vlan-${name}.conf`
/** A vlan's drop-in wherever it is, as a glob: under another parent's .network after a move. */
const vlanDropins = (name: string) => `${NETWORKD}/*.network.d/${quote(`ferry-vlan-${name}.conf`)}`

/** Prints each file that exists after its header, as `saved=` lines; `glob` adds the files it matches. */
const filesProbe = (paths: string[], glob = '') =>
  `for p in ${quoteArgv(paths)}${glob && ` ${glob}`}; do [ ! -f "$p" ] || { echo "saved===> $p <=="; sed 's/^/saved=/' "$p"; }; done`

/**
 * The drop-ins of routes and rules beside a device's .network, as a glob, and whether a path is
 * one. A tunnel's or a tap's are its own: the interface keeps them and takes them with it. lo's
 * belong to no alias.
 */
const keptDropins = (device: string) =>
  `${quote(dropinDir(device))}/ferry-route-*.conf ${quote(dropinDir(device))}/ferry-rule-*.conf`
const isKeptDropin = (path: string, device: string) =>
  path.startsWith(`${dropinDir(device)}/ferry-route-`) || path.startsWith(`${dropinDir(device)}/ferry-rule-`)

/** An address as networkd's [Address] section spells it: `A peer B` is Address=A/32, Peer=B/32. */
function addressSection(address: string, label: string | undefined): string[] {
  const [local, , peer] = address.split(' ')
  return [
    '[Address]',
    ...(peer ? [`Address=${local}/32`, `Peer=${peer}/32`] : [`Address=${address}`]),
    ...(label ? [`Label=${label}`] : []),
  ]
}

function networkdRender(iface: Iface, state: IfaceState): string[] {
  const [first, second] = networkdFiles(iface) as [string, string]
  const mine = `# ${iface.name}, managed by ferry`
  const addresses = state.addresses.flatMap((a, i) => [
    ...(i ? [''] : []),
    ...addressSection(a, iface.kind === 'loopback' ? label(iface) : undefined),
  ])
  if (iface.kind === 'loopback') return [fileHeader(first), ...LO_NETWORK, fileHeader(second), mine, ...addresses]
  const tunnel = state.tunnel
    ? ['', '[Tunnel]', `Local=${state.tunnel.local}`, `Remote=${state.tunnel.remote}`, 'TTL=255', 'Independent=yes']
    : []
  const vlan = state.vlan ? ['', '[VLAN]', `Id=${state.vlan.id}`] : []
  const vrf = iface.kind === 'vrf' && state.domain ? ['', '[VRF]', `Table=${state.domain}`] : []
  // A tap or tun has no carrier until a program opens it: addresses go on anyway, as `ip` puts
  // them, and boot does not wait for it to come online.
  const idle = iface.kind === 'tap' || iface.kind === 'tun'
  const member = iface.kind !== 'vrf' && state.domain ? [`VRF=${vrfName(state.domain)}`] : []
  const network = [...(idle ? ['ConfigureWithoutCarrier=yes'] : []), ...member]
  return [
    fileHeader(first),
    mine,
    '[NetDev]',
    `Name=${iface.name}`,
    `Kind=${iface.kind}`,
    ...tunnel,
    ...vlan,
    ...vrf,
    fileHeader(second),
    mine,
    '[Match]',
    `Name=${iface.name}`,
    ...(network.length ? ['', '[Network]', ...network] : []),
    ...(idle ? ['', '[Link]', 'RequiredForOnline=no'] : []),
    ...(addresses.length ? ['', ...addresses] : []),
    // udev sets the alias from a .link file when the device appears; networkd has no such key.
    ...(state.description
      ? [
          fileHeader(linkFile(iface.name)),
          `${mine}: udev sets its description when it appears`,
          '[Match]',
          `OriginalName=${iface.name}`,
          '',
          '[Link]',
          `Alias=${state.description}`,
        ]
      : []),
  ]
}

/** A vlan's drop-in beside its parent's .network: the last of its files, as the probe lists them. */
function networkdVlanRender(iface: Iface, state: IfaceState, netConfig: string | undefined): string[] {
  const parentNet = parentNetwork(netConfig)
  if (!state.vlan || !parentNet) return []
  return [
    fileHeader(vlanDropin(iface.name, parentNet)),
    `# ${iface.name} on ${state.vlan.parent}, managed by ferry`,
    '[Network]',
    `VLAN=${iface.name}`,
  ]
}

/**
 * Writes the files that changed, removes those no longer wanted, and has networkd reread them.
 * lo's shared .network goes only with the last drop-in under it (a loopback alias's or a route's):
 * when its directory is empty, or gone.
 */
function networkdSave(lines: readonly string[], current: readonly string[]): string[] {
  const want = splitFiles(lines, '')
  const have = splitFiles(current, '')
  const text = (f: { lines: string[] } | undefined) => f?.lines.join('\n')
  const out: string[] = []
  for (const f of want) {
    if (text(f) === text(have.find((h) => h.path === f.path))) continue
    if (f.path.includes('.network.d/')) out.push(`mkdir -p ${quote(dirOf(f.path))}`)
    out.push(writeFile(f.path, f.lines, 0o644))
  }
  let lastOfLo = false
  for (const f of have) {
    if (want.some((w) => w.path === f.path)) continue
    if (f.path === networkFile('lo') || dirOf(f.path) === dropinDir('lo')) {
      if (f.path !== networkFile('lo')) out.push(removeFile(f.path))
      lastOfLo = true
    } else if (f.path.includes('.network.d/'))
      out.push(removeFile(f.path), `rmdir ${quote(dirOf(f.path))} 2>/dev/null || :`)
    else out.push(removeFile(f.path))
  }
  if (lastOfLo) {
    const dir = quote(dropinDir('lo'))
    out.push(`if rmdir ${dir} 2>/dev/null || [ ! -e ${dir} ]; then ${removeFile(networkFile('lo'))}; fi`)
  }
  return out.length ? [...out, NETWORKD_RELOAD] : []
}

/** A route's or a rule's lines in an ifupdown stanza, which `iface` keeps when it writes the file again. */
const IFUPDOWN_KEPT = /^\s+(up|down) ip (route|rule) /

// An address is `A/P` or `A peer B`: its words go to `ip addr` as separate arguments.
const addrAdd = (i: Iface, a: string) =>
  `ip addr add ${quoteArgv(a.split(' '))} dev ${quote(dev(i))}${i.kind === 'loopback' ? ` label ${quote(label(i))}` : ''}`
const addrDel = (i: Iface, a: string) =>
  `ip addr del ${quoteArgv(a.split(' '))} dev ${quote(dev(i))}${i.kind === 'loopback' ? ` label ${quote(label(i))}` : ''}`
const linkSet = (i: Iface, up: boolean) => `ip link set ${quote(dev(i))} ${up ? 'up' : 'down'}`
const greTunnel = (i: Iface, verb: 'add' | 'change', t: Tunnel) =>
  `ip tunnel ${verb} ${quote(i.name)} mode gre local ${quote(t.local)} remote ${quote(t.remote)} ttl 255`
// iproute2 6.1 clears an alias given the empty one (the kernel drops a zero-length IFLA_IFALIAS).
const aliasSet = (i: Iface, text: string) => `ip link set dev ${quote(i.name)} alias ${quote(text)}`
/** Into routing domain n's VRF, or out of any (0). A vrf device is its own domain's: its table. */
const masterSet = (i: Iface, n: number) =>
  `ip link set dev ${quote(i.name)} ${n ? `master ${quote(vrfName(n))}` : 'nomaster'}`

/** Creating and destroying the device itself; a loopback "interface" is only its addresses. */
function lifecycle(i: Iface, state: IfaceState): { create?: string; destroy?: string } {
  const n = quote(i.name)
  if (i.kind === 'gre')
    return { create: state.tunnel && greTunnel(i, 'add', state.tunnel), destroy: `ip tunnel del ${n}` }
  if (i.kind === 'tap' || i.kind === 'tun')
    return { create: `ip tuntap add dev ${n} mode ${i.kind}`, destroy: `ip tuntap del dev ${n} mode ${i.kind}` }
  if (i.kind === 'vlan')
    return {
      create: state.vlan && `ip link add link ${quote(state.vlan.parent)} name ${n} type vlan id ${state.vlan.id}`,
      destroy: `ip link del ${n}`,
    }
  if (i.kind === 'vrf')
    return {
      create: state.domain ? `ip link add ${n} type vrf table ${state.domain}` : undefined,
      destroy: `ip link del ${n}`,
    }
  return {}
}

const NONE: IfaceState = { exists: false, up: false, addresses: [] }

/**
 * Live commands from one state to another, in the delta's order: the device, its description,
 * addresses removed, the routing domain, addresses added, up. Linux cannot retag a vlan nor move
 * it to another parent (the kernel's vlan changelink takes only flags and priority maps: iproute2
 * 6.1's `ip link set vlan6 type vlan id 7` exits 0 and the tag stays 6, seen on the lab's UML), nor
 * give a VRF device another table: such a device is deleted and made again, and everything it
 * had (description, domain, every wanted address) goes on the new one.
 */
function ifaceChange(iface: Iface, from: IfaceState, to: IfaceState): string[] {
  const d = ifaceDelta(from, to)
  const { create, destroy } = lifecycle(iface, to)
  if (d.destroy) return destroy ? [destroy] : from.addresses.map((a) => addrDel(iface, a))
  const remade = !d.create && ((iface.kind === 'vlan' && d.vlan) || (iface.kind === 'vrf' && d.domain !== undefined))
  if (remade) return [destroy!, ...ifaceChange(iface, NONE, to)]
  return [
    ...(d.create && create ? [create] : []),
    ...(d.tunnel && !d.create ? [greTunnel(iface, 'change', d.tunnel)] : []),
    ...(d.description === undefined ? [] : [aliasSet(iface, d.description)]),
    ...d.remove.map((a) => addrDel(iface, a)),
    ...(d.domain === undefined || iface.kind === 'vrf' ? [] : [masterSet(iface, d.domain)]),
    ...d.add.map((a) => addrAdd(iface, a)),
    ...(d.up === undefined ? [] : [linkSet(iface, d.up)]),
  ]
}

// Routes. `ip route show exact` lists the routes of exactly that prefix, in the table asked for;
// ferry's is the first with no metric (`replace` replaces that one). A blackhole prints
// `blackhole 10.1.0.0/16`; ferry's `reject` is Linux's `unreachable`. Multipath and other types
// are another kind of route, which ferry neither makes nor replaces.
const ROUTE_AWK = [
  '/^[ \\t]/ || / metric [1-9]/ || n++ { next }',
  '{ sub(/ +$/, "") }',
  '$1 == "blackhole" { print "route=blackhole"; next }',
  '$1 == "unreachable" { print "route=reject"; next }',
  '{ v = ""; d = ""; for (i = 2; i < NF; i++) { if ($i == "via") v = $(i + 1); if ($i == "dev") d = $(i + 1) }',
  '  if (($1 != "default" && $1 !~ /^[0-9.\\/]+$/) || d == "") print "route=other " $0; else if (v != "") print "route=via " v " dev " d; else print "route=dev " d }',
].join('\n')

/** `default`, or the prefix as ip prints it: the network with its length, a /32 too. */
const ipDest = (r: Route) => (r.to === 'default' ? 'default' : r.to.includes('/') ? r.to : `${r.to}/32`)
const ipTable = (r: Route) => (r.table ? ` table ${r.table}` : '')

function routeSet(r: Route, s: RouteState): string {
  const type = s.type === 'blackhole' ? 'blackhole ' : s.type === 'reject' ? 'unreachable ' : ''
  const hop = type ? '' : `${s.via ? ` via ${quote(s.via)}` : ''}${s.dev ? ` dev ${quote(s.dev)}` : ''}`
  // proto static, as networkd and FRR mark what an administrator set.
  return `ip route replace ${type}${quote(ipDest(r))}${hop}${ipTable(r)} proto static`
}
const routeDel = (r: Route) => `ip route del ${quote(ipDest(r))}${ipTable(r)}`

/** The device an interface that keeps a route stands for (lo for an alias loN). */
const deviceOf = (name: string) => (/^lo[0-9]+$/.test(name) ? 'lo' : name)

/** A route's own `up`/`down` pair in its interface's ifupdown stanza, by destination and table. */
const ifupdownRoute = (r: Route): RouteLines => ({
  path: ifupdownFile(bootIface(r)!),
  match: '($1 == "up" || $1 == "down") && $2 == "ip" && $3 == "route"',
  keys: 'k = $5; if (k == "blackhole" || k == "unreachable") k = $6; t = ""; for (i = 5; i < NF; i++) if ($i == "table") t = $(i + 1)',
  dest: ipDest(r),
  table: r.table,
})

/** A route's networkd drop-in, beside its interface's own .network. */
function routeDropin(r: Route): string {
  const name = `${ipDest(r).replace('/', '_')}${r.table ? `-table${r.table}` : ''}`
  return `${dropinDir(deviceOf(bootIface(r)!))}/ferry-route-${name}.conf`
}

/** The main table's number, which `ip rule` calls `main`. */
const MAIN_TABLE = 254
/** What a rule matches, as `ip rule show` prints it: `fwmark 0x2 lookup 2`. */
const ruleSelector = (r: Rule) =>
  `fwmark 0x${r.fwmark.toString(16)} lookup ${r.table === MAIN_TABLE ? 'main' : r.table}`
const ruleArgs = (r: Rule) => `pref ${r.pref} ${ruleSelector(r)}`

/** A rule's own `up`/`down` pair in its interface's ifupdown stanza, by priority and mark. */
const ifupdownRule = (r: Rule): RouteLines => ({
  path: ifupdownFile(r.iface!),
  match: '($1 == "up" || $1 == "down") && $2 == "ip" && $3 == "rule"',
  keys: 'k = $6 " " $8; t = ""',
  dest: `${r.pref} 0x${r.fwmark.toString(16)}`,
})

/** A rule's networkd drop-in, beside its interface's own .network. */
const ruleDropin = (r: Rule) => `${dropinDir(r.iface!)}/ferry-rule-${r.pref}-0x${r.fwmark.toString(16)}.conf`

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
    install: aptInstall,
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
      ...siblingLink,
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
    refuse(iface, want) {
      if (iface.name.length > 15) return `${iface.name}: Linux interface names are at most 15 characters`
      if (iface.kind === 'loopback' && !/^lo[0-9]+$/.test(iface.name))
        return `${iface.name}: a loopback alias is named loN (its addresses go on lo, labelled lo:N)`
      // lo1 is addresses labelled lo:1 on lo, which is every domain's and cannot join a VRF.
      if (iface.kind === 'loopback' && want?.domain)
        return `${iface.name}: a loopback alias is addresses on lo, which cannot join a VRF; routing domain ${want.domain}'s own addresses go on its VRF device (domainIface(${want.domain}): ${vrfName(want.domain)})`
      if (iface.kind === 'loopback' && want?.description !== undefined)
        return `${iface.name}: a loopback alias is addresses on lo, which has one description (alias) for all of them`
      // Members join domain N's VRF by this name (domainIface).
      if (iface.kind === 'vrf' && want?.domain && iface.name !== vrfName(want.domain))
        return `${iface.name}: the VRF device of routing domain ${want.domain} is named ${vrfName(want.domain)} (domainIface(${want.domain})), which its members join`
      if (iface.kind === 'gre' && iface.name === 'gre0')
        return 'gre0 is the fallback device of the Linux gre module and cannot be configured; name the tunnel gre1 or after its peer'
      return undefined
    },

    // gre0 is taken (see refuse), so ferry's GRE tunnels are gre-N; gre-0 is free.
    tunnelName: (kind, n) => `${kind === 'gre' ? 'gre-' : kind}${n}`,
    domainIface: (n) => ({ name: vrfName(n), kind: 'vrf' }),

    probe(iface) {
      const file = quote(ifupdownFile(iface.name))
      // Without either, nothing reads a file at boot, so writing one would be no persistence.
      const saved = netConfigProbe(
        `[ ! -f ${file} ] || sed 's/^/saved=/' ${file}`,
        filesProbe(
          iface.kind === 'loopback' ? networkdFiles(iface) : [...networkdFiles(iface), linkFile(iface.name)],
          iface.kind === 'loopback'
            ? ''
            : `${keptDropins(iface.name)}${iface.kind === 'vlan' ? ` ${vlanDropins(iface.name)}` : ''}`,
        ),
        iface.kind === 'vlan' ? parentNetworkProbe(iface) : undefined,
      )
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
        `ip -d -o link show dev ${n} | awk '${UP_AWK}\n${LINK_AWK}'`,
        `ip -o -4 addr show dev ${n} | awk '${ADDR_AWK}'`,
        ...(iface.kind === 'gre' ? [`ip tunnel show ${n} 2>/dev/null | awk '${TUNNEL_AWK}'`] : []),
        `else echo exists=0; echo up=0; ${NO_CREATE[iface.kind]}; fi`,
        saved,
      ].join('\n')
    },

    change: ifaceChange,

    savedIn(iface, netConfig) {
      if (!isNetworkd(netConfig)) return ifupdownFile(iface.name)
      const parentNet = parentNetwork(netConfig)
      return [
        ...networkdFiles(iface),
        ...(iface.kind === 'vlan' && parentNet ? [vlanDropin(iface.name, parentNet)] : []),
      ].join(', ')
    },

    render(iface, state, current, netConfig) {
      if (!state.exists) return []
      // Routes and rules kept with the interface (their steps' drop-ins) stay beside its own files.
      // In the probe's order (a run that changes nothing must render what it read): its own files,
      // the routes' and rules' drop-ins, then a vlan's drop-in beside its parent's .network.
      if (isNetworkd(netConfig))
        return [
          ...networkdRender(iface, state),
          ...splitFiles(current, '')
            .filter((f) => iface.kind !== 'loopback' && isKeptDropin(f.path, iface.name))
            .flatMap((f) => [fileHeader(f.path), ...f.lines]),
          ...networkdVlanRender(iface, state, netConfig),
        ]
      const { create, destroy } = lifecycle(iface, state)
      const stanza = iface.kind === 'loopback' ? label(iface) : iface.name
      return [
        `# ${iface.name}, managed by ferry`,
        `auto ${stanza}`,
        `iface ${stanza} inet manual`,
        ...(create ? [`    pre-up ${create}`] : []),
        ...(state.description ? [`    pre-up ${aliasSet(iface, state.description)}`] : []),
        // The VRF's own file comes first (ifupdownFile), so it is there to join.
        ...(iface.kind !== 'vrf' && state.domain ? [`    pre-up ${masterSet(iface, state.domain)}`] : []),
        ...state.addresses.map((a) => `    up ${addrAdd(iface, a)}`),
        ...(iface.kind === 'loopback'
          ? state.addresses.map((a) => `    down ${addrDel(iface, a)}`)
          : [`    up ${linkSet(iface, true)}`]),
        ...(destroy ? [`    post-down ${destroy}`] : []),
        // Routes and rules kept with the interface (their steps' lines) stay after its own.
        ...current.filter((l) => IFUPDOWN_KEPT.test(l)),
      ]
    },

    save: (iface, lines, current, netConfig) =>
      isNetworkd(netConfig) ? networkdSave(lines, current) : saveFile(ifupdownFile(iface.name), lines, current, 0o644),
  },

  net: {
    routeTo: linuxRouteTo,
    staticRoutes: linuxStaticRoutes,
    // Debian has bash's /dev/tcp but not always nc. Under sshd, bash reads ~/.bashrc unless told
    // not to, and a slow one (pyenv init took over a second here) would eat the timeout.
    tcpOpen: (address, port) =>
      tcpCheck(`timeout 3 bash --norc --noprofile -c ${quote(`exec 3<>/dev/tcp/${address}/${port}`)}`),
  },
  jails: linuxLabJails,

  // Debian's cron: crontabs in /var/spool/cron/crontabs; it reads /etc/cron.d, where a file's
  // name may hold only letters, digits, `_` and `-` (run-parts' rule; others are ignored).
  cron: vixieCron({ spool: '/var/spool/cron/crontabs', dir: '/etc/cron.d', specials: CRON_SPECIALS }),
  // shadow's tools. useradd makes a user-private group unless given -g (USERGROUPS_ENAB, Debian's
  // default), and userdel removes it again; the hash lives in /etc/shadow, read by getent.
  users: {
    probeUser: (name, o) => userProbe(name, o, linuxHash(name), 'sha256sum'),
    probeGroup: groupProbe,
    addUser: (name, a, home) => `useradd ${quoteArgv([...newAccountFlags(a), home ? '-m' : '-M', name])}`,
    modUser: (name, a) => `usermod ${quoteArgv([...accountFlags(a), name])}`,
    delUser: (name, o) => `userdel ${o.home ? '-r ' : ''}${quote(name)}`,
    printHash: linuxHash,
    // chpasswd -e reads `NAME:HASH` lines on stdin and stores each hash as it is.
    setHash: (name, file) => `{ printf '%s:' ${quote(name)} && cat${file ? ` ${quote(file)}` : ''}; } | chpasswd -e`,
    addGroup: (name, gid) => `groupadd ${gid === undefined ? '' : `-g ${gid} `}${quote(name)}`,
    modGroup: (name, gid) => `groupmod -g ${gid} ${quote(name)}`,
    delGroup: (name) => `groupdel ${quote(name)}`,
    addMembers: (name, users) => `gpasswd -M ${quote(users.join(','))} ${quote(name)}`,
  },
  routes: {
    refuse(r) {
      if (r.dev && /^lo[0-9]+$/.test(r.dev))
        return `${r.dev} is a loopback alias (addresses on lo): a route through it leaves by dev lo, and may be kept with iface ${r.dev}`
      if (!r.persist) return undefined
      const iface = bootIface(r)
      if (!iface)
        return 'Linux keeps a route with an interface (its ifupdown stanza or its systemd-networkd .network): give dev or iface, or set persist: false'
      if (r.dev && deviceOf(iface) !== r.dev)
        return `a route kept with ${iface} leaves by ${deviceOf(iface)} at boot, not by ${r.dev}: keep it with iface ${r.dev}`
      return undefined
    },

    probe(r) {
      const live = `ip -4 route show exact ${quote(ipDest(r))}${ipTable(r)} 2>/dev/null | awk '${ROUTE_AWK}'`
      const iface = r.persist ? bootIface(r) : undefined
      if (!iface) return live
      const base = quote(networkFile(deviceOf(iface)))
      const dropin = quote(routeDropin(r))
      return [
        live,
        netConfigProbe(
          routeLinesProbe(
            ifupdownRoute(r),
            `${iface} has no file in /etc/network/interfaces.d (give it an iface step)`,
          ),
          `[ -f ${base} ] || echo ${quote(`nosave=${iface} has no ${networkFile(deviceOf(iface))} (give it an iface step)`)}\n[ ! -f ${dropin} ] || sed 's/^/saved=/' ${dropin}`,
        ),
      ].join('\n')
    },

    change(r, from, to) {
      if (to) return [routeSet(r, to)]
      return from ? [routeDel(r)] : []
    },

    savedIn: (r, netConfig) => (isNetworkd(netConfig) ? routeDropin(r) : ifupdownFile(bootIface(r)!)),

    render(r, state, _current, netConfig) {
      if (!state) return []
      if (!isNetworkd(netConfig)) return [`    up ${routeSet(r, state)}`, `    down ${routeDel(r)}`]
      return [
        `# ${r.to}${r.table ? ` (table ${r.table})` : ''}, managed by ferry`,
        '[Route]',
        ...(state.type ? [`Type=${state.type === 'reject' ? 'unreachable' : state.type}`] : []),
        `Destination=${r.to === 'default' ? '0.0.0.0/0' : ipDest(r)}`,
        ...(state.via ? [`Gateway=${state.via}`] : []),
        ...(r.table ? [`Table=${r.table}`] : []),
      ]
    },

    save(r, lines, current, netConfig) {
      if (!isNetworkd(netConfig)) return saveRouteLines(ifupdownRoute(r), lines, current)
      const dropin = routeDropin(r)
      return networkdSave(lines.length ? [fileHeader(dropin), ...lines] : [], [fileHeader(dropin), ...current])
    },
  },

  // Kept as routes are: a pair of lines in the interface's ifupdown stanza, or a drop-in beside its
  // networkd .network ([RoutingPolicyRule]).
  rules: {
    refuse(r) {
      if (r.persist && !r.iface)
        return 'Linux keeps a rule with an interface (its ifupdown stanza or its systemd-networkd .network): give iface, or set persist: false'
      if (r.iface && /^lo[0-9]*$/.test(r.iface))
        return `${r.iface} is lo, or a loopback alias on it: keep the rule with an interface of its own`
      return undefined
    },

    probe(r) {
      // `900:	from all fwmark 0x2 lookup 2`, the tab a space.
      const live = `ip -4 rule show pref ${r.pref} 2>/dev/null | W=${quote(`${r.pref}: from all ${ruleSelector(r)}`)} awk '{ sub(/\\t/, " ") } $0 == ENVIRON["W"] { print "rule=1"; exit }'`
      if (!r.persist) return live
      const base = quote(networkFile(r.iface!))
      const dropin = quote(ruleDropin(r))
      return [
        live,
        netConfigProbe(
          routeLinesProbe(
            ifupdownRule(r),
            `${r.iface} has no file in /etc/network/interfaces.d (give it an iface step)`,
          ),
          `[ -f ${base} ] || echo ${quote(`nosave=${r.iface} has no ${networkFile(r.iface!)} (give it an iface step)`)}\n[ ! -f ${dropin} ] || sed 's/^/saved=/' ${dropin}`,
        ),
      ].join('\n')
    },

    change: (r, present) => [`ip rule ${present ? 'add' : 'del'} ${ruleArgs(r)}`],

    savedIn: (r, netConfig) => (isNetworkd(netConfig) ? ruleDropin(r) : ifupdownFile(r.iface!)),

    render(r, present, _current, netConfig) {
      if (!present) return []
      if (!isNetworkd(netConfig)) return [`    up ip rule add ${ruleArgs(r)}`, `    down ip rule del ${ruleArgs(r)}`]
      return [
        `# ${ruleArgs(r)}, managed by ferry`,
        '[RoutingPolicyRule]',
        `Priority=${r.pref}`,
        `FirewallMark=${r.fwmark}`,
        `Table=${r.table === MAIN_TABLE ? 'main' : r.table}`,
      ]
    },

    save(r, lines, current, netConfig) {
      if (!isNetworkd(netConfig)) return saveRouteLines(ifupdownRule(r), lines, current)
      const dropin = ruleDropin(r)
      return networkdSave(lines.length ? [fileHeader(dropin), ...lines] : [], [fileHeader(dropin), ...current])
    },
  },

  heldInstall: {
    probe: [
      `if ${THEIRS}; then`,
      `${POLICY} ferry start >/dev/null 2>&1; s=$?`,
      `[ "$s" -eq 101 ] || echo "cannot=${POLICY} is there and lets services start (it answers $s, not 101): ferry writes its own only where there is none"`,
      'fi',
    ].join('\n'),
    install(names) {
      const own = replaceFile(POLICY, {
        content: `printf '%s\\n' '#!/bin/sh' ${quote(POLICY_MINE)} "kill -0 $$ 2>/dev/null && exit 101" 'exit 0'`,
        mode: 0o755,
      })
      return `( if ${THEIRS}; then ${aptInstall(names)}; else { ${own}; } || exit 1; trap ${quote(removeFile(POLICY))} EXIT; ${aptInstall(names)}; fi )`
    },
  },
}

function linuxHash(name: string): string {
  return `getent shadow ${quote(name)} | awk -F: 'NR == 1 { print $2 }'`
}
