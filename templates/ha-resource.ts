// Seed 002's Heartbeat resources `zebra`, `bgpd` and `ipsec`, found in /etc/ha.d/resource.d before
// /etc/init.d: each starts its daemon directly, with the options its init script would give it.
// FRR 8.4 has one init script for all its daemons, and the per-daemon start of its watchfrr.sh,
// like strongSwan's `ipsec start`, is a shell library that took 11 and 12 s per start on the lab's
// UML gateways (a fork there costs ~31 ms), against a failover budget of 10 s. zebra and bgpd
// take /etc/frr/daemons' options and their own /etc/frr/DAEMON.conf, named with -f: FRR 8.4's
// daemons started without it came up with no configuration (measured); ipsec is strongswan-starter's starter, which runs charon and brings up the `auto=start`
// conns. Start and stop succeed when there is nothing to do, as Heartbeat requires of a resource
// (a stop that keeps failing makes it reboot the node); status says "running" or "not running"
// (ResourceManager reads the words).
import { lines, template } from '../src/mesh/config.ts'

const DAEMONS = {
  zebra: {
    pidfile: '/run/frr/zebra.pid',
    start: ['. /etc/frr/daemons', 'exec /usr/lib/frr/zebra -d -F traditional -f /etc/frr/zebra.conf $zebra_options'],
  },
  bgpd: {
    pidfile: '/run/frr/bgpd.pid',
    start: ['. /etc/frr/daemons', 'exec /usr/lib/frr/bgpd -d -F traditional -f /etc/frr/bgpd.conf $bgpd_options'],
  },
  ipsec: { pidfile: '/run/starter.charon.pid', start: ['exec /usr/lib/ipsec/starter --daemon charon'] },
} as const

export default template('ha-resource', (v: { daemon: keyof typeof DAEMONS }) => {
  const d = v.daemon
  const { pidfile, start } = DAEMONS[d]
  return lines(
    '#!/bin/sh',
    `# Heartbeat resource ${d}: started and stopped without its init script; managed by ferry (deploy-ha-vpn)`,
    `running() { read -r p < ${pidfile} && kill -0 "$p"; } 2>/dev/null`,
    'case "$1" in',
    '  start)',
    '    running && exit 0',
    d === 'ipsec' ? [] : '    [ -d /run/frr ] || install -d -o frr -g frr -m 0755 /run/frr',
    start.map((l) => `    ${l}`),
    '    ;;',
    '  stop)',
    '    running || exit 0',
    '    kill "$p"',
    '    i=0',
    '    while running && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done',
    '    ! running || kill -KILL "$p"',
    '    ;;',
    `  status) if running; then echo "${d} is running"; else echo "${d} is not running"; exit 3; fi ;;`,
    '  *) echo "Usage: $0 {start|stop|status}" >&2; exit 2 ;;',
    'esac',
  )
})
