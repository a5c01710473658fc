// What deploy-mesh's per-OS plans share: one host's view of the mesh (its links, its peers, the
// secrets it needs), the OSPF settings both ends of a link must agree on, and the final checks.
import {
  directory,
  file,
  iface,
  verify,
  ospf,
  ipsec,
  platformFor,
  StepError,
  DEFAULT_COST,
  ROUTING_SUITES,
  z,
  type Host,
  type HostLink,
  type Inventory,
  type OspfInterface,
  type RoutingSuite,
  type Step,
} from 'ferry'
import { isIPv4 } from 'node:net'
import openvpnTap from '../../templates/openvpn-tap.conf.ts'
import openvpnKeyFile from '../../templates/openvpn.key.ts'
import { parseNetwork } from '../../src/mesh/ipv4.ts'
import { TUNNEL_KINDS } from '../../src/mesh/links.ts'
import { ifname, ipv4, network, withPrefix } from '../shared/vars.ts'

// Every var is typed (the shared types in ../shared/vars.ts): each ends up in a config file or a
// command, and a value that is not what it claims to be is refused with its inventory line.
/** A dotted quad, or its number (YAML reads `ospf_area: 0` as one); the daemons take both. */
const area = z
  .union([z.string(), z.number()])
  .transform(String)
  .refine(
    (s) => isIPv4(s) || (/^(0|[1-9][0-9]{0,9})$/.test(s) && Number(s) <= 2 ** 32 - 1),
    'must be an OSPF area: a dotted quad such as 0.0.0.0, or a number from 0 to 4294967295',
  )
const seconds = z.number().int().min(1).max(65535)

export const vars = z.object({
  /** OSPF router id, e.g. 10.0.0.1. */
  router_id: ipv4,
  /** The router id as a /32 on a loopback (lo1), so the router is reachable whichever links are up. */
  loopback: withPrefix,
  ospf_area: area.default('0.0.0.0'),
  /** Where the links' /30s come from: the same on every linked host (allocateLinks reads it). */
  link_pool: z
    .string()
    .refine(
      (s) => (parseNetwork(s)?.prefix ?? 32) <= 30,
      'must be an IPv4 network of /30 or larger with no host bits set, e.g. 172.16.2.0/24',
    ),
  /** The fallback tunnel kind of this host's links (allocateLinks reads it); a link's own `tunnel` wins. */
  tunnel: z.enum(TUNNEL_KINDS, `must be one of ${TUNNEL_KINDS.join(', ')}`).optional(),
  /**
   * What OSPF announces (Quagga/FRR `network` statements). Default: the host's links, its
   * loopback and its jail prefix. Seed 000 announces one supernet, 172.16.2.0/23, instead.
   */
  ospf_networks: z.array(network).default([]),
  /** Interfaces announced but silent (OpenBSD ospfd `passive`), e.g. the internal vr1. */
  ospf_passive: z.array(ifname).default([]),
  /**
   * The routing suite: frr, quagga or openbsd (its own ospfd). Default: the platform's, FRR on
   * Linux, Quagga on FreeBSD (seed 000), ospfd on OpenBSD (seed 003). Each OS's plan builds that
   * one only and refuses another; a peer's sets the timers it is expected to agree on.
   */
  routing: z.enum(ROUTING_SUITES, `must be one of ${ROUTING_SUITES.join(', ')}`).optional(),
  /**
   * Timers and network type on the tunnels. Both ends of a link must agree, so set them on the
   * mesh group. Default: with FRR hello 1, dead 4, point-to-point, as the lab measured; the
   * other daemons' own defaults (10 and 40, broadcast), as the seeds run them.
   */
  ospf_hello: seconds.optional(),
  ospf_dead: seconds.optional(),
  ospf_point_to_point: z.boolean().optional(),
  /** Where the jails' /32s live (seed 000: lo2); it is created and its addresses announced. */
  jail_interface: ifname.optional(),
  /** The host's share of the jail pool, e.g. 172.16.3.0/28. */
  jail_prefix: network.optional(),
  /** All jails' addresses: announced whole, so a jail's /32 stays announced wherever it moves. */
  jail_pool: network.optional(),
  /** OpenBSD: load pf rules that pass the mesh's GRE, IPsec and OSPF (an anchor in pf.conf). */
  pf: z.boolean().default(false),
  /**
   * How long, in seconds, each host waits for its neighbours to be Full and then for every
   * loopback to be routed. A host waits on its slowest peer, which may still be applying.
   */
  converge_timeout: seconds.default(60),
  /** Write boot configuration for interfaces (false where nothing would read it, as in the lab). */
  persist_interfaces: z.boolean().default(true),
  /**
   * Linux, gre-ipsec links: how strongSwan's IKE daemon runs. charon-systemd (default) is
   * systemd's strongswan unit, which loads swanctl's files when it starts; starter is
   * strongswan-starter's ipsec init script, for hosts without systemd (the lab's), with a
   * strongswan.d file that has charon load swanctl's files when it starts.
   */
  ipsec_daemon: z.enum(['charon-systemd', 'starter'], 'must be charon-systemd or starter').default('charon-systemd'),
})

