// zx's `$`, pointed at a host. zx lets us swap its `spawn`, `quote` and `kill`; we hand it a
// child-process look-alike whose streams are an SSH channel (or a local process), so runbooks
// get zx's real ProcessPromise/ProcessOutput, `nothrow`, `quiet`, `timeout` and `within`.

import { EventEmitter } from 'node:events'
import { PassThrough, type Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { $ as zx$, type Shell, type ProcessPromise } from 'zx/core'
import { quote } from './quote.ts'
import { escalator, GROUP_TAG, Handshake, markers } from './handshake.ts'
import { SessionShell, SessionUnavailable, type SessionOptions } from './session.ts'
import type { BecomeConfig, ExecOptions, Executor, Started } from './types.ts'

/** A snippet's stdout and exit status: what a probe (or a recorded command) answers. */
export interface ProbeResult {
  stdout: string
  /** The snippet's exit status: many probes answer "absent" with a non-zero status. */
  code: number
}

export type { BecomeConfig, ExecOptions, Execution, Executor, Started } from './types.ts'

export interface ShellOptions {
  /** Names the host in errors and fake pids. */
  host: string
  /** The interpreter for commands on the target: POSIX `/bin/sh` unless a test asks otherwise. */
  shell?: string
  become?: BecomeConfig
  /** Every command of this shell is a read-only probe. */
  probe?: boolean
  /** The connection's session shell, which runs each command it is free for. */
  session?: SessionShell
}

const running = new Map<string, HostProcess>()
let sequence = 0

// ProcessPromise.kill() (and so .timeout()) calls the kill of whatever zx context is current at
// that moment, often the global one rather than our shell's. So the global kill learns to route
// our string pids to their host and hands every numeric pid to zx's own kill, unchanged.
const localKill = zx$.kill
async function kill(pid: string | number, signal?: string): Promise<void> {
  const child = running.get(String(pid))
  if (child) return child.terminate(signal ?? 'SIGTERM')
  return localKill(pid as never, signal as never)
}
zx$.kill = kill as typeof zx$.kill

/** Returns a zx `$` whose commands run through `execute`. */
export function createShell(execute: Executor, opts: ShellOptions): Shell {
  const shell = opts.shell ?? '/bin/sh'
  const spawn = (command: string, _args: unknown, spawnOpts?: { signal?: AbortSignal; input?: unknown }) => {
    // A string pid cannot collide with a local process's number, so a kill meant for a remote
    // command can never signal something on the controller.
    const pid = `${opts.host}#${++sequence}`
    const own = () => startCommand(execute, command, shell, opts.become, { probe: opts.probe })
    // zx hands the input it will write to stdin (a string, Buffer or stream) to spawn too: the
    // session frames it, and a command without any reads /dev/null.
    const input = spawnOpts?.input as string | Buffer | Readable | undefined
    const session = opts.session?.take(command, input, { probe: opts.probe })
    const starting = session
      ? session.catch((err: Error) => (err instanceof SessionUnavailable ? own() : Promise.reject(err)))
      : own()
    const child = new HostProcess(pid, starting)
    // $({ signal }) aborts: stop the command on the host, as Node's spawn would locally.
    const signal = spawnOpts?.signal
    if (signal?.aborted) void child.terminate('SIGTERM')
    else if (signal) {
      const abort = () => void child.terminate('SIGTERM')
      signal.addEventListener('abort', abort, { once: true })
      // One run's signal sees thousands of commands: each must let go of it when done.
      child.once('close', () => signal.removeEventListener('abort', abort))
    }
    return child
  }
  return zx$({
    spawn: spawn as never,
    spawnSync: (() => {
      throw new Error('ferry runs remote commands asynchronously: use await $`…`, not $.sync')
    }) as never,
    quote,
    // zx prepends bash's `set -euo pipefail;`, which dash rejects; targets get plain POSIX sh.
    prefix: '',
    postfix: '',
    kill: kill as never,
    // Remote stderr must not spill onto the controller's terminal mid-listr; callers read it
    // from the ProcessOutput, or opt in with .quiet(false).
    quiet: true,
    verbose: false,
  }) as unknown as Shell
}

export interface Shells {
  $: Shell
  probe$: Shell
  stream: (command: string) => Promise<Started>
  /** Keeps `n` channels started ahead for streams (see `Standbys`). */
  standby: (n: number) => void
  /** Ends the session shell (or hands it back to the keeper) and the standbys: the connection is done with. */
  close: () => Promise<void>
}

/**
 * A transport's `$`, its probes' `$`, and its streams, all running through its `execute`. With
 * `session`, `$` and `probe$` share one session shell (see session.ts); streams, kills and
 * commands that find it busy still get channels of their own. A host where doas needs a password
 * has no session: doas answers only on a pty, where no byte is ferry's alone.
 */
export function shellsOf(
  execute: Executor,
  host: string,
  become?: BecomeConfig,
  session?: Pick<SessionOptions, 'admit' | 'onCommand'>,
): Shells {
  const shell = '/bin/sh'
  const shared =
    session && !(become?.method === 'doas' && become.password)
      ? new SessionShell(execute, {
          ...session,
          host,
          shell,
          become,
          control: (line) => control(execute, line, shell, become),
        })
      : undefined
  const standbys = new Standbys(execute, shell, become)
  return {
    $: createShell(execute, { host, become, session: shared }),
    probe$: createShell(execute, { host, become, probe: true, session: shared }),
    stream: (command) => standbys.take(command) ?? startStream(execute, command, { host, become }),
    standby: (n) => standbys.keep(n),
    close: async () => {
      standbys.close()
      await shared?.close()
    },
  }
}

/**
 * Channels started ahead for streams, each already logged in (and escalated) and waiting for
 * its command on stdin: the line count, then the text, read by the shell's own `read`, which
 * never reads past it, so the rest of stdin is the command's. migrate-jail keeps two on each
 * side, so its cut-over's transfer waits for no login shell. Taking one starts the next.
 */
class Standbys {
  private ready: { started: Promise<Started>; gone: boolean }[] = []
  private wanted = 0

  constructor(
    private readonly execute: Executor,
    private readonly shell: string,
    private readonly become: BecomeConfig | undefined,
  ) {}

  keep(n: number): void {
    this.wanted = n
    while (this.ready.length < this.wanted) {
      const started = startCommand(this.execute, standbyScript(this.shell), this.shell, this.become, {})
      const entry = { started, gone: false }
      // One that fails or ends while it waits (a connection lost) is simply not used.
      started.then(
        (s) => void s.exited.then(() => (entry.gone = true)),
        () => (entry.gone = true),
      )
      this.ready.push(entry)
    }
  }

  /** A standby given the command, or undefined when none is left (the caller opens a channel). */
  take(command: string): Promise<Started> | undefined {
    let entry = this.ready.shift()
    while (entry?.gone) entry = this.ready.shift()
    if (!entry) return undefined
    this.keep(this.wanted)
    return entry.started.then((s) => {
      s.stdin.write(`${command.split('\n').length}\n${command}\n`)
      return s
    })
  }

  close(): void {
    this.wanted = 0
    for (const { started } of this.ready.splice(0))
      started.then(
        (s) => s.abort(),
        () => {},
      )
  }
}

function standbyScript(shell: string): string {
  return `IFS= read -r n || exit 97
case $n in '' | *[!0-9]*) exit 97 ;; esac
c=
while [ "$n" -gt 0 ]; do
  IFS= read -r l || exit 97
  c=$c$l'
'
  n=$((n - 1))
done
exec ${quote(shell)} -c "$c"`
}

/**
 * Starts one command outside zx, which keeps every byte of output for its ProcessOutput: a
 * stream of gigabytes must flow through with backpressure instead. Framed as $'s commands are.
 */
function startStream(execute: Executor, command: string, opts: ShellOptions): Promise<Started> {
  return startCommand(execute, command, opts.shell ?? '/bin/sh', opts.become, { probe: opts.probe })
}

/** Runs a shell line as-is (no interpolation): for `ferry exec` and other user-typed commands. */
export function runLine($: Shell, line: string): ProcessPromise {
  const pieces = Object.assign([line], { raw: [line] }) as TemplateStringsArray
  return $(pieces)
}

/**
 * ferry frames every command line with a small stderr protocol, all markers carrying a random
 * token so no command output can forge them:
 *
 * - First line: the login shell's pid, which sshd made a session (and process group) leader.
 *   Many sshds refuse SSH's "signal" request (OpenSSH: "session signalling requires privilege
 *   separation"), so a kill is `kill -- -PGID` over a control channel instead.
 * - Last bytes: the command's exit code. sshd's exit-status message can race the channel close
 *   (seen about once in 300 commands here) and some servers never send it; this cannot be lost.
 * - With become: the password goes down the channel, never into argv. sudo reads it from stdin
 *   in answer to our random prompt. doas reads only from a terminal, so with a password it gets
 *   a pty and the markers travel on the merged output. The escalated shell prints a ready
 *   marker; until then the caller's stdin is held back so it cannot be taken for the password.
 */
async function startCommand(
  execute: Executor,
  command: string,
  shell: string,
  become: BecomeConfig | undefined,
  mark: Pick<ExecOptions, 'control' | 'probe'>,
): Promise<Started> {
  const token = randomBytes(8).toString('hex')
  const { prompt, ready } = markers(token)
  const rcMark = `[ferry-rc-${token}]`
  let body = `${quote(shell)} -c ${quote(command)}`
  if (become)
    body = `${escalator(become, prompt)} ${quote(shell)} -c ${quote(`printf '%s' ${quote(ready)} >&2; exec ${body}`)}`
  const pty = become?.method === 'doas' && !!become.password
  const ex = await execute(`printf '${GROUP_TAG}%s\\n' "$$" >&2; ${body}; printf '%s%s\\n' ${quote(rcMark)} "$?" >&2`, {
    ...mark,
    pty,
  })
  // Under a pty, stderr arrives merged into stdout, so that is where the markers are.
  const framed = pty ? ex.stdout : ex.stderr

  const stdin = new PassThrough()
  // A command may exit without reading all its input (a receiver that failed): writing on is
  // then EPIPE, which its exit status already reports.
  ex.stdin.on('error', () => {})
  const stderr = new PassThrough()
  const handshake = new Handshake(become, token, false, {
    noise: (bytes) => stderr.write(bytes),
    answer: (password) => ex.stdin.write(password),
    rejected: (message) => {
      stderr.write(message)
      ex.abort()
    },
  })
  let reported: number | undefined
  // latin1 maps bytes to chars one to one, so splitting and rejoining never breaks UTF-8.
  let pending = ''
  // At least the longest trailer: the mark, up to three digits of $? and a newline, which is
  // rcMark.length + 4; the fifth character is one to spare.
  const keep = rcMark.length + 5

  framed.on('data', (chunk: Buffer) => {
    const text = chunk.toString('latin1')
    if (handshake.done) pending += text
    else {
      const rest = handshake.push(text)
      if (rest === undefined) return
      // The escalated shell runs: only now may the caller's stdin flow, so it is never taken for the password.
      if (become) stdin.pipe(ex.stdin)
      pending += rest
    }
    // Hold back just enough to recognise the exit-code trailer when the stream ends.
    if (pending.length > keep) {
      stderr.write(Buffer.from(pending.slice(0, -keep), 'latin1'))
      pending = pending.slice(-keep)
    }
  })
  const stderrDone = new Promise<void>((resolve) =>
    framed.on('end', () => {
      if (!handshake.done) pending += handshake.end()
      const m = new RegExp(`${rcMark.replace(/[[\]]/g, '\\$&')}(\\d+)\\n$`).exec(pending)
      if (m) {
        reported = Number(m[1])
        pending = pending.slice(0, m.index)
      }
      stderr.end(Buffer.from(pending, 'latin1'))
      resolve()
    }),
  )
  if (!become) stdin.pipe(ex.stdin)

  const exited = Promise.all([ex.exited, stderrDone]).then(([status]) =>
    reported === undefined ? status : { code: reported, signal: null },
  )
  const kill = async (signal: string) => {
    // A kill right after the start waits for the group line; dropping the channel alone would
    // leave the command running on the host.
    const id = await handshake.group
    if (id !== undefined) await control(execute, `kill -s ${signalName(signal)} -- -${id} 2>/dev/null`, shell, become)
    ex.abort()
  }
  return pty
    ? { ...ex, stdin, stdout: stderr, stderr: ex.stderr, exited, kill }
    : { ...ex, stdin, stderr, exited, kill }
}

export function signalName(signal: string): string {
  return signal.replace(/^SIG/, '')
}

/**
 * Runs one of ferry's own housekeeping commands (a kill) on a control channel, which never
 * queues behind the commands it is meant to stop. Never rejects: it is called from abort
 * handlers and timers that nobody awaits, and a connection that a change cut (the very reason
 * to kill) refuses the kill's channel too.
 */
export async function control(
  execute: Executor,
  line: string,
  shell: string,
  become: BecomeConfig | undefined,
): Promise<void> {
  try {
    const ex = await startCommand(execute, line, shell, become, { control: true })
    ex.stdin.end()
    ex.stdout.resume()
    ex.stderr.resume()
    await ex.exited
  } catch {
    // The connection is gone; the caller drops its channel, which is all that is left to do.
  }
}

/** Enough of ChildProcess for zx: pid, stdio streams, and 'exit' + 'close' with (code, signal). */
class HostProcess extends EventEmitter {
  readonly stdin = new PassThrough()
  readonly stdout = new PassThrough()
  readonly stderr = new PassThrough()
  private started?: Started
  /** A kill that came while the command still waited for a channel. */
  private pendingSignal?: string

  constructor(
    readonly pid: string,
    starting: Promise<Started>,
  ) {
    super()
    running.set(pid, this)
    starting.then(
      async (ex) => {
        this.started = ex
        if (this.pendingSignal) void ex.kill(this.pendingSignal)
        this.stdin.pipe(ex.stdin)
        ex.stdout.pipe(this.stdout)
        ex.stderr.pipe(this.stderr)
        const { code, signal } = await ex.exited
        running.delete(pid)
        await Promise.all([ended(this.stdout), ended(this.stderr)])
        this.emit('exit', code, signal)
        this.emit('close', code, signal)
      },
      (err: Error) => {
        running.delete(pid)
        this.stdout.end()
        this.stderr.end()
        this.emit('error', err)
        this.emit('close', null, null)
      },
    )
  }

  async terminate(signal: string): Promise<void> {
    if (this.started) return this.started.kill(signal)
    this.pendingSignal = signal
  }

  kill(signal = 'SIGTERM'): boolean {
    void this.terminate(signal)
    return true
  }
}

function ended(stream: Readable): Promise<void> {
  return stream.readableEnded ? Promise.resolve() : new Promise((resolve) => stream.once('end', resolve))
}
