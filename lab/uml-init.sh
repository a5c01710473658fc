#!/bin/sh
# The first process of a user-mode-linux lab host (see uml-boot.sh), inside its own kernel:
# mounts, the kernel's modules, the lab address on eth0 (an HA gateway's LAN address on eth1
# too), then it becomes sshd. sshd as PID 1 reaps whatever is orphaned (its SIGCHLD handler
# waits for any child), and when it exits the kernel panics and the UML process ends: the host
# is down, as lab.ts sees it.
set -eu
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. /etc/ferry-lab/uml.env
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /run/sshd /run/lock
# The package's modules, where modprobe looks for them (they come with their modules.dep).
k=$(uname -r)
mkdir -p "/lib/modules/$k"
mount --bind "/usr/lib/uml/modules/$k" "/lib/modules/$k"
# /dev/net/tun for OpenVPN: a real host's kmod makes the node at boot (static-nodes) and the
# kernel loads the module at first open; devtmpfs makes the node only once the module is in.
modprobe tun
hostname "$name"
# iptables through its legacy backend: this kernel's nf_tables has no ip or inet family, so the
# default, iptables-nft, cannot load a rule (deploy-tenants' filter). The overlay is this host's.
update-alternatives --quiet --set iptables /usr/sbin/iptables-legacy
ip link set lo up
# eth0, as on the namespace hosts, so a runbook finds the same interface names on both.
ip link set vec0 name eth0
ip addr add "$address/24" dev eth0
ip link set eth0 up
# An HA gateway's LAN leg (ha.ts): vec1, the second device uml-boot.sh gave the kernel.
if [ -n "${lan_cidr:-}" ]; then
  ip link set vec1 name eth1
  ip addr add "$lan_cidr" dev eth1
  ip link set eth1 up
fi
echo "ferry-lab: $name up on $address${lan_cidr:+ and $lan_cidr}"
exec /usr/sbin/sshd -D -e -f /etc/ferry-lab/sshd_config
