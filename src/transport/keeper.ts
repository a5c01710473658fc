// `--persist`: ferry's ControlPersist. A background process (the keeper) holds each host's SSH
// connection after a command ends, and the next ferry command runs its channels through it over
// a Unix socket in the state directory, so it skips the TCP and SSH handshakes, and the hosts'
// sshd skips forking and re-executing for each connection. Ansible gets the same from OpenSSH's
// ControlPersist, which it turns on by default.
//
// The keeper dials as a direct connection does (SshPool: host keys checked strictly), relays
// bytes, and keeps nothing else: become passwords and probe scripts pass through it as the
// channel's stdin, never in an argument or a file. Whoever can open the socket can run commands
// on the hosts, so it lives in a directory only the user can write, and is made mode 0600.
//
// One request per socket connection, in frames: a type byte, a 32-bit length, the payload.

import { spawn } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { createConnection, createServer, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { Host, Inventory } from '../inventory/types.ts'
import type { Shell } from 'zx/core'
import { shellsOf, type ExecOptions, type Execution } from '../shell/remote.ts'
import { tokenOf } from '../shell/session.ts'
import type { SessionMeta } from '../shell/types.ts'
import { UnreachableError, type UnreachableReason } from './errors.ts'
import type { Client } from 'ssh2'
import { SshPool } from './ssh.ts'
import {
  becomeFor,
  countExec,
  countSession,
  newStats,
  refuseWrites,
  type Transport,
  type TransportStats,
} from './transport.ts'

/** Frame types. Client to keeper: the request, stdin, its end. Keeper to client: the rest. */
export const FRAMES = {
  REQUEST: 'R',
  STDIN: 'I',
  STDIN_END: 'Z',
  OPENED: 'O',
  FAILED: 'E',
  STDOUT: '1',
  STDERR: '2',
  EXIT: 'X',
  /** Client to keeper: the session shell is idle; keep its channel for the next run. */
  DETACH: 'D',
} as const
const { REQUEST, STDIN, STDIN_END, OPENED, FAILED, STDOUT, STDERR, EXIT, DETACH } = FRAMES

export function frame(type: string, payload: Buffer | string = ''): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload
  const head = Buffer.alloc(5)
  head.write(type, 0, 'latin1')
  head.writeUInt32BE(body.length, 1)
  return Buffer.concat([head, body])
}

/** Feeds a socket's bytes in, calls `onFrame` for each whole frame. */
export function frameReader(onFrame: (type: string, payload: Buffer) => void): (chunk: Buffer) => void {
  // Chunks are joined only once a whole frame is there: a large frame in small reads stays linear.
  let chunks: Buffer[] = []
  let size = 0
  return (chunk) => {
    chunks.push(chunk)
    size += chunk.length
    while (size >= 5) {
      if (chunks[0]!.length < 5) chunks = [Buffer.concat(chunks)]
      const end = 5 + chunks[0]!.readUInt32BE(1)
      if (size < end) break
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
      chunks = bytes.length > end ? [bytes.subarray(end)] : []
      size -= end
      onFrame(String.fromCharCode(bytes[0]!), bytes.subarray(5, end))
    }
  }
}

/**
 * What the keeper needs to dial a host: its SSH endpoint and those of the inventory hosts it
 * jumps through. Nothing else of the inventory (vars, secrets' names) goes to the keeper.
 */
export interface Dial {
  host: Host
  via: Host[]
  acceptNew: boolean
}

interface Request {
  op: 'dial' | 'exec' | 'session' | 'list' | 'close'
  dial?: Dial
  /** session: which session shell may be handed over (how it escalates, its shell); never a secret. */
  kind?: string
  /** dial: drop the kept connection and dial a new one (commit-confirmed's proof of reach). */
  fresh?: boolean
  command?: string
  pty?: boolean
  control?: boolean
  /** How long the keeper stays once idle, in ms: the latest command's --persist. */
  idle?: number
}

