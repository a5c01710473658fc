import type { Shell } from 'zx/core'
import type { Host, Inventory } from '../inventory/types.ts'
import type { BecomeConfig, ExecOptions, Started } from '../shell/remote.ts'

/** A connected host. Everything above the transport layer talks to hosts only through `$`. */
export interface Transport {
  readonly name: string
  /** zx's `$`, running each command on the host through `sh -c`, escalated when the host says so. */
  readonly $: Shell
  /** The same, for read-only probes: the only commands a read-only (dry-run) transport runs. */
  readonly probe$: Shell
  /**
   * Starts a command whose stdin and stdout the caller streams (a `zfs send` relayed to another
   * host), with backpressure and without keeping the output. Refused on a read-only transport.
   */
  stream(command: string): Promise<Started>
  /**
   * Keeps `n` channels started ahead (logged in, escalated) for the next streams, so a stream
   * that must start fast (migrate-jail's cut-over) waits for no login shell. Each counts as a
   * round trip and a login shell.
   */
  standby(n: number): void
  readonly stats: TransportStats
  close(): Promise<void>
}

export interface TransportStats {
  /** Commands sent, through the session shell or on channels of their own: each is one round trip. */
  channels: number
  /** Of those, the commands the session shell ran. */
  session: number
  /** Exec channels opened (sessions, commands' own channels, kills): each is a login shell on the host. */
  shells: number
  /** The connection came from an earlier command (--persist): connecting was one round trip, not a handshake. */
  kept?: boolean
  /** The session shell too was kept from an earlier run: no login shell started for it. */
  sessionKept?: boolean
}

export function newStats(): TransportStats {
  return { channels: 0, session: 0, shells: 0 }
}

/** What a transport's execute counts for one exec channel: a login shell, and a round trip unless it is the session's start. */
export function countExec(stats: TransportStats, opts: ExecOptions): void {
  stats.shells++
  if (!opts.session) stats.channels++
}

/** A command the session shell ran: one round trip, no login shell. */
export function countSession(stats: TransportStats): void {
  stats.channels++
  stats.session++
}

class ReadOnlyError extends Error {}

/**
 * A dry run's transport refuses everything but probes, so not even a buggy step can write.
 * ferry's own control commands (the kills that stop a probe) pass too, and so does the session
 * shell's start, which runs nothing itself: the session checks each command it runs here too.
 * Every transport's execute calls this first, before it opens anything.
 */
export function refuseWrites(readOnly: boolean, line: string, opts: ExecOptions): void {
  if (!readOnly || opts.probe || opts.control || opts.session) return
  throw new ReadOnlyError(
    `dry run: refusing to run a command that is not a probe: ${line.replace(/\s+/g, ' ').slice(0, 120)}`,
  )
}

export function becomeFor(host: Host, inventory: Inventory): BecomeConfig | undefined {
  if (host.become === 'none') return undefined
  const secret = host.becomePassword
  return { method: host.become, password: secret ? () => inventory.secrets.get(secret) : undefined }
}

/** The same connection, limited to probes: what discovery gets, so looking can never change a host. */
export function readOnly(t: Transport): Transport {
  return {
    name: t.name,
    $: t.probe$,
    probe$: t.probe$,
    stats: t.stats,
    stream: () => Promise.reject(new ReadOnlyError(`${t.name}: read-only here: cannot stream`)),
    standby: () => {},
    close: () => t.close(),
  }
}
