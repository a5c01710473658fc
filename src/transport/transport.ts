import type { Shell } from 'zx'
import type { Host, Inventory } from '../inventory/types.ts'
import type { BecomeConfig, ExecOptions } from '../shell/remote.ts'

/** A connected host. Everything above the transport layer talks to hosts only through `$`. */
export interface Transport {
  readonly name: string
  /** zx's `$`, running each command on the host through `sh -c`, escalated when the host says so. */
  readonly $: Shell
  /** The same, for read-only probes: the only commands a read-only (dry-run) transport runs. */
  readonly probe$: Shell
  /** Channels (or local processes) opened so far: each is one round trip. */
  readonly stats: { channels: number }
  close(): Promise<void>
}

class ReadOnlyError extends Error {}

/**
 * A dry run's transport refuses everything but probes, so not even a buggy step can write.
 * ferry's own control commands (the kills that stop a probe) pass too. Every transport's execute
 * calls this first, before it opens anything.
 */
export function refuseWrites(readOnly: boolean, line: string, opts: ExecOptions): void {
  if (!readOnly || opts.probe || opts.control) return
  throw new ReadOnlyError(`dry run: refusing to run a command that is not a probe: ${line.replace(/\s+/g, ' ').slice(0, 120)}`)
}

export function becomeFor(host: Host, inventory: Inventory): BecomeConfig | undefined {
  if (host.become === 'none') return undefined
  const secret = host.becomePassword
  return { method: host.become, password: secret ? () => inventory.secrets.get(secret) : undefined }
}
