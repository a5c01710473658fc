#!/bin/sh
# Builds a lab host's copy-on-write root, STATE/hosts/NAME/fs/root: an overlay of / on a tmpfs,
# with the controller's /dev bound in it (the chroot commands below need /dev/null and urandom).
# Then makes it the host's own: host name, host key, the lab's login keys, fresh dotfiles, an
# unprivileged user who becomes root with a password, and sshd's config.
# boot.sh runs it for a namespace host and uml-boot.sh for a user-mode-linux one, each in a
# private mount namespace of its own, before the host's sshd starts.
# usage: root.sh NAME STATE ADDRESS RC_MS
set -eu
name=$1 state=$2 address=$3 rc_ms=$4
base=$state/hosts/$name
mkdir -p "$base/fs"
# The tmpfs lives only in this mount namespace: when the host's last process exits, the kernel
# drops it with everything above it, so nothing can leak into the controller's mount table.
mount -t tmpfs -o mode=0755 "ferry-lab-$name" "$base/fs"
mkdir -p "$base/fs/upper" "$base/fs/work" "$base/fs/root"
root=$base/fs/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$base/fs/upper,workdir=$base/fs/work" "$root"
mount --rbind /dev "$root/dev"
mkdir -p "$root/etc/ferry-lab" "$root/root/.ssh"

echo "$name" > "$root/etc/hostname"
# Without this, sudo tries DNS for its own host name, and there is no DNS in the lab.
echo "$address $name" >> "$root/etc/hosts"
# Both halves of the host key: the base system's .pub would otherwise shadow ours, and sshd
# warns "Public key does not match private key".
cp "$base/ssh_host_ed25519_key" "$base/ssh_host_ed25519_key.pub" "$root/etc/ssh/"
chmod 600 "$root/etc/ssh/ssh_host_ed25519_key"
cp "$state/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
# A fresh Debian root's dotfiles, not the controller's: sshd runs every command through bash,
# which reads ~/.bashrc, and this machine's (pyenv init, with a rehash lock that once went stale)
# made every command wait a minute.
# Its .bashrc also counts those shells and may cost a set time (rc.sh).
cp /etc/skel/.profile "$root/root/"
sh "$(dirname "$0")/rc.sh" "$rc_ms" "$root"
chmod 700 "$root/root/.ssh"; chmod 600 "$root/root/.ssh/authorized_keys"

# An unprivileged login that must become root with a password, to exercise sudo and doas.
chroot "$root" id ferry >/dev/null 2>&1 || chroot "$root" useradd -m -s /bin/sh ferry
printf 'ferry:%s\n' "$(cat "$state/become_password")" | chroot "$root" chpasswd
mkdir -p "$root/home/ferry/.ssh"
cp "$state/id_ed25519.pub" "$root/home/ferry/.ssh/authorized_keys"
chmod 700 "$root/home/ferry/.ssh"; chmod 600 "$root/home/ferry/.ssh/authorized_keys"
chroot "$root" chown -R ferry:ferry /home/ferry/.ssh
echo 'ferry ALL=(ALL:ALL) ALL' > "$root/etc/sudoers.d/ferry"
chmod 440 "$root/etc/sudoers.d/ferry"
# doas refuses a config that is writable by anyone but root.
echo 'permit ferry as root' > "$root/etc/doas.conf"
chmod 400 "$root/etc/doas.conf"
# The lab's sshd, with a file and a pid file of its own: Debian's ssh service (/etc/ssh/sshd_config,
# /run/sshd.pid) is a daemon apart, which a runbook may start, reload and stop (deploy-tenants'
# sshd in a VRF) without ever signalling this one, the first process of a UML host.
cat > "$root/etc/ferry-lab/sshd_config" <<CONF
ListenAddress $address
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/ferry-lab-sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding yes
Subsystem sftp internal-sftp
CONF
