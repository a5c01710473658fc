// ifupdown's hook on a Linux node of seed 004's pair (/etc/network/if-up.d/ferry-link-groups): it
// puts each interface in its interface group (link group) as it comes up, at boot too.
import { lines, template, word } from '../src/mesh/config.ts'

export default template('link-groups', (v: { groups: { iface: string; group: string }[] }) =>
  lines(
    '#!/bin/sh',
    '# ifupdown runs this as it brings each interface ($IFACE) up: its interface group.',
    '# Written by ferry (deploy-carp-gateway) from the inventory.',
    'case "$IFACE" in',
    v.groups.map((g) => `${word('interface', g.iface)}) ip link set dev "$IFACE" group ${word('group', g.group)} ;;`),
    'esac',
    'exit 0',
  ),
)
