// One shell per host connection. Every `exec` makes sshd set up a session and start the user's
// login shell, which reads its rc files: on a real server that is 0.2–2 s per command. So a
// connection starts one POSIX sh (escalated once, when the host needs become) and runs ferry's
// commands through it, one after another, each still its own `sh -c` as before.
//
// The protocol, controller to host, per command: a header line `TOKEN ID MODE LINES`, then the
// command text, LINES lines. MODE `n`: its stdin is /dev/null. MODE `c`: its stdin follows as
// chunks, `d N` and a newline then N bytes, ended by a line `e`. Host to controller: on stdout,
// `TOKEN go ID`, the command's stdout as hex (od), `TOKEN end ID`; on stderr, its stderr as hex,
// `TOKEN rc ID STATUS`, then `TOKEN done ID` once the loop is ready for the next header.
//
// Output travels as hex so that no byte a command prints can ever look like a marker: a command
// may print the token (it is in `ps`), and still cannot forge the end of its output. The loop
// never reads past its frame: shell `read` takes a pipe one byte at a time (dash, bash, mksh and
// ksh), and input, which may hold any byte, is length-counted and read with `dd bs=N count=1`,
// one read(2) of at most N bytes. Anything unexpected on either stream, or a session that ends mid-command, poisons
// the session: the command is reported, the channel dropped, and the next command starts a new one.

import { randomBytes } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import { escalator, GROUP_TAG, Handshake, markers } from './handshake.ts'
import { quote } from './quote.ts'
import type { BecomeConfig, ExecOptions, Execution, Executor, Started } from './types.ts'

/**
 * The loop the host runs. `kill -s KILL $$` from a subshell ends the whole loop: it is what a
 * frame that cannot be read exactly (dd missing its byte count, input ending mid-frame) gets,
 * because a loop that lost its place in the stream must not run what follows as a command.
 * Each command's fds 3-6 (the loop's own) are closed, so neither `exit`, `exec`, traps nor a
 * daemon it leaves can write into the protocol.
 */
export const SESSION_SCRIPT = `T=$1 SH=$2
unset IFS
set -f
command -v od >/dev/null 2>&1 && command -v dd >/dev/null 2>&1 || exit 90
printf '[ferry-ready-%s]\\n' "$T" >&2
exec 3>&1 4>&2 >/dev/null 2>&1
take() {
  n=$1
  while [ "$n" -gt 0 ]; do
    b=$n
    [ "$b" -gt 65536 ] && b=65536
    r=$(LC_ALL=C dd bs="$b" count=1 2>&1 >&5)
    r=\${r##*records out}
    set -- $r
    case $1 in '' | 0 | *[!0-9]*) kill -s KILL $$ ;; esac
    n=$((n - $1))
  done
}
feed() {
  while IFS= read -r f; do
    case $f in
    "d "*) take "\${f#d }" 5>&1 ;;
    e) return 0 ;;
    *) kill -s KILL $$ ;;
    esac
  done
  kill -s KILL $$
}
run() {
  st=$({ { {
    "$SH" -c "$cmd" 3>&- 4>&- 5>&- 6>&-
    echo "$?" >&6
  } 2>&1 >&5 | od -An -v -tx1 5>&- 6>&- >&4; } 5>&1 | od -An -v -tx1 6>&- >&3; } 6>&1)
  printf '%s end %s\\n' "$T" "$id" >&3
  printf '%s rc %s %s\\n' "$T" "$id" "$st" >&4
}
while IFS= read -r h; do
  set -- $h
  [ $# = 4 ] && [ "$1" = "$T" ] || exit 97
  case $2$4 in '' | *[!0-9]*) exit 97 ;; esac
  id=$2 n=$4 cmd=
  while [ "$n" -gt 0 ]; do
    IFS= read -r l || exit 97
    cmd=$cmd$l'
'
    n=$((n - 1))
  done
  printf '%s go %s\\n' "$T" "$id" >&3
  case $3 in
  n) run </dev/null ;;
  c) feed | { run; cat >/dev/null; } ;;
  *) exit 97 ;;
  esac
  printf '%s done %s\\n' "$T" "$id" >&4
done
`

/** The token a session line was made with (it is the loop's first argument). */
export function tokenOf(line: string): string {
  return /ferry-session ([0-9a-f]+) /.exec(line)![1]!
}

