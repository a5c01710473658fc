// The controller itself as a host, for runbooks that prepare things locally and for tests.
import { spawn } from 'node:child_process'
import type { Host, Inventory } from '../inventory/types.ts'
import type { Shell } from 'zx/core'
import { shellsOf, type ExecOptions, type Execution } from '../shell/remote.ts'
import { becomeFor, countExec, newStats, refuseWrites, type Transport } from './transport.ts'

export class LocalTransport implements Transport {
  readonly $: Shell
  readonly probe$: Shell
  readonly stream: Transport['stream']
  readonly standby: Transport['standby']
  readonly stats = newStats()

  constructor(
    readonly name: string,
    host?: Host,
    inventory?: Inventory,
    private readonly readOnly = false,
  ) {
    ;({
      $: this.$,
      probe$: this.probe$,
      stream: this.stream,
      standby: this.standby,
    } = shellsOf(
      (line, opts) => this.execute(line, opts),
      name,
      host && inventory ? becomeFor(host, inventory) : undefined,
    ))
  }

  async execute(command: string, opts: ExecOptions = {}): Promise<Execution> {
    refuseWrites(this.readOnly, command, opts)
    if (opts.pty)
      throw new Error(
        'doas with a password needs a terminal, which the local transport cannot give; use a `permit nopass` rule',
      )
    countExec(this.stats, opts)
    // Same shape as over SSH: the login shell (here /bin/sh) reads the line we built.
    // Its own process group, as sshd gives each session, so `kill -- -PGID` reaches the whole
    // pipeline and not just the outer shell (whose children would hold our pipes open).
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'pipe', detached: true })
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code, signal) => resolve({ code, signal }))
    })
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exited,
      abort: () => killGroup(child.pid, 'KILL'),
    }
  }

  async close(): Promise<void> {}
}

function killGroup(pid: number | undefined, signal: string): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, `SIG${signal.replace(/^SIG/, '')}` as NodeJS.Signals)
  } catch {
    // Already gone.
  }
}
