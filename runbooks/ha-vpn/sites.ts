// deploy-ha-vpn's view of the inventory: the sites (groups of two gateways sharing a `site` var),
// each pair of sites' GRE /30 from tunnel_pool, and what a gateway needs of its own site and its
// peers. Everything that can be wrong with the inventory is refused here, naming the host or the
// site and the var, before any host is contacted.
import { StepError, z, type Host, type Inventory } from 'ferry'
import { cidrParts, networkOf, parseNetwork, toDotted } from '../../src/mesh/ipv4.ts'
import { ifname, network, withPrefix } from '../shared/vars.ts'

/** Heartbeat's times: seconds, fractions down to the millisecond (0.5 → 500ms). */
const seconds = z.number().positive().max(3600)

export const vars = z.object({
  /** The one AS of every site (the article's 65432): iBGP over the GRE tunnels. */
  bgp_as: z.number().int().min(1).max(4294967295),
  /** One /30 per pair of sites, in site-name order: site1–site2 is the first, .1 the first site's end. */
  tunnel_pool: z
    .string()
    .refine(
      (s) => (parseNetwork(s)?.prefix ?? 32) <= 30,
      'must be an IPv4 network of /30 or larger with no host bits set, e.g. 172.16.0.0/24',
    ),
  /** rsasig (the article's: each site's RSA key pair) or psk (the ipsec_psk secret). */
  ipsec_auth: z.enum(['rsasig', 'psk'], 'must be rsasig or psk').default('rsasig'),
  /** Heartbeat's timers, in seconds (the article's keepalive 2 and deadtime 10 by default), and its log. */
  heartbeat: z
    .object({
      keepalive: seconds.default(2),
      deadtime: seconds.default(10),
      warntime: seconds.default(5),
      initdead: seconds.default(30),
      auto_failback: z.boolean().default(true),
      /** A file Heartbeat logs to besides syslog (ha.cf's logfile), for hosts without a syslog daemon. */
      logfile: z
        .string()
        .regex(/^\/[A-Za-z0-9._/-]+$/, 'must be an absolute path, e.g. /var/log/ha-log')
        .optional(),
    })
    .strict()
    .default({ keepalive: 2, deadtime: 10, warntime: 5, initdead: 30, auto_failback: true }),
  /**
   * How strongswan-starter runs: charon-systemd (default) is its strongswan-starter unit under
   * systemd; starter is its /etc/init.d/ipsec, for hosts without systemd (the lab's UML hosts).
   * Heartbeat starts `ipsec` (/etc/init.d/ipsec) either way.
   */
  ipsec_daemon: z.enum(['charon-systemd', 'starter'], 'must be charon-systemd or starter').default('charon-systemd'),
  /** The site's name: the gateways' `site` group sets it. It names the conns and the tunnels (gre-SITE). */
  site: z
    .string()
    .regex(/^[a-z][a-z0-9]{0,10}$/, 'must be a site name: a lower-case letter, then letters and digits; at most 11'),
  /** The site's IKE identity, e.g. `@site1.company.com`. */
  ipsec_id: z.string().regex(/^\S+$/, 'must be one word, e.g. @site1.company.com'),
  /** The site's external service address with its prefix, on wan_interface: Heartbeat takes it over. */
  external_address: withPrefix,
  /** The site's internal service address with its prefix, on lan_interface: Heartbeat takes it over. */
  internal_address: withPrefix,
  wan_interface: ifname,
  lan_interface: ifname,
  /** The site's RSA public key, RFC 3110 in base64 after 0s (FreeS/WAN's form): needed with rsasig. */
  ipsec_public_key: z
    .string()
    .regex(/^0s[A-Za-z0-9+/]+=*$/, 'must be an RFC 3110 RSA public key in base64 after 0s')
    .optional(),
  /** The name of the secret holding the site's RSA private key (PEM): needed with rsasig. */
  ipsec_private_key: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of a secret')
    .optional(),
  /** Extra `network` lines; the article relies on `redistribute connected` for the LAN. */
  networks: z.array(network).default([]),
  /** The site's preferred node (haresources' first word): one of its two gateways. */
  primary: z.string(),
  /** This gateway's own addresses, in the service subnets: Heartbeat's ucast and IPaddr need them. */
  lan_address: withPrefix,
  wan_address: withPrefix,
  /**
   * BGP timers in seconds for the sessions over GRE: keepalive, hold and connect retry. FRR's
   * defaults (60, 180, 120) hold a failover up to a minute, until the peer site drops the old
   * node's session; the article's Zebra had the same.
   */
  bgp_timers: z
    .object({
      keepalive: z.number().int().min(1).max(65535),
      hold: z.number().int().min(3).max(65535),
      connect: z.number().int().min(1).max(65535),
    })
    .strict()
    .refine((t) => t.hold >= 3 * t.keepalive, 'hold must be at least three keepalives')
    .optional(),
  /** How long, in seconds, the active node waits for its IKE SAs and BGP sessions, after initdead. */
  converge_timeout: z.number().int().min(1).max(65535).default(60),
})

export type HaVars = z.output<typeof vars>

/** A site: its name, its two gateways (sorted by name), and the site's vars as they set them. */
export interface Site {
  name: string
  gateways: Host[]
  vars: HaVars
}

/** A GRE tunnel between this site and a peer site, from this site's end. */
export interface SiteLink {
  peer: Site
  /** The interface, gre-PEERSITE. */
  ifname: string
  /** The /30, and this end's and the peer's addresses in it. */
  subnet: string
  address: string
  peerAddress: string
}

