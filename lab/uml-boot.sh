#!/bin/sh
# Starts a user-mode-linux lab host: a whole Linux kernel (Debian's user-mode-linux package) run
# as a process of the controller, with its own network stack and modules, for what the
# namespace hosts' kernel lacks (GRE, ESP, VRF, 802.1Q). lab.ts runs this in a private mount
# namespace of its own and in a session of its own; it execs the kernel, so the session's
# processes (the kernel and the one host process UML keeps per address space) are the host.
#
# Its root is the same kind of overlay as a namespace host's (root.sh), which the kernel mounts
# through hostfs; uml-init.sh, copied into it, is its first process. Its interface is a vector
# (tap) device on TAP, which lab.ts made and joined to the lab's bridge; an HA gateway (ha.ts)
# has a second one on LAN_TAP, on its site's LAN bridge, with the address LAN_CIDR. The kernel's
# console goes to this script's stdout, which lab.ts sends to the host's log.
# usage: uml-boot.sh NAME STATE ADDRESS RC_MS TAP MAC MEM [LAN_TAP LAN_MAC LAN_CIDR]
set -eu
name=$1 state=$2 address=$3 rc_ms=$4 tap=$5 mac=$6 mem=$7
lan_tap=${8:-} lan_mac=${9:-} lan_cidr=${10:-}

sh "$(dirname "$0")/root.sh" "$name" "$state" "$address" "$rc_ms"
root=$state/hosts/$name/fs/root
# The kernel mounts its own /dev (devtmpfs) inside; the controller's is not the host's.
umount -R "$root/dev"
cp "$(dirname "$0")/uml-init.sh" "$root/sbin/ferry-uml-init"
chmod 755 "$root/sbin/ferry-uml-init"
printf 'name=%s\naddress=%s\nlan_cidr=%s\n' "$name" "$address" "$lan_cidr" > "$root/etc/ferry-lab/uml.env"
# The kernel names vector devices by the index given here: vec1 is always the LAN leg.
set --
[ -z "$lan_tap" ] || set -- "vec1:transport=tap,ifname=$lan_tap,mac=$lan_mac"
# con0 (the boot console) to stdout; no other consoles, which would open terminals here.
exec linux.uml "mem=$mem" rootfstype=hostfs "rootflags=$root" rw init=/sbin/ferry-uml-init \
  con0=null,fd:1 con=null "vec0:transport=tap,ifname=$tap,mac=$mac" "$@"
