// A jail driver is what migrate-jail needs to know about one kind of jail: how to see where the
// jails are (a read-only snippet plus a parser, like any fact), and the shell lines that start,
// stop and enable them. FreeBSD jail(8) and the lab's Linux stand-in share this interface, so
// Bastille, iocage or Linux containers fit later as one more file each.
//
// Every discovery snippet prints the same tab-separated lines, so one parser reads them all:
//   jail NAME                      then, for that jail:
//   configured | autostart | running
//   listen PORT                    a TCP port it listens on, on its address
//   dataset USED REFERENCED MOUNTPOINT
//   parent 0|1                     whether the dataset's parent exists (a receive needs it)
// and, for the host:
//   pool NAME AVAILABLE            bytes
//   addr A.B.C.D                   every IPv4 address configured on the host

import type { Jail, Os } from '../inventory/types.ts'
import { freebsdJails } from './freebsd.ts'
import { linuxLabJails } from './linux-lab.ts'

/** A jail as the inventory declares it, with its name. */
export interface JailSpec extends Jail {
  name: string
}

export interface JailState {
  name: string
  /** Its definition is on the host (jail.conf.d, or the lab's conf file). */
  configured: boolean
  autostart: boolean
  running: boolean
  ports: number[]
  dataset?: { used: number; referenced: number; mountpoint: string }
  parentExists: boolean
}

export interface JailHost {
  jails: Map<string, JailState>
  /** Bytes available, by pool name. */
  pools: Map<string, number>
  addresses: Set<string>
}

export interface JailDriver {
  /** Which kind of jail this is, for messages: `FreeBSD jail(8)`. */
  readonly kind: string
  /** Where a jail's definition lives: carried to the destination as it is. */
  configPath(jail: JailSpec): string
  /** Read-only: prints the state of these jails on the host, in the format above. */
  discover(jails: readonly JailSpec[]): string
  /** Starts the jail (its dataset mounted, its /32 up) and fails unless it then listens. */
  start(jail: JailSpec): string
  /** Stops the jail and takes its /32 down; nothing to do if it is not running. */
  stop(jail: JailSpec): string
  autostart(jail: JailSpec, on: boolean): string
}

const DRIVERS: Partial<Record<Os, JailDriver>> = { freebsd: freebsdJails, linux: linuxLabJails }

export function jailDriver(os: Os | undefined): JailDriver | undefined {
  return os ? DRIVERS[os] : undefined
}

/** The pool a dataset lives in: `tank/jails/web` → `tank`. */
export const poolOf = (dataset: string) => dataset.split('/')[0]!

/** `tank/jails/web` → `tank/jails`; a pool's root has none. */
export const parentOf = (dataset: string) => (dataset.includes('/') ? dataset.slice(0, dataset.lastIndexOf('/')) : undefined)

/** The address without its prefix length: `172.16.3.17/32` → `172.16.3.17`. */
export const hostAddress = (jail: Jail) => jail.address.replace(/\/\d+$/, '')

export function parseDiscovery(stdout: string): JailHost {
  const host: JailHost = { jails: new Map(), pools: new Map(), addresses: new Set() }
  let jail: JailState | undefined
  for (const line of stdout.split('\n')) {
    const [key, ...rest] = line.split('\t')
    if (key === 'jail' && rest[0]) {
      jail = { name: rest[0], configured: false, autostart: false, running: false, ports: [], parentExists: false }
      host.jails.set(jail.name, jail)
    } else if (key === 'pool' && rest.length >= 2) {
      host.pools.set(rest[0]!, Number(rest[1]))
    } else if (key === 'addr' && rest[0]) {
      host.addresses.add(rest[0].replace(/\/\d+$/, ''))
    } else if (jail) {
      if (key === 'configured' || key === 'autostart' || key === 'running') jail[key] = true
      else if (key === 'listen' && /^\d+$/.test(rest[0] ?? '') && !jail.ports.includes(Number(rest[0]))) jail.ports.push(Number(rest[0]))
      else if (key === 'dataset' && rest.length >= 3) jail.dataset = { used: Number(rest[0]), referenced: Number(rest[1]), mountpoint: rest.slice(2).join('\t') }
      else if (key === 'parent') jail.parentExists = rest[0] === '1'
    }
  }
  return host
}
