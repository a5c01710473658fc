// deploy-tenants' view of the inventory: a provider edge's tenants, each in a routing domain of
// its own (seed 001: Customer 1 in rdomain 1 on vlan6 and vlan60, Customer 2 in rdomain 2 on
// vlan7 and vlan70), the routes of each domain's table, and who may leave a domain through the
// default one (the pf policy, in data). Every check of it is here, before any host is contacted,
// naming the var and the tenant.
import { block, platformFor, z, type Step } from 'ferry'
import { cidrParts, networkOf, parseNetwork, toInt } from '../../src/mesh/ipv4.ts'
import { ifname, ipv4 as address, network, withPrefix } from '../shared/vars.ts'
import type { BgpdDomainVars } from '../../templates/bgpd-domain.conf.ts'
import type { IptablesTenantsVars } from '../../templates/iptables-tenants.rules.ts'
import type { PfTenantsVars } from '../../templates/pf-tenants.conf.ts'

const tenantInterface = z
  .object({
    name: ifname,
    /** The 802.1Q tag on `parent`, the provider edge's trunk towards the tenant. */
    vlan: z.number().int().min(1).max(4094),
    parent: ifname,
    /** ifconfig's description (seed 001: C1, C1-ICONNECT). */
    description: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:,-]{0,63}$/, 'must be one word of letters, digits and . _ : , -')
      .optional(),
    /** The provider edge's address on it, with the prefix. */
    address: withPrefix,
  })
  .strict()

const tenant = z
  .object({
    /** A short name: pf's comments, the rc.d instance (bgpd_NAME) and messages use it. */
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,15}$/, 'must be a letter, then letters, digits and _; at most 16'),
    /** The routing domain (OpenBSD rdomain, Linux VRF table), 1 to 255. */
    domain: z.number().int().min(1).max(255),
    interfaces: z.array(tenantInterface).min(1),
    /** Static routes in the domain's table, each through a gateway on one of its interfaces. */
    routes: z.array(z.object({ to: network, via: address }).strict()).default([]),
    /** Hosts of this tenant that may reach the upstream through the default domain (seed 001: 172.16.7.2). */
    upstream: z.array(address).default([]),
    /** Addresses of the tenant's own sshd listens on, in its domain (sshd_config `ListenAddress A rdomain N`). */
    sshd: z.array(address).default([]),
    /** Addresses ntpd answers on in the tenant's domain (ntpd.conf `listen on A rtable N`; OpenBSD's ntpd). */
    ntpd: z.array(address).default([]),
    /** A bgpd of the tenant's own, in its domain (seed 001's bgpd_rd1), peering with its routers. */
    bgp: z
      .object({
        as: z.number().int().min(1).max(4294967295),
        /** Default: the tenant's first interface's address. */
        router_id: address.optional(),
        /** Networks it announces (they must be in the domain's table). */
        networks: z.array(network).default([]),
        neighbors: z
          .array(
            z
              .object({
                address,
                remote_as: z.number().int().min(1).max(4294967295),
                descr: z
                  .string()
                  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,31}$/, 'must be letters, digits, spaces and . _ : -')
                  .optional(),
              })
              .strict(),
          )
          .min(1),
      })
      .strict()
      .optional(),
  })
  .strict()

export const vars = z.object({
  /** The interface towards the upstream, in the default domain (seed 001's em0, "INTERNET"). */
  uplink: ifname,
  /** Pass SSH to the provider edge itself on the uplink (seed 001: "allow SSH for management purposes"). */
  management_ssh: z.boolean().default(true),
  tenants: z.array(tenant).min(1),
})

export type TenantsVars = z.output<typeof vars>
export type Tenant = TenantsVars['tenants'][number]
export type TenantInterface = Tenant['interfaces'][number]

/** Whether an address is in a network. */
export function contains(net: string, ip: string): boolean {
  const { base, prefix } = parseNetwork(networkOf(net))!
  const size = 2 ** (32 - prefix)
  return toInt(ip) >= base && toInt(ip) < base + size
}

/** The interface of a tenant whose network holds an address (a route's gateway, an upstream host). */
export const interfaceFor = (t: Tenant, ip: string) => t.interfaces.find((i) => contains(i.address, ip))

/** What each interface of a tenant leads to: its own network, then the routes through a gateway on it. */
export function reachedBy(t: Tenant): { name: string; networks: string[] }[] {
  return t.interfaces.map((i) => ({
    name: i.name,
    networks: [networkOf(i.address), ...t.routes.filter((r) => contains(i.address, r.via)).map((r) => r.to)],
  }))
}

