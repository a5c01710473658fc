#!/bin/sh
# Writes root's ~/.bashrc on a lab host: the skel file under a header of the lab's own. Called by
# boot.sh (ROOT = the host's root, seen from outside it) and by lab.ts's setRcCost inside a running
# host (no ROOT). usage: rc.sh MS [ROOT]
#
# root's login shell is bash, which sshd starts for every exec, and Debian's bash reads ~/.bashrc
# when sshd runs it even for a command (bash's SSH_SOURCE_BASHRC). The skel file returns at once
# when not interactive, so the header sits above that guard, where every such shell runs it:
#   - it appends the shell's pid to /run/ferry-lab-shells: the login shells the host has
#     started, for tests and the bench to count. /run is the host's own tmpfs, out of /etc and
#     /var, which tests snapshot to prove that a dry run writes nothing;
#   - with MS > 0 it waits MS ms, as a real server's rc (pyenv, cargo, nvm initialisation) costs.
#     A sleep, not a CPU burn: the lab's hosts share the controller's few cores, and a burn
#     would slow everything else down with it.
# Only root's logins pay and count: the ferry user's login shell is /bin/sh (dash), which reads no
# rc file when it runs a command.
# The whole file is rewritten (skel + header), so running this again only changes the cost.
set -eu
ms=$1 root=${2:-}
case $ms in '' | *[!0-9]*)
  echo "rc.sh: the rc cost must be a whole number of ms, got '$ms'" >&2
  exit 64
  ;;
esac
{
  echo '# ferry lab (lab/rc.sh): above the guard below, so that every shell sshd starts runs it.'
  # printf '%s' rather than echo: dash's echo would turn the \n into a newline.
  printf '%s\n' "printf '%s\\n' \"\$\$\" >> /run/ferry-lab-shells"
  if [ "$ms" -gt 0 ]; then printf 'sleep %d.%03d\n' $((ms / 1000)) $((ms % 1000)); fi
  echo
  cat "$root/etc/skel/.bashrc"
} > "$root/root/.bashrc.ferry-lab"
# A rename, so that a shell starting meanwhile reads the old file or the new one, never half of one.
mv "$root/root/.bashrc.ferry-lab" "$root/root/.bashrc"