/** The line that starts a session: the login shell's pid (the root of its tree), then the loop, escalated. */
function sessionLine(token: string, shell: string, become: BecomeConfig | undefined): string {
  const run = `${quote(shell)} -c ${quote(SESSION_SCRIPT)} ferry-session ${token} ${quote(shell)}`
  return `printf '${GROUP_TAG}%s\\n' "$$" >&2; exec ${become ? `${escalator(become, markers(token).prompt)} ` : ''}${run}`
}

/**
 * The bytes that send one command: its header and text, then its whole input when that is at
 * hand (`streamed`: the input follows in chunks as it comes).
 */
export function commandFrame(token: string, id: number, command: string, input?: Buffer | 'streamed'): Buffer {
  // Counted in lines, read by the shell's own `read`: no process to start for it.
  const text = Buffer.from(`${command}\n`)
  const head = Buffer.from(`${token} ${id} ${input ? 'c' : 'n'} ${command.split('\n').length}\n`)
  if (!Buffer.isBuffer(input)) return Buffer.concat([head, text])
  return Buffer.concat([head, text, inputFrame(input), Buffer.from('e\n')])
}

function inputFrame(chunk: Buffer): Buffer {
  return chunk.length ? Buffer.concat([Buffer.from(`d ${chunk.length}\n`), chunk]) : Buffer.alloc(0)
}

/** One od line: hex byte pairs separated by blanks (GNU pads with one space, BSD od with more). */
const HEX_LINE = /^[ \t]*(?:[0-9a-f]{2}[ \t]*)*$/

function decodeHex(line: string): Buffer {
  return Buffer.from(line.replace(/[ \t]/g, ''), 'hex')
}

/**
 * How much of `buf` ends on a whole UTF-8 character. zx decodes each chunk of output by itself,
 * so a character split between two chunks would come out as U+FFFD; od's 16-byte lines split
 * them often, so the session holds back an incomplete tail (at most 3 bytes) for the next chunk.
 */
function utf8Whole(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back]!
    if ((b & 0xc0) === 0x80) continue
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1
    return need > back ? buf.length - back : buf.length
  }
  return buf.length
}

/** The session could not take the command before it started: run it on a channel of its own. */
export class SessionUnavailable extends Error {}

export interface SessionOptions {
  host: string
  shell: string
  become?: BecomeConfig
  /** Checks each command as a transport checks a channel's line (a dry run's refusal of writes). */
  admit?: (line: string, opts: ExecOptions) => void
  /** Counted per command sent through the session: each is one round trip. */
  onCommand?: () => void
  /** Runs a kill on a control channel, which never waits for a busy session. */
  control: (line: string) => Promise<void>
  /** A command whose output passes this many bytes is stopped and the session dropped. */
  maxOutput?: number
}

/** More than zx should hold in memory for one command: a transfer belongs in `stream()`. */
const MAX_OUTPUT = 256 * 2 ** 20

interface Command {
  id: number
  stdout: PassThrough
  stderr: PassThrough
  go: boolean
  end: boolean
  rc?: string
  /** Its `done` came (stdout and stderr are two streams: before or after its `end`). */
  done?: boolean
  output: number
  /** Decoded bytes not yet written, per stream: whole lines of a chunk go out as one write. */
  held: { stdout: Buffer[]; stderr: Buffer[] }
  started: { resolve(s: Started): void; reject(e: Error): void }
  exited: (s: { code: number | null; signal: string | null }) => void
  /** Streamed stdin still being framed, and the listener that frames it. */
  input?: { stream: Readable; chunk: (data: Buffer) => void }
  /** Set by a kill: what the command reports instead of a status it never printed. */
  signal?: string
}

/** A started session: one exec channel running the loop. */
class Live {
  readonly handshake: Handshake
  current?: Command
  dead = false
  /** At least one command got `go`: the loop works on this host. */
  proven = false
  private out = ''
  private err = ''
  private sequence = 0
  /** The command whose `done` is still to come. */
  private unfinished?: number
  private listening = false
  /** A frame held back until the escalated shell is ready: sudo would read it as the password. */
  private waiting?: Buffer
  /** sudo or doas refused the password: what the command reports, without a second try on a channel. */
  private refusal?: string

  constructor(
    readonly token: string,
    readonly ex: Execution,
    readonly opts: SessionOptions,
    readonly onIdle: () => void,
    readonly onDead: (live: Live) => void,
  ) {
    ex.stdin.on('error', () => {})
    this.handshake = new Handshake(opts.become, token, true, {
      noise: (bytes) => this.current?.stderr.write(bytes),
      answer: (password) => ex.stdin.write(password),
      rejected: (message) => {
        this.refusal = message
        this.fail()
      },
    })
    if (ex.resumed) this.handshake.skip(ex.resumed.root)
  }

