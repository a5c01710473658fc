// One ssh2 connection per host, multiplexing every command as a channel. ssh2 trusts any host
// key and knows nothing of agents or ProxyJump on its own, so all three are supplied here.

import { readFileSync, existsSync } from 'node:fs'
import type { Client, ClientChannel, ConnectConfig, AuthenticationType, PseudoTtyOptions } from 'ssh2'
import type { Duplex } from 'node:stream'
import type { Host, Inventory } from '../inventory/types.ts'
import type { Shell } from 'zx/core'
import { shellsOf, type ExecOptions, type Execution } from '../shell/remote.ts'
import { KnownHosts, fingerprint, hostSpec, keyType } from './known-hosts.ts'
import { resolveSshConfig, expandHome } from './ssh-config.ts'
import { UnreachableError, classify } from './errors.ts'
import { Slots } from './slots.ts'
import { becomeFor, countExec, countSession, newStats, refuseWrites, type Transport } from './transport.ts'

/**
 * Channels open at once on one connection. OpenSSH's MaxSessions defaults to 10, and sshd counts
 * a session a little past its close; 8 leaves that headroom. One of the 8 is kept for ferry's
 * kill commands, so they never queue behind the commands they must stop.
 */
export const MAX_CHANNELS = 8

/**
 * ssh2, loaded on first use: a command whose connections the keeper holds (--persist) never
 * needs it, and loading it is a good part of ferry's start. A plain require, which the bundle
 * and jiti both resolve (to the bundled copy, in the bundle).
 */
const ssh2 = () => require('ssh2') as typeof import('ssh2')

const DEFAULT_KNOWN_HOSTS = [
  '~/.ssh/known_hosts',
  '~/.ssh/known_hosts2',
  '/etc/ssh/ssh_known_hosts',
  '/etc/ssh/ssh_known_hosts2',
].map(expandHome)
const DEFAULT_IDENTITIES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'].map(expandHome)

/**
 * known_hosts key types to the ssh2 host key algorithms that present them. Types ssh2 cannot
 * verify (security keys, certificates) are left out rather than passed, which ssh2 would reject.
 */
const ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
}

/**
 * A terminal that passes bytes through untouched: no echo (of a password), no \n to \r\n, and
 * no line editing, which would cap a line at 4 KiB and eat control characters.
 */
const RAW_PTY: PseudoTtyOptions = {
  term: 'dumb',
  modes: { ECHO: 0, ICANON: 0, ONLCR: 0, OPOST: 0, ICRNL: 0, ISIG: 0, IXON: 0 },
}

export interface SshOptions {
  /** Trust on first use: record unknown host keys instead of refusing the host. */
  acceptNew?: boolean
  /** Run only commands marked as probes (a dry run). */
  readOnly?: boolean
  keepaliveInterval?: number
}

/** An SSH hop: an inventory host, or one named by a jump spec or ~/.ssh/config's ProxyJump. */
interface Endpoint {
  address: string
  port: number
  user: string
  identity: string[]
  knownHosts: string[]
  connectTimeout: number
  jump?: string | { address: string; port?: number; user?: string }
}

export class SshPool {
  private readonly connections = new Map<string, Promise<SshConnection>>()
  /** Every client dialled, including external jump hops that no SshConnection wraps. */
  private readonly clients: Client[] = []
  /** Inventory hosts that other hosts' connections go through. */
  private readonly jumps = new Set<string>()

  constructor(
    private readonly inventory: Inventory,
    private readonly options: SshOptions = {},
  ) {}

  /**
   * Connects once per host; later callers (and hosts jumping through it) share the connection.
   * A connection that failed or has since closed (the host rebooted, keepalives went unanswered)
   * is dialled afresh next time: a long-lived pool (`drift --every`) must not keep a dead one.
   */
  connect(host: Host): Promise<SshConnection> {
    const cached = this.connections.get(host.name)
    if (cached) return cached
    const forget = () => {
      if (this.connections.get(host.name) === opened) this.connections.delete(host.name)
    }
    const opened: Promise<SshConnection> = this.open(host, host).then(
      (client) => {
        client.once('close', forget)
        return new SshConnection(host, client, this.inventory, this.options.readOnly)
      },
      (err) => {
        forget()
        throw err
      },
    )
    this.connections.set(host.name, opened)
    return opened
  }

  /** Whether the host has a connection, or one being dialled. */
  has(host: Host): boolean {
    return this.connections.has(host.name)
  }

  /**
   * Drops the host's connection at once (nothing queued on it may still reach the host) and dials
   * a new one: commit-confirmed's proof that the host can still be reached.
   */
  async reconnect(host: Host): Promise<SshConnection> {
    // Other hosts' connections go through this one: it stays, and the new one is the caller's.
    if (this.jumps.has(host.name))
      return new SshConnection(host, await this.open(host, host), this.inventory, this.options.readOnly)
    const old = this.connections.get(host.name)
    this.connections.delete(host.name)
    await old?.then(
      (c) => c.client.destroy(),
      () => {},
    )
    return this.connect(host)
  }

