#!/bin/sh
# Installs the npm dependencies when they are missing or older than package-lock.json, so that
# `npm test` and `npm run demo` work straight after `git clone`. As root, also the lab's Debian
# packages: some unit tests run probes against this machine's own mksh and frr.
set -eu
cd "$(dirname "$0")/.."
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "ferry: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ "$(id -u)" = 0 ]; then node bin/lab.mjs packages; fi
# The bundle that bin/ferry.mjs runs when it is newer than the sources (scripts/build.mjs).
node scripts/build.mjs
