// The test lab: a handful of Linux "routers" on this machine, each an ip netns with its own
// mount + UTS namespace, copy-on-write root and sshd (see DESIGN.md "The test lab" and boot.sh),
// with --uml, full-kernel hosts beside them on the same segment (uml.ts), and with --ha the HA
// topology of issue 21: two sites of two full-kernel gateways and a LAN namespace each (ha.ts),
// and with --carp seed 004's gateway pair: two namespace gateways, a server and a client (carp.ts).
// Everything runs as root and touches the root namespace, so the code is defensive about what it
// creates (only 198.18.0.0/23, the HA sites' 198.18.11.0/24 and 198.18.12.0/24 and the CARP
// pair's 198.18.21.0/24 to 198.18.23.0/24, only ferry-* names) and about what it stops (only PIDs
// that are provably inside a lab host).
import { execFile, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { toInt } from '../src/mesh/ipv4.ts'
import { linuxLabJails } from '../src/jails/linux-lab.ts'
import { whenIdle } from '../src/jails/zfs.ts'
import { forgetUmlConnection, planUml, startUml, umlExec, umlPids, umlRunning, type UmlHost } from './uml.ts'
import { HA_BRIDGES, HA_NETS, ensureHaSecrets, haInventory, planHa, type LanHost } from './ha.ts'
import {
  CARP_BRIDGES,
  CARP_GATEWAYS,
  CARP_NETS,
  carpInventory,
  ensureCarpSecrets,
  planCarpEnds,
  planCarpGateways,
} from './carp.ts'

export const STATE_DIR = '/run/ferry-lab'
export const REPO = fileURLToPath(new URL('..', import.meta.url))
export const INVENTORY = path.join(REPO, 'inventory', 'lab.yaml')
/** The lab inventory's one jail, declared on lab2. */
export const LAB_JAIL = { name: 'web', address: '172.16.3.17/32', dataset: 'tank/jails/web' } as const
export const KNOWN_HOSTS = path.join(REPO, 'inventory', 'lab.known_hosts')
/** The HA topology's inventory (`up --ha`, ha.ts); its hosts' keys are in KNOWN_HOSTS too. */
export const INVENTORY_HA = path.join(REPO, 'inventory', 'lab-ha.yaml')
/** The CARP pair's inventory (`up --carp`, carp.ts); its gateways' keys are in KNOWN_HOSTS too. */
export const INVENTORY_CARP = path.join(REPO, 'inventory', 'lab-carp.yaml')
const CARP_NAMES = new Set<string>(CARP_GATEWAYS.map((g) => g.name))
const BOOT = path.join(REPO, 'lab', 'boot.sh')
const RC = path.join(REPO, 'lab', 'rc.sh')
/** Where each root login shell on a lab host appends its pid (rc.sh). */
const SHELLS_LOG = '/run/ferry-lab-shells'
const STATE_FILE = path.join(STATE_DIR, 'state.json')

const UNDERLAY = 'ferry-br0'
const BEHIND = 'ferry-br1'
const CONTROLLER_CIDR = '198.18.0.1/24'
const LAB_RANGE = '198.18.0.0/23'
// The controller has a default route, so without this a SYN to a far host would leave through
// the uplink. An unreachable route keeps the traffic on this machine and makes it fail at once.
const BEHIND_NET = '198.18.1.0/24'
/**
 * A package that provides ifupdown and is not ifupdown. Installed, ifupdown would make this machine
 * and every namespace host (they share its files) an ifupdown machine: /etc/network/interfaces.d
 * is what ferry's Linux platform takes for ifupdown's, and the lab's hosts and the unit tests
 * that run on this machine are networkd's or configured live. Only ucarp asks for ifupdown here.
 */
const IFUPDOWN_STUB = 'ferry-lab-ifupdown-stub'
const PACKAGES = [
  'openssh-server',
  'openssh-client',
  'frr',
  'openvpn',
  'zfs-fuse',
  'mksh',
  'sudo',
  'opendoas',
  'iproute2',
  'util-linux',
  'tmux',
  'frr-pythontools',
  'nftables',
  // crontab(1) and /etc/cron.d, for the cron step's lab test (no cron daemon runs in the lab).
  'cron',
  // The full-kernel hosts (uml.ts): the kernel with its modules, and modprobe to load them.
  'user-mode-linux',
  'kmod',
  // ping, for tests that prove a path carries packets.
  'iputils-ping',
  // IPsec for deploy-mesh's gre-ipsec links: swanctl and the IKE daemon, both as systemd runs
  // it (charon-systemd) and as an init script does (strongswan-starter's ipsec).
  'strongswan-swanctl',
  'charon-systemd',
  'strongswan-starter',
  // 3DES and the other openssl ciphers (deploy-mesh's IKEv1 proposal for strongswan-starter, as
  // seed 003's isakmpd speaks): libstrongswan only recommends them, and the install below takes no
  // recommends. Without it IKEv1 main mode fails ("3DES_CBC not supported", seen on a fresh machine).
  'libstrongswan-standard-plugins',
  // The HA gateways (`up --ha`, ha.ts): Heartbeat (it brings resource-agents and cluster-glue),
  // ifconfig for its IPaddr resource (resource-agents only recommends net-tools), charon for
  // strongswan-starter, and pki, which makes the sites' RSA keys here on the controller.
  // Heartbeat's postinst runs `invoke-rc.d heartbeat start`: the policy-rc.d below refuses it
  // (and its init script exits 0 without /etc/ha.d/ha.cf, which nothing here writes).
  'heartbeat',
  'net-tools',
  'strongswan-charon',
  'strongswan-pki',
  // deploy-tenants' packet filter on the full-kernel hosts: their kernel (Debian's UML 6.1) has
  // nf_tables for bridges only, so the rules are iptables', loaded with iptables-legacy there;
  // netfilter-persistent (iptables-persistent is its iptables plugin) loads them at boot.
  'iptables',
  'iptables-persistent',
  // The CARP pair (`up --carp`, carp.ts): ucarp, conntrackd and arping for deploy-carp-gateway,
  // conntrack for the tests to read the gateways' connection tables. ucarp depends on ifupdown
  // (for its ifupdown hook, unused here); the stub (below) stands in for it, first.
  IFUPDOWN_STUB,
  'ucarp',
  'conntrackd',
  'conntrack',
  'iputils-arping',
  // ferry import ansible-inventory and jinja() are compared with Ansible itself: its tests run
  // ansible-inventory --list and the template module of Debian's ansible-core.
  'ansible-core',
  // The font ferry graph's PNG is drawn with (its test looks at one).
  'fonts-dejavu-core',
]
// debconf answers for the install below. iptables-persistent would otherwise save the rules then
// in the controller's kernel to /etc/iptables/rules.v4, for its boot service to load.
const PRESEED = [
  'iptables-persistent iptables-persistent/autosave_v4 boolean false',
  'iptables-persistent iptables-persistent/autosave_v6 boolean false',
]
// Lab processes get a known environment, not whatever the caller (vitest, a CI runner) had.
const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' }

export interface HostLink {
  veth: string
  bridge: string
  dev: string
  cidr: string
}
export interface HostState {
  name: string
  netns: string
  address: string
  links: HostLink[]
  /** The host a controller must go through; absent when the controller reaches it directly. */
  jump?: string
  /** sshd, the first process of the host. */
  pid: number
  zfsPid?: number
}
export interface LabState {
  hosts: Record<string, HostState>
  zfs: boolean
  /** What root's ~/.bashrc costs each shell sshd starts, in ms (setRcCost); absent: 0. */
  rcMs?: number
  /** The full-kernel hosts (uml.ts), by name: uml1..umlN and the HA gateways (those with a `lan`). */
  uml?: Record<string, UmlHost>
  /** The HA sites' LAN namespaces (ha.ts) and the CARP pair's server and client (carp.ts), by name. */
  lan?: Record<string, LanHost>
}
export interface UpOptions {
  n?: number
  zfs?: boolean
  /** How many full-kernel hosts (uml1..umlN) to run beside the namespace hosts; default 0. */
  uml?: number
  /** Also the HA topology (ha.ts): gateways gw1a gw1b gw2a gw2b, LAN bridges, lan1 and lan2. */
  ha?: boolean
  /** Also the CARP pair (carp.ts): gateways cgw1 cgw2, the server cout and the client cin. */
  carp?: boolean
  log?: (line: string) => void
}
export interface HostStatus {
  name: string
  /** lan: a bare HA LAN namespace, with no process of its own (pid 0) and no sshd (null). */
  kind: 'netns' | 'uml' | 'lan'
  address: string
  pid: number
  alive: boolean
  sshd: boolean | null
  zfs: string | null
}

export class LabError extends Error {}

// ---------------------------------------------------------------------------------------------
// small helpers

export function run(cmd: string, args: string[], input?: string): string {
  // Tests checksum whole trees through this (a lab host's /etc, /usr/local, /var): Node's 1 MB
  // default was outgrown once the controller had a few more packages.
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    env: ENV,
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 256 << 20,
  })
}

