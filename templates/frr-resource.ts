// Seed 002's Heartbeat resource scripts `zebra` and `bgpd`, one per FRR daemon: FRR 8.4 has
// one init script for all its daemons (frr, which runs them under watchfrr), so each resource
// starts and stops its daemon as watchfrr itself would, through /usr/lib/frr/watchfrr.sh (its
// per-daemon start with /etc/frr/daemons' options; the daemon reads /etc/frr/DAEMON.conf). Start
// and stop succeed when there is nothing to do, as Heartbeat requires of a resource (a stop that
// keeps failing makes it reboot the node); status says "running" or "not running" (ResourceManager
// reads the words).
import { lines, template } from '../src/mesh/config.ts'

export default template('frr-resource', (v: { daemon: 'zebra' | 'bgpd' }) => {
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
