// A jail driver is what migrate-jail needs to know about one kind of jail: how to see where the
// jails are (a read-only snippet plus a parser, like any fact), the definition ferry writes for a
// jail, and the shell lines that start, stop and enable them. FreeBSD jail(8) and the lab's Linux
// stand-in share this interface, so Bastille, iocage or Linux containers fit later as one more
// file each.
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
// A source host may be compromised: every value is checked as it is read, and a line that does
// not read as its key says is an error, not a guess.

import type { Jail, Os } from '../inventory/types.ts'
import { quote } from '../shell/quote.ts'
import { StepError } from '../steps/step.ts'
import { freebsdJails } from './freebsd.ts'
import { linuxLabJails } from './linux-lab.ts'

/** A jail as the inventory declares it, with its name. */
export interface JailSpec extends Jail {
  name: string
}

export interface JailState {
  name: string
  /** Its definition file (jail.conf.d, or the lab's conf file), if it has one on the host. */
  definition?: string
  autostart: boolean
  running: boolean
  ports: number[]
  /** The mountpoint is an absolute path, or `none`, `legacy` or `-`. */
  dataset?: { used: number; referenced: number; mountpoint: string }
  parentExists: boolean
  parentMountpoint?: string
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

/** Discovery's `definition` line for a jail whose definition lives at `path`. */
export const definitionProbe = (path: string) =>
  `if [ -f ${quote(path)} ]; then printf 'definition\\t%s\\n' "$(od -An -v -tx1 ${quote(path)} | tr -d ' \\n')"; fi`

/** Definitions are a few hundred bytes; anything near this is not one. */
const MAX_DEFINITION = 64 * 1024

const COUNT = /^\d{1,20}$/
const PORT = /^\d{1,5}$/
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/
const HEX = /^(?:[0-9a-f]{2})*$/
/** A mountpoint as zfs prints it: an absolute path without control characters, or none, legacy or `-`. */
const MOUNTPOINT = /^(?:\/[^\x00-\x1f\x7f-\x9f]*|none|legacy|-)$/

/** A host's text for a message: what is not printable ASCII shown as an escape, and not too much of it. */
const shown = (s: string) => JSON.stringify(s.slice(0, 120)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/**
 * How a definition found on a host differs from the one ferry writes, worded to follow the
 * file's name: compared line by line, without indentation, blank lines and comments. Nothing when
 * they agree.
 */
export function definitionDiffers(found: string, wanted: readonly string[]): string | undefined {
  const control = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/.exec(found)
  if (control) return `line ${found.slice(0, control.index).split('\n').length} holds a control character (${shown(control[0])})`
  const statements = (lines: readonly string[]) =>
    lines.map((l, i) => ({ text: l.trim(), line: i + 1 })).filter((l) => l.text && !/^(#|\/\/)/.test(l.text))
  const [have, want] = [statements(found.split('\n')), statements(wanted)]
  const i = have.findIndex((l, k) => l.text !== want[k]?.text)
  if (i >= 0) return `line ${have[i]!.line} is ${shown(have[i]!.text)}, where ferry's has ${want[i] ? shown(want[i]!.text) : 'nothing more'}`
  if (have.length < want.length) return `ends where ferry's has ${shown(want[have.length]!.text)}`
  return undefined
}

export function parseDiscovery(stdout: string): JailHost {
  const host: JailHost = { jails: new Map(), pools: new Map(), addresses: new Set() }
  let jail: JailState | undefined
  for (const [i, line] of stdout.split('\n').entries()) {
    const [key, ...rest] = line.split('\t')
    const bad = () => new StepError(`discovery line ${i + 1} does not read as ${key}`)
    if (key === 'jail') {
      if (rest.length !== 1 || !rest[0]) throw bad()
      jail = { name: rest[0], autostart: false, running: false, ports: [], parentExists: false }
      host.jails.set(jail.name, jail)
    } else if (key === 'pool') {
      if (rest.length !== 2 || !rest[0] || !COUNT.test(rest[1]!)) throw bad()
      host.pools.set(rest[0], Number(rest[1]))
    } else if (key === 'addr') {
      if (rest.length !== 1 || !IPV4.test(rest[0]!)) throw bad()
      host.addresses.add(rest[0]!.replace(/\/\d+$/, ''))
    } else if (jail && (key === 'autostart' || key === 'running')) {
      if (rest.length) throw bad()
      jail[key] = true
    } else if (jail && key === 'definition') {
      if (rest.length !== 1 || !HEX.test(rest[0]!) || rest[0]!.length > 2 * MAX_DEFINITION) throw bad()
      jail.definition = Buffer.from(rest[0]!, 'hex').toString('utf8')
    } else if (jail && key === 'listen') {
      const port = Number(rest[0])
      if (rest.length !== 1 || !PORT.test(rest[0]!) || port < 1 || port > 65535) throw bad()
      if (!jail.ports.includes(port)) jail.ports.push(port)
    } else if (jail && key === 'dataset') {
      const [used, referenced, mountpoint] = rest
      if (rest.length !== 3 || !COUNT.test(used!) || !COUNT.test(referenced!) || !MOUNTPOINT.test(mountpoint!)) throw bad()
      jail.dataset = { used: Number(used), referenced: Number(referenced), mountpoint: mountpoint! }
    } else if (jail && key === 'parent') {
      if (!(rest.length === 1 && rest[0] === '0') && !(rest.length === 2 && rest[0] === '1' && MOUNTPOINT.test(rest[1]!))) throw bad()
      jail.parentExists = rest[0] === '1'
      jail.parentMountpoint = rest[1]
    }
  }
  return host
}
