// The step contract. A step knows how to look (probe), compare (check), act (apply) and take
// it back (undo). The engine knows nothing else about it: not the OS, not what a sysctl is.
//
//   probe   a read-only POSIX sh snippet. Every step's probe goes to the host in one batch, one
//           round trip, and each step gets its own stdout and exit status back.
//   check   pure: probe output in, the changes needed out ([] when in sync). No I/O.
//   record  pure: what undo will need, taken from the probe before anything changes. The engine
//           journals it *before* apply runs, so a controller that dies mid-apply can still undo.
//   apply   makes the changes through ctx.$ (zx's $ on the target). It gets the record too, so
//           it can, say, keep a backup where the record says undo will look for it.
//   undo    puts back what `record` saw.
//   revert  (risky steps) the same as shell commands, for a revert job that runs on the host with
//           no controller (commit-confirmed); each must be harmless where apply never ran.
//   kept    shell commands for once the run is over and its change stays (not rolled back):
//           housekeeping such as pruning old backups, sent with the lock's release.

import type { Shell } from 'zx/core'
import type { Host } from '../inventory/types.ts'
import type { Platform } from '../platform/platform.ts'
import type { Transport } from '../transport/transport.ts'
import type { ProbeResult } from '../shell/remote.ts'

export type { ProbeResult } from '../shell/remote.ts'

export interface Change {
  /** One line, old → new, for humans: "net.inet.ip.forwarding: 0 → 1". */
  summary: string
  /** A unified diff, for file content. */
  diff?: string
}

export interface StepContext {
  host: Host
  platform: Platform
  /** zx's $ on the target. In a dry run, or while checking, it refuses to run anything. */
  $: Shell
  /**
   * Another inventory host, for a step that works on two (a jail sent from here to there).
   * Connections are shared with the run; in a dry run they are read-only too.
   */
  connect(host: Host): Promise<Transport>
  /** One line of progress for the operator (bytes sent, rate, ETA); not journalled. */
  progress(line: string): void
  /** Aborted when the run is interrupted: for work that is not a $ command (a relayed stream). */
  signal?: AbortSignal
}

export interface CheckContext {
  host: Host
  platform: Platform
  /**
   * Resources that earlier steps will change in this run but have not yet (a dry run never
   * does). A check that finds its subject missing can then plan against the future, e.g. a
   * service whose package an earlier step installs.
   */
  pending: ReadonlySet<string>
}

/**
 * Resource keys: `file:/etc/x`, `pkg:frr`, `service:frr`, `sysctl:net.inet.ip.forwarding`, and
 * `if:gre0` for a network interface (what `iface` steps configure; runbooks' commands use it too).
 */
export type Resource = string

/** `*`: the step may change anything (commands, package installs), so every later probe is stale. */
export const ANYTHING: Resource = '*'

export interface Step<Record = unknown> {
  /** The step type, e.g. `file`; used by the journal and golden tests. */
  readonly kind: string
  /** The title a person sees, unique within a runbook. */
  readonly name: string
  /** Handlers to run once, after all steps, if this step changed something. */
  readonly notify: string[]
  /** What apply may change. Later steps whose `reads` overlap are probed again after it runs. */
  readonly touches: Resource[]
  /** What the probe looks at. */
  readonly reads: Resource[]
  /**
   * Applied under commit-confirmed (firewall, interfaces, routing daemons, sshd): a revert job
   * armed on the host first puts it back unless the controller confirms over a new connection.
   */
  readonly risky?: boolean
  /**
   * Applied even when its check passes, if this run changed anything on the host before it: a
   * verify that must see its condition hold for a while, not just once (`verify`'s `hold`).
   */
  readonly holdAfterChange?: boolean
  /**
   * A handler whose effect cannot be undone, only repeated (a reload): after a rollback it runs
   * again, so the daemon rereads the restored file. Other handlers are undone like any step.
   */
  readonly repeatOnRollback?: boolean
  /** Applied after the handlers, which may be what it waits for (a verify). */
  readonly afterHandlers?: boolean
  /**
   * Checked again over the new connection that confirms a risky change (commit-confirmed): a
   * verify, whose condition is the host's health. It must fail its check where it fails.
   */
  readonly healthCheck?: boolean
  /**
   * Seconds its apply may wait for a condition (a verify's timeout and hold). Commit-confirmed
   * refuses a run with a pending step that may wait as long as the revert job's timeout.
   */
  readonly waits?: number
  /** A dry run lists the commands its apply would send (built-in steps, whose apply only sends them). */
  readonly previewCommands?: boolean
  /**
   * A guard that must run as its own command, on the probe $ (a function `unless`): when the
   * batched probe says there is work to do, this may still say it is done. Costs a round trip.
   */
  guard?(ctx: StepContext): Promise<boolean>

  probe(platform: Platform): string
  check(probe: ProbeResult, ctx: CheckContext): Change[]
  record(probe: ProbeResult, ctx: CheckContext): Record
  apply(ctx: StepContext, changes: Change[], record: Record): Promise<void>
  undo(ctx: StepContext, record: Record): Promise<void>
  /**
   * Shell commands that put back what `record` saw, whatever the host's state now: run in order
   * by the revert job, without the controller, so undo's probing is not available. A handler
   * that `repeatOnRollback`s is asked without a record, for the commands that repeat it.
   * Required of risky steps.
   */
  revert?(record: Record, platform: Platform): string[]
  /**
   * Shell commands to run once the run is over and this step's change is kept: sent with the
   * release of the host lock, so they cost no round trip of their own. Failures are ignored.
   */
  kept?(record: Record): string[]
}

/** Options every step type accepts. */
export interface CommonOptions {
  notify?: string | string[]
  /** Apply under commit-confirmed; built-in steps on the firewall, interfaces, routing daemons and sshd are by default. */
  risky?: boolean
}

// What can cut the path to a router: its firewall, sshd, its interfaces (always risky), the
// routing daemons and tunnels its management traffic may ride on.
const RISKY_SERVICE =
  /^(sshd?|pf|nftables|iptables|netfilter-persistent|networking|netif|routing|frr|quagga|bird2?|ospfd|ospf6d|bgpd|isakmpd|iked|ipsec|strongswan(-starter)?|openvpn(@.*|_.*)?|wg-quick@.*)$/
const RISKY_PATH =
  /^(\/etc\/(pf\.conf|nftables\.conf|nftables\.d\/|iptables\/|ssh\/sshd_config|frr\/|quagga\/|ospfd\.conf|bgpd\.conf|ipsec\.conf|iked\.conf|swanctl\/|openvpn\/|hostname\.|network\/interfaces|wireguard\/)|\/usr\/local\/etc\/(quagga\/|openvpn\/|frr\/))/

/** Whether a service is risky by default: one that can cut the path to the host. */
export const riskyService = (name: string): boolean => RISKY_SERVICE.test(name)
/** Whether a file is risky by default: the config of something that can cut the path to the host. */
export const riskyPath = (path: string): boolean => RISKY_PATH.test(path)

export function notifyList(n: string | string[] | undefined): string[] {
  return n === undefined ? [] : Array.isArray(n) ? n : [n]
}

/** Thrown by check/apply for a problem the operator must fix; shown without a stack trace. */
export class StepError extends Error {
  override name = 'StepError'
}
