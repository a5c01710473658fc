// The lab's jails, on Linux: a jail is a service rooted on its own ZFS dataset that serves on its
// /32 on `lo`, which OSPF announces. Like jail(8) running the jail's /etc/rc, the driver runs
// the dataset's own `etc/rc` (with JAIL_NAME, JAIL_ADDRESS and JAIL_ROOT set), in a session of
// its own so it outlives the SSH channel, and keeps its pid in a pidfile. The definition is
// /etc/ferry/jails/NAME.conf and autostart a NAME.autostart marker beside it, standing in for
// jail.conf.d and rc.conf's jail_list; this driver exists to prove migrations in the lab.

import { quote } from '../shell/quote.ts'
import { definitionProbe, parentOf, hostAddress, type JailDriver, type JailSpec } from './driver.ts'
import { datasetProbe, poolsProbe } from './zfs.ts'

const DIR = '/etc/ferry/jails'
const paths = (j: JailSpec) => ({
  conf: `${DIR}/${j.name}.conf`,
  autostart: `${DIR}/${j.name}.autostart`,
  pid: `/run/ferry-jail-${j.name}.pid`,
  log: `/var/log/ferry-jail-${j.name}.log`,
})

/**
 * Whether $pid runs. A zombie does not: the jail's process is orphaned once started, and whoever
 * inherits it may reap it a second or more after it exits (the lab measured 1.3 s), which a
 * cut-over would otherwise spend waiting.
 */
const alive = `kill -0 "$pid" 2>/dev/null && [ "$(sed 's/.*) //' /proc/"$pid"/stat 2>/dev/null | cut -c1)" != Z ]`

/** Sets $pid to the jail's, if that runs: a pidfile whose process is gone does not count. */
const pidOf = (j: JailSpec) => `pid=$(cat ${quote(paths(j).pid)} 2>/dev/null) && ${alive}`

export const linuxLabJails: JailDriver = {
  kind: 'lab jail (Linux)',
  configPath: (j) => paths(j).conf,
  // What lab.ts's makeJail writes; start reads none of it.
  definition: (j) => [`address=${j.address}`, `dataset=${j.dataset}`],

  discover: (jails) =>
    [
      ...jails.flatMap((j) => {
        const p = paths(j)
        return [
          `printf 'jail\\t%s\\n' ${quote(j.name)}`,
          definitionProbe(p.conf),
          `[ -f ${quote(p.autostart)} ] && echo autostart`,
          `if ${pidOf(j)}; then echo running; ss -Hltn src ${quote(hostAddress(j))} | awk '{ n = split($4, a, ":"); print "listen\\t" a[n] }'; fi`,
          datasetProbe(j.dataset, parentOf(j.dataset)),
        ]
      }),
      poolsProbe,
      `ip -o -4 addr show | awk '{ print "addr\\t" $4 }'`,
      'true',
    ].join('\n'),

  // The jail counts as started once something listens on its address; if its rc exits first
  // (the address taken, a broken root), the start fails with the rc's last words.
  start: (j) => {
    const p = paths(j)
    const ds = quote(j.dataset)
    const addr = quote(hostAddress(j))
    return [
      `[ "$(zfs get -H -o value mounted ${ds})" = yes ] || zfs mount ${ds}`,
      `root=$(zfs get -H -o value mountpoint ${ds})`,
      `ip addr replace ${quote(`${hostAddress(j)}/32`)} dev lo`,
      `JAIL_NAME=${quote(j.name)} JAIL_ADDRESS=${addr} JAIL_ROOT="$root" setsid sh "$root/etc/rc" > ${quote(p.log)} 2>&1 < /dev/null &`,
      `echo $! > ${quote(p.pid)}`,
      `i=0`,
      `until [ -n "$(ss -Hltn src ${addr})" ]; do`,
      `  pid=$(cat ${quote(p.pid)}); if ! { ${alive}; }; then echo "jail ${j.name} exited while starting:" >&2; tail -n 5 ${quote(p.log)} >&2; ip addr del ${quote(`${hostAddress(j)}/32`)} dev lo; rm -f ${quote(p.pid)}; exit 1; fi`,
      `  i=$((i + 1)); if [ "$i" -gt 200 ]; then echo "jail ${j.name} did not listen on ${hostAddress(j)} within 10 s" >&2; kill "$(cat ${quote(p.pid)})"; ip addr del ${quote(`${hostAddress(j)}/32`)} dev lo; rm -f ${quote(p.pid)}; exit 1; fi`,
      `  sleep 0.05`,
      `done`,
    ].join('\n')
  },

  stop: (j) => {
    const p = paths(j)
    return [
      `if ${pidOf(j)}; then`,
      `  kill "$pid"; i=0`,
      `  while ${alive}; do i=$((i + 1)); if [ "$i" -gt 100 ]; then kill -9 "$pid"; fi; sleep 0.05; done`,
      `fi`,
      `rm -f ${quote(p.pid)}`,
      `ip addr del ${quote(`${hostAddress(j)}/32`)} dev lo 2>/dev/null || true`,
    ].join('\n')
  },

  autostart: (j, on) =>
    on ? `mkdir -p ${DIR} && : > ${quote(paths(j).autostart)}` : `rm -f ${quote(paths(j).autostart)}`,
}