/** A kept connection, as `ferry connections` lists it. */
export interface KeptInfo {
  host: string
  target: string
  since: string
  lastUsed: string
  commands: number
  /** Session shells kept idle on the connection, each a running shell (root, with become) on the host. */
  sessions: number
}

function endpoint(h: Host): Host {
  const { name, connection, address, port, user, identity, knownHosts, connectTimeout, jump } = h
  return {
    name,
    connection,
    address,
    port,
    user,
    identity,
    knownHosts,
    connectTimeout,
    jump,
    become: 'none',
    groups: [],
    vars: {},
    jails: {},
  }
}

export function dialFor(host: Host, inventory: Inventory, acceptNew: boolean): Dial {
  const via: Host[] = []
  for (let hop = host.jump; typeof hop === 'string' && !via.some((h) => h.name === hop);) {
    const next = inventory.hosts.find((h) => h.name === hop)
    if (!next) break // the keeper's pool reports it, as a direct one would
    via.push(endpoint(next))
    hop = next.jump
  }
  return { host: endpoint(host), via, acceptNew }
}

export function errorPayload(err: Error): string {
  return JSON.stringify(
    err instanceof UnreachableError
      ? { host: err.host, reason: err.reason, detail: err.detail }
      : { message: err.message },
  )
}

function errorFrom(payload: Buffer): Error {
  const e = JSON.parse(payload.toString()) as {
    host?: string
    reason?: UnreachableReason
    detail?: string
    message?: string
  }
  return e.reason ? new UnreachableError(e.host!, e.reason, e.detail!) : new Error(e.message)
}

// ---------------------------------------------------------------------------------------------
// The keeper

