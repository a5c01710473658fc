// Seed 002's /etc/frr/bgpd.conf: Zebra's split configuration, which FRR 8.4 still reads when the
// daemon is started with `-f /etc/frr/bgpd.conf` (Heartbeat's bgpd resource does: without -f it
// came up with no configuration at all); with `no service integrated-vtysh-config` in
// vtysh.conf, vtysh's `write` writes the split files back. Validate with `vtysh -C -f FILE` (bgpd -C exits 0 whatever it reads); reload with
// `frr-reload.py --reload --daemon bgpd FILE`, which takes a split file for one daemon.
//
// The lines are the article's, with its values from the inventory (test/unit/ha-vpn.test.ts
// compares them), and two changes:
// - `log file bgpd.log` names a file relative to bgpd's working directory, which is / under
//   FRR's init scripts, where bgpd (user frr) cannot write: the file goes in /var/log/frr;
// - the stray `}` the article prints after the last `!` is left out;
// - the site's underlay subnet (its external service address's) is never announced: with
//   `redistribute connected` the peer would learn it over the tunnel and, where the sites' WAN
//   subnets differ as the article's do, route the tunnel's own outer packets into the tunnel.
//   KLIPS's nexthop routes kept that from happening in 2003; a prefix list does it now.
// `log stdout` is kept: FRR takes it, and a daemon started with -d has its stdout on /dev/null.
//
// `network TUNNEL/30` is announced only while the /30 is in the routing table (FRR checks, as
// `bgp network import-check`): on the active gateway the GRE script puts the /30 on the tunnel,
// a connected route; on the standby neither the tunnel nor bgpd runs. The file holds the vty
// passwords: mode 0600, owner frr.
import { count, lines, template, vtyPassword, word } from '../src/mesh/config.ts'

export interface BgpdNeighbor {
  /** The peer site's tunnel address. */
  address: string
}

export interface BgpdConfVars {
  /** The node's name: the file differs per gateway, as the article says. */
  hostname: string
  /** The bgpd_password and bgpd_enable_password secrets. */
  password: string
  enablePassword: string
  /** Default /var/log/frr/bgpd.log. */
  logFile?: string
  as: number
  routerId: string
  /** The tunnels' /30s, then any other prefixes to announce. */
  networks: string[]
  neighbors: BgpdNeighbor[]
  /** Subnets never announced to a neighbour: the site's underlay. */
  withhold: string[]
  /**
   * Seconds, for every neighbour: keepalive and hold (`neighbor P timers`), and the connect retry
   * (`neighbor P timers connect`). Without them FRR's 60, 180 and 120: after a takeover the peer
   * site keeps the old session, and refuses the new node's as a collision, until its next
   * keepalive meets the new node's reset.
   */
  timers?: { keepalive: number; hold: number; connect: number }
}

const WITHHOLD = 'ferry-not-underlay'

export default template('bgpd.conf', (v: BgpdConfVars) => {
  if (!Number.isInteger(v.as) || v.as < 1 || v.as > 4294967295)
    throw new Error('the AS must be an integer from 1 to 4294967295')
  return lines(
    '!',
    `hostname ${word('hostname', v.hostname)}`,
    `password ${vtyPassword(v.password)}`,
    `enable password ${vtyPassword(v.enablePassword)}`,
    `log file ${word('log file', v.logFile ?? '/var/log/frr/bgpd.log')}`,
    'log stdout',
    '',
    `router bgp ${v.as}`,
    `  bgp router-id ${word('router id', v.routerId)}`,
    v.networks.map((n) => `  network ${word('network', n)}`),
    '  redistribute kernel',
    '  redistribute connected',
    '  redistribute static',
    v.neighbors.flatMap((n) => [
      `  neighbor ${word('neighbor', n.address)} remote-as ${v.as}`,
      `  neighbor ${n.address} next-hop-self`,
      ...(v.withhold.length ? [`  neighbor ${n.address} prefix-list ${WITHHOLD} out`] : []),
      ...(v.timers
        ? [
            `  neighbor ${n.address} timers ${count('keepalive', v.timers.keepalive)} ${count('hold', v.timers.hold)}`,
            `  neighbor ${n.address} timers connect ${count('connect', v.timers.connect)}`,
          ]
        : []),
    ]),
    '!',
    v.withhold.map((net, i) => `ip prefix-list ${WITHHOLD} seq ${5 * (i + 1)} deny ${word('subnet', net)} le 32`),
    v.withhold.length > 0 && `ip prefix-list ${WITHHOLD} seq ${5 * (v.withhold.length + 1)} permit 0.0.0.0/0 le 32`,
    v.withhold.length > 0 && '!',
  )
})

/** Where the file holds secrets, for the file step's `mask`. */
export const bgpdSecrets = [/^password (\S+)$/m, /^enable password (\S+)$/m]
