// Seed 002's /etc/ha.d/haresources: the article's one line, the same on both nodes, as Heartbeat
// requires. Its resource names are found where Heartbeat's ResourceManager looks:
// /etc/ha.d/resource.d/NAME, else /etc/init.d/NAME.
import { lines, template, word } from '../src/mesh/config.ts'

export interface HaresourcesVars {
  /** The preferred node: the site's `primary`. */
  primary: string
  /**
   * The service addresses as IPaddr takes them: `116.1.1.1/28`, its interface found by
   * Heartbeat's findif from the route to that subnet, which each node's own address in it gives.
   */
  addresses: string[]
  /** Resource scripts in start order: /etc/ha.d/resource.d/NAME, else /etc/init.d/NAME. */
  resources: string[]
}

/** The article's one line: `NODE EXT/MASK INT/MASK ipsec gre zebra bgpd`. */
export default template('haresources', (v: HaresourcesVars) =>
  lines(
    '# /etc/ha.d/haresources; managed by ferry (deploy-ha-vpn)',
    [v.primary, ...v.addresses, ...v.resources].map((w) => word('haresources word', w)).join(' '),
  ),
)