/** Serves `socketPath` until it has been idle (no client connected) for `idleMs`. */
export async function serveKeeper(socketPath: string, idleMs: number): Promise<void> {
  // The socket is made 0600 as it is bound, not chmodded after: no moment where others could open it.
  process.umask(0o077)
  const kept = new Map<string, { pool: SshPool; host: Host; since: Date; lastUsed: Date; commands: number }>()
  // Idle session shells by dial and kind. One that prints while idle, or whose channel ends, is
  // dropped: nothing is known of its state any more.
  const sessions = new Map<string, { ex: Execution; meta: SessionMeta }[]>()
  const poolFor = (dial: Dial) => {
    const key = JSON.stringify(dial)
    let entry = kept.get(key)
    if (!entry) {
      const inventory = {
        file: '',
        hosts: [dial.host, ...dial.via],
        groups: {},
        links: [],
        secrets: NO_SECRETS,
        locate: () => undefined,
        warnings: [],
      }
      entry = {
        pool: new SshPool(inventory, { acceptNew: dial.acceptNew }),
        host: dial.host,
        since: new Date(),
        lastUsed: new Date(),
        commands: 0,
      }
      kept.set(key, entry)
    }
    entry.lastUsed = new Date()
    return entry
  }

  let clients = 0
  let idleTimer: NodeJS.Timeout | undefined
  const server = createServer()
  const shutdown = () => {
    clearTimeout(idleTimer)
    server.close()
    // Only our own socket: a newer keeper may have taken the path.
    try {
      if (statSync(socketPath).ino === boundIno) rmSync(socketPath)
    } catch {
      // Already gone.
    }
    for (const { pool } of kept.values()) void pool.close()
    setImmediate(() => process.exit(0))
  }
  const idle = () => {
    clearTimeout(idleTimer)
    if (clients === 0) idleTimer = setTimeout(shutdown, idleMs).unref()
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)

  server.on('connection', (sock) => {
    clients++
    clearTimeout(idleTimer)
    sock.on('error', () => {})
    sock.once('close', () => {
      clients--
      idle()
    })
    // Frames after the request (stdin) wait until its channel is open.
    const early: [string, Buffer][] = []
    let handle = (type: string, payload: Buffer): void => {
      let request: Request
      try {
        if (type !== REQUEST) throw new Error('no request')
        request = JSON.parse(payload.toString()) as Request
      } catch {
        return void sock.destroy()
      }
      if (request.idle !== undefined) idleMs = request.idle
      handle = (...f) => void early.push(f)
      const onFrames = (h: typeof handle) => {
        handle = h
        for (const f of early.splice(0)) h(...f)
      }
      serve(request, sock, onFrames).catch((err: Error) => {
        if (!sock.destroyed) sock.end(frame(FAILED, errorPayload(err)))
      })
    }
    sock.on(
      'data',
      frameReader((type, payload) => handle(type, payload)),
    )
  })

  const serve = async (
    request: Request,
    sock: Socket,
    onFrames: (h: (type: string, payload: Buffer) => void) => void,
  ): Promise<void> => {
    switch (request.op) {
      case 'list': {
        const list: KeptInfo[] = [...kept.values()]
          .filter((e) => e.pool.has(e.host))
          .map((e) => ({
            host: e.host.name,
            target: `${e.host.user}@${e.host.address}:${e.host.port}`,
            since: e.since.toISOString(),
            lastUsed: e.lastUsed.toISOString(),
            commands: e.commands,
            sessions: [...sessions]
              .filter(([key]) => key.startsWith(`${JSON.stringify(e.host.name)}\n`))
              .reduce((n, [, idle]) => n + idle.length, 0),
          }))
        return void sock.end(frame(OPENED, JSON.stringify(list)))
      }
      case 'close':
        sock.end(frame(OPENED))
        return shutdown()
      case 'dial': {
        const entry = poolFor(request.dial!)
        const { host } = entry
        let fresh = request.fresh || !entry.pool.has(host)
        // A kept connection may have died unnoticed: the host rebooted (it resets the connection,
        // and a new one is dialled), or the network between went away (no answer within the
        // connect timeout: unreachable, as a new connection would be).
        if (!fresh) {
          const { client } = await entry.pool.connect(host)
          const answer = await ping(client, host.connectTimeout)
          if (answer === 'silent') {
            client.destroy()
            throw new UnreachableError(
              host.name,
              'timeout',
              `the kept connection to ${host.user}@${host.address}:${host.port} did not answer within ${host.connectTimeout / 1000} s`,
            )
          }
          fresh = answer === 'closed'
        }
        if (fresh) await entry.pool.reconnect(host)
        return void sock.end(frame(OPENED, JSON.stringify({ kept: !fresh })))
      }
      case 'exec': {
        const entry = poolFor(request.dial!)
        const conn = await entry.pool.connect(entry.host)
        entry.commands++
        const ex = await conn.execute(request.command!, { pty: request.pty, control: request.control })
        relay(ex, sock, onFrames)
        return
      }
      case 'session': {
        const entry = poolFor(request.dial!)
        const key = `${JSON.stringify(entry.host.name)}\n${JSON.stringify(request.dial)}\n${request.kind}`
        const idle = sessions.get(key)?.pop()
        entry.commands++
        if (idle) return relay(idle.ex, sock, onFrames, keepIdle(key), idle.meta)
        const conn = await entry.pool.connect(entry.host)
        relay(await conn.execute(request.command!, { session: true }), sock, onFrames, keepIdle(key))
      }
    }
  }

  /** Holds a detached session shell's channel until a client takes it or it shows a sign of life. */
  const keepIdle = (key: string) => (ex: Execution, meta: SessionMeta) => {
    const list = sessions.get(key) ?? []
    sessions.set(key, list)
    const held = { ex, meta }
    list.push(held)
    const drop = () => {
      const at = list.indexOf(held)
      if (at < 0) return
      list.splice(at, 1)
      ex.abort()
    }
    // Once a client has taken it (it is no longer in the list), these do nothing.
    ex.stdout.once('data', drop)
    ex.stderr.once('data', drop)
    void ex.exited.then(drop)
  }

  await listen(server, socketPath)
  const boundIno = statSync(socketPath).ino
  idle()
}

/**
 * One round trip on the connection that starts nothing on the host: cancelling a port forward
 * that does not exist, which sshd answers with a failure. Any answer means it is alive.
 */