const runAsync = promisify(execFile)

/** Like run, but failures that mean "already gone" are fine (teardown is best-effort per item). */
function tryRun(cmd: string, args: string[]): boolean {
  try {
    run(cmd, args)
    return true
  } catch {
    return false
  }
}

/** Alive and not a zombie: a killed host stays a zombie until its parent (maybe us) reaps it. */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

export function nsInode(file: string): number | undefined {
  try {
    return fs.statSync(file).ino
  } catch {
    return undefined
  }
}

/** True when pid is alive and lives in the named netns (guards against PID reuse). */
export function inNetns(pid: number | undefined, netns: string): boolean {
  if (!alive(pid)) return false
  const ino = nsInode(`/run/netns/${netns}`)
  try {
    return ino !== undefined && fs.readlinkSync(`/proc/${pid}/ns/net`) === `net:[${ino}]`
  } catch {
    return false
  }
}

export function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/** Whether two IPv4 prefixes share any address: they agree on the shorter prefix's bits. */
function overlaps(a: string, b: string): boolean {
  const [ipA = '', lenA = '32'] = a.split('/')
  const [ipB = '', lenB = '32'] = b.split('/')
  const len = Math.min(Number(lenA), Number(lenB))
  const shift = 2 ** (32 - len)
  return Math.floor(toInt(ipA) / shift) === Math.floor(toInt(ipB) / shift)
}

export function ipJson<T>(args: string[]): T[] {
  const out = run('ip', ['-j', ...args]).trim()
  return out ? (JSON.parse(out) as T[]) : []
}

export function linkExists(name: string): boolean {
  return fs.existsSync(`/sys/class/net/${name}`)
}

// ---------------------------------------------------------------------------------------------
// state

export function loadState(): LabState {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as LabState
  } catch {
    return { hosts: {}, zfs: false }
  }
}

function saveState(state: LabState): void {
  state.zfs = Object.values(state.hosts).some((h) => h.zfsPid !== undefined)
  fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 })
}

/** lab1..labN on the underlay (lab1 also on the far segment), far1 only behind lab1. */
function plan(n: number): Omit<HostState, 'pid'>[] {
  const hosts: Omit<HostState, 'pid'>[] = []
  for (let i = 1; i <= n; i++) {
    const name = `lab${i}`
    const links = [{ veth: `fl-${name}`, bridge: UNDERLAY, dev: 'eth0', cidr: `198.18.0.${10 + i}/24` }]
    if (i === 1) links.push({ veth: `fl1-${name}`, bridge: BEHIND, dev: 'eth1', cidr: '198.18.1.11/24' })
    hosts.push({ name, netns: `ferry-${name}`, address: `198.18.0.${10 + i}`, links })
  }
  hosts.push({
    name: 'far1',
    netns: 'ferry-far1',
    address: '198.18.1.21',
    jump: 'lab1',
    links: [{ veth: 'fl1-far1', bridge: BEHIND, dev: 'eth0', cidr: '198.18.1.21/24' }],
  })
  return hosts
}

// ---------------------------------------------------------------------------------------------
// preconditions

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new LabError('the lab needs root (network namespaces, bridges, mounts)')
}

/**
 * Refuses to touch the machine if anything but the lab itself already claims part of
 * 198.18.0.0/23 (and, with the HA sites, of their LANs 198.18.11.0/24 and 198.18.12.0/24): we
 * would shadow someone's network, or send lab traffic to it.
 */
export function checkAddressSpace(ha = false, carp = false): void {
  const ours = new Set([UNDERLAY, BEHIND, ...HA_BRIDGES, ...CARP_BRIDGES])
  const unreachable = new Set([BEHIND_NET, ...HA_NETS, ...CARP_NETS])
  for (const range of [LAB_RANGE, ...(ha ? HA_NETS : []), ...(carp ? CARP_NETS : [])])
    refuseClaimed(range, ours, (r) => r.type === 'unreachable' && unreachable.has(r.dst))
}

type Route = { dst: string; dev?: string; type?: string; table?: string }

/** Throws if a route or an address on a device not in `ours` overlaps `range` (`allow`: a route of ours). */
export function refuseClaimed(range: string, ours: Set<string>, allow: (r: Route) => boolean = () => false): void {
  const clashes: string[] = []
  for (const r of ipJson<Route>(['-4', 'route', 'show', 'table', 'all'])) {
    // A default route covers everything; it is how the uplink works, not a claim on the range.
    if (r.dst === 'default' || r.dst.endsWith('/0')) continue
    if ((r.dev && ours.has(r.dev)) || allow(r)) continue
    if (overlaps(r.dst, range))
      clashes.push(`route ${r.type ?? ''} ${r.dst} dev ${r.dev ?? '-'} table ${r.table ?? 'main'}`)
  }
  for (const i of ipJson<{ ifname: string; addr_info?: { local: string; prefixlen: number }[] }>(['-4', 'addr'])) {
    if (ours.has(i.ifname)) continue
    for (const a of i.addr_info ?? []) {
      if (overlaps(`${a.local}/${a.prefixlen}`, range)) clashes.push(`address ${a.local}/${a.prefixlen} on ${i.ifname}`)
    }
  }
  if (clashes.length)
    throw new LabError(`refusing to start: ${range} is already in use on this machine:\n  ${clashes.join('\n  ')}`)
}

