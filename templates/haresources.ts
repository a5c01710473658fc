// Seed 002's /etc/ha.d/haresources: the article's one line, the same on both nodes, as Heartbeat
// requires. Its resource names are found where Heartbeat's ResourceManager looks:
// /etc/ha.d/resource.d/NAME, else /etc/init.d/NAME.
import { lines, template, word } from '../src/mesh/config.ts'

export interface HaresourcesVars {
  /** The preferred node: the site's `primary`. */
  primary: string
  /**
   * The service addresses with their prefix and interface, taken over in this order by
   * ServiceAddress (templates/service-address.ts says why not the article's IPaddr).
   */
  addresses: { address: string; iface: string }[]
  /** Resource scripts in start order: /etc/ha.d/resource.d/NAME, else /etc/init.d/NAME. */
  resources: string[]
}

/** The article's one line: `NODE ServiceAddress::EXT/MASK::IF ServiceAddress::INT/MASK::IF ipsec gre zebra bgpd`. */
export default template('haresources', (v: HaresourcesVars) =>
  lines(
    '# /etc/ha.d/haresources; managed by ferry (deploy-ha-vpn)',
    [
      word('primary', v.primary),
      ...v.addresses.map((a) => `ServiceAddress::${word('address', a.address)}::${word('interface', a.iface)}`),
      ...v.resources.map((r) => word('resource', r)),
    ].join(' '),
  ),
)