export type MeshVars = z.output<typeof vars>

/** One member's view of the mesh, as the per-OS plans need it. */
export interface Member {
  host: Host
  vars: MeshVars
  inventory: Inventory
  links: HostLink[]
  peer(name: string): Host
  secret(name: string): Promise<string>
}

export interface OsSteps {
  steps: Step[]
  handlers: Record<string, Step>
}

/** A host's platform: undefined for a host whose os: the inventory leaves to the probe. */
export const platformOf = (host: Pick<Host, 'os'>) => (host.os ? platformFor(host.os) : undefined)

/** A host's routing suite: its `routing` var, else its platform's. */
const routingOf = (host: Pick<Host, 'os' | 'vars'>): RoutingSuite | undefined =>
  (host.vars as Partial<MeshVars>).routing ?? platformOf(host)?.routing

/** Refuses a routing suite this OS's plan does not build. */
export function refuseRouting(m: Member, built: RoutingSuite, why: string): void {
  const wanted = routingOf(m.host)
  if (wanted !== built) throw new StepError(`routing ${wanted}: ${why}`)
}

/** The OSPF interface settings a host would use, before comparing them with its peers'. */
function timers(host: Pick<Host, 'os' | 'vars'>): Pick<OspfInterface, 'hello' | 'dead' | 'pointToPoint'> {
  const frr = routingOf(host) === 'frr'
  const v = host.vars as Partial<MeshVars>
  return {
    hello: v.ospf_hello ?? (frr ? 1 : undefined),
    dead: v.ospf_dead ?? (frr ? 4 : undefined),
    pointToPoint: v.ospf_point_to_point ?? frr,
  }
}

/**
 * The tunnels as OSPF interfaces. A link whose ends would disagree on timers or network type
 * never reaches Full, so that is refused here, naming the link, before anything is changed.
 */
export function ospfInterfaces(
  m: Member,
  description: (l: HostLink) => string | undefined = () => undefined,
): OspfInterface[] {
  const mine = timers(m.host)
  return m.links.map((l) => {
    const theirs = timers(m.peer(l.remote.host))
    if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
      throw new StepError(
        `the link ${m.host.name}–${l.remote.host} would not come up: its ends disagree on OSPF timers or network type ` +
          `(${m.host.os}: ${JSON.stringify(mine)}, ${m.peer(l.remote.host).os}: ${JSON.stringify(theirs)}); set ospf_hello, ospf_dead and ospf_point_to_point on the mesh group`,
      )
    }
    // The daemons' default cost on a tunnel is already 10; the seeds' files leave it out.
    return {
      name: l.local.ifname,
      description: description(l),
      ...(l.link.cost !== DEFAULT_COST ? { cost: l.link.cost } : {}),
      ...strip(mine),
    }
  })
}

const strip = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>

