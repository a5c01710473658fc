// Heartbeat resource ServiceAddress (haresources: `ServiceAddress::198.18.0.51/24::eth0`): one of a
// site's service addresses, taken over with `ip addr add` and a burst of gratuitous ARP, given up
// with `ip addr del`. It stands in for the article's bare `116.1.1.1/28`, which Heartbeat hands to
// resource-agents' IPaddr: that agent runs hundreds of processes per action (findif, an ifconfig
// alias, its OCF wrapper), which took 23 s and 50 s for the two addresses on the lab's UML
// gateways (a fork there costs ~31 ms), against a failover budget of 10 s. Start and stop succeed
// when there is nothing to do, as Heartbeat requires of a resource; status says "running" or "not
// running" (ResourceManager reads the words).
import { lines, template } from '../src/mesh/config.ts'

export default template('service-address', (_: Record<string, never>) =>
  lines(
    '#!/bin/sh',
    '# Heartbeat resource ServiceAddress ADDRESS/PREFIX INTERFACE {start|stop|status}; managed by ferry (deploy-ha-vpn)',
    'a=$1 dev=$2 ip=${1%/*}',
    'held() { [ -n "$(ip -o -4 addr show dev "$dev" to "$ip/32" 2>/dev/null)" ]; }',
    'case "$3" in',
    '  start)',
    '    held || ip addr add "$a" dev "$dev" || exit 1',
    "    # The neighbours' ARP caches still name the other gateway: five announcements in a second.",
    '    /usr/libexec/heartbeat/send_arp -i 200 -r 5 "$dev" "$ip" auto not_used not_used </dev/null >/dev/null 2>&1 &',
    '    ;;',
    '  stop) ! held || ip addr del "$a" dev "$dev" ;;',
    '  status) if held; then echo "$a is running"; else echo "$a is not running"; exit 3; fi ;;',
    '  *) echo "Usage: $0 ADDRESS/PREFIX INTERFACE {start|stop|status}" >&2; exit 2 ;;',
    'esac',
  ),
)
