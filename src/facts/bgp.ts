// BGP facts. OpenBGPD's: bgpctl through a given control socket, which is how seed 001 asks the
// bgpd of one routing domain (`bgpctl -s /var/run/bgpd.sock.1 sh sum`). FRR's: vtysh, for the
// default VRF or a named one (one bgpd holds every VRF's instance on Linux).
import { quote } from '../shell/quote.ts'
import type { Fact } from './ospf.ts'

/**
 * `bgpctl -s SOCKET show summary`: each neighbour, by its descr or its address as bgpctl prints
 * it, and whether the session is Established (its last column is a prefix count then, a state
 * name otherwise: Idle, Connect, Active, OpenSent, OpenConfirm).
 */
export const openbgpdSummary = (socket: string): Fact<Map<string, boolean>> => ({
  command: `bgpctl -s ${quote(socket)} show summary`,
  parse(out) {
    const rows = out.split('\n').filter((l) => l.trim() !== '')
    if (!/^Neighbor\s+AS\s+MsgRcvd/.test(rows[0] ?? ''))
      throw new Error(`bgpctl does not answer (${JSON.stringify(rows[0] ?? '')})`)
    // The descr may hold spaces: the last six words are AS, MsgRcvd, MsgSent, OutQ, Up/Down and State.
    return new Map(
      rows.slice(1).map((r) => {
        const words = r.trim().split(/\s+/)
        return [words.slice(0, -6).join(' '), /^\d+$/.test(words.at(-1)!)] as const
      }),
    )
  },
})

/**
 * FRR bgpd's IPv4 unicast neighbours of the default VRF or of `vrf`, by address, and their states
 * (`Established`, `Active`…): `show bgp [vrf NAME] summary json`.
 */
export const frrPeers = (vrf?: string): Fact<Map<string, string>> => ({
  command: `vtysh -c ${quote(`show bgp${vrf ? ` vrf ${vrf}` : ''} summary json`)}`,
  parse(out) {
    let json: { ipv4Unicast?: { peers?: Record<string, { state?: string }> } }
    try {
      json = JSON.parse(out) as typeof json
    } catch {
      throw new Error(`bgpd does not answer (${JSON.stringify(out.trim().split('\n')[0] ?? '')})`)
    }
    return new Map(Object.entries(json.ipv4Unicast?.peers ?? {}).map(([ip, p]) => [ip, p.state ?? '?']))
  },
})