function ping(client: Client, timeoutMs: number): Promise<'alive' | 'closed' | 'silent'> {
  return new Promise((resolve) => {
    const done = (answer: 'alive' | 'closed' | 'silent') => {
      clearTimeout(timer)
      client.off('close', closed)
      resolve(answer)
    }
    const closed = () => done('closed')
    const timer = setTimeout(() => done('silent'), timeoutMs)
    client.once('close', closed)
    try {
      client.unforwardIn('127.0.0.1', 1, () => done('alive'))
    } catch {
      done('closed')
    }
  })
}

/** Binds the socket, replacing a stale one (no keeper answering); another live keeper wins. */
async function listen(server: ReturnType<typeof createServer>, socketPath: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    if (await answers(socketPath)) throw new KeeperRunning()
    rmSync(socketPath, { force: true })
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve))
  }
}

export class KeeperRunning extends Error {}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(socketPath)
    s.once('connect', () => resolve(true)).once('error', () => resolve(false))
    s.once('close', () => s.destroy())
    setTimeout(() => s.end(), 100).unref()
  })
}

/**
 * Bytes both ways between a channel and its client, each side waiting for the slower one. A
 * session shell's channel (`detach`) may be handed back instead, idle, to keep for the next
 * client; `resumed`: it is such a kept one, and its client learns what it needs to speak to it.
 */
function relay(
  ex: Execution,
  sock: Socket,
  onFrames: (h: (type: string, payload: Buffer) => void) => void,
  detach?: (ex: Execution, meta: SessionMeta) => void,
  resumed?: SessionMeta,
): void {
  let draining = false
  const send = (type: string, data: Buffer) => {
    if (sock.write(frame(type, data)) || draining) return
    draining = true
    ex.stdout.pause()
    ex.stderr.pause()
    sock.once('drain', () => {
      draining = false
      ex.stdout.resume()
      ex.stderr.resume()
    })
  }
  const out = (d: Buffer) => send(STDOUT, d)
  const err = (d: Buffer) => send(STDERR, d)
  ex.stdout.on('data', out)
  ex.stderr.on('data', err)
  ex.stdin.on('error', () => {})
  // A client that goes away drops its channel, as a dropped SSH connection would.
  const dropped = () => ex.abort()
  onFrames((type, payload) => {
    if (type === STDIN && !ex.stdin.write(payload)) {
      sock.pause()
      ex.stdin.once('drain', () => sock.resume())
    } else if (type === STDIN_END) ex.stdin.end()
    else if (type === DETACH && detach) {
      ex.stdout.off('data', out)
      ex.stderr.off('data', err)
      sock.off('close', dropped)
      detached = true
      detach(ex, JSON.parse(payload.toString()) as SessionMeta)
      sock.end()
    }
  })
  let detached = false
  if (sock.destroyed) return dropped()
  sock.once('close', dropped)
  const ended = (s: Readable) => new Promise<void>((r) => (s.readableEnded ? r() : s.once('end', r).once('close', r)))
  void Promise.all([ex.exited, ended(ex.stdout), ended(ex.stderr)]).then(([status]) => {
    if (detached) return
    sock.off('close', dropped)
    sock.end(frame(EXIT, JSON.stringify(status)))
  })
  sock.write(frame(OPENED, resumed ? JSON.stringify(resumed) : ''))
}

const NO_SECRETS: Inventory['secrets'] = {
  names: () => [],
  source: () => '',
  get: () => Promise.reject(new Error('the connection keeper holds no secrets')),
  redact: (s) => s,
}

// ---------------------------------------------------------------------------------------------
// Its clients

/** In the socket's name, so that a ferry speaking another protocol never meets an older keeper. */
const PROTOCOL = 2

export function socketPathFor(stateDir: string): string {
  return join(stateDir, `keeper-${PROTOCOL}.sock`)
}

/**
 * Refuses a state directory others could write to: whoever can replace the socket there would
 * see every command and password sent through it. Returns the socket's path.
 */