const addressOf = (cidr: string) => cidr.split('/')[0]!

/** Whether `a` (an address with a prefix) lies in `b`'s subnet, with the same prefix. */
function sameSubnet(a: string, b: string): boolean {
  const x = cidrParts(a)!
  const y = cidrParts(b)!
  return x.prefix === y.prefix && networkOf(a) === networkOf(b)
}

/** Every site of the ha-vpn group, checked: two gateways each, their site vars alike, the primary one of them. */
export function sitesOf(inventory: Inventory): Site[] {
  const bySite = new Map<string, Host[]>()
  for (const h of inventory.hosts.filter((h) => h.groups.includes('ha-vpn'))) {
    const site = h.vars.site
    if (typeof site !== 'string')
      throw new StepError(`${h.name}: var site is missing: every ha-vpn gateway is in a site`)
    bySite.set(site, [...(bySite.get(site) ?? []), h])
  }
  const sites = [...bySite.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, hosts]) => {
      const gateways = [...hosts].sort((a, b) => (a.name < b.name ? -1 : 1))
      if (gateways.length !== 2)
        throw new StepError(
          `site ${name} has ${gateways.length} gateway${gateways.length === 1 ? '' : 's'} (${gateways.map((g) => g.name).join(', ')}): a Heartbeat pair is 2`,
        )
      const parsed = gateways.map((g) => {
        const r = vars.safeParse(g.vars)
        if (!r.success) {
          const issue = r.error.issues[0]!
          throw new StepError(`${g.name}: var ${issue.path.join('.')}: ${issue.message}`)
        }
        return r.data
      })
      for (const k of SITE_VARS) {
        if (JSON.stringify(parsed[0]![k]) !== JSON.stringify(parsed[1]![k]))
          throw new StepError(
            `site ${name}: ${gateways[0]!.name} and ${gateways[1]!.name} differ in var ${k}: set it on the site's group`,
          )
      }
      const v = parsed[0]!
      if (!gateways.some((g) => g.name === v.primary))
        throw new StepError(
          `site ${name}: var primary ${v.primary} is not one of its gateways (${gateways.map((g) => g.name).join(', ')})`,
        )
      for (const [g, gv] of gateways.map((g, i) => [g, parsed[i]!] as const)) {
        for (const [own, service, iface] of [
          ['wan_address', 'external_address', 'wan_interface'],
          ['lan_address', 'internal_address', 'lan_interface'],
        ] as const) {
          if (!sameSubnet(gv[own], gv[service]) || addressOf(gv[own]) === addressOf(gv[service]))
            throw new StepError(
              `${g.name}: var ${own} ${gv[own]} must be another address in ${service} ${gv[service]}'s subnet: Heartbeat's IPaddr finds ${gv[iface]} by it`,
            )
        }
      }
      if (v.ipsec_auth === 'rsasig')
        for (const k of ['ipsec_public_key', 'ipsec_private_key'] as const)
          if (v[k] === undefined) throw new StepError(`site ${name}: var ${k} is missing (ipsec_auth rsasig)`)
      return { name, gateways, vars: v }
    })
  if (sites.length < 2)
    throw new StepError(`deploy-ha-vpn needs at least two sites; the ha-vpn group has ${sites.length}`)
  for (const k of SHARED_VARS) {
    const odd = sites.find((s) => JSON.stringify(s.vars[k]) !== JSON.stringify(sites[0]!.vars[k]))
    if (odd)
      throw new StepError(`sites ${sites[0]!.name} and ${odd.name} differ in var ${k}: set it on the ha-vpn group`)
  }
  const pool = parseNetwork(sites[0]!.vars.tunnel_pool)!
  const pairs = (sites.length * (sites.length - 1)) / 2
  if (pairs > 2 ** (30 - pool.prefix))
    throw new StepError(
      `var tunnel_pool ${sites[0]!.vars.tunnel_pool} has room for ${2 ** (30 - pool.prefix)} /30s; ${sites.length} sites need ${pairs}`,
    )
  return sites
}

/** Vars a site's two gateways must agree on. */
const SITE_VARS = [
  'site',
  'ipsec_id',
  'external_address',
  'internal_address',
  'wan_interface',
  'lan_interface',
  'ipsec_public_key',
  'ipsec_private_key',
  'networks',
  'primary',
] as const
/** Vars every site must agree on. */
const SHARED_VARS = ['bgp_as', 'tunnel_pool', 'ipsec_auth', 'heartbeat'] as const

/** A site's tunnels to every other site: pair k (in site-name order) gets the pool's k-th /30. */
export function linksOf(sites: Site[], site: string): SiteLink[] {
  const base = parseNetwork(sites[0]!.vars.tunnel_pool)!.base
  const links: SiteLink[] = []
  let k = 0
  for (let i = 0; i < sites.length; i++)
    for (let j = i + 1; j < sites.length; j++, k++) {
      const net = base + 4 * k
      const [a, b] = [sites[i]!, sites[j]!]
      if (a.name !== site && b.name !== site) continue
      const first = a.name === site
      links.push({
        peer: first ? b : a,
        ifname: `gre-${first ? b.name : a.name}`,
        subnet: `${toDotted(net)}/30`,
        address: `${toDotted(net + (first ? 1 : 2))}/30`,
        peerAddress: toDotted(net + (first ? 2 : 1)),
      })
    }
  return links
}

export { addressOf }

/** The conn between two sites, from the first's side: `site1tosite2` (the article's `siteltosite2`). */
export const connName = (site: Site, peer: Site) => `${site.name}to${peer.name}`