export function ensurePackages(log: (s: string) => void): void {
  let out: string
  try {
    out = run('dpkg-query', ['-W', '-f=${Package} ${Status}\n', ...PACKAGES])
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? '') // exits 1 when a package is unknown
  }
  const missing = PACKAGES.filter((p) => !new RegExp(`^${p} install ok installed$`, 'm').test(out))
  if (!missing.length) return
  log(`installing ${missing.join(' ')}`)
  // Debian starts a package's service on install. Here that would be sshd/frr/openvpn/zfs-fuse in
  // the root namespace, so a policy-rc.d that says "no" (101) is in place during the install.
  const policy = '/usr/sbin/policy-rc.d'
  const ownPolicy = !fs.existsSync(policy)
  let stub: string | undefined
  if (ownPolicy) fs.writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 })
  try {
    const opts = { stdio: 'inherit' as const, env: { ...ENV, DEBIAN_FRONTEND: 'noninteractive' } }
    execFileSync('debconf-set-selections', [], {
      ...opts,
      stdio: ['pipe', 'inherit', 'inherit'],
      input: `${PRESEED.join('\n')}\n`,
    })
    execFileSync('apt-get', ['update'], opts)
    if (missing.includes(IFUPDOWN_STUB)) stub = ifupdownStub()
    const names = missing.map((p) => (p === IFUPDOWN_STUB ? stub! : p))
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...names], opts)
  } finally {
    if (ownPolicy) fs.rmSync(policy, { force: true })
    if (stub) fs.rmSync(path.dirname(stub), { recursive: true, force: true })
  }
}

/** Builds IFUPDOWN_STUB's .deb (it conflicts with ifupdown, so apt takes ifupdown away); returns its path. */
function ifupdownStub(): string {
  const dir = fs.mkdtempSync(path.join('/tmp', 'ferry-lab-stub-'))
  fs.mkdirSync(path.join(dir, 'pkg', 'DEBIAN'), { recursive: true })
  fs.writeFileSync(
    path.join(dir, 'pkg', 'DEBIAN', 'control'),
    [
      `Package: ${IFUPDOWN_STUB}`,
      'Version: 1.0',
      'Architecture: all',
      'Maintainer: ferry lab <root@localhost>',
      'Provides: ifupdown',
      'Conflicts: ifupdown',
      "Description: ferry's lab: ucarp's ifupdown dependency, without ifupdown",
      " The lab's hosts are configured live and by systemd-networkd; ucarp's ifupdown hook is unused.",
      '',
    ].join('\n'),
  )
  const deb = path.join(dir, `${IFUPDOWN_STUB}.deb`)
  run('dpkg-deb', ['--build', '--root-owner-group', path.join(dir, 'pkg'), deb])
  return deb
}

// ---------------------------------------------------------------------------------------------
// up

function ensureBridges(ha: boolean, carp: boolean): void {
  for (const br of [UNDERLAY, BEHIND, ...(ha ? HA_BRIDGES : []), ...(carp ? CARP_BRIDGES : [])]) {
    if (!linkExists(br)) run('ip', ['link', 'add', br, 'type', 'bridge'])
    run('ip', ['link', 'set', br, 'up'])
  }
  // ferry-br1 deliberately has no address: the controller must not reach the far segment. Nor
  // do the HA sites' LAN bridges: only their gateways route to them.
  const addrs = ipJson<{ addr_info?: { local: string }[] }>(['-4', 'addr', 'show', 'dev', UNDERLAY])
  if (!addrs.some((i) => i.addr_info?.some((a) => `${a.local}/24` === CONTROLLER_CIDR))) {
    run('ip', ['addr', 'add', CONTROLLER_CIDR, 'dev', UNDERLAY])
  }
  for (const net of [BEHIND_NET, ...(ha ? HA_NETS : []), ...(carp ? CARP_NETS : [])])
    if (!ipJson(['-4', 'route', 'show', 'type', 'unreachable', net]).length)
      run('ip', ['route', 'add', 'unreachable', net])
}

function ensureKeys(): void {
  fs.mkdirSync(path.join(STATE_DIR, 'hosts'), { recursive: true, mode: 0o700 })
  fs.chmodSync(STATE_DIR, 0o700)
  const key = path.join(STATE_DIR, 'id_ed25519')
  if (!fs.existsSync(key)) run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ferry-lab controller', '-f', key])
  const pw = path.join(STATE_DIR, 'become_password')
  if (!fs.existsSync(pw)) fs.writeFileSync(pw, randomBytes(18).toString('base64url') + '\n', { mode: 0o600 })
  // The mesh's secrets, as the inventory's file: sources. Quagga and FRR use 16 key characters.
  const secrets: Record<string, () => string> = {
    ospf_md5_key: () => randomBytes(12).toString('base64url').slice(0, 16),
    // Hex: Quagga and FRR refuse a vty password that does not start with a letter or digit.
    zebra_password: () => randomBytes(12).toString('hex'),
    // gre-ipsec links' pre-shared key (strongSwan, isakmpd).
    ipsec_psk: () => randomBytes(18).toString('base64url'),
  }
  for (const [name, make] of Object.entries(secrets)) {
    const file = path.join(STATE_DIR, name)
    if (!fs.existsSync(file)) fs.writeFileSync(file, `${make()}\n`, { mode: 0o600 })
  }
  const ovpn = path.join(STATE_DIR, 'openvpn_key')
  if (!fs.existsSync(ovpn)) run('openvpn', ['--genkey', 'secret', ovpn])
}

/** Lists every process inside a netns; the kernel's view, so it includes what sshd spawned. */
export function netnsPids(netns: string): number[] {
  try {
    return run('ip', ['netns', 'pids', netns]).split('\n').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/**
 * Processes whose root is a lab host's overlay (of one host, or any). They may have left the
 * host's netns (say, a test ran `unshare -n` inside a host, or the netns was deleted by hand) but
 * are still the lab's.
 */
function rootedInLab(host = ''): number[] {
  const pids: number[] = []
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      if (fs.readlinkSync(`/proc/${p}/root`).startsWith(`${STATE_DIR}/hosts/${host}`)) pids.push(Number(p))
    } catch {
      /* gone */
    }
  }
  return pids
}

/** TERM, give them 3 s, then KILL. Async so that node can reap the ones that are our children. */
export async function stopPids(pids: number[]): Promise<void> {
  const signal = (sig: NodeJS.Signals) =>
    pids.filter(alive).forEach((p) => {
      try {
        process.kill(p, sig)
      } catch {
        /* gone */
      }
    })
  signal('SIGTERM')
  for (let t = 0; t < 60 && pids.some(alive); t++) await sleep(50)
  if (!pids.some(alive)) return
  signal('SIGKILL')
  for (let t = 0; t < 40 && pids.some(alive); t++) await sleep(50)
}

