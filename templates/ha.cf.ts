// Seed 002's /etc/ha.d/ha.cf (Debian's heartbeat 3, v1 "haresources" mode; ha.cf(5)), which the
// article does not print: its keepalive 2 s and deadtime 10 s, the two nodes, heartbeats by ucast
// over the LAN. It differs per node (its ucast names the other node's LAN address), as the
// article says of Heartbeat's files.
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
  /** Also log to this file (a host with no syslog daemon). */
  logfile?: string
}

export default template('ha.cf', (v: HaCfVars) =>
  lines(
    '# /etc/ha.d/ha.cf; managed by ferry (deploy-ha-vpn)',
    `logfacility ${word('logfacility', v.logfacility ?? 'local0')}`,
    v.logfile ? `logfile ${word('logfile', v.logfile)}` : [],
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
