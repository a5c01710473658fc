// deploy-carp-gateway's view of the inventory (seed 004): a pair of gateways sharing addresses by
// CARP, each with its own addresses on the same interfaces, the interface groups pf's rules are
// written against, the pfsync link, sasyncd's peer, the IPsec rules and what ifstated runs when a
// node becomes master or backup. The pair's values go in the group's vars, each node's (its
// advskew, the sync peer it names) in its host vars. Every check is here, before any host is
// contacted.
import { z } from 'ferry'
import { cidrParts, networkOf } from '../../src/mesh/ipv4.ts'
import { ifname, ipv4 as address, network, withPrefix } from '../shared/vars.ts'
import { contains } from '../tenants/model.ts'

/** An interface group's name: pf and ifconfig take a letter, then letters, digits and _; it may not end in a digit. */
const groupName = z
  .string()
  .regex(
    /^[A-Za-z_]([A-Za-z0-9_]{0,14}[A-Za-z_])?$/,
    'must be a letter or _, then letters, digits and _, not ending in a digit; at most 16',
  )

/** A command ifstated runs (`run "…"`): one line, no double quote (its string has no escapes). */
const command = z.string().regex(/^[^"\n\\]+$/, 'must be one line without a double quote or a backslash')

const physical = z
  .object({
    name: ifname,
    /** This node's own address on it (CIDR): the CARP address of the same network is shared. */
    address: withPrefix,
    /** Interface groups it joins (`group ext` in hostname.if); pf's rules name the groups. */
    groups: z.array(groupName).default([]),
  })
  .strict()

const carp = z
  .object({
    name: z.string().regex(/^carp\d{1,3}$/, 'must be carpN'),
    /** The virtual host id, the same on both nodes: 1 to 255. */
    vhid: z.number().int().min(1).max(255),
    /** The physical interface it runs on (required since OpenBSD 5.7). */
    carpdev: ifname,
    /** The shared address, CIDR. */
    address: withPrefix,
    groups: z.array(groupName).default([]),
  })
  .strict()

/** A key's secret name, which is its file's name too: no path in it. */
const keyName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/, 'must be a secret name: letters, digits, _ and -')

const ipsecRule = z.discriminatedUnion('keying', [
  // ipsec.conf's `ike esp from A to B peer C`: isakmpd negotiates the SAs.
  z.object({ keying: z.literal('ike'), from: network, to: network, peer: address.optional() }).strict(),
  // `esp from A to B spi OUT:IN authkey file "…" enckey file "…"`: static keys, from secrets.
  z
    .object({
      keying: z.literal('static'),
      from: address,
      to: address,
      spi: z
        .object({ out: z.number().int().min(256).max(0xffffffff), in: z.number().int().min(256).max(0xffffffff) })
        .strict(),
      /**
       * Secret names: the outgoing and incoming HMAC-SHA2-256 keys (64 hex digits) and AES keys
       * (32 to 64). Each is also its key file's name in /etc/ipsec.keys.
       */
      authkeys: z.object({ out: keyName, in: keyName }).strict(),
      enckeys: z.object({ out: keyName, in: keyName }).strict(),
    })
    .strict(),
])

export const vars = z
  .object({
    interfaces: z.array(physical).min(1),
    carp: z.array(carp).min(1),
    /** The inside's interface groups: what comes in on them may go out on egress (pf). */
    inside: z.array(groupName).min(1),
    /** This node's skew: 0 for the preferred master, more (100) for the backup. */
    advskew: z.number().int().min(0).max(254),
    pfsync: z
      .object({
        /** The interface pfsync talks on: a link of the pair's own (it has no authentication). */
        syncdev: ifname,
        /** The other node's address on it, for unicast; multicast when not given. */
        syncpeer: address.optional(),
      })
      .strict(),
    /** sasyncd: the other node's address; its interface is the first CARP interface. Its key is the secret sasyncd_key. */
    sasyncd: z.object({ peer: address }).strict().optional(),
    ipsec: z.array(ipsecRule).default([]),
    /**
     * Linux: each interface group's number. The kernel's link groups are numbers, which
     * /etc/iproute2/group names, so that `ip` and nftables can say `ext` where pf does.
     */
    link_groups: z.record(groupName, z.number().int().min(1).max(255)).default({}),
    /**
     * Linux: ucarp's advertisement interval in seconds, and how many of them a backup waits
     * without one before it takes over (ucarp's deadratio, 3 as carp(4)'s). carp(4) waits
     * 3 × advbase + advskew/256 s; a lower ratio fails over sooner and on fewer lost packets.
     */
    ucarp: z
      .object({
        advbase: z.number().int().min(1).max(255).default(1),
        deadratio: z.number().int().min(1).max(10).default(3),
      })
      .strict()
      .default({ advbase: 1, deadratio: 3 }),
    /**
     * Linux: whether nftables loads the ruleset at boot (Debian's nftables.service: systemd only;
     * the package has no init script). false where no systemd runs, as in ferry's lab.
     */
    nftables_at_boot: z.boolean().default(true),
    /** What ifstated runs when the first CARP interface becomes master, and backup. */
    ifstated: z
      .object({ master: z.array(command).default([]), backup: z.array(command).default([]) })
      .strict()
      .default({ master: [], backup: [] }),
  })
  .strict()

export type CarpVars = z.output<typeof vars>
export type CarpInterface = CarpVars['carp'][number]

/** The address and dotted netmask of a CIDR, as hostname.if's packed form wants them. */
export function addressMask(cidr: string): { address: string; mask: string } {
  const { address: a, prefix } = cidrParts(cidr)!
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
  return { address: a, mask: [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join('.') }
}

/** Everything a node's vars are refused for, one message each ([] when none). */
export function refusals(v: CarpVars): string[] {
  const out: string[] = []
  const names = new Set(v.interfaces.map((i) => i.name))
  const vhids = new Map<number, string>()
  for (const c of v.carp) {
    const own = v.interfaces.find((i) => i.name === c.carpdev)
    if (!own) out.push(`${c.name}'s carpdev ${c.carpdev} is none of the interfaces`)
    else if (networkOf(own.address) !== networkOf(c.address))
      out.push(`${c.name}'s address ${c.address} is not on ${c.carpdev}'s network ${networkOf(own.address)}`)
    const before = vhids.get(c.vhid)
    if (before) out.push(`${c.name}'s vhid ${c.vhid} is also ${before}'s`)
    vhids.set(c.vhid, c.name)
  }
  if (!names.has(v.pfsync.syncdev)) out.push(`pfsync's syncdev ${v.pfsync.syncdev} is none of the interfaces`)
  else if (v.carp.some((c) => c.carpdev === v.pfsync.syncdev))
    out.push(`pfsync's syncdev ${v.pfsync.syncdev} carries CARP: give pfsync a link of its own`)
  const sync = v.interfaces.find((i) => i.name === v.pfsync.syncdev)
  if (sync && v.pfsync.syncpeer && !contains(sync.address, v.pfsync.syncpeer))
    out.push(`pfsync's syncpeer ${v.pfsync.syncpeer} is not on ${sync.name}'s network`)
  const groups = new Set([...v.interfaces, ...v.carp].flatMap((i) => i.groups))
  for (const g of v.inside) if (!groups.has(g)) out.push(`inside group ${g} has no interface`)
  for (const r of v.ipsec)
    if (r.keying === 'static' && r.spi.out === r.spi.in) out.push(`the static SA to ${r.to}: its two spi are the same`)
  return out
}

/** What a Linux node's vars are refused for, besides refusals(): what ucarp, ip and nftables cannot say. */
export function linuxRefusals(v: CarpVars): string[] {
  const out: string[] = []
  if (v.ipsec.length || v.sasyncd)
    out.push('ipsec and sasyncd are built on OpenBSD only: Linux has no sasyncd to follow the shared address')
  for (const i of v.interfaces)
    if (i.groups.length > 1) out.push(`${i.name} is in ${i.groups.join(', ')}: a Linux link is in one group`)
  for (const c of v.carp)
    if (c.groups.length)
      out.push(`${c.name} has groups: on Linux a shared address is on its carpdev, in the carpdev's group`)
  const numbers = new Map<number, string>()
  for (const g of new Set(v.interfaces.flatMap((i) => i.groups))) {
    const n = v.link_groups[g]
    if (n === undefined) out.push(`group ${g} has no number in link_groups`)
    else if (numbers.has(n)) out.push(`link_groups gives ${g} and ${numbers.get(n)} the same number ${n}`)
    else numbers.set(n, g)
  }
  return out
}