/** Removes whatever is left of one host: its processes, netns and root-side veths. */
async function cleanHost(h: Omit<HostState, 'pid'>): Promise<void> {
  await stopPids([...new Set([...netnsPids(h.netns), ...rootedInLab(`${h.name}/`)])])
  if (fs.existsSync(`/run/netns/${h.netns}`)) run('ip', ['netns', 'del', h.netns])
  for (const l of h.links) if (linkExists(l.veth)) tryRun('ip', ['link', 'del', l.veth])
}

/** A host's directory in the lab's state, with its host key (kept across rebuilds): both kinds. */
function hostDir(name: string): string {
  const dir = path.join(STATE_DIR, 'hosts', name)
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const key = path.join(dir, 'ssh_host_ed25519_key')
  if (!fs.existsSync(key)) run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key])
  return dir
}

function createHost(h: Omit<HostState, 'pid'>, rcMs: number): HostState {
  run('ip', ['netns', 'add', h.netns])
  run('ip', ['-n', h.netns, 'link', 'set', 'lo', 'up'])
  for (const l of h.links) {
    run('ip', ['link', 'add', l.veth, 'type', 'veth', 'peer', 'name', l.dev, 'netns', h.netns])
    run('ip', ['link', 'set', l.veth, 'master', l.bridge, 'up'])
    run('ip', ['-n', h.netns, 'addr', 'add', l.cidr, 'dev', l.dev])
    run('ip', ['-n', h.netns, 'link', 'set', l.dev, 'up'])
  }
  const log = fs.openSync(path.join(hostDir(h.name), 'log'), 'w')
  // detached = setsid(): the host outlives this process and its terminal. ip netns exec, unshare,
  // sh (exec chroot) and chroot all exec without forking, so this PID ends up being sshd.
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      h.netns,
      'unshare',
      '--mount',
      '--uts',
      '--propagation',
      'private',
      '--',
      'sh',
      BOOT,
      h.name,
      STATE_DIR,
      h.address,
      String(rcMs),
    ],
    { detached: true, stdio: ['ignore', log, log], env: ENV },
  )
  fs.closeSync(log)
  child.on('error', () => {
    /* reported by waitForSshd through the log and the dead pid */
  })
  child.unref()
  if (!child.pid) throw new LabError(`${h.name}: could not start ip netns exec`)
  return { ...h, pid: child.pid }
}

/** Can sshd on h take a TCP connection? Hosts behind a jump are probed from inside the jump host. */
async function sshdAnswers(h: HostState, state: LabState, timeoutMs = 300): Promise<boolean> {
  if (h.jump) {
    const via = state.hosts[h.jump]
    if (!via) return false
    try {
      await runAsync(
        'nsenter',
        [
          `--net=/run/netns/${via.netns}`,
          '--',
          'timeout',
          String(timeoutMs / 1000),
          // --norc: with a socket for stdin, as Node gives it, bash takes itself for a remote
          // shell and reads ~/.bashrc, which here (pyenv init) took longer than the timeout.
          'bash',
          '--norc',
          '-c',
          'exec 3<>"/dev/tcp/$0/22"',
          h.address,
        ],
        { env: ENV },
      )
      return true
    } catch {
      return false
    }
  }
  return tcpAnswers(h.address, 22, timeoutMs)
}

/** Does address:port take a TCP connection within the timeout? */
export function tcpAnswers(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port, timeout: timeoutMs })
    const done = (ok: boolean) => {
      s.destroy()
      resolve(ok)
    }
    s.once('connect', () => done(true))
      .once('timeout', () => done(false))
      .once('error', () => done(false))
  })
}

/** Until every host's sshd answers; a host that died or stays silent fails with its log's tail. */
async function waitForSshd(
  hosts: { name: string; address: string; pid: number }[],
  answers: (h: (typeof hosts)[number]) => Promise<boolean>,
  totalMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + totalMs
  await Promise.all(
    hosts.map(async (h) => {
      const log = path.join(STATE_DIR, 'hosts', h.name, 'log')
      for (;;) {
        if (!alive(h.pid))
          throw new LabError(`${h.name}: its first process (pid ${h.pid}) exited; ${log}:\n${tail(log)}`)
        if (await answers(h)) return
        if (Date.now() > deadline)
          throw new LabError(
            `${h.name}: sshd not answering on ${h.address}:22 after ${totalMs / 1000} s; ${log}:\n${tail(log)}`,
          )
        await sleep(50)
      }
    }),
  )
}

function nsenterArgs(h: HostState, argv: string[]): string[] {
  // --root/--wd without a value: the target's own (chrooted) root and cwd.
  return ['-t', String(h.pid), '--net', '--mount', '--uts', '--root', '--wd', '--', ...argv]
}

/** One zfs-fuse per host, in the host's namespaces and root, and a 1 GB file-backed pool `tank`. */
async function ensureZfs(h: HostState): Promise<void> {
  if (!inNetns(h.zfsPid, h.netns)) {
    const log = fs.openSync(path.join(STATE_DIR, 'hosts', h.name, 'zfs.log'), 'w')
    const child = spawn('nsenter', nsenterArgs(h, ['zfs-fuse', '--no-daemon']), {
      detached: true,
      stdio: ['ignore', log, log],
      env: ENV,
    })
    fs.closeSync(log)
    child.on('error', () => {
      /* seen below as a dead pid */
    })
    child.unref()
    h.zfsPid = child.pid
  }
  const zpool = (...args: string[]) => runAsync('nsenter', nsenterArgs(h, ['zpool', ...args]), { env: ENV })
  const deadline = Date.now() + 20_000
  let pools: string
  for (;;) {
    try {
      pools = (await zpool('list', '-H', '-o', 'name')).stdout
      break
    } catch (e) {
      const log = path.join(STATE_DIR, 'hosts', h.name, 'zfs.log')
      if (!alive(h.zfsPid)) throw new LabError(`${h.name}: zfs-fuse exited; ${log}:\n${tail(log)}`)
      if (Date.now() > deadline) throw new LabError(`${h.name}: zfs-fuse not answering: ${String(e)}`)
      await sleep(100)
    }
  }
  if (pools.split('\n').includes('tank')) return
  const sh = (script: string) => runAsync('nsenter', nsenterArgs(h, ['sh', '-c', script]), { env: ENV })
  await sh('mkdir -p /var/lib/ferry-lab && truncate -s 1G /var/lib/ferry-lab/pool.img')
  await zpool('create', '-f', 'tank', '/var/lib/ferry-lab/pool.img')
}

