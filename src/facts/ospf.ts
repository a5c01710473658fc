// Facts a routing runbook verifies with: which OSPF neighbours a router has and in what state,
// and which destinations its kernel routes. Each is a read-only command plus a parser, so the
// parsers are tested against recorded output, per daemon and OS, without a router.

/** A neighbour by router id, with its state as the daemon prints it (`Full/DR`, `FULL/P2P`). */
export type Neighbours = Map<string, string>

export interface Fact<T> {
  command: string
  parse(stdout: string): T
}

const IPV4 = String.raw`\d{1,3}(?:\.\d{1,3}){3}`

/** Whether a neighbour state is full adjacency, however the daemon spells it (`Full/DR`, `FULL/P2P`). */
export const isFull = (state: string | undefined) => !!state && state.toLowerCase().startsWith('full')

/** FRR's `show ip ospf neighbor json`: `{ neighbors: { RID: [{ nbrState }] } }`. */
export const frrNeighbours: Fact<Neighbours> = {
  command: 'vtysh -c "show ip ospf neighbor json"',
  parse(stdout) {
    let neighbors: Record<string, { nbrState?: string }[]>
    try {
      neighbors = JSON.parse(stdout).neighbors ?? {}
    } catch {
      // vtysh prints a plain-text complaint while ospfd is not (yet) running.
      throw new Error(`vtysh answered: ${stdout.trim().split('\n')[0] || '(nothing)'}`)
    }
    return new Map(
      Object.entries(neighbors).map(([rid, list]) => [
        rid,
        list.find((n) => isFull(n.nbrState))?.nbrState ?? list[0]?.nbrState ?? '?',
      ]),
    )
  },
}

/**
 * The neighbour table as text: Quagga's `show ip ospf neighbor` and OpenBSD's `ospfctl show
 * neighbor` both print one neighbour per line, router id then priority then state; the columns
 * after differ (Quagga: dead time, address, interface; ospfctl: dead time, address, iface, uptime).
 */
function parseNeighbourTable(stdout: string): Neighbours {
  const out: Neighbours = new Map()
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`^(${IPV4})\\s+\\d+\\s+(\\S+)`).exec(line.trim())
    if (m && !isFull(out.get(m[1]!))) out.set(m[1]!, m[2]!)
  }
  return out
}

export const quaggaNeighbours: Fact<Neighbours> = {
  command: 'vtysh -c "show ip ospf neighbor"',
  parse: parseNeighbourTable,
}
export const openbsdNeighbours: Fact<Neighbours> = { command: 'ospfctl show neighbor', parse: parseNeighbourTable }

/** Destinations in the kernel's IPv4 table: `10.0.0.2`, `10.0.0.0/24`, `default`. */
function parseDestinations(stdout: string): Set<string> {
  return new Set(
    stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0]!)
      .filter((d) => d === 'default' || new RegExp(`^${IPV4}(/\\d+)?$`).test(d)),
  )
}

/** Linux: the routes OSPF installed (FRR marks them `proto ospf`). */
export const linuxOspfRoutes: Fact<Set<string>> = { command: 'ip -4 route show proto ospf', parse: parseDestinations }
/** The BSDs: the whole IPv4 table, host routes shown as a bare address. */
export const bsdRoutes: Fact<Set<string>> = { command: 'netstat -rn -f inet', parse: parseDestinations }

/** Whether a table holds a route to exactly this host (`10.0.0.2` or `10.0.0.2/32`). */
export const routesHost = (table: Set<string>, address: string) => table.has(address) || table.has(`${address}/32`)
