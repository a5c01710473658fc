// What `ferry graph --live` reads: one command line per host, read-only, over one connection
// each. Each part is a fact (a command and its parser) that applies to the host: its OSPF
// neighbours, which of the inventory's jails run there, the addresses it holds when it is one of
// a gateway pair, its BGP sessions when it speaks BGP. Unreachable, or a part that fails or does
// not parse: not read, which the picture shows as down, not running or unknown.
import { randomBytes } from 'node:crypto'
import { frrPeers } from '../facts/bgp.ts'
import { addresses } from '../facts/ha.ts'
import { frrNeighbours, openbsdNeighbours, quaggaNeighbours, type Fact, type Neighbours } from '../facts/ospf.ts'
import type { Host, Inventory } from '../inventory/index.ts'
import { parseDiscovery, type JailHost } from '../jails/discovery.ts'
import type { JailSpec } from '../jails/driver.ts'
import { jailDriver } from '../platform/platform.ts'
import type { GatewayPair } from '../report/graph.ts'
import { oneLine } from '../report/printable.ts'
import { runLine } from '../shell/remote.ts'
import { Connector } from '../transport/connect.ts'
import { mapLimit } from '../transport/slots.ts'

/** How each OS's routing daemon lists its OSPF neighbours (FRR on Linux, Quagga on FreeBSD, ospfd). */
const NEIGHBOURS: Record<string, Fact<Neighbours>> = {
  linux: frrNeighbours,
  freebsd: quaggaNeighbours,
  openbsd: openbsdNeighbours,
}

/** A host's answer takes one round trip; a daemon that hangs (vtysh, ping) must not hold the picture. */
const READ_TIMEOUT_MS = 30_000

export interface Seen {
  neighbours?: Neighbours
  jails?: JailHost
  /** The IPv4 addresses it holds, without prefix lengths. */
  addresses?: Set<string>
  /** Its BGP neighbours' states, by address. */
  bgp?: Map<string, string>
}

type Parts = { [K in keyof Seen]?: Fact<Seen[K]> }

/** The facts that apply to a host. Pairs and BGP are read on Linux only (ip(8), FRR's vtysh). */
function partsFor(h: Host, jails: JailSpec[], pairs: GatewayPair[]): Parts {
  const driver = jails.length ? jailDriver(h.os) : undefined
  const linux = h.os === 'linux'
  return {
    neighbours: h.os ? NEIGHBOURS[h.os] : undefined,
    jails: driver && { command: driver.discover(jails), parse: parseDiscovery },
    addresses:
      linux && pairs.some((p) => p.members.includes(h.name))
        ? { command: addresses.command, parse: (out) => new Set(addresses.parse(out).map((a) => a.split('/')[0]!)) }
        : undefined,
    bgp: linux && h.vars.bgp_as !== undefined ? frrPeers() : undefined,
  }
}

/**
 * Each host's answers. The parts' outputs are told apart by a line made afresh for this run,
 * followed by the part's exit status; a host that prints the line anyway garbles only what it
 * says of itself, and what does not parse counts as not read.
 */
export async function readLive(
  inv: Inventory,
  hosts: Host[],
  jails: JailSpec[],
  pairs: GatewayPair[],
  warn: (line: string) => void,
): Promise<Map<string, Seen>> {
  const connector = new Connector(inv, {})
  const mark = `ferry-graph-${randomBytes(8).toString('hex')}`
  const seen = new Map<string, Seen>()
  try {
    await mapLimit(hosts, 20, async (h) => {
      const found: Seen = {}
      seen.set(h.name, found)
      const parts = Object.entries(partsFor(h, jails, pairs)).filter(([, f]) => f) as [keyof Seen, Fact<unknown>][]
      if (!parts.length) return
      const line = parts.map(([, f]) => `{ ${f.command}; } 2>/dev/null; printf '\\n%s %s\\n' ${mark} "$?"`).join('\n')
      try {
        const out = await runLine((await connector.connect(h)).$, line)
          .nothrow()
          .timeout(READ_TIMEOUT_MS)
        // [output, status, output, status, …, what follows the last mark]
        const answers = out.stdout.split(new RegExp(`\\n${mark} (\\d+)\\n`))
        if (answers.length !== 2 * parts.length + 1) return warn(`${h.name}: not read: its answer was cut short`)
        parts.forEach(([key, fact], i) => {
          if (answers[2 * i + 1] !== '0') return
          try {
            ;(found as Record<string, unknown>)[key] = fact.parse(answers[2 * i]!)
          } catch {
            // not read
          }
        })
      } catch (err) {
        // Unreachable, refused or too slow: nothing read, and the operator told why.
        warn(`${h.name}: not read: ${oneLine((err as Error).message)}`)
      }
    })
  } finally {
    await connector.close()
  }
  return seen
}