function writeInventory(state: LabState): void {
  // The CARP gateways are in lab-carp.yaml, not here; their keys are in the one known_hosts.
  const all = Object.values(state.hosts)
  const hosts = all
    .filter((h) => !CARP_NAMES.has(h.name))
    .sort((a, b) => Number(!!a.jump) - Number(!!b.jump) || a.name.localeCompare(b.name, 'en', { numeric: true }))
  const lines = [
    '# Generated by `npm run lab -- up`; removed by `npm run lab -- down`. Do not edit.',
    'defaults:',
    '  user: root',
    `  identity: ${STATE_DIR}/id_ed25519`,
    '  known_hosts: lab.known_hosts',
    '  os: linux',
    'groups:',
    '  mesh:',
    // The lab has no ifupdown, so interfaces are configured live only.
    // jail_pool: seed 000's jail range, announced whole, so a jail's /32 is routed wherever it runs.
    // No systemd either: strongSwan runs from strongswan-starter's init script (gre-ipsec links).
    '    vars: { ospf_area: 0.0.0.0, link_pool: 172.16.2.0/24, jail_pool: 172.16.3.0/24, tunnel: openvpn, persist_interfaces: false, ipsec_daemon: starter }',
    '  dc1: {}',
    '  dc2: {}',
    '  behind: {}',
    '  uml:',
    '    vars: { persist_interfaces: false, ipsec_daemon: starter }',
    'hosts:',
  ]
  const allUml = Object.values(state.uml ?? {}).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
  // The HA gateways are in lab-ha.yaml, not here; their keys are in the one known_hosts.
  const uml = allUml.filter((h) => !h.lan)
  const gateways = allUml.filter((h) => h.lan)
  for (const h of hosts) {
    const i = Number(h.name.replace(/^lab/, ''))
    const groups = h.jump ? ['behind'] : ['mesh', i <= 3 ? 'dc1' : 'dc2']
    const mesh = h.jump ? '' : `, vars: { router_id: 10.0.0.${i}, loopback: 10.0.0.${i}/32 }`
    // The jail that migrate-jail's tests move (`npm run lab -- jail` creates it on lab2).
    const jails =
      h.name === 'lab2'
        ? `, jails: { ${LAB_JAIL.name}: { address: ${LAB_JAIL.address}, dataset: ${LAB_JAIL.dataset} } }`
        : ''
    lines.push(
      `  ${h.name}: { address: ${h.address}, groups: [${groups.join(', ')}]${h.jump ? `, jump: ${h.jump}` : ''}${mesh}${jails} }`,
    )
  }
  // The full-kernel hosts: in no mesh of the lab's own; tests give them their links.
  for (const h of uml) {
    const i = Number(h.name.replace(/^uml/, '')) + 30
    lines.push(
      `  ${h.name}: { address: ${h.address}, groups: [uml], vars: { router_id: 10.0.0.${i}, loopback: 10.0.0.${i}/32 } }`,
    )
  }
  // Two data centres, a partial mesh: a triangle in dc1, a pair in dc2, two links between them,
  // so any one link can fail and every loopback stays reachable. The links between the data
  // centres cost more, as a WAN link would, and differently, so no two paths tie (ECMP would make
  // "which way does X route Y" a matter of hashing).
  const names = new Set(hosts.map((h) => h.name))
  const links = [
    ['lab1', 'lab2'],
    ['lab2', 'lab3'],
    ['lab1', 'lab3'],
    ['lab4', 'lab5'],
    ['lab1', 'lab4', 20],
    ['lab3', 'lab5', 25],
  ] as const
  const present = links.filter(([a, b]) => names.has(a) && names.has(b))
  if (present.length)
    lines.push('links:', ...present.map(([a, b, cost]) => `  - { a: ${a}, b: ${b}${cost ? `, cost: ${cost}` : ''} }`))
  lines.push(
    'secrets:',
    ...['become_password', 'ospf_md5_key', 'zebra_password', 'openvpn_key', 'ipsec_psk'].map(
      (s) => `  ${s}: file:${STATE_DIR}/${s}`,
    ),
    '',
  )
  const known = [...all, ...allUml].map((h) => {
    const [type, key] = fs
      .readFileSync(path.join(STATE_DIR, 'hosts', h.name, 'ssh_host_ed25519_key.pub'), 'utf8')
      .split(' ')
    return `${h.address} ${type} ${key}\n`
  })
  fs.mkdirSync(path.dirname(INVENTORY), { recursive: true })
  fs.writeFileSync(INVENTORY, lines.join('\n'))
  fs.writeFileSync(KNOWN_HOSTS, known.join(''))
  if (gateways.length)
    fs.writeFileSync(INVENTORY_HA, haInventory({ stateDir: STATE_DIR, run }, path.basename(KNOWN_HOSTS)))
  else fs.rmSync(INVENTORY_HA, { force: true })
  if (all.some((h) => CARP_NAMES.has(h.name)))
    fs.writeFileSync(INVENTORY_CARP, carpInventory(STATE_DIR, path.basename(KNOWN_HOSTS)))
  else fs.rmSync(INVENTORY_CARP, { force: true })
}

/**
 * Brings up lab1..labN and far1 (idempotent: running hosts are left alone, half-made ones are
 * rebuilt). Hosts beyond N from an earlier, bigger `up` are kept. With zfs, every host of this
 * plan also gets a zfs-fuse daemon and pool `tank`; without it, existing pools are left running.
 */
export async function up(opts: UpOptions = {}): Promise<LabState> {
  const n = opts.n ?? 5
  const log = opts.log ?? (() => {})
  if (!Number.isInteger(n) || n < 1 || n > 20) throw new LabError(`host count must be 1..20, got ${n}`)
  requireRoot()
  checkAddressSpace(opts.ha, opts.carp)
  ensurePackages(log)
  ensureKeys()
  if (opts.ha) ensureHaSecrets({ stateDir: STATE_DIR, run })
  if (opts.carp) ensureCarpSecrets(STATE_DIR)
  ensureBridges(!!opts.ha, !!opts.carp)

  const state = loadState()
  const fresh: HostState[] = []
  for (const p of [...plan(n), ...(opts.carp ? planCarpGateways(UNDERLAY) : [])]) {
    const old = state.hosts[p.name]
    if (old && inNetns(old.pid, old.netns)) continue
    await cleanHost(p)
    const h = createHost(p, state.rcMs ?? 0)
    state.hosts[h.name] = h
    fresh.push(h)
    saveState(state) // record each pid at once, so `down` finds it even if a later step fails
  }
  if (fresh.length) log(`started ${fresh.map((h) => h.name).join(' ')}`)
  await waitForSshd(fresh, (h) => sshdAnswers(h as HostState, state))
  const ha = opts.ha ? planHa() : undefined
  await upUml(state, opts.uml ?? 0, ha?.gateways ?? [], log)
  if (ha) upLans(state, ha.lans, log)
  if (opts.carp) upLans(state, planCarpEnds(), log)
  if (opts.zfs) {
    const targets = plan(n).map((p) => state.hosts[p.name]!)
    try {
      await Promise.all(targets.map(ensureZfs))
    } finally {
      saveState(state)
    }
  }
  saveState(state)
  writeInventory(state)
  return state
}

/** The context uml.ts works in: the lab's directory, environment and command runner. */
const UML = { stateDir: STATE_DIR, repo: REPO, env: ENV, run, linkExists, hostDir, knownHosts: KNOWN_HOSTS }

/**
 * uml1..umlN and the HA gateways if asked, as up() does the namespace hosts: running ones are
 * left alone, others (re)started, all at once. A UML kernel boots in a few seconds alone, slower
 * while several boot at once on two cores.
 */
