// A platform is the vocabulary of one OS: which command installs a package, where a sysctl is
// persisted, how a tunnel interface is created and made to survive a reboot, which routing suite
// runs there. Steps, facts, the mesh links and runbooks ask the platform and never branch on the
// OS name; adding an OS means adding one file (and its line in platform.ts).
//
// Probe snippets print a normalised, OS-independent format, so each step parses one format
// whatever the OS. Commands are returned as complete shell lines, so golden tests can compare
// them exactly and apply() just runs them. Every interpolated value is quoted with `quote`.
// Which files each section writes, whole or by key, is listed at the registry (platform.ts).

import type { Os } from '../inventory/types.ts'
import type { Fact } from '../facts/ospf.ts'
import type { JailDriver } from '../jails/driver.ts'

export interface Platform {
  readonly os: Os
  /** What `uname -s` prints there: how a host without `os:` in the inventory is told apart (`osFromKernel`). */
  readonly kernel: string
  readonly packages: Packages
  readonly services: Services
  readonly sysctl: Sysctl
  readonly interfaces: Interfaces
  readonly net: Net
  /** How jails are seen, defined, started and stopped there; absent where ferry has no driver (OpenBSD). */
  readonly jails?: JailDriver
  /** The routing suite ferry runs there unless a runbook's vars choose another. */
  readonly routing: RoutingSuite
  /** The IKE daemon ferry keys IPsec with there; absent where it keys none (FreeBSD). */
  readonly ike?: 'isakmpd' | 'strongswan'
  /**
   * Starts `command` so that it outlives the SSH session, the connection and the controller: the
   * commit-confirmed revert job. It must return at once.
   */
  detach(command: string): string
  readonly cron: Cron
  /** User accounts and groups: useradd and its kin (Linux, OpenBSD), pw (FreeBSD). */
  readonly users: Users
  readonly routes: Routes
  /** Policy-routing rules (Linux's `ip rule`); absent where a packet filter moves lookups instead (pf's `rtable` on OpenBSD). */
  readonly rules?: Rules
  /** Package installs that start no service, for services a cluster manager runs (`pkg`'s `startServices: false`). */
  readonly heldInstall: HeldInstall
}

/**
 * Debian's maintainer scripts start the services a package brings as it is installed (through
 * invoke-rc.d, which asks /usr/sbin/policy-rc.d first); the BSDs' pkg and pkg_add never start any.
 * A gateway whose daemons a cluster manager runs must not have them started by an install: the
 * standby would run them too.
 */
export interface HeldInstall {
  /** Prints `cannot=WHY` when an install could not be kept from starting services; '' where none ever does. */
  readonly probe: string
  /** Installs `names` with no service started by it; the plain install where none ever is. */
  install(names: readonly string[]): string
}

/** The OSPF and BGP daemons ferry configures: FRR, Quagga, or OpenBSD's own ospfd and bgpd (in base). */
export const ROUTING_SUITES = ['frr', 'quagga', 'openbsd'] as const
export type RoutingSuite = (typeof ROUTING_SUITES)[number]

/** Facts about reaching an address from the host: a read-only command and its parser each. */
export interface Net {
  /** The next hop the kernel would use towards an address; undefined when it has none. */
  routeTo(address: string): Fact<NextHop | undefined>
  /** Whether a TCP connection to the port succeeds within 3 s. */
  tcpOpen(address: string, port: number): Fact<boolean>
  /**
   * The destinations of the routes in a routing table that are not the kernel's own (connected,
   * local, broadcast): `default` and `A.B.C.D/P`, a host as /32. What a hand-added route shows in.
   */
  staticRoutes(table: number): Fact<string[]>
}

/** The next hop towards an address: the gateway (none when on-link) and the interface. */
export interface NextHop {
  gateway?: string
  dev: string
}

