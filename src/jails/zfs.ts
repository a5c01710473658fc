// The zfs(8) commands a migration sends. They are the same on FreeBSD, illumos and the lab's
// zfs-fuse (pool version 23), so they live here rather than in a driver. zfs-fuse has no `list
// -p`, no resume tokens and no `send -nvP`: sizes come from `zfs get -Hp`.

import { quote } from '../shell/quote.ts'

/** Discovery lines for one dataset: `dataset USED REFERENCED MOUNTPOINT` and `parent 1 MOUNTPOINT` or `parent 0`. */
export function datasetProbe(dataset: string, parent: string | undefined): string {
  const ds = quote(dataset)
  return [
    `if v=$(zfs get -Hp -o value used,referenced,mountpoint ${ds} 2>/dev/null); then printf 'dataset\t%s\n' "$(printf '%s\n' "$v" | paste -s -)"; fi`,
    parent === undefined
      ? `printf 'parent\\t0\\n'`
      : `if m=$(zfs get -H -o value mountpoint ${quote(parent)} 2>/dev/null); then printf 'parent\\t1\\t%s\\n' "$m"; else printf 'parent\\t0\\n'; fi`,
  ].join('\n')
}

/** Discovery lines for every imported pool: `pool NAME AVAILABLE`. */
export const poolsProbe = `zpool list -H -o name 2>/dev/null | while read -r p; do printf 'pool\\t%s\\t%s\\n' "$p" "$(zfs get -Hp -o value available "$p")"; done`

export const snapshot = (dataset: string, snap: string) => `zfs snapshot -r ${quote(`${dataset}@${snap}`)}`

/**
 * A full replication stream (`-R`: descendants, properties, earlier snapshots), or the changes
 * since `from`. `zfs send -R` holds the snapshots it sends and releases them as it exits, unless
 * a signal kills it: zfs-fuse then leaves them held, never to be destroyed (the lab saw it both
 * when the connection dropped, SIGHUP, and when the channel was closed, SIGPIPE). Both signals
 * are ignored, so a send whose reader is gone fails on EPIPE and releases its holds.
 */
export const send = (dataset: string, snap: string, from?: string) =>
  `trap '' HUP PIPE; zfs send -R ${from ? `-i ${quote(`@${from}`)} ` : ''}${quote(`${dataset}@${snap}`)}`

/** Received unmounted (the jail is started later); `-F` rolls back anything touched since the last receive. */
export const receive = (dataset: string, incremental: boolean) =>
  `zfs receive -u ${incremental ? '-F ' : ''}${quote(dataset)}`

export const guid = (dataset: string, snap: string) => `zfs get -H -o value guid ${quote(`${dataset}@${snap}`)}`

/**
 * Destroys a snapshot (and its namesakes in descendants) if it is still there. A `zfs send`
 * whose reader is gone holds it until it notices (EPIPE), which may be just after the rollback
 * that follows starts.
 */
export const destroySnapshot = (dataset: string, snap: string) => {
  const s = quote(`${dataset}@${snap}`)
  return `if zfs get -H -o value name ${s} >/dev/null 2>&1; then ${whenIdle(`zfs destroy -r ${s}`)}; fi`
}

/**
 * Destroys a dataset only if it holds `snap`: this migration's tag proves it was this
 * migration that received it, so nothing else is ever destroyed.
 */
export const destroyReceived = (dataset: string, snap: string) =>
  `if zfs get -H -o value name ${quote(`${dataset}@${snap}`)} >/dev/null 2>&1; then ${unmount(dataset)}; ${whenIdle(`zfs destroy -r ${quote(dataset)}`)}; fi`

/**
 * Unmounts a dataset if it is mounted, before a rename or destroy: zfs-fuse's own unmount inside
 * `zfs rename` was seen to fail as busy for half a minute where `zfs umount` succeeded at once.
 */
export const unmount = (dataset: string) =>
  `if [ "$(zfs get -H -o value mounted ${quote(dataset)})" = yes ]; then ${whenIdle(`zfs umount ${quote(dataset)}`)}; fi`

/**
 * Retries a command that fails while the dataset is busy: right after a jail stops, zfs-fuse
 * (and FUSE's asynchronous release of closed files) can keep it busy for a moment.
 */
export const whenIdle = (command: string) =>
  `n=0; until ${command}; do n=$((n + 1)); [ "$n" -lt 10 ] || exit 1; sleep 0.3; done`

/**
 * Fails unless the dataset and everything below it mount at `root` or under it, or nowhere: a
 * replication stream carries the sender's mountpoints, and one such as /etc would be mounted over
 * the receiver's own at the next `zfs mount` (or boot). Snapshots show `-`.
 */
export const mountsWithin = (dataset: string, root: string) =>
  `zfs get -Hr -o value mountpoint ${quote(dataset)} | R=${quote(root)} awk '$0 != ENVIRON["R"] && index($0, ENVIRON["R"] "/") != 1 && $0 != "none" && $0 != "legacy" && $0 != "-" { bad = 1 } END { exit bad }' || ` +
  `{ printf '%s\\n' ${quote(`${dataset} holds a mountpoint outside ${root}; not mounted`)} >&2; exit 1; }`

/** A stream's size: what `referenced` says the dataset and its descendants hold. */
export const streamSize = (dataset: string) =>
  `zfs get -Hrp -o value referenced ${quote(dataset)} | awk '{ n += $1 } END { print n + 0 }'`