async function upUml(
  state: LabState,
  n: number,
  gateways: Omit<UmlHost, 'pid'>[],
  log: (line: string) => void,
): Promise<void> {
  if (!Number.isInteger(n) || n < 0 || n > 9) throw new LabError(`UML host count must be 0..9, got ${n}`)
  const hosts = (state.uml ??= {})
  const fresh: UmlHost[] = []
  for (const p of [...planUml(n), ...gateways]) {
    const old = hosts[p.name]
    if (old && umlRunning(old, STATE_DIR)) continue
    forgetUmlConnection(p, STATE_DIR)
    await stopPids(umlPids(STATE_DIR, `${p.name}/`))
    hosts[p.name] = startUml(p, UNDERLAY, state.rcMs ?? 0, UML)
    fresh.push(hosts[p.name]!)
    saveState(state)
  }
  if (!fresh.length) return
  log(`started ${fresh.map((h) => h.name).join(' ')} (user-mode-linux)`)
  // Seven at once (3 + the 4 gateways) on two cores: allow for it.
  await waitForSshd(fresh, (h) => tcpAnswers(h.address, 22, 300), 240_000)
}

/**
 * The HA sites' LAN hosts: a bare netns each, a veth into the site's bridge, the address and a
 * default route via the site's internal service address (held by whichever gateway Heartbeat
 * made active; until then it leads nowhere). A netns with its link in place is left alone.
 */
function upLans(state: LabState, lans: LanHost[], log: (line: string) => void): void {
  const hosts = (state.lan ??= {})
  const fresh: string[] = []
  for (const l of lans) {
    if (lanAlive(l)) {
      hosts[l.name] = l
      continue
    }
    if (fs.existsSync(`/run/netns/${l.netns}`)) run('ip', ['netns', 'del', l.netns])
    if (linkExists(l.veth)) run('ip', ['link', 'del', l.veth])
    hosts[l.name] = l
    saveState(state)
    run('ip', ['netns', 'add', l.netns])
    run('ip', ['-n', l.netns, 'link', 'set', 'lo', 'up'])
    run('ip', ['link', 'add', l.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', l.netns])
    run('ip', ['link', 'set', l.veth, 'master', l.bridge, 'up'])
    run('ip', ['-n', l.netns, 'addr', 'add', l.cidr, 'dev', 'eth0'])
    run('ip', ['-n', l.netns, 'link', 'set', 'eth0', 'up'])
    run('ip', ['-n', l.netns, 'route', 'add', 'default', 'via', l.via, 'dev', 'eth0'])
    fresh.push(l.name)
  }
  if (fresh.length) log(`made ${fresh.join(' ')} (LAN namespaces)`)
}

/** The LAN host's netns exists and its veth is on its bridge. */
function lanAlive(l: LanHost): boolean {
  if (!fs.existsSync(`/run/netns/${l.netns}`) || !linkExists(l.veth)) return false
  return ipJson<{ master?: string }>(['link', 'show', 'dev', l.veth])[0]?.master === l.bridge
}

/**
 * A rebuilt host has its addresses back on new MACs, and the controller's and the other hosts'
 * neighbour entries still name the old ones. Such an entry stays REACHABLE for up to 45 s after
 * it was last confirmed, and nothing asks ARP again before then: sshd on the new host went
 * unanswered for over 20 s. Forgetting the entries makes the next packet ask.
 */
function forgetMac(state: LabState, rebuilt: HostState): void {
  for (const l of rebuilt.links) {
    const address = l.cidr.split('/')[0]!
    run('ip', ['neigh', 'flush', 'to', address, 'dev', l.bridge])
    for (const other of Object.values(state.hosts)) {
      const dev = other.name === rebuilt.name ? undefined : other.links.find((o) => o.bridge === l.bridge)?.dev
      if (dev && fs.existsSync(`/run/netns/${other.netns}`))
        run('ip', ['-n', other.netns, 'neigh', 'flush', 'to', address, 'dev', dev])
    }
  }
}

/**
 * Builds these hosts again from a bare root, with the same address and host key: what a
 * benchmark's "first run" starts from. Other hosts, and anything else in the lab, stay as they are.
 */
export async function rebuild(names: string[]): Promise<void> {
  requireRoot()
  const state = loadState()
  const hosts = names.map((n) => {
    const h = state.hosts[n]
    if (!h) throw new LabError(`no lab host ${n}`)
    return h
  })
  for (const old of hosts) {
    await cleanHost(old)
    const { zfsPid: _gone, ...bare } = old
    state.hosts[old.name] = createHost(bare, state.rcMs ?? 0)
    saveState(state)
    forgetMac(state, old)
  }
  await waitForSshd(
    names.map((n) => state.hosts[n]!),
    (h) => sshdAnswers(h as HostState, state),
  )
}

// ---------------------------------------------------------------------------------------------
// down, status, exec

/** Stops everything the lab started and removes everything it created. Safe when nothing is up. */
export async function down(): Promise<void> {
  requireRoot()
  const state = loadState()
  const names = new Set(Object.values(state.hosts).map((h) => h.netns))
  try {
    for (const f of fs.readdirSync('/run/netns')) if (f.startsWith('ferry-')) names.add(f)
  } catch {
    /* no netns dir */
  }

  for (const h of Object.values(state.uml ?? {})) forgetUmlConnection(h, STATE_DIR)
  const pids = new Set([...names].flatMap(netnsPids).concat(rootedInLab(), umlPids(STATE_DIR)))
  await stopPids([...pids])
  for (const ns of names) if (fs.existsSync(`/run/netns/${ns}`)) tryRun('ip', ['netns', 'del', ns])

  // Root-side veth ends vanish with their netns, asynchronously; delete stragglers ourselves.
  const bridges = new Set([UNDERLAY, BEHIND, ...HA_BRIDGES, ...CARP_BRIDGES])
  const labLinks = () =>
    ipJson<{ ifname: string }>(['link'])
      .map((l) => l.ifname.replace(/@.*/, ''))
      .filter((n) => /^f[lu]\d*-/.test(n) || bridges.has(n))
  for (let t = 0; t < 40; t++) {
    const left = labLinks()
    if (!left.length) break
    for (const l of left) tryRun('ip', ['link', 'del', l])
    await sleep(50)
  }
  for (const net of [BEHIND_NET, ...HA_NETS, ...CARP_NETS])
    if (ipJson(['-4', 'route', 'show', 'type', 'unreachable', net]).length)
      tryRun('ip', ['route', 'del', 'unreachable', net])

  // Host mounts live in the hosts' private mount namespaces, so none should be here; if one is
  // (a host started by hand without unshare?), unmount it rather than rm -rf through it.
  const mounts = fs
    .readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(`${STATE_DIR}/`))
    .reverse()
  for (const m of mounts) tryRun('umount', ['-l', m])
  fs.rmSync(STATE_DIR, { recursive: true, force: true })
  fs.rmSync(INVENTORY, { force: true })
  fs.rmSync(INVENTORY_HA, { force: true })
  fs.rmSync(INVENTORY_CARP, { force: true })
  fs.rmSync(KNOWN_HOSTS, { force: true })
  const stuck = [...pids].filter(alive)
  if (stuck.length) throw new LabError(`processes survived SIGKILL: ${stuck.join(' ')}`)
}

export async function status(): Promise<HostStatus[]> {
  const state = loadState()
  const uml = Object.values(state.uml ?? {}).map(async (h): Promise<HostStatus> => {
    const up = umlRunning(h, STATE_DIR)
    return {
      name: h.name,
      kind: 'uml',
      address: h.address,
      pid: h.pid,
      alive: up,
      sshd: up && (await tcpAnswers(h.address, 22, 1000)),
      zfs: null,
    }
  })
  const lans = Object.values(state.lan ?? {}).map((l): HostStatus => ({
    name: l.name,
    kind: 'lan',
    address: l.address,
    pid: 0,
    alive: lanAlive(l),
    sshd: null,
    zfs: null,
  }))
  return Promise.all([
    ...Object.values(state.hosts).map(async (h) => {
      const up = inNetns(h.pid, h.netns)
      let zfs: string | null = null
      if (up && inNetns(h.zfsPid, h.netns)) {
        try {
          zfs =
            (
              await runAsync('nsenter', nsenterArgs(h, ['zpool', 'list', '-H', '-o', 'name']), { env: ENV })
            ).stdout.trim() || null
        } catch {
          /* no pool */
        }
      }
      return {
        name: h.name,
        kind: 'netns' as const,
        address: h.address,
        pid: h.pid,
        alive: up,
        sshd: up && (await sshdAnswers(h, state, 1000)),
        zfs,
      }
    }),
    ...uml,
    ...lans,
  ])
}

function runningHost(host: string, state = loadState()): HostState {
  const h = state.hosts[host]
  if (!h || !inNetns(h.pid, h.netns)) throw new LabError(`lab host ${host} is not running`)
  return h
}

/**
 * Runs argv inside a lab host (its netns, mounts, hostname and root) without ssh; returns stdout.
 * No login shell starts, so this neither pays root's rc cost nor counts in shellStarts. A UML
 * host cannot be entered from outside: there it goes over SSH, as root, and counts as a shell.
 * An HA LAN host is only a netns: argv runs in it with the controller's files.
 */
export function exec(host: string, argv: string[], opts: { input?: string } = {}): string {
  const state = loadState()
  const lan = state.lan?.[host]
  if (lan) {
    if (!lanAlive(lan)) throw new LabError(`lab host ${host} is not running`)
    return run('nsenter', [`--net=/run/netns/${lan.netns}`, '--', ...argv], opts.input)
  }
  const uml = state.uml?.[host]
  if (uml) {
    if (!umlRunning(uml, STATE_DIR)) throw new LabError(`lab host ${host} is not running`)
    return umlExec(uml, argv, UML, opts.input)
  }
  return run('nsenter', nsenterArgs(runningHost(host, state), argv), opts.input)
}

// ---------------------------------------------------------------------------------------------
// rc: what a login shell costs, and how many a host started

/**
 * Makes root's ~/.bashrc wait `ms` ms in every shell sshd starts, on the running hosts and (kept
 * in the state) on any host started or rebuilt later: what real servers' rc files cost (see
 * rc.sh). 0 takes the cost away; the shells are counted either way. Returns the running hosts.
 */
export function setRcCost(ms: number): string[] {
  if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) throw new LabError(`rc cost must be 0..60000 ms, got ${ms}`)
  requireRoot()
  const state = loadState()
  const script = fs.readFileSync(RC, 'utf8')
  const running = Object.values(state.hosts).filter((h) => inNetns(h.pid, h.netns))
  for (const h of running) run('nsenter', nsenterArgs(h, ['sh', '-s', '--', String(ms)]), script)
  const uml = Object.values(state.uml ?? {}).filter((h) => umlRunning(h, STATE_DIR))
  for (const h of uml) umlExec(h, ['sh', '-s', '--', String(ms)], UML, script)
  state.rcMs = ms
  saveState(state)
  return [...running, ...uml].map((h) => h.name)
}

