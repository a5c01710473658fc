// Seed 002's /etc/ha.d/haresources: the article's one line, the same on both nodes, as Heartbeat
// requires. Its resource names are found where Heartbeat's ResourceManager looks:
// /etc/ha.d/resource.d/NAME, else /etc/init.d/NAME.
import { lines, template, word } from '../src/mesh/config.ts'

export interface HaresourcesVars {
  /** The preferred node: the site's `primary`. */
  primary: string
  /**
   * The service addresses as IPaddr takes them, with their interface: `116.1.1.1/28/eth0`. The
   * article's `116.1.1.1/28` is not enough today: resource-agents 4.12's IPaddr takes eth0 as the
   * interface when none is given and refuses an address findif places on another ("Invalid
   * parameter value: nic [eth0] Calculated nic: [eth1]", measured in the lab), so the internal
   * address on eth1 never comes up and the group is given up.
   */
  addresses: string[]
  /** Resource scripts in start order: /etc/ha.d/resource.d/NAME, else /etc/init.d/NAME. */
  resources: string[]
}

/** The article's one line: `NODE EXT/MASK/IF INT/MASK/IF ipsec gre zebra bgpd`. */
export default template('haresources', (v: HaresourcesVars) =>
  lines(
    '# /etc/ha.d/haresources; managed by ferry (deploy-ha-vpn)',
    [v.primary, ...v.addresses, ...v.resources].map((w) => word('haresources word', w)).join(' '),
  ),
)
