// Seed 002's /etc/init.d/gre: the article's "startup script" for its GRE tunnel, which Heartbeat
// runs with start and stop on takeover and release (haresources' `gre`), never at boot. Its
// chkconfig header and its start, stop and restart lines are the article's, one tunnel per peer
// site, with three changes (test/unit/ha-vpn.test.ts lists them against the article's text):
// - the tunnel address is the /30's (`172.16.0.1/30`), not a /32: the article's bgpd.conf
//   announces `network 172.16.0.0/30`, which FRR does only while that prefix is in the routing
//   table, and only the /30 on the tunnel puts it there (as a connected route);
// - stop also deletes the tunnel (`ip tunnel del`): the article's only takes the link down, so a
//   second start fails with "add tunnel failed: File exists", and a changed endpoint never takes;
// - a `status` action, which Heartbeat asks before it starts a resource (ResourceManager:
//   "running" in its output means it is already held, anything else that it is not);
// and the stray `}` the article prints after `exit 0` is left out.
// Several peer sites are several tunnels in the one script: haresources keeps the article's one
// `gre`, and the tunnels need no order among themselves.
import { lines, template, word } from '../src/mesh/config.ts'

export interface GreTunnel {
  /** The interface, e.g. `gre-site2`. */
  name: string
  /** Outer addresses: this site's and the peer site's external service addresses. */
  local: string
  remote: string
  /** This end's tunnel address with its prefix (`172.16.0.1/30`), and the peer's (`172.16.0.2`). */
  address: string
  peer: string
}

export interface GreInitVars {
  tunnels: GreTunnel[]
}

export default template('gre-init', (v: GreInitVars) => {
  const t = v.tunnels.map((x) => ({
    name: word('tunnel name', x.name),
    local: word('local address', x.local),
    remote: word('remote address', x.remote),
    address: word('tunnel address', x.address),
    peer: word('peer tunnel address', x.peer),
  }))
  return lines(
    '#!/bin/sh',
    '# chkconfig: 2345 50 64',
    '# description: Set up a GRE tunnel from',
    '# here to somewhere else',
    '# Managed by ferry (deploy-ha-vpn); Heartbeat starts and stops it.',
    '',
    'case "$1" in',
    '  start)',
    t.flatMap((x) => [
      `    ip tunnel add ${x.name} mode gre \\`,
      `      remote ${x.remote} local ${x.local} ttl 255`,
      `    ip link set ${x.name} up`,
      `    ip addr add ${x.address} dev ${x.name}`,
      `    ip route add ${x.peer}/32 dev ${x.name}`,
    ]),
    '    ;;',
    '  stop)',
    t.flatMap((x) => [
      `    ip route del ${x.peer}/32 dev ${x.name}`,
      `    ip addr del ${x.address} dev ${x.name}`,
      `    ip link set ${x.name} down`,
      `    ip tunnel del ${x.name}`,
    ]),
    '    ;;',
    '  restart)',
    '    $0 stop',
    '    $0 start',
    '    ;;',
    '  status)',
    `    for t in ${t.map((x) => x.name).join(' ')}; do`,
    '      ip -o link show dev "$t" 2>/dev/null | grep -q "[<,]UP[,>]" || { echo "gre is not running"; exit 3; }',
    '    done',
    '    echo "gre is running"',
    '    ;;',
    '  *)',
    '    echo "Usage: $0 {start|stop|restart|status}" >&2',
    '    exit 2',
    'esac',
    '',
    'exit 0',
  )
})