export interface Packages {
  /** Prints one line per name, in order: `name<TAB>version`, or `name<TAB>-` when not installed. */
  probe(names: readonly string[]): string
  install(names: readonly string[]): string
  remove(names: readonly string[]): string
  /**
   * Prints `cannot=REASON` when installing those of `names` not installed yet would fail, where
   * the package manager can tell without fetching anything (apt's simulation). Absent where it
   * cannot: pkg and pkg_add ask the mirror when they install.
   */
  installable?(names: readonly string[]): string
}

export type ServiceAction = 'start' | 'stop' | 'reload' | 'restart'

export interface Services {
  /**
   * Prints `exists=0|1`, `enabled=0|1`, `running=0|1`, then for each var `var KEY=VALUE`, or
   * `var KEY` when it is unset (or, where a disabled service has no settings, disabled).
   */
  probe(name: string, vars: readonly string[]): string
  enable(name: string): string
  disable(name: string): string
  /**
   * `enabled`: whether the service is enabled when the action runs. The BSDs refuse to start a
   * disabled service unless asked explicitly (FreeBSD `onestart`, OpenBSD `rcctl -f start`).
   */
  run(name: string, action: ServiceAction, enabled: boolean): string
  /**
   * Undoes an enable of a service that was never registered, where `disable` would leave traces
   * (sysvinit keeps K links, FreeBSD a `NAME_enable="NO"` line). Probes that can tell print
   * `links=0|1`; an instance ferry made was never registered either.
   */
  unregister?(name: string): string
  /**
   * Per-service settings: FreeBSD rc.conf variables `NAME_KEY` (`quagga_flags`), OpenBSD rcctl
   * variables (`rcctl set isakmpd flags -K`). Absent on Linux, whose services have none.
   */
  readonly vars?: {
    /** `undefined` puts the variable back to its default. */
    set(name: string, key: string, value: string | undefined): string
    /** A disabled service has no settings to set (OpenBSD's rcctl refuses): enable it first. */
    readonly whileEnabled?: boolean
  }
  /** Second instances of a service's script, under names of their own. */
  readonly instances: ServiceInstances
}

/**
 * A service run again under another name, from the same script, with settings of its own. The
 * BSDs' rc.d scripts take their name, and so their variables, from the name they are run by: an
 * instance is a symbolic link to the script (seed 001: `ln -s /etc/rc.d/bgpd /etc/rc.d/bgpd_rd1`,
 * then `rcctl set bgpd_rd1 rtable 1`). systemd makes `BASE@INSTANCE` of a template unit itself.
 */
export interface ServiceInstances {
  /** Why NAME can never be an instance of BASE here (a name the init system cannot run), if so. */
  refuse(base: string, name: string): string | undefined
  /**
   * Prints `base=0|1`, whether BASE's script (or template) is there; `instance=link` when NAME is
   * a symbolic link to it, `other` when NAME is something else, `none` when NAME is not there
   * (`link` makes it), `template` when the init system makes instances itself; `dir=DIR`, where
   * the link is or would go; and `refuse=REASON` when BASE's script cannot run as an instance.
   */
  probe(base: string, name: string): string
  /** Makes NAME a new symbolic link to BASE's script in DIR (failing if the name is taken). */
  link(base: string, name: string, dir: string): string
  /** Removes that link if it is still a link to BASE's script, as `link` made it; else nothing. */
  unlink(base: string, name: string, dir: string): string
}

export interface Sysctl {
  /** Where persisted values live, for messages. */
  readonly file: string
  /**
   * Prints `live=VALUE` (nothing for a key the kernel does not know) and `saved=VALUE` when the
   * file sets it; `readonly=REASON` when the platform can tell the kernel refuses writes to it.
   */
  probe(key: string): string
  set(key: string, value: string): string
  /** Replaces the key's line in the file (or adds one), in place. */
  persist(key: string, value: string): string
  /** Removes the key's lines from the file. */
  unpersist(key: string): string
}

/**
 * `vlan`: an 802.1Q interface on a parent (OpenBSD vlan(4), Linux's 8021q). `vrf`: a Linux VRF
 * device, a routing domain's own interface (its table, its loopback addresses); OpenBSD has none,
 * its domain's own interface being the loopback loN the kernel makes with the domain.
 */
