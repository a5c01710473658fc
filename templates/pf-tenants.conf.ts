// /etc/pf.conf of seed 001's provider edge, rendered from the tenants: default deny, each tenant's
// interfaces passing their own networks in and out, the uplink passing SSH and traffic to the
// tenants' networks, and, for a tenant with upstream hosts, pf moving its traffic to the upstream
// into the default domain and the answers back into the tenant's (`match … rtable`): the only way
// between domains. Nothing passes between two tenants. Validate with `pfctl -nf FILE`.
//
// Line for line the article's file (test/unit/tenants.test.ts), but for its slips: its table has
// 172.18.7.0/30 for Customer 2's 172.16.7.0/30, and its comment on Customer 2's rules names em2,
// the far host's interface, for vlan7. Its first line, the stock file's RCS id, is ferry's own.
import { lines, template, word } from '../src/mesh/config.ts'

export interface PfTenantsVars {
  /** The interface towards the upstream, in the default domain. */
  uplink: string
  /** Pass SSH to the router itself on the uplink. */
  managementSsh: boolean
  tenants: {
    domain: number
    /** Each interface and the networks behind it: its own, then those routed through it. */
    interfaces: { name: string; networks: string[] }[]
    /** The tenant's hosts that may reach the upstream, each with the interface it comes in on. */
    upstream: { host: string; via: string }[]
  }[]
}

/** One network bare, several in braces: pf's list. */
const list = (nets: string[]) => (nets.length === 1 ? nets[0]! : `{ ${nets.join(', ')} }`)

export default template('pf-tenants.conf', (v: PfTenantsVars) => {
  const uplink = word('uplink', v.uplink)
  const networksOf = (t: PfTenantsVars['tenants'][number]) => t.interfaces.flatMap((i) => i.networks)
  const all = [...new Set(v.tenants.flatMap(networksOf))]
  return lines(
    '# /etc/pf.conf: written by ferry (deploy-tenants) from the inventory',
    '#',
    '# See pf.conf(5) and /etc/examples/pf.conf',
    '# silently drop rejected packets',
    '# set block-policy return',
    'set block-policy drop',
    '# packet and byte statistics',
    'set loginterface egress',
    `table <rdomains> const { ${all.join(', ')} }`,
    "# don't care about ipv6 yet",
    'block return out quick inet6 all',
    'block in quick inet6 all',
    '# default deny all',
    'block log all',
    '# loopback',
    ['lo0', ...v.tenants.map((t) => `lo${t.domain}`)].flatMap((lo) => [
      `pass in quick on ${lo}`,
      `pass out quick on ${lo}`,
    ]),
    v.managementSsh && ['# allow SSH for management purposes', `pass in on ${uplink} proto tcp to port 22 keep state`],
    `pass in on ${uplink} to <rdomains> keep state`,
    v.tenants.flatMap((t) =>
      t.interfaces.map((i) => `pass in on ${word('interface', i.name)} from ${list(i.networks)}`),
    ),
    '# allow host traffic',
    `pass out on rdomain 0 from (${uplink})`,
    v.tenants.flatMap((t) =>
      t.upstream.flatMap((u) => [
        `# pass out from ${u.host} to internet via ${uplink}`,
        `pass out on ${uplink} from ${u.host} received-on ${u.via} keep state`,
      ]),
    ),
    v.tenants.flatMap((t) => [
      `# allow traffic out from ${t.interfaces[0]!.name} (rdomain ${t.domain})`,
      ...t.interfaces.map((i) => `pass out on ${i.name} to ${list(i.networks)} keep state`),
    ]),
    v.tenants
      .filter((t) => t.upstream.length > 0)
      .flatMap((t) => [
        `# move traffic from rdomain 0 to rdomain ${t.domain}`,
        `match in on rdomain 0 to ${list(networksOf(t))} rtable ${t.domain}`,
        `# move traffic from rdomain ${t.domain} to rdomain 0`,
        `match in on rdomain ${t.domain} from ${list(networksOf(t))} to !<rdomains> rtable 0`,
      ]),
  )
})