/** What `network` statements announce: as configured, or the links, loopback and jails. */
export function networks(m: Member): string[] {
  if (m.vars.ospf_networks.length) return m.vars.ospf_networks
  const jails = m.vars.jail_pool ?? m.vars.jail_prefix
  return [...m.links.map((l) => l.link.subnet), m.vars.loopback, ...(jails ? [jails] : [])]
}

/** The other mesh members, whose loopbacks every member must route. */
function others(m: Member): Host[] {
  return m.inventory.hosts.filter((h) => h.name !== m.host.name && h.groups.includes('mesh') && h.vars.loopback)
}

/**
 * The end of the run: every link's neighbour Full, then every other member's loopback in the
 * kernel's routing table, then, on a host with gre-ipsec links, every such link's GRE inside ESP.
 * Each polls until its timeout and then says exactly what is missing.
 * After a change, the neighbours must stay Full for longer than the dead interval: a neighbour
 * whose hellos stopped authenticating (a wrong key) stays Full until then.
 */
export function verifyMesh(
  m: Member,
  neighbours: ospf.Fact<ospf.Neighbours>,
  routes: ospf.Fact<Set<string>>,
  sas?: ipsec.Fact<ipsec.EspSa[]>,
): Step[] {
  return [
    ...(m.links.length
      ? [
          verify('every neighbour Full', {
            command: neighbours.command,
            timeout: m.vars.converge_timeout,
            hold: (timers(m.host).dead ?? 40) + 1,
            expect: (out) =>
              attempt(neighbours, out, (table) => {
                const notFull = m.links
                  .map(({ remote }) => ({ name: remote.host, rid: String(m.peer(remote.host).vars.router_id) }))
                  .filter(({ rid }) => !ospf.isFull(table.get(rid)))
                return (
                  notFull.length === 0 ||
                  notFull
                    .map(({ name, rid }) => `${name} (${rid}) is ${table.get(rid) ?? 'not a neighbour'}`)
                    .join('; ')
                )
              }),
          }),
        ]
      : []),
    verify('every loopback routed', {
      command: routes.command,
      timeout: m.vars.converge_timeout,
      expect: (out) =>
        attempt(routes, out, (table) => {
          const missing = others(m).filter((h) => !ospf.routesHost(table, String(h.vars.loopback).replace(/\/32$/, '')))
          return (
            missing.length === 0 || `no route to ${missing.map((h) => `${h.name}'s ${h.vars.loopback}`).join(', ')}`
          )
        }),
    }),
    ...(sas && linksOfKind(m, 'gre-ipsec').length ? [encrypted(m, sas)] : []),
  ]
}

/** A fact's output judged, or what its parser refused in it. */
function attempt<T>(fact: ospf.Fact<T>, out: string, judge: (t: T) => true | string): true | string {
  try {
    return judge(fact.parse(out))
  } catch (err) {
    return (err as Error).message
  }
}

/**
 * Every gre-ipsec link's traffic in ESP: an SA each way between the two global addresses, and,
 * whenever the run changed something, their packet counts seen to grow, which the OSPF hellos
 * crossing the GRE every hello interval make them do. One look shows the SAs; only a second shows
 * that they are the ones in use, so the counts are compared across apply's polls (`moving`), and a
 * plan, a drift check or the health check judges the SAs alone.
 */
