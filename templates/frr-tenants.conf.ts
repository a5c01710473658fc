// FRR's /etc/frr/frr.conf on a Linux provider edge (deploy-tenants): a BGP instance per tenant
// that has one, inside the tenant's VRF, which is what seed 001's second bgpd (`bgpd_rd1`, started
// in rdomain 1) is on OpenBSD. One bgpd holds them all on Linux, each instance apart: its sessions
// open from and to the VRF's addresses only, and what it learns zebra installs in the VRF's table
// only (`show bgp vrf vrf1 summary` is `bgpctl -s /var/run/bgpd.sock.1 sh sum`).
//
// Why not OpenBGPD, as the article runs: Debian 12's openbgpd (7.7, portable) installs no route in
// any kernel table on Linux, so a tenant's learned routes would never reach table N.
//
// The article's bgpd_rd1.conf is not printed; templates/bgpd-domain.conf.ts is the least OpenBSD
// file, and this says the same: announce the tenant's networks (FRR announces one only while it is
// in the VRF's table, as `bgp network import-check` does), take its neighbours' routes. bgpd.conf's
// `allow from any` / `allow to any` is `no bgp ebgp-requires-policy`: FRR 8 otherwise sends and
// accepts nothing on an eBGP session without a route map. Validate with `vtysh -C -f FILE`, apply
// with `frr-reload.py --reload`.
import { lines, template, word } from '../src/mesh/config.ts'
import type { BgpdDomainVars } from './bgpd-domain.conf.ts'

export interface FrrTenantsVars {
  hostname: string
  /** Each tenant's instance: its VRF device, and the same values as its OpenBSD bgpd's. */
  instances: (Omit<BgpdDomainVars, 'socket'> & { vrf: string })[]
}

export default template('frr-tenants.conf', (v: FrrTenantsVars) =>
  lines(
    `hostname ${word('hostname', v.hostname)}`,
    '!',
    v.instances.flatMap((b) => [
      `! tenant ${b.tenant}, in routing domain ${b.domain}`,
      `router bgp ${b.as} vrf ${word('vrf', b.vrf)}`,
      ` bgp router-id ${word('router id', b.routerId)}`,
      ' no bgp ebgp-requires-policy',
      ...b.neighbors.flatMap((n) => [
        ` neighbor ${word('neighbor', n.address)} remote-as ${n.remoteAs}`,
        // FRR takes the rest of the line; the inventory allows no newline in a descr.
        n.descr && ` neighbor ${n.address} description ${n.descr}`,
      ]),
      ...(b.networks.length > 0
        ? [
            ' !',
            ' address-family ipv4 unicast',
            ...b.networks.map((n) => `  network ${word('network', n)}`),
            ' exit-address-family',
          ]
        : []),
      'exit',
      '!',
    ]),
    'line vty',
    '!',
  ),
)
