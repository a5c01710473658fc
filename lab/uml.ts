// The lab's full-kernel hosts: each a user-mode-linux kernel (Debian's user-mode-linux package)
// running as a process of the controller, with a network stack and modules of its own. The
// namespace hosts share this machine's kernel, which has no GRE, ESP, VRF, 802.1Q or dummy
// interfaces and cannot load modules; a UML host has them all (see uml-boot.sh, uml-init.sh).
//
// A UML host is on the lab's bridge through a tap device and is otherwise reached like any
// host: by SSH on its address. Nothing of the controller can enter it (no nsenter), so the lab's
// own commands in it (exec) go over SSH too, through one kept OpenSSH connection per host.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { quoteArgv } from '../src/shell/quote.ts'

export interface UmlHost {
  name: string
  address: string
  /** The host side of its interface, a tap device on the lab's bridge. */
  tap: string
  mac: string
  /** The kernel's process; every other process of the host is one it forked. */
  pid: number
  /** A second interface, eth1, on another bridge: an HA gateway's leg on its site's LAN (ha.ts). */
  lan?: UmlLan
}

/** eth1 of a UML host: a second vector device on its own tap, with its address (CIDR). */
export interface UmlLan {
  tap: string
  mac: string
  bridge: string
  cidr: string
}

/** The host's memory; measured 155–180 MB of it (PSS) on the controller once booted. */
const MEM = '256M'

/** uml1..umlN, after the namespace hosts on the lab's first segment. */
export function planUml(n: number): Omit<UmlHost, 'pid'>[] {
  return Array.from({ length: n }, (_, k) => {
    const i = k + 1
    return { name: `uml${i}`, address: `198.18.0.${30 + i}`, tap: `fu-uml${i}`, mac: `52:54:00:fe:00:${30 + i}` }
  })
}

export interface UmlContext {
  stateDir: string
  repo: string
  env: NodeJS.ProcessEnv
  run: (cmd: string, args: string[], input?: string) => string
  linkExists: (name: string) => boolean
  /** The host's directory in the lab's state, made with its host key if need be. */
  hostDir: (name: string) => string
  knownHosts: string
}

/** Where the lab's kept OpenSSH connection to a host listens. */
const controlPath = (stateDir: string, name: string) => path.join(stateDir, 'hosts', name, 'ssh.ctl')

/** The tap(s) on the bridge(s), the host's directory and key, then the kernel, in a session of its own. */
export function startUml(h: Omit<UmlHost, 'pid'>, bridge: string, rcMs: number, c: UmlContext): UmlHost {
  const tap = (name: string, on: string) => {
    if (c.linkExists(name)) c.run('ip', ['link', 'del', name])
    c.run('ip', ['tuntap', 'add', 'dev', name, 'mode', 'tap'])
    c.run('ip', ['link', 'set', name, 'master', on, 'up'])
  }
  tap(h.tap, bridge)
  if (h.lan) tap(h.lan.tap, h.lan.bridge)
  const log = fs.openSync(path.join(c.hostDir(h.name), 'log'), 'w')
  // A private mount namespace: the host's tmpfs and overlay exist only there and go with it.
  // uml-boot.sh execs the kernel, so this PID is the kernel's.
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      path.join(c.repo, 'lab', 'uml-boot.sh'),
      h.name,
      c.stateDir,
      h.address,
      String(rcMs),
      h.tap,
      h.mac,
      MEM,
      ...(h.lan ? [h.lan.tap, h.lan.mac, h.lan.cidr] : []),
    ],
    { detached: true, stdio: ['ignore', log, log], env: c.env },
  )
  fs.closeSync(log)
  child.on('error', () => {
    /* reported by the wait for sshd, through the log and the dead pid */
  })
  child.unref()
  if (!child.pid) throw new Error(`${h.name}: could not start user-mode-linux`)
  return { ...h, pid: child.pid }
}

/**
 * Every process of a UML host (the kernel and the host processes it forked for the host's
 * address spaces, which keep its command line): found by the root it was given, so a host whose
 * state was lost is found too. With no name, those of every UML host of the lab.
 */
export function umlPids(stateDir: string, name = ''): number[] {
  const mark = `rootflags=${stateDir}/hosts/${name}`
  const pids: number[] = []
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')
      if (argv.some((a) => a.startsWith(mark))) pids.push(Number(p))
    } catch {
      /* gone */
    }
  }
  return pids
}

/** The kernel's process is alive and still this host's (not a reused PID). */
export function umlRunning(h: UmlHost, stateDir: string): boolean {
  return umlPids(stateDir, `${h.name}/`).includes(h.pid)
}

/** OpenSSH's options for the lab's own connections to a UML host: one kept connection each. */
function sshArgs(h: UmlHost, stateDir: string, knownHosts: string): string[] {
  return [
    '-i',
    path.join(stateDir, 'id_ed25519'),
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${controlPath(stateDir, h.name)}`,
    '-o',
    'ControlPersist=600',
    // A host killed under a kept connection sends no reset: notice within 10 s, not TCP's minutes.
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=2',
    `root@${h.address}`,
  ]
}

/** Runs argv on a UML host as root, over SSH; returns stdout. */
export function umlExec(h: UmlHost, argv: string[], c: UmlContext, input?: string): string {
  return c.run('ssh', [...sshArgs(h, c.stateDir, c.knownHosts), '--', quoteArgv(argv)], input)
}

/** Ends the kept SSH connection to a host, if there is one. */
export function forgetUmlConnection(h: Pick<UmlHost, 'name'>, stateDir: string): void {
  const control = controlPath(stateDir, h.name)
  // The master answers on its socket even when the host is gone; a dead socket is just refused.
  if (fs.existsSync(control))
    spawnSync('ssh', ['-o', `ControlPath=${control}`, '-O', 'exit', 'lab'], { stdio: 'ignore', timeout: 5000 })
}