  async close(): Promise<void> {
    this.connections.clear()
    for (const client of this.clients.splice(0)) client.end()
  }

  /** Dials `hop` (the target itself, or a jump host on its way), verifying its host key. */
  private async open(target: Host, hop: Endpoint, via?: Client): Promise<Client> {
    const config = await resolveSshConfig(hop.address, hop.port, hop.user)
    const address = config?.hostname ?? hop.address
    const keyName = config?.hostKeyAlias ?? address
    via ??= await this.jumpClient(target, hop, config?.proxyJump)
    const sock = via ? await forward(via, target.name, address, hop.port) : undefined
    const knownHosts = KnownHosts.load([
      ...hop.knownHosts,
      ...(config?.knownHostsFiles.length ? config.knownHostsFiles : DEFAULT_KNOWN_HOSTS),
    ])
    const identities = [...hop.identity, ...(config?.identityFiles ?? DEFAULT_IDENTITIES)]
    const where = `${hop.user}@${address}:${hop.port}${hop === target ? '' : ` (jump host for ${target.name})`}`

    const client = new (ssh2().Client)()
    this.clients.push(client)
    let refusal: UnreachableError | undefined
    const verify = (key: Buffer): boolean => {
      const verdict = knownHosts.check(keyName, hop.port, key)
      const offered = `${keyType(key)} ${fingerprint(key)}`
      const spec = hostSpec(keyName, hop.port)
      switch (verdict.kind) {
        case 'match':
          return true
        case 'unknown':
          if (this.options.acceptNew) {
            knownHosts.append(hop.knownHosts[0] ?? DEFAULT_KNOWN_HOSTS[0]!, keyName, hop.port, key)
            return true
          }
          refusal = new UnreachableError(
            target.name,
            'hostkey-unknown',
            `host key for ${spec} is not in known_hosts (offered ${offered}); verify it out of band, then re-run with --accept-new to record it`,
          )
          return false
        case 'mismatch':
          refusal = new UnreachableError(
            target.name,
            'hostkey-mismatch',
            `HOST KEY MISMATCH for ${spec}: it offered ${offered}, but known_hosts expects ` +
              verdict.expected.map((k) => `${k.type} ${fingerprint(k.blob)} (${k.file}:${k.line})`).join(', ') +
              '. Someone may be intercepting the connection, or the host was reinstalled. Refusing it.',
          )
          return false
        case 'revoked':
          refusal = new UnreachableError(
            target.name,
            'hostkey-revoked',
            `host key ${offered} for ${spec} is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}; refusing it`,
          )
          return false
      }
    }

    const tried: string[] = []
    const methods = authMethods(hop.user, identities, tried)
    const connectConfig: ConnectConfig = {
      host: sock ? undefined : address,
      port: hop.port,
      sock,
      username: hop.user,
      readyTimeout: hop.connectTimeout,
      keepaliveInterval: this.options.keepaliveInterval ?? 15_000,
      keepaliveCountMax: 3,
      hostVerifier: verify,
      algorithms: {
        serverHostKey: {
          prepend: knownHosts.knownTypes(keyName, hop.port).flatMap((t) => ALGORITHMS[t] ?? []),
        } as never,
      },
      authHandler: (_left, _partial, next) => next(methods.shift() ?? (false as never)),
    }

    return new Promise<Client>((resolve, reject) => {
      client
        .once('ready', () => {
          client.removeAllListeners('error')
          // After the handshake an error means the connection died; channels report it themselves.
          client.on('error', () => {})
          resolve(client)
        })
        .once('error', (err: Error & { level?: string }) => {
          // Tearing down a half-open connection can raise more errors; the first one is the story.
          client.on('error', () => {})
          client.end()
          if (refusal) return reject(refusal)
          const unreachable = classify(target.name, where, err)
          if (unreachable.reason === 'auth')
            return reject(
              new UnreachableError(
                target.name,
                'auth',
                `authentication failed for ${where}; tried ${tried.join(', ') || 'nothing (no agent, no identity file)'}`,
              ),
            )
          reject(unreachable)
        })
        .connect(connectConfig)
      // SSH is many small request/response exchanges, the handshake included: Nagle plus the
      // server's delayed ACK would add ~40 ms to several of them. (Set before the socket connects.)
      client.setNoDelay(true)
    })
  }

