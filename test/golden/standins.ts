// FreeBSD hosts made of stand-ins, for golden tests that run the generated scripts for real. No
// FreeBSD machine exists here, so each host is a scratch directory, and its commands run through
// /bin/sh with stand-ins for sysrc, jail, jls, zfs, zpool, sockstat, ifconfig, route and nc first
// on PATH (./standins/: small sh scripts that print what the real tools print, on stdout and
// stderr alike, per FreeBSD's sources). A script that takes a tool's chatter for data fails here
// as it would on FreeBSD. A host's own bin/ comes first of all, for a test that makes it lie.

import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Transform } from 'node:stream'
import type { ExecOptions, Execution } from '../../src/shell/remote.ts'
import { LocalTransport } from '../../src/transport/local.ts'

/** The stand-ins' directory, first on each host's PATH after the host's own bin/. */
export const STANDINS = resolve(import.meta.dirname, 'standins')

/** The system paths the scripts write, each moved into the host's own directory. */
const MOVED = ['/etc/jail.conf.d/', '/var/run/']
/** Those paths wherever they stand as a path in a command, the directories themselves too (`cd -P /etc/jail.conf.d`). */
const MOVED_WORD = /(?<![\w./-])(\/etc\/jail\.conf\.d|\/var\/run)(?![\w.-])/g

export class StandinHost extends LocalTransport {
  constructor(
    name: string,
    readonly root: string,
  ) {
    super(name)
  }

  /** The host's own path for a system path: where its `/etc/jail.conf.d/web.conf` is. */
  path(system: string): string {
    return MOVED.some((p) => system.startsWith(p)) ? join(this.root, system) : system
  }

  private moved(text: string): string {
    return text.replace(MOVED_WORD, (p) => join(this.root, p))
  }

  private env(command: string): string {
    return `PATH=${this.root}/bin:${STANDINS}:$PATH FERRY_STANDIN=${this.root}; export PATH FERRY_STANDIN\n${this.moved(command)}`
  }

  /** Probes come as a script on stdin, so what goes in is moved too (the stand-ins' streams are text). */
  override async execute(command: string, opts?: ExecOptions): Promise<Execution> {
    const execution = await super.execute(this.env(command), opts)
    const stdin = new Transform({ transform: (chunk: Buffer, _enc, done) => done(null, this.moved(chunk.toString())) })
    stdin.pipe(execution.stdin)
    return { ...execution, stdin }
  }

  /** Runs a setup script on the host, outside ferry: its stdout; throws with its stderr. */
  sh(script: string): string {
    const r = spawnSync('/bin/sh', ['-ec', this.env(script)], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`${this.name}: ${r.stderr}`)
    return r.stdout
  }
}

/** Stand-in hosts in one scratch directory (nc looks across them for a jail's address). */
export function standinHosts<N extends string>(...names: N[]): Record<N, StandinHost> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-standins-'))
  return Object.fromEntries(
    names.map((n) => {
      mkdirSync(join(dir, n, 'etc/jail.conf.d'), { recursive: true })
      mkdirSync(join(dir, n, 'var/run'), { recursive: true })
      return [n, new StandinHost(n, join(dir, n))]
    }),
  ) as Record<N, StandinHost>
}
