// /etc/init.d/ucarp-carpN on a Linux node of seed 004's pair, one per shared address (per CARP
// interface of the inventory, whose name it carries). Debian's ucarp package brings the daemon and
// an ifupdown hook that puts the passphrase on ucarp's command line and in /etc/network/interfaces;
// ferry writes this LSB script instead (systemd makes a unit of it), which gives ucarp the
// passphrase in a 0600 file (--passfile) and runs it in the background under a loop that starts it
// again if it exits, with the loop's pidfile; `status` says whether it runs. --shutdown runs the
// down script (ucarp-down.ts) when ucarp stops, so a stopped ucarp leaves no shared address behind.
import { lines, template, word } from '../src/mesh/config.ts'

export interface UcarpVars {
  /** The CARP interface's name in the inventory (carp0): the instance's name. */
  name: string
  vhid: number
  carpdev: string
  /** This node's own address on the carpdev: ucarp's source. */
  srcip: string
  /** The shared address, with its prefix length. */
  address: string
  advbase: number
  advskew: number
  deadratio: number
  passfile: string
  up: string
  down: string
}

export default template('ucarp-init', (v: UcarpVars) => {
  const pidfile = `/run/ucarp-${word('name', v.name)}.pid`
  const args = [
    `--interface=${word('carpdev', v.carpdev)}`,
    `--srcip=${word('address', v.srcip)}`,
    `--vhid=${v.vhid}`,
    `--passfile=${word('passfile', v.passfile)}`,
    `--addr=${word('address', v.address.split('/')[0]!)}`,
    `--advbase=${v.advbase}`,
    `--advskew=${v.advskew}`,
    `--deadratio=${v.deadratio}`,
    '--preempt',
    '--shutdown',
    `--upscript=${word('script', v.up)}`,
    `--downscript=${word('script', v.down)}`,
  ]
  return lines(
    '#!/bin/sh',
    '### BEGIN INIT INFO',
    `# Provides:          ucarp-${v.name}`,
    '# Required-Start:    $network $remote_fs',
    '# Required-Stop:     $network $remote_fs',
    '# Should-Start:      conntrackd nftables',
    '# Default-Start:     2 3 4 5',
    '# Default-Stop:      0 1 6',
    `# Short-Description: ucarp: ${v.address} on ${v.carpdev}, vhid ${v.vhid}`,
    '### END INIT INFO',
    '# Written by ferry (deploy-carp-gateway) from the inventory.',
    `PIDFILE=${pidfile}`,
    'DAEMON=/usr/sbin/ucarp',
    'case "$1" in',
    'start)',
    // ucarp exits when its interface loses its carrier and gets it back (its capture socket
    // reports the error): measured in ferry's lab. A loop starts it again, as systemd's
    // Restart= would; TERM to the loop is TERM to ucarp, which then runs its down script.
    '\tstart-stop-daemon --start --quiet --oknodo --background --make-pidfile --pidfile "$PIDFILE" --startas /bin/sh -- -c \\',
    `\t\t'trap "kill \\$ucarp 2>/dev/null; wait; exit 0" TERM INT; while :; do "$0" "$@" & ucarp=$!; wait $ucarp; sleep 1; done' \\`,
    `\t\t"$DAEMON" \\`,
    `\t\t${args.join(' \\\n\t\t')}`,
    '\t;;',
    'stop)',
    '\tstart-stop-daemon --stop --quiet --oknodo --retry TERM/5/KILL/2 --pidfile "$PIDFILE"',
    '\trm -f "$PIDFILE"',
    '\t;;',
    'restart | force-reload)',
    '\t"$0" stop && "$0" start',
    '\t;;',
    'status)',
    '\tstart-stop-daemon --status --pidfile "$PIDFILE"',
    '\t;;',
    '*)',
    '\techo "usage: $0 {start|stop|restart|force-reload|status}" >&2',
    '\texit 2',
    '\t;;',
    'esac',
  )
})