export function checkStateDir(stateDir: string): string {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  const st = statSync(stateDir)
  const me = process.geteuid?.() ?? st.uid
  if (st.uid !== me || st.mode & 0o022) {
    throw new Error(
      `--persist: ${stateDir} is ${st.uid !== me ? `owned by uid ${st.uid}` : `writable by others (mode ${(st.mode & 0o777).toString(8)})`}; the socket of kept connections must be private: chmod 700 it, or use another --state-dir`,
    )
  }
  const path = socketPathFor(stateDir)
  // sockaddr_un holds 108 bytes.
  if (Buffer.byteLength(path) > 100)
    throw new Error(`--persist: the socket path ${path} is too long for a Unix socket; use a shorter --state-dir`)
  return path
}

/** bin/ferry.mjs, from the sources (src/transport/) or the bundle (dist/). */
function ferryBin(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'bin', 'ferry.mjs'))) return join(dir, 'bin', 'ferry.mjs')
    if (dirname(dir) === dir) throw new Error('cannot find bin/ferry.mjs to start the connection keeper')
  }
}

/** The environment the keeper dials with: what ssh and ~/.ssh/config need, no secrets. */
function keeperEnv(): NodeJS.ProcessEnv {
  const names = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'SSH_AUTH_SOCK', 'FERRY_SSH_CONFIG']
  return Object.fromEntries(names.filter((n) => process.env[n] !== undefined).map((n) => [n, process.env[n]]))
}

/** Opens socket connections to the keeper, starting one when none answers (given `idleMs`). */
export class KeeperClient {
  private started?: Promise<void>

  constructor(
    private readonly socketPath: string,
    private readonly idleMs?: number,
  ) {}

  /**
   * Sends a request; resolves once the keeper says OPENED, with its payload. Frames after that go
   * to `onFrame`; `closed` settles when the keeper (or the caller) closes the socket.
   */
  async request(
    request: Request,
    onFrame?: (type: string, payload: Buffer, sock: Socket) => void,
  ): Promise<{ sock: Socket; payload: Buffer; closed: Promise<void> }> {
    const sock = await this.socket()
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()))
    return new Promise((resolve, reject) => {
      let opened = false
      sock.on('error', () => {})
      sock.on(
        'data',
        frameReader((type, payload) => {
          if (opened) return onFrame?.(type, payload, sock)
          if (type === FAILED) return reject(errorFrom(payload))
          if (type !== OPENED) return reject(new Error(`connection keeper: unexpected frame ${type}`))
          opened = true
          resolve({ sock, payload, closed })
        }),
      )
      void closed.then(() => reject(new Error(`the connection keeper (${this.socketPath}) closed the connection`)))
      sock.write(frame(REQUEST, JSON.stringify({ ...request, idle: this.idleMs })))
    })
  }

  private async socket(): Promise<Socket> {
    try {
      return await connectTo(this.socketPath)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw err
    }
    if (this.idleMs === undefined) throw new Error('no connection keeper is running')
    await (this.started ??= this.start(this.idleMs))
    return connectTo(this.socketPath)
  }

  /** Starts a keeper and waits (10 s at most) until it listens, or says another one does. */
  private start(idleMs: number): Promise<void> {
    const child = spawn(
      process.execPath,
      [ferryBin(), 'keeper', '--socket', this.socketPath, '--idle', String(idleMs)],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: '/',
        env: keeperEnv(),
      },
    )
    let said = ''
    let complained = ''
    let timer: NodeJS.Timeout | undefined
    return new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        said += d
        if (said.includes('\n')) resolve()
      })
      child.stderr!.on('data', (d: Buffer) => (complained += d))
      child.once('error', reject)
      child.once('exit', (code) =>
        reject(
          new Error(
            `the connection keeper exited (${code}) before listening: ${complained.trim().split('\n').pop() ?? ''}`,
          ),
        ),
      )
      timer = setTimeout(() => reject(new Error('the connection keeper did not start listening within 10 s')), 10_000)
    }).finally(() => {
      clearTimeout(timer)
      // From here on it writes nowhere: nobody reads its output.
      child.stdout!.destroy()
      child.stderr!.destroy()
      child.unref()
    })
  }
}