  /** Free, with nothing of the last command still to come: it may be handed back for a later run. */
  get idle(): boolean {
    return !this.dead && !this.current && this.unfinished === undefined
  }

  /** Hands the channel back to the keeper, idle; this side will not use it again. */
  async detach(): Promise<void> {
    // A session still in its handshake is not handed over: it is not known to be ours yet.
    if (!this.idle || !this.handshake.done || !this.ex.detach) return this.fail()
    const root = await this.handshake.group
    if (root === undefined) return this.fail()
    this.dead = true
    this.onDead(this)
    this.ex.detach({ token: this.token, root })
  }

  /** Listens only once the first command is in flight, so nothing the host sends finds no command. */
  private listen(): void {
    this.listening = true
    this.ex.stdout.on('data', (chunk: Buffer) => this.onStdout(chunk.toString('latin1')))
    this.ex.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1')
      const rest = this.handshake.done ? text : this.handshake.push(text)
      if (rest === undefined) return
      if (this.waiting) {
        const held = this.waiting
        this.waiting = undefined
        this.ex.stdin.write(held)
      }
      this.onStderr(rest)
    })
    void this.ex.exited.then((status) => this.ended(status))
  }

  send(command: string, input: string | Buffer | Readable | undefined, cmd: Command): void {
    cmd.id = ++this.sequence
    this.current = cmd
    if (!this.listening) this.listen()
    const streamed = input instanceof Readable ? input : undefined
    const frame = commandFrame(
      this.token,
      cmd.id,
      command,
      streamed ? 'streamed' : typeof input === 'string' ? Buffer.from(input) : (input as Buffer | undefined),
    )
    // Without a password, the first frame goes right behind the exec: session start and the
    // first command are one round trip.
    if (!this.handshake.done && this.opts.become?.password) this.waiting = Buffer.alloc(0)
    this.write(frame)
    if (streamed) {
      const chunk = (data: Buffer) => this.write(inputFrame(Buffer.from(data)))
      cmd.input = { stream: streamed, chunk }
      streamed.on('data', chunk)
      streamed.once('end', () => this.endInput(cmd))
    }
  }

  private write(bytes: Buffer | string): void {
    if (this.waiting) this.waiting = Buffer.concat([this.waiting, Buffer.from(bytes)])
    else this.ex.stdin.write(bytes)
  }

  /** The command's input is over (or the command is): the loop stops feeding it. Sent once. */
  private endInput(cmd: Command): void {
    if (!cmd.input || this.dead) return
    cmd.input.stream.off('data', cmd.input.chunk)
    cmd.input = undefined
    this.write('e\n')
  }

  private lines(buffer: 'out' | 'err', text: string, each: (line: string) => void): void {
    let pending = this[buffer] + text
    for (let eol = pending.indexOf('\n'); eol >= 0 && !this.dead; eol = pending.indexOf('\n')) {
      each(pending.slice(0, eol))
      pending = pending.slice(eol + 1)
    }
    this[buffer] = pending
  }

  private onStdout(text: string): void {
    this.lines('out', text, (line) => {
      const cmd = this.current
      const T = this.token
      if (cmd && line === `${T} go ${cmd.id}`) {
        cmd.go = true
        this.proven = true
        cmd.started.resolve(this.startedFor(cmd))
      } else if (cmd?.go && !cmd.end && HEX_LINE.test(line)) this.output(cmd, 'stdout', line)
      else if (cmd?.go && line === `${T} end ${cmd.id}`) {
        cmd.end = true
        this.close(cmd, 'stdout')
        this.settle(cmd)
      } else if (cmd && !cmd.go && !this.proven) {
        // A login shell's rc files may print before the loop starts: the first command's output, as with sshd.
        cmd.stdout.write(Buffer.from(`${line}\n`, 'latin1'))
      } else this.fail(`ferry: lost track of the session shell on ${this.opts.host} (stdout)\n`)
    })
    if (this.current) this.flush(this.current, 'stdout')
  }

  private onStderr(text: string): void {
    this.lines('err', text, (line) => {
      const cmd = this.current
      const T = this.token
      const rc = cmd && new RegExp(`^${T} rc ${cmd.id} (\\d*)$`).exec(line)
      if (cmd && rc?.[1] !== undefined && cmd.rc === undefined) {
        cmd.rc = rc[1]
        this.close(cmd, 'stderr')
        this.endInput(cmd)
        this.settle(cmd)
      } else if (cmd && cmd.rc === undefined && HEX_LINE.test(line)) this.output(cmd, 'stderr', line)
      else if (cmd?.rc !== undefined && line === `${T} done ${cmd.id}`) cmd.done = true
      else if (this.unfinished !== undefined && line === `${T} done ${this.unfinished}`) this.unfinished = undefined
      else this.fail(`ferry: lost track of the session shell on ${this.opts.host} (stderr)\n`)
    })
    if (this.current) this.flush(this.current, 'stderr')
  }

  /** Writes what `kind` holds, all of it when `final`, else up to the last whole UTF-8 character. */
  private flush(cmd: Command, kind: 'stdout' | 'stderr', final = false): void {
    const held = cmd.held[kind]
    if (!held.length) return
    const bytes = held.length === 1 ? held[0]! : Buffer.concat(held)
    const whole = final ? bytes.length : utf8Whole(bytes)
    cmd.held[kind] = whole < bytes.length ? [bytes.subarray(whole)] : []
    if (whole) cmd[kind].write(bytes.subarray(0, whole))
  }

  private close(cmd: Command, kind: 'stdout' | 'stderr'): void {
    if (cmd[kind].writableEnded) return
    this.flush(cmd, kind, true)
    cmd[kind].end()
  }

  private output(cmd: Command, kind: 'stdout' | 'stderr', line: string): void {
    if (cmd.signal) return
    const bytes = decodeHex(line)
    cmd.output += bytes.length
    if (cmd.output > (this.opts.maxOutput ?? MAX_OUTPUT)) {
      cmd.held.stderr.push(
        Buffer.from(
          `ferry: more than ${Math.round((this.opts.maxOutput ?? MAX_OUTPUT) / 2 ** 20)} MiB of output: stopped (a transfer belongs in stream())\n`,
        ),
      )
      void this.kill('SIGKILL', cmd)
      return
    }
    cmd.held[kind].push(bytes)
  }

  /**
   * A command is complete at `end` + `rc`, and the session free for the next: the loop reads the
   * next header once it has printed `done`, which follows on stderr before anything of the next.
   */
  private settle(cmd: Command): void {
    if (!cmd.end || cmd.rc === undefined || this.current !== cmd) return
    this.current = undefined
    if (!cmd.done) this.unfinished = cmd.id
    // An empty status: the command killed the shell that waited for it. The loop lives on,
    // but whatever did that is not to be trusted with the next command.
    if (cmd.rc === '') {
      cmd.exited({ code: null, signal: 'SIGKILL' })
      this.fail()
      return
    }
    this.onIdle()
    cmd.exited({ code: Number(cmd.rc), signal: null })
  }

  private startedFor(cmd: Command): Started {
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => (cmd.exited = resolve))
    // Input for `c` travels inside the frames; what zx writes to stdin here has nowhere to go.
    const stdin = new PassThrough()
    stdin.resume()
    return {
      stdin,
      stdout: cmd.stdout,
      stderr: cmd.stderr,
      exited,
      abort: () => this.fail(),
      kill: (signal) => this.kill(signal, cmd),
    }
  }

  /**
   * Stops the command and drops the session. Never the session's process group: a revert job an
   * earlier command left there (OpenBSD's `nohup … &`) must live on. So the kill walks the tree
   * down from the login shell's pid, which reaches the loop and the command but no process that
   * an earlier command detached (init adopted it).
   */
  async kill(signal: string, cmd = this.current): Promise<void> {
    if (cmd) cmd.signal = signal
    const root = await this.handshake.group
    if (root !== undefined && !this.dead) await this.opts.control(treeKill(root, signal))
    this.fail()
  }

  /** Drops the session; the command in flight is reported, the next one starts a new session. */
  fail(message?: string): void {
    if (this.dead) return
    const cmd = this.current
    if (message && cmd && !cmd.stderr.writableEnded) cmd.stderr.write(message)
    this.dead = true
    this.onDead(this)
    this.ex.abort()
    if (cmd) this.finish(cmd, { code: null, signal: null })
  }

  private ended(status: { code: number | null; signal: string | null }): void {
    const cmd = this.current
    if (this.dead && !cmd) return
    if (!this.dead) {
      this.dead = true
      this.onDead(this)
    }
    if (this.handshake.done === false) this.handshake.end()
    if (cmd) this.finish(cmd, status)
  }

  /** The session is gone with `cmd` in flight: before `go` it never ran, else it ends now. */
  private finish(cmd: Command, status: { code: number | null; signal: string | null }): void {
    this.current = undefined
    if (!cmd.go && this.refusal) {
      cmd.go = true
      cmd.started.resolve(this.startedFor(cmd))
      cmd.stderr.write(this.refusal)
      cmd.stdout.end()
      cmd.stderr.end()
      cmd.exited({ code: 1, signal: null })
      return
    }
    if (!cmd.go) {
      cmd.started.reject(new SessionUnavailable(`the session shell on ${this.opts.host} ended before the command ran`))
      return
    }
    this.close(cmd, 'stdout')
    if (cmd.rc === undefined) {
      this.flush(cmd, 'stderr', true)
      if (!cmd.signal) cmd.stderr.write(`ferry: the session shell on ${this.opts.host} ended before the command did\n`)
      cmd.stderr.end()
      cmd.exited({ code: null, signal: cmd.signal ?? status.signal ?? 'SIGKILL' })
    } else if (!cmd.end) cmd.exited({ code: null, signal: cmd.signal ?? 'SIGKILL' })
  }
}