function encrypted(m: Member, sas: ipsec.Fact<ipsec.EspSa[]>): Step {
  const me = m.host.address
  const peers = linksOfKind(m, 'gre-ipsec').map(({ remote }) => ({
    label: `${remote.host} (${m.peer(remote.host).address})`,
    address: m.peer(remote.host).address,
  }))
  const DIRECTIONS = ['in', 'out'] as const
  /** Each peer's directions that fail `bad`, as one sentence per peer, or true if none does. */
  const judge = (bad: (p: (typeof peers)[number], dir: 'in' | 'out') => boolean, what: (dirs: string[]) => string) => {
    const failing = peers
      .map((p) => ({ p, dirs: DIRECTIONS.filter((dir) => bad(p, dir)) }))
      .filter(({ dirs }) => dirs.length)
    return failing.length === 0 || failing.map(({ p, dirs }) => `${p.label}: ${what(dirs)}`).join('; ')
  }
  // Hellos cross every hello interval each way: two of them, and time to spare.
  const timeout = 2 * (timers(m.host).hello ?? 10) + 5
  return verify('every IPsec link encrypted', {
    command: sas.command,
    timeout,
    expect: (out) =>
      attempt(sas, out, (list) =>
        judge(
          (p, dir) => ipsec.between(list, me, p.address)[dir].length === 0,
          (dirs) => `no ESP SA ${dirs.join(' or ')}`,
        ),
      ),
    moving: (first, now) =>
      attempt(sas, first, (before) =>
        attempt(sas, now, (after) =>
          judge(
            (p, dir) =>
              !ipsec.moved(ipsec.between(before, me, p.address)[dir], ipsec.between(after, me, p.address)[dir]),
            (dirs) => `ESP packet counts ${dirs.join(' and ')} did not move`,
          ),
        ),
      ),
  })
}

/**
 * The router id on lo1, reachable whichever links are up, and (on the BSDs, where jails bring
 * their own /32s to it) the jails' interface, announced passively.
 */
export function loopbacks(m: Member, { jails }: { jails: boolean }): Step[] {
  const persist = m.vars.persist_interfaces
  return [
    iface('router id', { name: 'lo1', kind: 'loopback', addresses: [m.vars.loopback], persist }),
    ...(jails && m.vars.jail_interface
      ? [iface('jail interface', { name: m.vars.jail_interface, kind: 'loopback', addresses: [], persist })]
      : []),
  ]
}

/** A link's GRE tunnel between the two global addresses; `address` is this end's inner address. */
export function greTunnel(m: Member, l: HostLink, address: string): Step {
  return iface(`${l.local.ifname} tunnel`, {
    name: l.local.ifname,
    kind: 'gre',
    tunnel: { local: m.host.address, remote: m.peer(l.remote.host).address },
    addresses: [address],
    persist: m.vars.persist_interfaces,
  })
}

/** Links of the given tunnel kinds. */
export const linksOfKind = (m: Member, ...kinds: string[]) => m.links.filter((l) => kinds.includes(l.link.kind))

/** Refuses links this OS's plan cannot build, naming them. */
export function refuseKinds(m: Member, supported: string[], why: string): void {
  const bad = m.links.filter((l) => !supported.includes(l.link.kind))
  if (bad.length)
    throw new StepError(`${bad.map((l) => `the ${l.link.kind} link to ${l.remote.host}`).join(', ')}: ${why}`)
}

/** seed 000's tunnels: one OpenVPN TAP instance per link, its config in `dir`, validated by OpenVPN. */
export function openvpnConfig(m: Member, l: HostLink, dir: string, notify: string): Step {
  return file(`${l.local.ifname} config`, {
    path: `${dir}/${l.local.ifname}.conf`,
    mode: 0o600,
    content: openvpnTap({
      dev: l.local.ifname,
      description: `TAP to ${l.remote.host}`,
      local: m.host.address,
      remote: m.peer(l.remote.host).address,
      port: l.link.port!,
      address: l.local.cidr,
      keyFile: `${dir}/mesh.key`,
      keyDirection: l.keyDirection,
    }),
    validate: 'openvpn --config %s --version',
    notify,
  })
}

/**
 * The directory and static key every OpenVPN link on the host shares. A new key restarts every
 * instance (`restart tapN`): with persist-key each keeps the old one until it restarts.
 */
export async function openvpnKey(m: Member, dir: string): Promise<Step[]> {
  const notify = linksOfKind(m, 'openvpn').map((l) => `restart ${l.local.ifname}`)
  return [
    directory('openvpn dir', { path: dir, mode: 0o700 }),
    file('openvpn key', {
      path: `${dir}/mesh.key`,
      content: openvpnKeyFile({ key: (await m.secret('openvpn_key')).split('\n') }),
      mode: 0o600,
      mask: [/[^\n]+/],
      notify,
    }),
  ]
}
