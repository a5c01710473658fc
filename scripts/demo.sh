#!/bin/sh
# The quick start: dependencies, the lab (Debian packages, namespaces, sshd per host), then the
# main job against it: deploy-mesh, and the converged neighbours and routes it leaves.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "ferry demo: the lab creates network namespaces and mounts, so run this as root" >&2
  exit 64
fi
sh scripts/install.sh
node bin/lab.mjs up
echo
echo "\$ ferry run deploy-mesh --inventory lab"
node bin/ferry.mjs run deploy-mesh --inventory lab
echo
echo "\$ ferry exec -i lab --limit mesh -- 'vtysh -c \"show ip ospf neighbor\"; ip route show proto ospf'"
node bin/ferry.mjs exec -i lab --limit mesh -- 'vtysh -c "show ip ospf neighbor"; ip route show proto ospf'
echo
echo "\$ ferry graph -i lab --live -o lab-mesh.svg"
node bin/ferry.mjs graph -i lab --live -o lab-mesh.svg
echo "The lab's mesh as it is now (each link coloured by its OSPF adjacency): $PWD/lab-mesh.svg"
# The commands above are shown as `ferry …`; in a fresh clone, ferry is bin/ferry.mjs.
echo
if command -v ferry >/dev/null 2>&1; then
  echo "ferry is on your PATH: $(command -v ferry)"
else
  echo "To type \`ferry\` as above, put this clone's bin/ferry.mjs on your PATH once, with either of:"
  echo "  npm link                                 # links $PWD/bin/ferry.mjs into npm's global bin"
  echo "  alias ferry='node $PWD/bin/ferry.mjs'    # this shell only"
fi