export type IfaceKind = 'loopback' | 'gre' | 'tap' | 'tun' | 'vlan' | 'vrf'
export type TunnelIfaceKind = Extract<IfaceKind, 'gre' | 'tap' | 'tun'>

export interface Iface {
  name: string
  kind: IfaceKind
  /**
   * A vlan's parent, as the step wants it: Linux's probe needs it before there is a vlan, since
   * systemd-networkd makes a vlan from its parent's .network (`VLAN=`), which the probe finds.
   */
  parent?: string
}

export interface Tunnel {
  local: string
  remote: string
}

/** An 802.1Q interface's tag and the interface it is carried on. */
export interface Vlan {
  id: number
  parent: string
}

/** An interface's live state as the probe prints it, or as a step wants it. */
export interface IfaceState {
  exists: boolean
  up: boolean
  /** Normalised: `10.0.0.1/32`, or point-to-point `172.16.2.1 peer 172.16.2.2` (a /32 pair). */
  addresses: string[]
  tunnel?: Tunnel
  vlan?: Vlan
  /**
   * The routing domain the interface is in: OpenBSD's rdomain, Linux's VRF of that table (a vrf
   * interface is its own domain's); 0 or undefined: the default one.
   */
  domain?: number
  /** OpenBSD's `description`, Linux's link alias; undefined: none. */
  description?: string
}

export interface Interfaces {
  /**
   * Why this platform cannot have such an interface (e.g. a name its kernel reserves), or not as
   * `want` has it (Linux: a loopback alias in a routing domain), if so.
   */
  refuse(iface: Iface, want?: IfaceState): string | undefined
  /** The name of the tunnel interface of this kind numbered `n`, where ferry picks it (a mesh link's end): `gre5`. */
  tunnelName(kind: TunnelIfaceKind, n: number): string
  /**
   * The interface that is routing domain `n`'s own, where its loopback addresses go: OpenBSD's
   * loN, which the kernel makes with the domain; Linux's VRF device vrfN, whose table is N.
   * Absent where the OS has no routing domains (FreeBSD's FIBs are tables, not domains).
   */
  domainIface?(n: number): Iface
  /**
   * Prints `exists=0|1`, `up=0|1`, `addr=ADDRESS` per address, `tunnel=LOCAL REMOTE`,
   * `vlan=ID PARENT`, `domain=N` (none: the default domain), `description=TEXT`, then
   * `saved=LINE` for each line of the boot-time configuration that belongs to the interface.
   * Where the host decides what keeps that configuration (Linux: ifupdown or systemd-networkd),
   * `netconfig=NAME` says which when it is not the platform's first choice; `nosave=WHY` when
   * nothing would read it at boot, and `nocreate=WHY` when the interface is missing and the
   * platform can tell its kernel cannot make one of its kind.
   */
  probe(iface: Iface): string
  /** Commands that take the live interface from one state to another. */
  change(iface: Iface, from: IfaceState, to: IfaceState): string[]
  /** Where the boot-time configuration lives, for messages. */
  savedIn(iface: Iface, netConfig?: string): string
  /**
   * The boot-time configuration for a state, as `saved=` lines print it ([] when the interface
   * should not exist). `current` is what the probe saw, for settings shared with other
   * interfaces (FreeBSD's `cloned_interfaces`) and lines other steps own in the same file
   * (`route`'s), or files beside it (`route`'s networkd drop-ins, which the probe prints too, so
   * that they go with the interface). A configuration kept in several files gives each file's
   * lines after a line `==> PATH <==`, as head(1) prints several files.
   */
  render(iface: Iface, state: IfaceState, current: readonly string[], netConfig?: string): string[]
  /** Commands that turn the boot-time configuration from `current` into `lines` (as render gives them). */
  save(iface: Iface, lines: readonly string[], current: readonly string[], netConfig?: string): string[]
}

/** A route that drops or refuses what it matches, instead of forwarding it. */
export type RouteType = 'blackhole' | 'reject'