/** pf.conf's view of the tenants (templates/pf-tenants.conf.ts). */
export const pfVars = (v: TenantsVars): PfTenantsVars => ({
  uplink: v.uplink,
  managementSsh: v.management_ssh,
  tenants: v.tenants.map((t) => ({
    domain: t.domain,
    interfaces: reachedBy(t),
    upstream: t.upstream.map((host) => ({ host, via: interfaceFor(t, host)!.name })),
  })),
})

/** The Linux rules' view of the tenants (templates/iptables-tenants.rules.ts): pf's, with each domain's VRF device. */
export const iptablesVars = (v: TenantsVars): IptablesTenantsVars => ({
  uplink: v.uplink,
  managementSsh: v.management_ssh,
  tenants: v.tenants.map((t) => ({
    domain: t.domain,
    device: platformFor('linux').interfaces.domainIface!(t.domain).name,
    interfaces: reachedBy(t),
    upstream: t.upstream,
  })),
})

/** Everything a host's tenants are refused for, one message each ([] when none). */
export function refusals(v: TenantsVars): string[] {
  const out: string[] = []
  const seen = new Map<string, string>()
  const claim = (key: string, what: string) => {
    const before = seen.get(key)
    if (before) out.push(`${what} is also ${before}`)
    else seen.set(key, what)
  }
  for (const t of v.tenants) {
    claim(`domain ${t.domain}`, `tenant ${t.name}'s domain ${t.domain}`)
    claim(`tenant ${t.name}`, `tenant ${t.name}`)
    for (const i of t.interfaces) {
      claim(`if ${i.name}`, `tenant ${t.name}'s interface ${i.name}`)
      claim(`vlan ${i.parent} ${i.vlan}`, `tenant ${t.name}'s vlan ${i.vlan} on ${i.parent}`)
      if (i.name === v.uplink || i.parent === i.name)
        out.push(`tenant ${t.name}'s interface ${i.name} is the uplink or its own parent`)
    }
    for (const r of t.routes)
      if (!interfaceFor(t, r.via))
        out.push(`tenant ${t.name}'s route to ${r.to}: ${r.via} is on none of its interfaces`)
    for (const h of t.upstream)
      if (!interfaceFor(t, h)) out.push(`tenant ${t.name}'s upstream host ${h} is on none of its interfaces`)
    for (const n of t.bgp?.neighbors ?? [])
      if (!interfaceFor(t, n.address))
        out.push(`tenant ${t.name}'s BGP neighbor ${n.address} is on none of its interfaces`)
  }
  return out
}

/** The tenant's bgpd instance: its rc.d name (seed 001's bgpd_rd1), config file and control socket. */
export const bgpdInstance = (t: Tenant) => ({
  name: `bgpd_rd${t.domain}`,
  config: `/etc/bgpd_rd${t.domain}.conf`,
})

/** bgpd.conf's view of a tenant with a bgp: (templates/bgpd-domain.conf.ts). */
export const bgpdVars = (t: Tenant, socket?: string): BgpdDomainVars => ({
  tenant: t.name,
  domain: t.domain,
  as: t.bgp!.as,
  routerId: t.bgp!.router_id ?? cidrParts(t.interfaces[0]!.address)!.address,
  networks: t.bgp!.networks,
  neighbors: t.bgp!.neighbors.map((n) => ({ address: n.address, remoteAs: n.remote_as, descr: n.descr })),
  ...(socket ? { socket } : {}),
})

/**
 * sshd listening in the tenants' domains, as seed 001 has it: `ListenAddress A rdomain D` lines in
 * sshd_config (D: OpenBSD's rdomain number, Linux's VRF device, which OpenSSH binds the socket to).
 * Once any ListenAddress is given sshd listens only there: the default domain's addresses are
 * named too, or the management session would be cut. Before any Match block, which would take the
 * lines for its own. `sshd -t` checks the file (on Linux it also asks that each VRF exists: the
 * domains' steps come first). Empty when no tenant has an sshd address.
 */
export function sshdInDomains(v: TenantsVars, domain: (t: Tenant) => string | number): Step[] {
  const listen = v.tenants.flatMap((t) => t.sshd.map((a) => `ListenAddress ${a} rdomain ${domain(t)}`))
  if (!listen.length) return []
  return [
    block('sshd in the domains', {
      path: '/etc/ssh/sshd_config',
      content: ['ListenAddress 0.0.0.0', 'ListenAddress ::', ...listen].join('\n'),
      before: /^Match\s/,
      validate: 'sshd -t -f %s',
      notify: 'reload sshd',
    }),
  ]
}