/**
 * Signals every process below `root` (ps -A -o pid= -o ppid= is POSIX), and KILLs root itself:
 * mksh and ksh, dying of a catchable signal as a process-group leader, signal their whole group,
 * which holds whatever earlier commands detached.
 */
export function treeKill(root: number, signal: string): string {
  const awk = `{ up[$1] = $2 } END { for (p in up) { q = up[p]; n = 0; while (q != r && (q in up) && n++ < 64) q = up[q]; if (q == r) print p } }`
  // The tree is read before root dies: its children then belong to init, out of reach of the walk.
  return `t=$(ps -A -o pid= -o ppid= | awk -v r=${root} ${quote(awk)}); kill -s KILL ${root}; kill -s ${signal.replace(/^SIG/, '')} $t 2>/dev/null`
}

/**
 * A host connection's session shell, started by the first command that finds it free. Never
 * queues: a command that finds it busy (commands run concurrently on one host) gets a channel of
 * its own, so two commands that wait on each other can never deadlock here.
 */
export class SessionShell {
  private live?: Live
  private busy = false
  /** A command ran through a session on this host: the loop works here. */
  private proven = false
  /** A session ended before running a command (no od or dd, a refused start): channels for good. */
  private unusable = false

  constructor(
    private readonly execute: Executor,
    private readonly opts: SessionOptions,
  ) {}