/** A static IPv4 route, as a step wants it. */
export interface Route {
  /** `10.1.0.0/16` (the network address, as the step normalised it), a /32, or `default`. */
  to: string
  /** The gateway. */
  via?: string
  /** The interface it leaves by: alone, an interface route; with `via`, where the route is pinned (Linux `dev`, the BSDs' `-ifp`). */
  dev?: string
  type?: RouteType
  /** The routing table: Linux `table N`, OpenBSD rtable (`-T N`), FreeBSD fib (`-fib N`); none: the main one. */
  table?: number
  /** Also configured for boot. */
  persist: boolean
  /** The interface whose boot configuration keeps it, where the OS keeps routes that way (Linux, OpenBSD). */
  iface?: string
}

/** A route as the probe saw it: its next hop, or its type (`other`: a kind ferry does not make). */
export interface RouteState {
  via?: string
  dev?: string
  type?: RouteType | 'other'
  /** For `other`: what the OS printed. */
  text?: string
}

/** A policy-routing rule: packets with firewall mark `fwmark` look up table `table`, at priority `pref`. */
export interface Rule {
  pref: number
  fwmark: number
  /** The table looked up; 254 is the main one. */
  table: number
  /** Also configured for boot. */
  persist: boolean
  /** The interface whose boot configuration keeps it (ifupdown's stanza, networkd's .network). */
  iface?: string
}

export interface Rules {
  /** Why this platform cannot keep this rule at boot as asked, if so. */
  refuse(rule: Rule): string | undefined
  /**
   * Prints `rule=1` when the rule is live; with `persist`, the boot configuration as
   * Interfaces.probe prints it (`saved=`, `netconfig=`, `nosave=`).
   */
  probe(rule: Rule): string
  /** Commands that add (true) or delete (false) the live rule. */
  change(rule: Rule, present: boolean): string[]
  /** Where the boot configuration lives, for messages. */
  savedIn(rule: Rule, netConfig?: string): string
  /** The boot configuration with the rule (or without it), from what the probe saw. */
  render(rule: Rule, present: boolean, current: readonly string[], netConfig?: string): string[]
  /** Commands that turn the boot configuration from `current` into `lines`, touching only the rule's own lines. */
  save(rule: Rule, lines: readonly string[], current: readonly string[], netConfig?: string): string[]
}

export interface Routes {
  /** Why this platform cannot make this route, or keep it at boot as asked, if so. */
  refuse(route: Route): string | undefined
  /**
   * Prints `route=via GATEWAY dev IF`, `route=dev IF`, `route=blackhole`, `route=reject` or
   * `route=other TEXT` for the live route of exactly that destination in that table, nothing
   * when there is none; `cannot=WHY` when the route cannot be made now (a table the kernel lacks).
   * With `persist`, the boot configuration as Interfaces.probe prints it (`saved=`, `netconfig=`, `nosave=`).
   */
  probe(route: Route): string
  /** Commands that take the live route from one state to another; undefined: no route. */
  change(route: Route, from: RouteState | undefined, to: RouteState | undefined): string[]
  /** Where the boot configuration lives, for messages. */
  savedIn(route: Route, netConfig?: string): string
  /** The boot configuration with the route in this state (undefined: without it), from what the probe saw. */
  render(route: Route, state: RouteState | undefined, current: readonly string[], netConfig?: string): string[]
  /** Commands that turn the boot configuration from `current` into `lines`, touching only the route's own lines. */
  save(route: Route, lines: readonly string[], current: readonly string[], netConfig?: string): string[]
  /** The resource of a step that may make a table the probe found missing (`cannot=`), where one can: FreeBSD's net.fibs. */
  readonly tablesBy?: string
}

/**
 * Cron: each user's crontab, which crontab(1) replaces whole (the new one on its stdin, never in
 * argv), and the directory of crontab files whose lines name the user that runs them, where the
 * OS's cron reads one.
 */
