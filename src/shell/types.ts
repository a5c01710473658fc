// The shapes the shell layer's files share: a command as a transport runs it, and how to escalate.

import type { Readable, Writable } from 'node:stream'
import type { Become } from '../inventory/types.ts'

/** A running command: what a transport gives back for one `sh -c`. */
export interface Execution {
  stdin: Writable
  stdout: Readable
  stderr: Readable
  /** Settles once the command has exited (its code, or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: string | null }>
  /** Drops the channel (or pipes) without waiting for the command. */
  abort(): void
  /** A session shell kept from an earlier run (--persist): no login happened, and this is how to speak to it. */
  resumed?: SessionMeta
  /** Hands an idle session shell's channel back to whoever keeps connections, instead of closing it. */
  detach?(meta: SessionMeta): void
}

/** What a client needs to speak to a session shell it did not start: its token and the root of its process tree. */
export interface SessionMeta {
  token: string
  root: number
}

/**
 * Runs one complete shell line on the host, read by the login shell as sshd would. `control`
 * marks ferry's own short housekeeping commands (kills), which must not queue behind the very
 * commands they are meant to stop.
 */
export type Executor = (line: string, opts?: ExecOptions) => Promise<Execution>

export interface ExecOptions {
  control?: boolean
  /** Marked read-only by its caller: the only kind a dry run's transport lets through. */
  probe?: boolean
  /** A terminal instead of pipes: doas reads a password from nowhere else. stderr then merges into stdout. */
  pty?: boolean
  /** The session shell's own start: it runs nothing of its own, and each command in it is checked by itself. */
  session?: boolean
}

/** A command whose streams the caller drives itself: a transfer relayed between two hosts. */
export interface Started extends Execution {
  /** Signals the command's whole process group on the host, then drops the channel. */
  kill(signal: string): Promise<void>
}

export interface BecomeConfig {
  method: Exclude<Become, 'none'>
  /** Resolved lazily so hosts that never escalate never touch the secret. */
  password?: () => Promise<string>
}
