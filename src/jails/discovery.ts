// Reading what a jail driver's discovery snippet printed (the format is in driver.ts). A source
// host may be compromised: every value is checked as it is read, and a line that does not read
// as its key says is an error, not a guess.

import { StepError } from '../steps/step.ts'

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

/** Definitions are a few hundred bytes; anything near this is not one. */
const MAX_DEFINITION = 64 * 1024

const COUNT = /^\d{1,20}$/
const PORT = /^\d{1,5}$/
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/
const HEX = /^(?:[0-9a-f]{2})*$/
/** A mountpoint as zfs prints it: an absolute path without control characters, or none, legacy or `-`. */
const MOUNTPOINT = /^(?:\/[^\x00-\x1f\x7f-\x9f]*|none|legacy|-)$/

/** A host's text for a message: what is not printable ASCII shown as an escape, and not too much of it. */
const shown = (s: string) =>
  JSON.stringify(s.slice(0, 120)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/**
 * How a definition found on a host differs from the one ferry writes, worded to follow the
 * file's name: compared line by line, without indentation, blank lines and comments. Nothing when
 * they agree.
 */
export function definitionDiffers(found: string, wanted: readonly string[]): string | undefined {
  const control = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/.exec(found)
  if (control)
    return `line ${found.slice(0, control.index).split('\n').length} holds a control character (${shown(control[0])})`
  const statements = (lines: readonly string[]) =>
    lines.map((l, i) => ({ text: l.trim(), line: i + 1 })).filter((l) => l.text && !/^(#|\/\/)/.test(l.text))
  const [have, want] = [statements(found.split('\n')), statements(wanted)]
  const i = have.findIndex((l, k) => l.text !== want[k]?.text)
  if (i >= 0)
    return `line ${have[i]!.line} is ${shown(have[i]!.text)}, where ferry's has ${want[i] ? shown(want[i]!.text) : 'nothing more'}`
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
      if (rest.length !== 3 || !COUNT.test(used!) || !COUNT.test(referenced!) || !MOUNTPOINT.test(mountpoint!))
        throw bad()
      jail.dataset = { used: Number(used), referenced: Number(referenced), mountpoint: mountpoint! }
    } else if (jail && key === 'parent') {
      if (
        !(rest.length === 1 && rest[0] === '0') &&
        !(rest.length === 2 && rest[0] === '1' && MOUNTPOINT.test(rest[1]!))
      )
        throw bad()
      jail.parentExists = rest[0] === '1'
      jail.parentMountpoint = rest[1]
    }
  }
  return host
}
