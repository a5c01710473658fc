import type { Host, Inventory } from '../inventory/types.ts'
import { LocalTransport } from './local.ts'
import { SshPool, type SshOptions } from './ssh.ts'
import type { Transport } from './transport.ts'

/** Hands out one transport per host: local for `connection: local`, SSH otherwise. */
export class Connector {
  private readonly ssh: SshPool
  private readonly local = new Map<string, LocalTransport>()

  constructor(private readonly inventory: Inventory, private readonly options: SshOptions = {}) {
    this.ssh = new SshPool(inventory, options)
  }

  async connect(host: Host): Promise<Transport> {
    if (host.connection !== 'local') return this.ssh.connect(host)
    let t = this.local.get(host.name)
    if (!t) this.local.set(host.name, (t = new LocalTransport(host.name, host, this.inventory, this.options.readOnly)))
    return t
  }

  /** A new connection in place of the host's current one (a local host has nothing to drop). */
  async reconnect(host: Host): Promise<Transport> {
    return host.connection === 'local' ? this.connect(host) : this.ssh.reconnect(host)
  }

  close(): Promise<void> {
    return this.ssh.close()
  }
}
