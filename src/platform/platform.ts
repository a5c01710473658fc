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
//   OpenBSD: /etc/hostname.IF, whole. Linux: /etc/network/interfaces.d/IF, whole.
// - jails (migrate-jail writes the definition where the driver says). FreeBSD:
//   /etc/jail.conf.d/NAME.conf, whole, and NAME's word of jail_list in rc.conf (sysrc). Linux
//   (the lab's stand-in): /etc/ferry/jails/NAME.conf and NAME.autostart beside it, whole, and
//   /run/ferry-jail-NAME.pid and /var/log/ferry-jail-NAME.log.
// - net and detach: nothing (the facts only read; detach starts a command).

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
  IfaceState,
  Interfaces,
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