  /** Takes the command if the session is free, else undefined: the caller opens a channel. */
  take(
    command: string,
    input: string | Buffer | Readable | undefined,
    mark: ExecOptions,
  ): Promise<Started> | undefined {
    if (this.busy || this.unusable) return undefined
    try {
      this.opts.admit?.(command, mark)
    } catch (err) {
      return Promise.reject(err as Error)
    }
    this.busy = true
    return new Promise<Started>((resolve, reject) => {
      const cmd: Command = {
        id: 0,
        stdout: new PassThrough(),
        stderr: new PassThrough(),
        go: false,
        end: false,
        output: 0,
        held: { stdout: [], stderr: [] },
        started: {
          resolve: (s) => {
            this.proven = true
            resolve(s)
          },
          reject: (err) => {
            if (!this.proven) this.unusable = true
            reject(err)
          },
        },
        exited: () => {},
      }
      this.open().then(
        (live) => {
          this.opts.onCommand?.()
          live.send(command, input, cmd)
        },
        (err: Error) => {
          this.busy = false
          reject(new SessionUnavailable(err.message))
        },
      )
    })
  }

  private async open(): Promise<Live> {
    if (this.live && !this.live.dead) return this.live
    const line = sessionLine(randomBytes(8).toString('hex'), this.opts.shell, this.opts.become)
    const ex = await this.execute(line, { session: true })
    const live: Live = new Live(
      ex.resumed?.token ?? tokenOf(line),
      ex,
      this.opts,
      () => {
        if (this.live === live) this.busy = false
      },
      () => {
        if (this.live !== live) return
        this.live = undefined
        this.busy = false
      },
    )
    this.live = live
    return live
  }

  /**
   * Ends the session with the connection, or, where the connection is kept (--persist) and the
   * session idle, hands it back so the next run starts no shell. A `done` still on its way is
   * waited for a moment: a session is handed back only when nothing of it is in flight.
   */
  async close(): Promise<void> {
    const live = this.live
    if (!live) return
    for (let i = 0; i < 20 && !live.idle && !live.dead && !this.busy; i++) await new Promise((r) => setTimeout(r, 10))
    await live.detach()
  }
}