export interface Cron {
  /** Where crontab(1) keeps each user's crontab, a file named after the user. */
  readonly spool: string
  /** The directory of crontab files with a user field; absent where cron reads none (OpenBSD). */
  readonly dir?: string
  /** The keywords that may stand for the five time fields, without their `@`: `reboot`, `daily`. */
  readonly specials: readonly string[]
  /**
   * Prints `user=0|1` (whether the user exists), `crontab=0|1` (whether crontab(1) is there) and,
   * when it is, `tab=0|1` (whether the user has a crontab). After `tab=1` comes the crontab as
   * `crontab -l` lists it, without the header crontab(1) puts above it; the snippet fails when
   * the crontab is there but cannot be listed.
   */
  probe(user: string): string
  /** Prints the user's crontab, as the probe does. */
  list(user: string): string
  /** Makes the crontab read from stdin the user's, whole. */
  install(user: string): string
  /** Removes the user's crontab (which must exist). */
  remove(user: string): string
}

/**
 * A user account's settings, as useradd and usermod take them. A field left out is left alone
 * (for a new account: to the OS's default).
 */
export interface Account {
  uid?: number
  /** The primary group: its name, or its number where no group is named for it. */
  group?: string
  /** The supplementary groups, exactly these ([]: none). */
  groups?: readonly string[]
  comment?: string
  home?: string
  shell?: string
}

/**
 * Users and groups. The probes are the same on all three (each has getent(1): FreeBSD since 7,
 * OpenBSD since 3.9); what differs is the commands, and where the password hash lives.
 *
 * A password hash is a secret: it never goes in argv, never to the controller. It travels on
 * stdin, is read on the host only into a pipe or a 0600 file, and the probe prints its SHA-256.
 * A platform sets one (`setHash`), or says why it cannot (`noSetHash`).
 */
export type Users = UserTools &
  (
    | {
        /** Sets the user's password hash to the line on stdin, or in `file`. */
        setHash(name: string, file?: string): string
        readonly noSetHash?: undefined
      }
    | {
        readonly setHash?: undefined
        /**
         * Where the OS takes a hash only in argv, where every local user can read it (OpenBSD's
         * usermod -p, chpass -a): why, and the tool that sets one by hand, for messages.
         */
        readonly noSetHash: { why: string; byHand: string }
      }
  )

interface UserTools {
  /**
   * For user NAME that exists: `exists=1`, `uid=`, `gid=`, `group=` (its primary group's name,
   * if one has its gid), `comment=`, `home=`, `shell=`, and `member=GROUP` for each group that
   * lists it. Always: `home_dir=1` when `home` is a directory, `has=GROUP` for each of `groups`
   * that exists, `uid_user=NAME` for the user holding `uid`; with `hash`, `hash=` the SHA-256
   * (hex) of its password hash: never the hash; with `locked`, `locked=1` when that hash is a
   * locked one (`*…`, `!…`).
   */
  probeUser(
    name: string,
    o: { home: string; uid?: number; groups: readonly string[]; hash: boolean; locked?: boolean },
  ): string
  /**
   * For group NAME that exists: `exists=1`, `gid=`, `member=USER` per member; `gid_group=NAME`
   * for the group holding `gid`; with `primary`, `primary=USER` for each user it is the primary
   * group of.
   */
  probeGroup(name: string, o: { gid?: number; primary: boolean }): string
  /** `home`: make the home directory (from the skeleton), which must not exist yet. */
  addUser(name: string, account: Account, home: boolean): string
  modUser(name: string, account: Account): string
  /**
   * `home`: remove the home directory too. `group`: the user-private group that useradd made
   * with the account goes too (Linux's userdel and FreeBSD's pw remove it themselves).
   */
  delUser(name: string, o: { home: boolean; group: boolean }): string
  /** Prints the user's password hash, one line: only ever into a 0600 file on the host. */
  printHash(name: string): string
  addGroup(name: string, gid?: number): string
  modGroup(name: string, gid: number): string
  delGroup(name: string): string
  /** Adds these users to a group (one just made, for undo). */
  addMembers(name: string, users: readonly string[]): string
}