/** Login shells root's logins have started on a host since it was built (or since resetShellStarts). */
export async function shellStarts(host: string): Promise<number> {
  const h = runningHost(host)
  // A missing log is a host on which no shell has started yet.
  const { stdout } = await runAsync('nsenter', nsenterArgs(h, ['sh', '-c', `cat ${SHELLS_LOG} 2>/dev/null || :`]), {
    env: ENV,
  })
  return stdout.split('\n').filter(Boolean).length
}

/** Starts the hosts' shell counts from 0. */
export async function resetShellStarts(hosts: string[]): Promise<void> {
  const state = loadState()
  await Promise.all(
    hosts.map((host) =>
      runAsync('nsenter', nsenterArgs(runningHost(host, state), ['truncate', '-s', '0', SHELLS_LOG]), { env: ENV }),
    ),
  )
}

// ---------------------------------------------------------------------------------------------
// jail: something for migrate-jail to move

/**
 * The lab's jail on one host, made as an operator would: a dataset of its own holding `mb` MB of
 * random data and an etc/rc that serves it over HTTP on the jail's /32 only, its definition, and
 * autostart; then started by ferry's own Linux jail driver. Every host with a pool gets the parent
 * dataset, which a destination needs. Any earlier copy of the jail, anywhere, is removed first.
 */
export function makeJail(host = 'lab2', mb = 200): void {
  if (!Number.isInteger(mb) || mb < 1 || mb > 700)
    throw new LabError(`jail size must be 1..700 MB (the pools hold 1 GB), got ${mb}`)
  const state = loadState()
  const spec = { ...LAB_JAIL }
  const zfsHosts = Object.values(state.hosts)
    .filter((h) => h.zfsPid !== undefined && !h.jump)
    .map((h) => h.name)
  if (!zfsHosts.includes(host)) throw new LabError(`${host} has no pool: run \`npm run lab -- up --zfs\` first`)
  for (const h of zfsHosts) removeJail(h)
  const conf = linuxLabJails.configPath(spec)
  exec(host, [
    'sh',
    '-c',
    [
      'set -e',
      `zfs create ${spec.dataset}`,
      `root=$(zfs get -H -o value mountpoint ${spec.dataset})`,
      'mkdir -p "$root/etc" "$root/www"',
      `head -c ${mb * 1000 * 1000} /dev/urandom > "$root/www/data.bin"`,
      'echo "jail web" > "$root/www/index.html"',
      `printf '%s\n' '#!/bin/sh' '# The jail: its files over HTTP, on its own address only.' 'exec python3 -m http.server 80 --bind "$JAIL_ADDRESS" --directory "$JAIL_ROOT/www"' > "$root/etc/rc"`,
      `mkdir -p ${path.dirname(conf)}`,
      `printf 'address=%s\ndataset=%s\n' ${spec.address} ${spec.dataset} > ${conf}`,
      linuxLabJails.autostart(spec, true),
      linuxLabJails.start(spec),
    ].join('\n'),
  ])
}