/** Connects only to a socket the user owns (checkStateDir made sure nobody else writes its directory). */
function connectTo(socketPath: string): Promise<Socket> {
  const me = process.geteuid?.()
  if (me !== undefined && existsSync(socketPath)) {
    const st = lstatSync(socketPath)
    if (!st.isSocket() || st.uid !== me)
      throw new Error(`--persist: ${socketPath} is not a socket of yours; refusing it`)
  }
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath)
    sock.once('connect', () => {
      sock.off('error', reject)
      resolve(sock)
    })
    sock.once('error', reject)
  })
}

/** A host reached through the keeper: the same `$`, probes and streams as a direct connection. */
export class KeptConnection implements Transport {
  readonly $: Shell
  readonly probe$: Shell
  readonly stream: Transport['stream']
  readonly stats: TransportStats = { ...newStats(), kept: false }
  readonly standby: Transport['standby']
  /** Ends the session shell and standbys. */
  private readonly closeShells: () => Promise<void>

  constructor(
    readonly host: Host,
    private readonly keeper: KeeperClient,
    private readonly dial: Dial,
    inventory: Inventory,
    private readonly readOnly = false,
  ) {
    ;({
      $: this.$,
      probe$: this.probe$,
      stream: this.stream,
      standby: this.standby,
      close: this.closeShells,
    } = shellsOf((line, opts) => this.execute(line, opts), host.name, becomeFor(host, inventory), {
      admit: (line, opts) => refuseWrites(this.readOnly, line, opts),
      onCommand: () => countSession(this.stats),
    }))
  }

  get name(): string {
    return this.host.name
  }

  async execute(command: string, opts: ExecOptions = {}): Promise<Execution> {
    refuseWrites(this.readOnly, command, opts)
    let sock: Socket | undefined
    // A stream whose consumer is behind pauses the socket; reading on resumes it.
    const stdout = new Readable({ read: () => sock?.resume() })
    const stderr = new Readable({ read: () => sock?.resume() })
    let status: { code: number | null; signal: string | null } = { code: null, signal: null }
    const onFrame = (type: string, payload: Buffer, from: Socket) => {
      if (type === STDOUT && !stdout.push(payload)) from.pause()
      else if (type === STDERR && !stderr.push(payload)) from.pause()
      else if (type === EXIT) status = JSON.parse(payload.toString())
    }
    // A session shell may be one the keeper kept from an earlier run. Which one may be handed
    // over is its start line without its token: the same shell, escalated the same way.
    const request: Parameters<KeeperClient['request']>[0] = opts.session
      ? { op: 'session', dial: this.dial, command, kind: command.replaceAll(tokenOf(command), '') }
      : { op: 'exec', dial: this.dial, command, pty: opts.pty, control: opts.control }
    const opened = await this.keeper.request(request, onFrame)
    sock = opened.sock
    const resumed = opened.payload.length ? (JSON.parse(opened.payload.toString()) as SessionMeta) : undefined
    if (resumed) this.stats.sessionKept = true
    else countExec(this.stats, opts)
    // The keeper closes the socket after EXIT; closed without it, the channel was lost.
    const exited = opened.closed.then(() => {
      stdout.push(null)
      stderr.push(null)
      return status
    })
    const to = sock
    const stdin = new Writable({
      write: (chunk: Buffer, _enc, done) => (to.destroyed ? done() : void to.write(frame(STDIN, chunk), () => done())),
      final: (done) => (to.destroyed ? done() : void to.write(frame(STDIN_END), () => done())),
    })
    return {
      stdin,
      stdout,
      stderr,
      exited,
      abort: () => to.destroy(),
      resumed,
      detach: opts.session ? (meta) => void to.write(frame(DETACH, JSON.stringify(meta))) : undefined,
    }
  }

  /** The connection stays with the keeper; the session shell's relay ends with this command. */
  async close(): Promise<void> {
    await this.closeShells()
  }
}
