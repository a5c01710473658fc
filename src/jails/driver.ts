// A jail driver is what migrate-jail needs to know about one kind of jail: how to see where the
// jails are (a read-only snippet plus a parser, like any fact), the definition ferry writes for a
// jail, and the shell lines that start, stop and enable them. FreeBSD jail(8) and the lab's Linux
// stand-in share this interface, so Bastille, iocage or Linux containers fit later as one more
// file each. A platform holds the driver of its OS (`platform.jails`).
//
// Every discovery snippet prints the same tab-separated lines, so one parser reads them all:
//   jail NAME                      then, for that jail:
//   definition HEX                 its definition file, hex-encoded (so no byte of it can pass
//                                  for a line of its own); none when it has no definition
//   autostart | running
//   listen PORT                    a TCP port it listens on, on its address
//   dataset USED REFERENCED MOUNTPOINT
//   parent 0 | parent 1 MOUNTPOINT whether the dataset's parent exists (a receive needs it), and
//                                  where it is mounted
// and, for the host:
//   pool NAME AVAILABLE            bytes
//   addr A.B.C.D                   every IPv4 address configured on the host
// discovery.ts reads them.

import type { Jail } from '../inventory/types.ts'
import { quote } from '../shell/quote.ts'

/** A jail as the inventory declares it, with its name. */
export interface JailSpec extends Jail {
  name: string
}

export interface JailDriver {
  /** Which kind of jail this is, for messages: `FreeBSD jail(8)`. */
  readonly kind: string
  /** Where a jail's definition lives. */
  configPath(jail: JailSpec): string
  /**
   * The definition ferry writes at a destination, from the inventory and the jail's root there
   * (its dataset's mountpoint), one line each. Nothing of it comes from the source host.
   */
  definition(jail: JailSpec, root: string): string[]
  /** Read-only: prints the state of these jails on the host, in the format above. */
  discover(jails: readonly JailSpec[]): string
  /** Starts the jail (its dataset mounted, its /32 up) and fails unless it then listens. */
  start(jail: JailSpec): string
  /** Stops the jail and takes its /32 down; nothing to do if it is not running. */
  stop(jail: JailSpec): string
  autostart(jail: JailSpec, on: boolean): string
}

/** The pool a dataset lives in: `tank/jails/web` → `tank`. */
export const poolOf = (dataset: string) => dataset.split('/')[0]!

/** `tank/jails/web` → `tank/jails`; a pool's root has none. */
export const parentOf = (dataset: string) =>
  dataset.includes('/') ? dataset.slice(0, dataset.lastIndexOf('/')) : undefined

/** The address without its prefix length: `172.16.3.17/32` → `172.16.3.17`. */
export const hostAddress = (jail: Jail) => jail.address.replace(/\/\d+$/, '')

/** Discovery's `definition` line for a jail whose definition lives at `path`. */
export const definitionProbe = (path: string) =>
  `if [ -f ${quote(path)} ]; then printf 'definition\\t%s\\n' "$(od -An -v -tx1 ${quote(path)} | tr -d ' \\n')"; fi`
