// The one registry of OSes: every platform ferry knows, by the inventory's `os:` and by what
// `uname -s` prints. The vocabulary itself (what a platform answers) is in types.ts.
//
// What each section writes on a host, so that two steps never fight over one file. A file
// written whole belongs to the one step that writes it (its interface, its jail): no `file` or
// `line` step may name it. A file edited by key is shared: each step changes its own keys (or
// its own word of a list such as cloned_interfaces) and leaves every other line as it was.
//
// - packages: no file (pkg, pkg_add and apt-get keep their own databases).
// - services, by key. FreeBSD: NAME_enable and NAME_KEY in /etc/rc.conf.local (`sysrc -f`).
//   OpenBSD: rcctl's lines in /etc/rc.conf.local (NAME_flags, pkg_scripts). Linux: no file, only
//   systemctl's or update-rc.d's links. An instance (`instanceOf`), whole: its symbolic link NAME
//   beside its base's script (/etc/rc.d, /usr/local/etc/rc.d, /etc/init.d), removed only by the
//   step that made it.
// - sysctl, by key: the key's line. FreeBSD and OpenBSD: /etc/sysctl.conf. Linux:
//   /etc/sysctl.d/60-ferry.conf, ferry's own but shared by every sysctl step (it goes with its
//   last key).
// - interfaces. FreeBSD, by key: ifconfig_IF and ifconfig_IF_aliasN, and IF's word of
//   cloned_interfaces, in whichever rc.conf file sets them, else /etc/rc.conf (plain sysrc).
//   OpenBSD: /etc/hostname.IF, whole but for its `!route` lines (routes'), which it keeps, after
//   its own. Linux, where the host keeps them: ifupdown's /etc/network/interfaces.d/IF, whole but
//   for its `up`/`down ip route` and `ip rule` lines (routes' and rules'), which it keeps; or
//   systemd-networkd's /etc/systemd/network/50-ferry-IF.netdev and 50-ferry-IF.network, whole,
//   and for a loopback alias loN its drop-in 50-ferry-lo.network.d/loN.conf, whole, under
//   50-ferry-lo.network, which every alias writes the same and the last drop-in to go (an alias's
//   or a route's) takes away. An interface removed takes the routes and rules kept with it (the
//   lines in its file, the drop-ins beside its .network) with it, as the kernel does live; routes
//   kept with a loopback alias stay, as they do on lo.
// - routes. FreeBSD, by key: route_NAME (NAME is ferry_ and the destination and fib) and NAME's
//   word of static_routes, in rc.conf (plain sysrc). OpenBSD: the route's own `!route … add -inet
//   DEST` line (by destination and -T rtable) in the interface's /etc/hostname.IF, which iface
//   owns. Linux: the route's own `up`/`down ip route` pair (by destination and table) in the
//   interface's ifupdown file, which iface owns; or its networkd drop-in beside the interface's
//   .network, 50-ferry-DEV.network.d/ferry-route-DEST[-tableN].conf, whole.
// - rules (Linux only), as routes: the rule's own `up`/`down ip rule` pair (by priority and mark)
//   in the interface's ifupdown file, or its networkd drop-in
//   50-ferry-DEV.network.d/ferry-rule-PREF-0xMARK.conf, whole.
// - jails (migrate-jail writes the definition where the driver says). FreeBSD:
//   /etc/jail.conf.d/NAME.conf, whole, and NAME's word of jail_list in rc.conf (sysrc). Linux
//   (the lab's stand-in): /etc/ferry/jails/NAME.conf and NAME.autostart beside it, whole, and
//   /run/ferry-jail-NAME.pid and /var/log/ferry-jail-NAME.log.
// - net and detach: nothing (the facts only read; detach starts a command).
// - cron, by entry: a `#ferry: NAME` line and the env and job lines under it. Each user's
//   crontab, through crontab(1) (Linux: /var/spool/cron/crontabs/USER; the BSDs:
//   /var/cron/tabs/USER), and on Linux and FreeBSD the files of /etc/cron.d, one removed with
//   its last entry.
// - heldInstall. Linux: /usr/sbin/policy-rc.d, whole, only for the one apt-get install it holds
//   and only where there was none (or ferry's own, left by a killed run); the BSDs: no file.
// - users: no file of ferry's own. useradd and its kin (pw on FreeBSD) edit the password and
//   group databases; a password hash that apply replaces or removes is kept, for undo, in
//   /var/backups/ferry/user%3ANAME/, mode 0600 (replaceFile).

import type { Os } from '../inventory/types.ts'
import type { JailDriver } from '../jails/driver.ts'
import type { Platform } from './types.ts'
import { freebsd } from './freebsd.ts'
import { openbsd } from './openbsd.ts'
import { linux } from './linux.ts'

export { ROUTING_SUITES } from './types.ts'
export type {
  Platform,
  RoutingSuite,
  Net,
  NextHop,
  Packages,
  ServiceAction,
  Services,
  ServiceInstances,
  Sysctl,
  IfaceKind,
  TunnelIfaceKind,
  Iface,
  Tunnel,
  Vlan,
  IfaceState,
  Interfaces,
  Account,
  Users,
  Route,
  RouteState,
  RouteType,
  Routes,
  Rule,
  Rules,
  HeldInstall,
} from './types.ts'

const PLATFORMS: Record<Os, Platform> = { freebsd, openbsd, linux }

/** Every OS ferry knows. */
export const platforms: readonly Platform[] = Object.values(PLATFORMS)

export function platformFor(os: Os): Platform {
  return PLATFORMS[os]
}

/** Maps `uname -s` output to an OS. */
export function osFromKernel(kernel: string): Os | undefined {
  return (Object.keys(PLATFORMS) as Os[]).find((os) => PLATFORMS[os].kernel === kernel.trim())
}

/** The jail driver of a host's OS, if it has one (a host may leave its os: to the probe). */
export function jailDriver(os: Os | undefined): JailDriver | undefined {
  return os ? PLATFORMS[os].jails : undefined
}