  /** The connection to tunnel through to reach `hop`, or undefined to dial it directly. */
  private async jumpClient(target: Host, hop: Endpoint, proxyJump?: string): Promise<Client | undefined> {
    if (typeof hop.jump === 'string') {
      const jumpHost = this.inventory.hosts.find((h) => h.name === hop.jump)
      if (!jumpHost) throw new UnreachableError(target.name, 'config', `jump host ${hop.jump} is not in the inventory`)
      this.jumps.add(jumpHost.name)
      const conn = await this.connect(jumpHost).catch((err: UnreachableError) => {
        throw new UnreachableError(target.name, err.reason, `via jump host ${err.message}`)
      })
      return conn.client
    }
    // External hops (`user@host:port` in the inventory, or a ProxyJump chain from ~/.ssh/config)
    // are dialled in order, each through the one before, and each verified against known_hosts.
    const chain = hop.jump ? [hop.jump] : proxyJump ? proxyJump.split(',').map(parseJump) : []
    let via: Client | undefined
    for (const link of chain) {
      const endpoint: Endpoint = {
        address: link.address,
        port: link.port ?? 22,
        user: link.user ?? hop.user,
        identity: hop.identity,
        knownHosts: hop.knownHosts,
        connectTimeout: hop.connectTimeout,
      }
      via = await this.open(target, endpoint, via)
    }
    return via
  }
}

export function parseJump(spec: string): { address: string; port?: number; user?: string } {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.trim())
  if (!m) throw new Error(`bad jump spec "${spec}": expected [user@]host[:port]`)
  return { user: m[1], address: m[2]!.replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : undefined }
}

function forward(through: Client, host: string, address: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) =>
    through.forwardOut('127.0.0.1', 0, address, port, (err, stream) =>
      err
        ? reject(
            classify(
              host,
              `${address}:${port} (through jump host)`,
              Object.assign(err, { code: /refused/i.test(err.message) ? 'ECONNREFUSED' : undefined }),
            ),
          )
        : resolve(stream),
    ),
  )
}

/** Identity files first (they are what the inventory asked for), then the agent. */
function authMethods(username: string, identities: string[], tried: string[]) {
  const methods: Array<{ type: AuthenticationType; username: string; key?: Buffer; agent?: string }> = []
  const seen = new Set<string>()
  for (const file of identities) {
    if (seen.has(file) || !existsSync(file)) continue
    seen.add(file)
    const key = readFileSync(file)
    const parsed = ssh2().utils.parseKey(key)
    if (parsed instanceof Error) {
      // Encrypted keys cannot be unlocked without a prompt; the agent is the way to use them.
      tried.push(
        `${file} (unusable: ${/encrypted|passphrase/i.test(parsed.message) ? 'encrypted, add it to ssh-agent' : parsed.message})`,
      )
      continue
    }
    methods.push({ type: 'publickey', username, key })
    tried.push(file)
  }
  if (process.env.SSH_AUTH_SOCK) {
    methods.push({ type: 'agent', username, agent: process.env.SSH_AUTH_SOCK })
    tried.push(`agent (${process.env.SSH_AUTH_SOCK})`)
  }
  return methods as never[]
}

export class SshConnection implements Transport {
  readonly $: Shell
  readonly probe$: Shell
  readonly stream: Transport['stream']
  readonly stats = newStats()
  readonly standby: Transport['standby']
  /** Ends the session shell and standbys. */
  private readonly closeShells: () => Promise<void>
  private readonly slots = new Slots(MAX_CHANNELS - 1)
  private readonly controlSlot = new Slots(1)

  constructor(
    readonly host: Host,
    readonly client: Client,
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

  /** Opens one exec channel; waits for a free slot so we never exceed the server's MaxSessions. */
  async execute(command: string, opts: ExecOptions = {}): Promise<Execution> {
    refuseWrites(this.readOnly, command, opts)
    const release = await (opts.control ? this.controlSlot : this.slots).acquire()
    countExec(this.stats, opts)
    let channel: ClientChannel
    try {
      channel = await this.openChannel(command, opts.pty ?? false)
    } catch (err) {
      release()
      throw err
    }
    let exit: { code: number | null; signal: string | null } = { code: null, signal: null }
    channel.on('exit', (code: number | null, signal?: string) => {
      exit = { code: code ?? null, signal: signal ?? null }
    })
    channel.on('error', () => {})
    const exited = new Promise<typeof exit>((resolve) =>
      channel.once('close', () => {
        release()
        resolve(exit)
      }),
    )
    return {
      stdin: channel,
      stdout: channel,
      stderr: channel.stderr,
      exited,
      abort: () => channel.close(),
    }
  }

  /**
   * sshd counts a session until it has reaped the session's process, a moment after the channel
   * closed, so a burst of commands can briefly meet "no more sessions" even within MaxSessions.
   * That refusal is retried with backoff; anything else fails at once.
   */
  private async openChannel(command: string, pty: boolean, attempt = 0): Promise<ClientChannel> {
    try {
      return await new Promise<ClientChannel>((resolve, reject) =>
        this.client.exec(command, { pty: pty ? RAW_PTY : undefined }, (err, ch) => (err ? reject(err) : resolve(ch))),
      )
    } catch (err) {
      if (attempt >= 8 || !/open failed/.test((err as Error).message)) throw err
      await new Promise((r) => setTimeout(r, 10 * 2 ** attempt))
      return this.openChannel(command, pty, attempt + 1)
    }
  }

  async close(): Promise<void> {
    await this.closeShells()
    this.client.end()
  }
}
