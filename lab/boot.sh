#!/bin/sh
# Runs as the first process of a lab host, already inside its network namespace and a fresh
# private mount + UTS namespace (see lab.ts). It builds the host's copy-on-write root (root.sh),
# mounts the kernel's file systems in it, and then becomes that host's sshd, so the sshd PID is
# the host: every process the host ever runs descends from it and shares its namespaces.
set -eu
# rc_ms: what root's ~/.bashrc costs each shell sshd starts (rc.sh); lab.ts passes its state's.
name=$1 state=$2 address=$3 rc_ms=${4:-0}

hostname "$name"
sh "$(dirname "$0")/root.sh" "$name" "$state" "$address" "$rc_ms"
root=$state/hosts/$name/fs/root
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mkdir -p "$root/run/sshd" "$root/run/lock"

exec chroot "$root" /usr/sbin/sshd -D -e -f /etc/ferry-lab/sshd_config