/** Stops the lab jail on a host and removes every trace of it: datasets (kept copies too), definition, pidfile. */
export function removeJail(host: string): void {
  const spec = { ...LAB_JAIL }
  exec(host, [
    'sh',
    '-c',
    [
      linuxLabJails.stop(spec),
      linuxLabJails.autostart(spec, false),
      `rm -f ${linuxLabJails.configPath(spec)}`,
      `rm -rf /var/run/ferry-migrate-${spec.name}.lock`,
      `zfs list -H -o name -t filesystem 2>/dev/null | grep -E '^${spec.dataset}($|-moved-)' | sort -r | while read -r ds; do zfs umount "$ds" 2>/dev/null; ${whenIdle('zfs destroy -r "$ds"')}; done`,
      `zfs create -p ${path.dirname(spec.dataset)}`,
    ].join('\n'),
  ])
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `usage: npm run lab -- <command>
  up [N] [--zfs] [--uml] [--ha] [--carp]
                    start lab1..labN (default 5, 1..20) and far1 behind lab1; --zfs adds a pool "tank" per host;
                    --uml also starts uml1..uml3, full-kernel hosts (user-mode-linux: GRE, ESP, VRF, VLANs);
                    --ha also the HA sites: UML gateways gw1a gw1b gw2a gw2b (eth0 on ferry-br0, eth1 on their
                    site's LAN bridge ferry-br11/12) and LAN namespaces lan1 lan2; inventory inventory/lab-ha.yaml
                    --carp also seed 004's pair: namespace gateways cgw1 cgw2 (eth1 outside ferry-br21, eth2 inside
                    ferry-br22, eth3 their own link ferry-br23), server cout, client cin; inventory inventory/lab-carp.yaml
  packages          install the lab's Debian packages if any is missing (the unit tests use mksh and frr too)
  down              stop every lab process and remove namespaces, links, ${STATE_DIR} and the inventories
  status [--json]   per host: kind (netns, uml, lan), address, pid alive, sshd answering, zfs pool
                    (exit 0 all up, 1 partial, 3 none)
  rc COST           root's ~/.bashrc waits COST (200ms, 2s; 0: none) in every shell sshd starts, as a real
                    server's rc file costs; on the running hosts and on any started or rebuilt later, until down
  jail [HOST] [MB]  (re)create the jail "web" (${LAB_JAIL.address}, MB of data, default 200) on HOST (default lab2),
                    removing it from every host first; needs up --zfs
  scale up N        the scale lab (lab/scale.ts): exactly s1..sN (1..1000) sshd-only hosts on fsc-br0, 198.18.16.0/22;
                    inventory /run/ferry-lab-scale/scale.yaml; running hosts stay, hosts beyond N are removed
  scale down        stop every scale-lab process by PID; remove its namespaces, links and /run/ferry-lab-scale
  scale status [--json]  per scale host: pid alive, sshd answering (exit 0 all up, 1 partial, 3 none)`

/** `200ms`, `2s` or `0`, in ms; a bare number other than 0 names no unit, so it is refused. */
function rcCost(s: string): number | undefined {
  const m = /^(\d+)(ms|s)$|^0$/.exec(s)
  return !m ? undefined : Number(m[1] ?? 0) * (m[2] === 's' ? 1000 : 1)
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv.slice(2)
  const flags = new Set(rest.filter((a) => a.startsWith('-')))
  const args = rest.filter((a) => !a.startsWith('-'))
  const say = (s: string) => console.log(`lab: ${s}`)
  if (!cmd || cmd === '--help' || cmd === '-h' || flags.has('--help') || flags.has('-h')) {
    console.log(USAGE)
    return cmd ? 0 : 2
  }
  try {
    // The scale lab (lab/scale.ts) has its own subcommands; loaded only when asked for.
    if (cmd === 'scale') {
      const code = await (await import('./scale.ts')).scaleMain(rest)
      if (code === undefined) console.error(USAGE)
      return code ?? 2
    }
    const t0 = performance.now()
    const secs = () => ((performance.now() - t0) / 1000).toFixed(2)
    if (cmd === 'up' && args.length <= 1 && [...flags].every((f) => ['--zfs', '--uml', '--ha', '--carp'].includes(f))) {
      const n = args[0] === undefined ? 5 : Number(args[0])
      const ha = flags.has('--ha')
      const carp = flags.has('--carp')
      const state = await up({ n, zfs: flags.has('--zfs'), uml: flags.has('--uml') ? 3 : 0, ha, carp, log: say })
      const count = [state.hosts, state.uml ?? {}, state.lan ?? {}].reduce((k, r) => k + Object.keys(r).length, 0)
      const inventories = [INVENTORY, ...(ha ? [INVENTORY_HA] : []), ...(carp ? [INVENTORY_CARP] : [])].map((f) =>
        path.relative(process.cwd(), f),
      )
      say(`${count} hosts up in ${secs()} s; inventory: ${inventories.join(', ')}`)
      return 0
    }
    if (cmd === 'packages' && !rest.length) {
      ensurePackages(say)
      return 0
    }
    if (cmd === 'down' && !rest.length) {
      await down()
      say(`down in ${secs()} s`)
      return 0
    }
    if (cmd === 'status' && !args.length && [...flags].every((f) => f === '--json')) {
      const hosts = await status()
      if (flags.has('--json')) console.log(JSON.stringify(hosts, null, 2))
      else if (!hosts.length) say('down')
      else {
        for (const h of hosts) {
          console.log(
            `${h.name.padEnd(6)} ${h.kind.padEnd(5)} ${h.address.padEnd(13)} pid ${String(h.pid).padEnd(8)} ${h.alive ? 'alive' : 'DEAD '} ` +
              `sshd ${h.sshd === null ? '-   ' : h.sshd ? 'ok  ' : 'DOWN'} zfs ${h.zfs ?? '-'}`,
          )
        }
      }
      // A LAN namespace has no sshd (null): alive is all it can be.
      const ok = hosts.filter((h) => h.alive && h.sshd !== false).length
      return ok === 0 ? 3 : ok === hosts.length ? 0 : 1
    }
    if (cmd === 'rc' && args.length === 1 && !flags.size) {
      const ms = rcCost(args[0]!)
      if (ms === undefined) throw new LabError(`rc: a cost such as 200ms, 2s or 0, not '${args[0]}'`)
      const running = setRcCost(ms)
      say(
        `root's rc costs ${ms} ms on ${running.join(' ') || 'no running host'}, and on any host started or rebuilt later`,
      )
      return 0
    }
    if (cmd === 'jail' && args.length <= 2 && !flags.size) {
      makeJail(args[0] ?? 'lab2', args[1] === undefined ? 200 : Number(args[1]))
      say(`jail ${LAB_JAIL.name} (${LAB_JAIL.address}) running on ${args[0] ?? 'lab2'} after ${secs()} s`)
      return 0
    }
    console.error(USAGE)
    return 2
  } catch (e) {
    // LabErrors are written for the user; anything else (a failing ip/nsenter call) carries the
    // command and its stderr in its message, which is what one needs to see too.
    console.error(`lab: ${e instanceof Error ? e.message : String(e)}`)
    return 1
  }
}
