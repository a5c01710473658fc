// /etc/iptables/rules.v4 of a Linux provider edge (deploy-tenants): seed 001's pf.conf as
// iptables rules, in the form `iptables-save` prints them, so that what the kernel holds can be
// compared with the file line for line (drift). Load with `iptables-restore FILE`; at boot,
// Debian's netfilter-persistent loads this file.
//
// How pf's rules become these (templates/pf-tenants.conf.ts has the pf side):
// - `block all`, then passes: INPUT and FORWARD drop by default; what pf keeps state for passes
//   back (conntrack RELATED,ESTABLISHED). OUTPUT, the router's own traffic, is not filtered.
// - pf checks a forwarded packet twice, in on one interface and out on another; FORWARD sees both
//   at once. So each `pass in` jumps to ferry-out, which holds the `pass out`s, and a packet that
//   passes in but not out comes back to FORWARD's policy: dropped. Linux names a VRF member's
//   packets after the VRF device (vrfN) in INPUT and FORWARD, not after the vlan they came in on,
//   so `pass in on vlan6 from X` is `-i vrf1 -s X`: a tenant's interfaces are told apart by their
//   networks, and tenants by their domain.
// - `match … rtable N` (pf moving a lookup to another table) is a firewall mark the router's
//   policy rules (`ip rule … fwmark M lookup T`) turn into a lookup in table T: mark N for the
//   tenant's table N, 254 (main) for pf's table 0. Marked: what comes in on the uplink for the
//   tenant's networks, and what the tenant sends anywhere but to a tenant's network (ferry-rtable0
//   returns for every network of every tenant: pf's `to !<rdomains>`).
import { lines, template, word } from '../src/mesh/config.ts'

export interface IptablesTenantsVars {
  /** The interface towards the upstream, in the default domain. */
  uplink: string
  /** Pass SSH to the router itself on the uplink. */
  managementSsh: boolean
  tenants: {
    domain: number
    /** The domain's VRF device, which its members' packets are named after. */
    device: string
    /** Each interface and the networks behind it: its own, then those routed through it. */
    interfaces: { name: string; networks: string[] }[]
    /** The tenant's hosts that may reach the upstream. */
    upstream: string[]
  }[]
}

/** The table id Linux gives the main table, which pf calls table 0. */
const MAIN = 254
const mark = (table: number) => `-j MARK --set-xmark 0x${table.toString(16)}/0xffffffff`
/** The chain that marks a tenant's packets for the main table unless they are for a tenant's network. */
const TO_MAIN = 'ferry-rtable0'
/** The chain of pf's `pass out` rules. */
const OUT = 'ferry-out'

export default template('iptables-tenants.rules', (v: IptablesTenantsVars) => {
  const uplink = word('uplink', v.uplink)
  const networksOf = (t: IptablesTenantsVars['tenants'][number]) => [
    ...new Set(t.interfaces.flatMap((i) => i.networks)),
  ]
  const all = [...new Set(v.tenants.flatMap(networksOf))]
  const leaving = v.tenants.filter((t) => t.upstream.length > 0)
  const device = (t: IptablesTenantsVars['tenants'][number]) => word('device', t.device)
  return lines(
    '# /etc/iptables/rules.v4: written by ferry (deploy-tenants) from the inventory',
    '*mangle',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    leaving.length > 0 && `:${TO_MAIN} - [0:0]`,
    // match in on rdomain 0 to { its networks } rtable N
    leaving.flatMap((t) => networksOf(t).map((n) => `-A PREROUTING -d ${n} -i ${uplink} ${mark(t.domain)}`)),
    // match in on rdomain N from { its networks } to !<rdomains> rtable 0
    leaving.flatMap((t) => networksOf(t).map((n) => `-A PREROUTING -s ${n} -i ${device(t)} -j ${TO_MAIN}`)),
    leaving.length > 0 && [...all.map((n) => `-A ${TO_MAIN} -d ${n} -j RETURN`), `-A ${TO_MAIN} ${mark(MAIN)}`],
    'COMMIT',
    '*filter',
    ':INPUT DROP [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    `:${OUT} - [0:0]`,
    '-A INPUT -i lo -j ACCEPT',
    '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    v.managementSsh && `-A INPUT -i ${uplink} -p tcp -m tcp --dport 22 -j ACCEPT`,
    all.map((n) => `-A INPUT -d ${n} -i ${uplink} -j ACCEPT`),
    v.tenants.flatMap((t) =>
      t.interfaces.flatMap((i) => i.networks.map((n) => `-A INPUT -s ${n} -i ${device(t)} -j ACCEPT`)),
    ),
    '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    all.map((n) => `-A FORWARD -d ${n} -i ${uplink} -g ${OUT}`),
    v.tenants.flatMap((t) =>
      t.interfaces.flatMap((i) => i.networks.map((n) => `-A FORWARD -s ${n} -i ${device(t)} -g ${OUT}`)),
    ),
    // pass out on em0 from 172.16.7.2 received-on vlan7: received in the tenant's domain.
    v.tenants.flatMap((t) => t.upstream.map((h) => `-A ${OUT} -s ${h}/32 -i ${device(t)} -o ${uplink} -j ACCEPT`)),
    v.tenants.flatMap((t) =>
      t.interfaces.flatMap((i) => i.networks.map((n) => `-A ${OUT} -d ${n} -o ${word('interface', i.name)} -j ACCEPT`)),
    ),
    'COMMIT',
  )
})
