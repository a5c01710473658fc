// Seed 002's Heartbeat 3 files (Debian's heartbeat, v1 "haresources" mode): /etc/ha.d/ha.cf,
// authkeys and haresources (ha.cf(5), authkeys(5); the article prints only haresources).
// ha.cf differs per node (its ucast names the other node's LAN address), as the article says;
// haresources and authkeys are the same on both, as Heartbeat requires.
import { count, lines, template, word } from '../src/mesh/config.ts'

/** Seconds, as Heartbeat's time syntax takes them: whole seconds, or milliseconds (0.5 → 500ms). */
export function hbTime(what: string, seconds: number): string {
  const ms = Math.round(seconds * 1000)
  if (!Number.isFinite(seconds) || ms < 1 || Math.abs(ms - seconds * 1000) > 1e-6)
    throw new Error(`${what} must be a positive number of seconds, to the millisecond`)
  return ms % 1000 === 0 ? String(ms / 1000) : `${ms}ms`
}

export interface HeartbeatTimers {
  keepalive: number
  deadtime: number
  warntime: number
  initdead: number
  auto_failback: boolean
}

export interface HaCfVars extends HeartbeatTimers {
  /** The LAN interface the heartbeats go over, and the other node's own LAN address on it. */
  lanInterface: string
  peerLanAddress: string
  /** Both nodes' names (`uname -n`), this one's first. */
  nodes: [string, string]
  /** Default 694, Heartbeat's. */
  udpport?: number
  /** Default local0. */
  logfacility?: string
}

export const haCf = template('ha.cf', (v: HaCfVars) =>
  lines(
    '# /etc/ha.d/ha.cf; managed by ferry (deploy-ha-vpn)',
    `logfacility ${word('logfacility', v.logfacility ?? 'local0')}`,
    `keepalive ${hbTime('keepalive', v.keepalive)}`,
    `deadtime ${hbTime('deadtime', v.deadtime)}`,
    `warntime ${hbTime('warntime', v.warntime)}`,
    `initdead ${hbTime('initdead', v.initdead)}`,
    `udpport ${count('udpport', v.udpport ?? 694)}`,
    `ucast ${word('LAN interface', v.lanInterface)} ${word('peer LAN address', v.peerLanAddress)}`,
    `auto_failback ${v.auto_failback ? 'on' : 'off'}`,
    v.nodes.map((n) => `node ${word('node', n)}`),
  ),
)

/** authkeys: one key, SHA-1 (authkeys(5)). Mode 0600: Heartbeat refuses to start otherwise. */
export const authkeys = template('authkeys', (v: { key: string }) =>
  lines('auth 1', `1 sha1 ${word('Heartbeat key', v.key)}`),
)

/** Where authkeys holds its secret, for the file step's `mask`. */
export const authkeysMask = [/^1 sha1 (\S+)$/m]

export interface HaresourcesVars {
  /** The preferred node: the site's `primary`. */
  primary: string
  /**
   * The service addresses as IPaddr takes them: `116.1.1.1/28`, its interface found by
   * Heartbeat's findif from the route to that subnet, which each node's own address in it gives.
   */
  addresses: string[]
  /** Resource scripts in start order: /etc/ha.d/resource.d/NAME, else /etc/init.d/NAME. */
  resources: string[]
}

/** The article's one line: `NODE EXT/MASK INT/MASK ipsec gre zebra bgpd`. */
export const haresources = template('haresources', (v: HaresourcesVars) =>
  lines(
    '# /etc/ha.d/haresources; managed by ferry (deploy-ha-vpn)',
    [v.primary, ...v.addresses, ...v.resources].map((w) => word('haresources word', w)).join(' '),
  ),
)

/**
 * A Heartbeat resource script for one FRR daemon (seed 002's `zebra` and `bgpd`): FRR 8.4 has
 * one init script for all its daemons (frr, which runs them under watchfrr), so each resource
 * starts and stops its daemon as watchfrr itself would, through /usr/lib/frr/watchfrr.sh (its
 * per-daemon start with /etc/frr/daemons' options; the daemon reads /etc/frr/DAEMON.conf). Start
 * and stop succeed when there is nothing to do, as Heartbeat requires of a resource (a stop that
 * keeps failing makes it reboot the node); status says "running" or "not running" (ResourceManager
 * reads the words).
 */
export const frrResource = template('FRR resource script', (v: { daemon: 'zebra' | 'bgpd' }) => {
  const d = v.daemon
  const status = `/usr/lib/frr/watchfrr.sh daemon_status ${d}`
  return lines(
    '#!/bin/sh',
    `# Heartbeat resource ${d}: FRR's ${d}, started and stopped as watchfrr would; managed by ferry (deploy-ha-vpn)`,
    'case "$1" in',
    `  start) ${status} || exec /usr/lib/frr/watchfrr.sh start ${d} ;;`,
    `  stop) ! ${status} || exec /usr/lib/frr/watchfrr.sh stop ${d} ;;`,
    `  status) if ${status}; then echo "${d} is running"; else echo "${d} is not running"; exit 3; fi ;;`,
    '  *) echo "Usage: $0 {start|stop|status}" >&2; exit 2 ;;',
    'esac',
  )
})
