import type { Host, Inventory } from '../inventory/types.ts'
import { KeeperClient, KeptConnection, dialFor } from './keeper.ts'
import { LocalTransport } from './local.ts'
import { SshPool, type SshOptions } from './ssh.ts'
import type { Transport } from './transport.ts'
import { UnreachableError } from './errors.ts'

export interface ConnectorOptions extends SshOptions {
  /** --persist: SSH goes through the connection keeper on this socket, which stays this long idle. */
  persist?: { socket: string; idleMs: number }
  /** Told when --persist cannot be honoured and connections are made directly instead. */
  warn?: (line: string) => void
}

/** Hands out one transport per host: local for `connection: local`, SSH otherwise. */
export class Connector {
  private readonly ssh: SshPool
  private readonly local = new Map<string, LocalTransport>()
  private keeper?: KeeperClient
  private readonly kept = new Map<string, Promise<Transport>>()

  constructor(
    private readonly inventory: Inventory,
    private readonly options: ConnectorOptions = {},
  ) {
    this.ssh = new SshPool(inventory, options)
    if (options.persist) this.keeper = new KeeperClient(options.persist.socket, options.persist.idleMs)
  }

  async connect(host: Host): Promise<Transport> {
    if (host.connection === 'local') {
      let t = this.local.get(host.name)
      if (!t)
        this.local.set(host.name, (t = new LocalTransport(host.name, host, this.inventory, this.options.readOnly)))
      return t
    }
    if (!this.keeper) return this.ssh.connect(host)
    return this.kept.get(host.name) ?? this.keep(host, this.throughKeeper(host, false))
  }

  /** A new connection in place of the host's current one (a local host has nothing to drop). */
  async reconnect(host: Host): Promise<Transport> {
    if (host.connection === 'local') return this.connect(host)
    if (!this.keeper) return this.ssh.reconnect(host)
    // The old transport's session shell runs on the connection the keeper now drops.
    void this.kept.get(host.name)?.then(
      (t) => t.close(),
      () => {},
    )
    return this.keep(host, this.throughKeeper(host, true))
  }

  /** The host's transport from now on; a failed dial is not kept, so the next caller tries again, as SshPool does. */
  private keep(host: Host, dialling: Promise<Transport>): Promise<Transport> {
    this.kept.set(host.name, dialling)
    dialling.catch(() => {
      if (this.kept.get(host.name) === dialling) this.kept.delete(host.name)
    })
    return dialling
  }

  /** Kept connections stay with the keeper (their session shells' relays end); direct ones close. */
  async close(): Promise<void> {
    await Promise.all([...this.kept.values()].map((t) => t.then((k) => k.close()).catch(() => {})))
    await this.ssh.close()
  }

  private async throughKeeper(host: Host, fresh: boolean): Promise<Transport> {
    const dial = dialFor(host, this.inventory, !!this.options.acceptNew)
    try {
      const { payload } = await this.keeper!.request({ op: 'dial', dial, fresh })
      const t = new KeptConnection(host, this.keeper!, dial, this.inventory, this.options.readOnly)
      t.stats.kept = (JSON.parse(payload.toString()) as { kept: boolean }).kept
      return t
    } catch (err) {
      if (err instanceof UnreachableError) throw err
      // A keeper that cannot be started or reached costs the speed, not the command.
      this.options.warn?.(`--persist: ${(err as Error).message}; connecting directly`)
      this.keeper = undefined
      this.kept.clear()
      return fresh ? this.ssh.reconnect(host) : this.ssh.connect(host)
    }
  }
}
