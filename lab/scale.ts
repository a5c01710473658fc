// The scale lab: hundreds of lightweight lab hosts (sshd and nothing else) for measuring how a
// run grows with the host count (bench/scale.ts, test/lab/scale.test.ts).
//
// Each host is what a lab host is (DESIGN.md "The test lab"): a netns entered with
// `unshare --mount --uts`, a copy-on-write overlay root over `/`, and one sshd, chrooted there,
// with its own host key, whose PID *is* the host. What makes 500 of them come up in seconds:
//
// - Namespaces, veths, bridge ports and neighbour entries are made by two `ip -batch` calls.
// - Host keys are ed25519 pairs made in-process (node:crypto, written in OpenSSH's own format),
//   not 500 `ssh-keygen` runs (16 ms each here). Every host still has its own key, and the
//   inventory's known_hosts lists each address with its key: ferry's strict checking stays on.
// - A host's upper layer is a directory on /dev/shm (a tmpfs: overlayfs refuses an upper layer on
//   the filesystem of its lower, `/`, and /run is on `/` here), and everything the host needs in
//   its root (host key, sshd_config, authorized_keys, a plain .bashrc) is written into it by this
//   process beforehand. So a host boots with 8 execs (setsid, nsenter, unshare, sh, one `ip -b`,
//   one `mount -a` of a per-host fstab, chroot, sshd) where boot.sh needs ~30: no per-host tmpfs,
//   no copying, no useradd/chpasswd/sudo/doas. The scale hosts are logged into as root with the
//   scale lab's own key.
// - No ARP: each side has a permanent neighbour entry for the other (see scaleUp), and no IPv6.
//
// It shares nothing with the main lab (lab.ts), which may run at the same time, and neither one's
// `down` touches the other's things:
//   - netns `ferryscale-N` (lab.ts's `down` removes every netns starting `ferry-`),
//   - veths `fsc-N` and the bridge `fsc-br0` (lab.ts's are `fl*-*` and `ferry-br*`),
//   - addresses 198.18.16.0/22 (controller 198.18.16.1, host sN at 198.18.16.1 + N; the main lab
//     uses 198.18.0.0/23),
//   - state, keys, inventory and known_hosts under /run/ferry-lab-scale, roots under
//     /dev/shm/ferry-lab-scale; nothing in the repository:
//     `ferry run … -i /run/ferry-lab-scale/scale.yaml`.
//
// `scale up N` makes the scale lab exactly s1..sN: running hosts are left alone, missing or dead
// ones are (re)built from a bare root (keeping their host key), and hosts beyond N from an
// earlier, bigger `up` are removed. `scale down` stops, by PID, every process whose network
// namespace is one of ours or whose root is one of our hosts', then removes the namespaces,
// links, bridge and state; it goes by what the kernel shows, not only by the state file, so it
// works after a crash too.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { toDotted, toInt } from '../src/mesh/ipv4.ts'
import {
  LabError,
  alive,
  inNetns,
  ipJson,
  linkExists,
  nsInode,
  refuseClaimed,
  requireRoot,
  run,
  stopPids,
  tail,
  tcpAnswers,
} from './lab.ts'
import { mapLimit } from '../src/transport/slots.ts'

export const SCALE_DIR = '/run/ferry-lab-scale'
export const SCALE_INVENTORY = path.join(SCALE_DIR, 'scale.yaml')
export const SCALE_KNOWN_HOSTS = path.join(SCALE_DIR, 'scale.known_hosts')
const SCALE_KEY = path.join(SCALE_DIR, 'id_ed25519')
/** The hosts' roots: upper and work layers, /run, /tmp. On a tmpfs (see above). */
export const SCALE_ROOTS = '/dev/shm/ferry-lab-scale'
/** The most hosts: a /22 holds 1021 after the controller. */
const SCALE_MAX = 1000
const STATE_FILE = path.join(SCALE_DIR, 'state.json')
const HOSTS_DIR = path.join(SCALE_DIR, 'hosts')
const BOOT_FILE = path.join(SCALE_DIR, 'boot.sh')

const BRIDGE = 'fsc-br0'
/**
 * The bridge's MAC, fixed: a bridge otherwise takes its lowest port's, which changes as ports come
 * and go, and the hosts' permanent neighbour entry for the controller must stay true.
 */
const BRIDGE_MAC = '02:73:63:ff:ff:fe'
const RANGE = '198.18.16.0/22'
const CONTROLLER = '198.18.16.1'
const PREFIX = 22
const NETNS_PREFIX = 'ferryscale-'
const VETH = /^fsc-\d+$/

export interface ScaleHost {
  name: string
  index: number
  netns: string
  veth: string
  address: string
  /** The host's eth0, fixed so that the controller's neighbour entry for it can be permanent. */
  mac: string
  /** sshd, the first process of the host. */
  pid: number
}
export interface ScaleState {
  hosts: Record<string, ScaleHost>
}
export interface ScaleHostStatus {
  name: string
  address: string
  pid: number
  alive: boolean
  sshd: boolean
}
export interface ScaleUpResult {
  state: ScaleState
  started: number
  kept: number
  removed: number
}
type Planned = Omit<ScaleHost, 'pid'>

// A host's first process, already inside its netns and a fresh private mount + UTS namespace. Like
// lab/boot.sh, minus the unprivileged user, sudo and doas, and with its files already in place.
const BOOT = `set -eu
name=$1 fstab=$2 root=$3 cidr=$4 controller=$5 bridge_mac=$6
echo "$name" > /proc/sys/kernel/hostname
# No IPv6: 500 interfaces each doing DAD and router solicitation, flooded to every bridge port,
# is noise the benchmark does not want. Set before the link is up, so none of it ever starts.
echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6 2>/dev/null || true
ip -b - <<IP
link set lo up
addr add $cidr dev eth0
link set eth0 up
neigh replace $controller lladdr $bridge_mac dev eth0 nud permanent
IP
# The overlay root, /dev, /proc and the host's own /run and /tmp, in this mount namespace only.
mount -a -T "$fstab"
exec chroot "$root" /usr/sbin/sshd -D -e -f /etc/ferry-lab-scale/sshd_config
`

// The same for every host: each netns has only its own address, so 0.0.0.0 is that address.
const SSHD_CONFIG = `ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile none
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
`

// ---------------------------------------------------------------------------------------------
// small helpers

/**
 * Many `ip` commands in one process. With force (teardown), a failing line (a link that vanished
 * with its netns meanwhile) neither stops the rest nor throws; the caller checks what is left.
 */
function ipBatch(lines: string[], force = false): void {
  if (!lines.length) return
  try {
    run('ip', [...(force ? ['-force'] : []), '-batch', '-'], `${lines.join('\n')}\n`)
  } catch (e) {
    if (!force) throw e
  }
}

/** 02:73:63 ("sc", locally administered), then the index. */
function macOf(index: number): string {
  return `02:73:63:00:${((index >> 8) & 255).toString(16).padStart(2, '0')}:${(index & 255).toString(16).padStart(2, '0')}`
}

/** Host sN: its names, its address (198.18.16.1 + N) and its MAC all follow from N. */
function byIndex(index: number): Planned {
  const address = toDotted(toInt(CONTROLLER) + index)
  return {
    name: `s${index}`,
    index,
    netns: `${NETNS_PREFIX}${index}`,
    veth: `fsc-${index}`,
    address,
    mac: macOf(index),
  }
}

function plan(n: number): Planned[] {
  return Array.from({ length: n }, (_, k) => byIndex(k + 1))
}

/** The first n scale hosts' names, in order: what bench and tests pass to `--limit`. */
export function scaleHostNames(n: number): string[] {
  return plan(n).map((h) => h.name)
}

export function loadScaleState(): ScaleState {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as ScaleState
  } catch {
    return { hosts: {} }
  }
}

function saveState(state: ScaleState): void {
  fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 1) + '\n', { mode: 0o600 })
}

function sshString(data: Buffer | string): Buffer {
  const buf = typeof data === 'string' ? Buffer.from(data) : data
  const len = Buffer.alloc(4)
  len.writeUInt32BE(buf.length)
  return Buffer.concat([len, buf])
}

/**
 * An ed25519 key pair in OpenSSH's formats (PROTOCOL.key: "openssh-key-v1", unencrypted), as
 * ssh-keygen writes it, in ~0.2 ms rather than a 16 ms ssh-keygen process.
 */
function ed25519Pair(comment: string): { privateKey: string; publicKey: string } {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })
  const seed = Buffer.from(jwk.d!, 'base64url')
  const pub = Buffer.from(jwk.x!, 'base64url')
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)])
  const check = randomBytes(4)
  const secret = Buffer.concat([check, check, blob, sshString(Buffer.concat([seed, pub])), sshString(comment)])
  const padded = Buffer.concat([secret, Buffer.from([1, 2, 3, 4, 5, 6, 7].slice(0, (8 - (secret.length % 8)) % 8))])
  const one = Buffer.alloc(4)
  one.writeUInt32BE(1)
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    one,
    sshString(blob),
    sshString(padded),
  ])
  const b64 = body.toString('base64').replace(/.{70}/g, '$&\n').replace(/\n$/, '')
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${blob.toString('base64')} ${comment}\n`,
  }
}

function write(file: string, content: string, mode = 0o644): void {
  fs.writeFileSync(file, content, { mode })
  fs.chmodSync(file, mode) // an existing file keeps its old mode otherwise
}

// ---------------------------------------------------------------------------------------------
// preconditions

/**
 * Refuses to touch the machine if anything but the scale lab itself claims part of
 * 198.18.16.0/22 (a route or an address), as lab.ts's checkAddressSpace does for its range.
 */
function checkScaleAddressSpace(): void {
  refuseClaimed(RANGE, new Set([BRIDGE]))
}

// ---------------------------------------------------------------------------------------------
// processes

/**
 * Every process in one of these netns, or whose root is one of these hosts' (it may have left the
 * netns), in one pass over /proc rather than an `ip netns pids` per host.
 */
function processesOf(hosts: Planned[]): number[] {
  const inodes = new Set(
    hosts
      .map((h) => nsInode(`/run/netns/${h.netns}`))
      .filter((i) => i !== undefined)
      .map((i) => `net:[${i}]`),
  )
  const roots = new Set(hosts.map((h) => path.join(SCALE_ROOTS, h.name, 'root')))
  const pids: number[] = []
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue
    try {
      if (inodes.has(fs.readlinkSync(`/proc/${p}/ns/net`))) {
        pids.push(Number(p))
        continue
      }
      // `/dev/shm/ferry-lab-scale/sN/root`, or a directory below it (a chroot inside the host).
      const root = fs.readlinkSync(`/proc/${p}/root`)
      const m = root.startsWith(`${SCALE_ROOTS}/`) ? /^[^/]+\/root/.exec(root.slice(SCALE_ROOTS.length + 1)) : null
      if (m && roots.has(path.join(SCALE_ROOTS, m[0]))) pids.push(Number(p))
    } catch {
      /* gone, or a kernel thread */
    }
  }
  return pids
}

/**
 * Stops the hosts' processes and removes their netns, veths, neighbour entries and roots; fine
 * for hosts half made or long gone. The host keys stay, so a rebuilt host keeps its key.
 */
async function removeHosts(hosts: Planned[]): Promise<void> {
  if (!hosts.length) return
  const pids = processesOf(hosts)
  await stopPids(pids)
  ipBatch(
    hosts.filter((h) => fs.existsSync(`/run/netns/${h.netns}`)).map((h) => `netns del ${h.netns}`),
    true,
  )
  if (linkExists(BRIDGE))
    ipBatch(
      hosts.map((h) => `neigh del ${h.address} dev ${BRIDGE}`),
      true,
    )
  // Root-side veth ends vanish with their netns, asynchronously; delete stragglers ourselves.
  for (let t = 0; t < 40; t++) {
    const left = hosts.filter((h) => linkExists(h.veth))
    if (!left.length) break
    ipBatch(
      left.map((h) => `link del ${h.veth}`),
      true,
    )
    await sleep(50)
  }
  const stuck = pids.filter(alive)
  if (stuck.length) throw new LabError(`processes survived SIGKILL: ${stuck.join(' ')}`)
  // The hosts' mounts lived in their own mount namespaces, gone with their processes: nothing is
  // mounted on these directories here, so removing them cannot reach through into anything.
  for (const h of hosts) {
    fs.rmSync(path.join(SCALE_ROOTS, h.name), { recursive: true, force: true })
    for (const f of ['fstab', 'log']) fs.rmSync(path.join(HOSTS_DIR, h.name, f), { force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// up

function ensureController(): string {
  fs.mkdirSync(HOSTS_DIR, { recursive: true, mode: 0o700 })
  fs.chmodSync(SCALE_DIR, 0o700)
  fs.mkdirSync(SCALE_ROOTS, { recursive: true, mode: 0o700 })
  if (!fs.existsSync(SCALE_KEY) || !fs.existsSync(`${SCALE_KEY}.pub`)) {
    const pair = ed25519Pair('ferry-lab-scale controller')
    write(SCALE_KEY, pair.privateKey, 0o600)
    write(`${SCALE_KEY}.pub`, pair.publicKey)
  }
  write(BOOT_FILE, BOOT)
  if (!linkExists(BRIDGE)) run('ip', ['link', 'add', BRIDGE, 'type', 'bridge'])
  run('ip', ['link', 'set', BRIDGE, 'address', BRIDGE_MAC])
  const addrs = ipJson<{ addr_info?: { local: string; prefixlen: number }[] }>(['-4', 'addr', 'show', 'dev', BRIDGE])
  if (!addrs.some((i) => i.addr_info?.some((a) => a.local === CONTROLLER && a.prefixlen === PREFIX)))
    run('ip', ['addr', 'add', `${CONTROLLER}/${PREFIX}`, 'dev', BRIDGE])
  run('ip', ['link', 'set', BRIDGE, 'up'])
  return fs.readFileSync(`${SCALE_KEY}.pub`, 'utf8')
}

/**
 * A bare root for a host: its upper layer holds just what the host needs (host key, sshd_config,
 * hostname, root's authorized_keys and Debian's default dotfiles), next to an empty work dir,
 * the mount point and its own /run and /tmp; and the fstab that BOOT mounts.
 */
function prepareRoot(h: Planned, files: { authorized: string; bashrc: string; profile: string }): void {
  const keyDir = path.join(HOSTS_DIR, h.name)
  fs.mkdirSync(keyDir, { recursive: true, mode: 0o700 })
  const keyFile = path.join(keyDir, 'ssh_host_ed25519_key')
  if (!fs.existsSync(keyFile) || !fs.existsSync(`${keyFile}.pub`)) {
    const pair = ed25519Pair(h.name)
    write(keyFile, pair.privateKey, 0o600)
    write(`${keyFile}.pub`, pair.publicKey)
  }
  const base = path.join(SCALE_ROOTS, h.name)
  fs.rmSync(base, { recursive: true, force: true })
  const upper = path.join(base, 'upper')
  for (const d of ['upper/etc/ssh', 'upper/etc/ferry-lab-scale', 'upper/root/.ssh', 'work', 'root', 'run/sshd', 'tmp'])
    fs.mkdirSync(path.join(base, d), { recursive: true })
  fs.chmodSync(path.join(base, 'tmp'), 0o1777)
  fs.chmodSync(path.join(upper, 'root'), 0o700)
  fs.chmodSync(path.join(upper, 'root/.ssh'), 0o700)
  // Both halves of the key: the base system's .pub would otherwise shadow ours (sshd warns).
  fs.copyFileSync(keyFile, path.join(upper, 'etc/ssh/ssh_host_ed25519_key'))
  fs.chmodSync(path.join(upper, 'etc/ssh/ssh_host_ed25519_key'), 0o600)
  fs.copyFileSync(`${keyFile}.pub`, path.join(upper, 'etc/ssh/ssh_host_ed25519_key.pub'))
  write(path.join(upper, 'etc/ferry-lab-scale/sshd_config'), SSHD_CONFIG)
  write(path.join(upper, 'etc/hostname'), `${h.name}\n`)
  write(path.join(upper, 'root/.ssh/authorized_keys'), files.authorized, 0o600)
  // A fresh Debian root's dotfiles, not the controller's (see boot.sh: bash reads ~/.bashrc for
  // every command sshd runs, and this machine's took a minute once).
  write(path.join(upper, 'root/.bashrc'), files.bashrc)
  write(path.join(upper, 'root/.profile'), files.profile)
  const root = path.join(base, 'root')
  write(
    path.join(keyDir, 'fstab'),
    [
      `overlay ${root} overlay lowerdir=/,upperdir=${upper},workdir=${path.join(base, 'work')} 0 0`,
      `/dev ${root}/dev none rbind 0 0`,
      `proc ${root}/proc proc defaults 0 0`,
      `${path.join(base, 'run')} ${root}/run none bind 0 0`,
      `${path.join(base, 'tmp')} ${root}/tmp none bind 0 0`,
      '',
    ].join('\n'),
  )
}

/** Can sshd on h take a TCP connection? (Each one costs the host an sshd fork and re-exec.) */
const sshdAnswers = (h: Planned, timeoutMs: number): Promise<boolean> => tcpAnswers(h.address, 22, timeoutMs)

/**
 * Waits until every host's sshd has said it listens (its log, read without touching the host),
 * then connects to each once, a few dozen at a time, to prove the path through the bridge.
 */
async function waitForSshd(hosts: ScaleHost[], totalMs: number): Promise<void> {
  const deadline = Date.now() + totalMs
  const logOf = (h: ScaleHost) => path.join(HOSTS_DIR, h.name, 'log')
  let waiting = hosts
  while (waiting.length) {
    const dead = waiting.find((h) => !alive(h.pid))
    if (dead) throw new LabError(`${dead.name}: sshd (pid ${dead.pid}) exited; ${logOf(dead)}:\n${tail(logOf(dead))}`)
    waiting = waiting.filter((h) => !tail(logOf(h), 5).includes('Server listening on'))
    if (!waiting.length) break
    if (Date.now() > deadline)
      throw new LabError(
        `${waiting.length} host(s) not listening after ${totalMs / 1000} s, e.g. ${waiting[0]!.name}; ${logOf(waiting[0]!)}:\n${tail(logOf(waiting[0]!))}`,
      )
    await sleep(100)
  }
  const answers = await mapLimit(hosts, 32, async (h) => {
    for (;;) {
      if (await sshdAnswers(h, 3000)) return true
      if (Date.now() > deadline) return false
      await sleep(100)
    }
  })
  const silent = hosts.filter((_, i) => !answers[i])
  if (silent.length)
    throw new LabError(`sshd not answering on ${silent.map((h) => `${h.name} (${h.address})`).join(', ')}`)
}

function writeInventory(state: ScaleState): void {
  const hosts = Object.values(state.hosts).sort((a, b) => a.index - b.index)
  const lines = [
    '# Generated by `npm run lab -- scale up N`; removed by `npm run lab -- scale down`. Do not edit.',
    'defaults:',
    '  user: root',
    `  identity: ${SCALE_KEY}`,
    `  known_hosts: ${SCALE_KNOWN_HOSTS}`,
    '  os: linux',
    'groups:',
    '  scale: {}',
    'hosts:',
    ...hosts.map((h) => `  ${h.name}: { address: ${h.address}, groups: [scale] }`),
    '',
  ]
  const known = hosts.map((h) => {
    const [type, key] = fs.readFileSync(path.join(HOSTS_DIR, h.name, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ')
    return `${h.address} ${type} ${key}\n`
  })
  write(SCALE_KNOWN_HOSTS, known.join(''))
  write(SCALE_INVENTORY, lines.join('\n'))
}

/**
 * Makes the scale lab exactly s1..sN (see the top of this file). Returns the state and how many
 * hosts were started, kept and removed.
 */
export async function scaleUp(n: number, log: (line: string) => void = () => {}): Promise<ScaleUpResult> {
  if (!Number.isInteger(n) || n < 1 || n > SCALE_MAX)
    throw new LabError(`scale host count must be 1..${SCALE_MAX}, got ${n}`)
  requireRoot()
  checkScaleAddressSpace()
  if (!fs.existsSync('/usr/sbin/sshd'))
    throw new LabError(
      'no /usr/sbin/sshd: run `npm run lab -- up` once (it installs openssh-server), or apt-get install openssh-server',
    )
  const authorized = ensureController()

  const state = loadScaleState()
  const wanted = plan(n)
  const wantedNames = new Set(wanted.map((h) => h.name))
  const surplus = Object.values(state.hosts).filter((h) => !wantedNames.has(h.name))
  const keep = wanted.filter((p) => {
    const h = state.hosts[p.name]
    return h && inNetns(h.pid, h.netns)
  })
  const keepNames = new Set(keep.map((h) => h.name))
  const fresh = wanted.filter((p) => !keepNames.has(p.name))

  // Surplus hosts, whatever is left of hosts to rebuild (a dead sshd, a half-made netns), and
  // netns of ours that no state knows about (a state file lost in a crash).
  const known = new Set([...Object.values(state.hosts), ...wanted].map((h) => h.netns))
  let stray: Planned[] = []
  try {
    stray = fs
      .readdirSync('/run/netns')
      .filter((f) => new RegExp(`^${NETNS_PREFIX}\\d+$`).test(f) && !known.has(f))
      .map((netns) => byIndex(Number(netns.slice(NETNS_PREFIX.length))))
  } catch {
    /* no /run/netns yet */
  }
  const doomed = [...surplus, ...fresh, ...stray]
  const existing = doomed.filter(
    (h) =>
      fs.existsSync(`/run/netns/${h.netns}`) || linkExists(h.veth) || fs.existsSync(path.join(SCALE_ROOTS, h.name)),
  )
  if (existing.length) {
    await removeHosts(existing)
    log(`removed ${existing.length} host(s)${surplus.length ? ` (${surplus.length} beyond ${n})` : ''}`)
  }
  for (const h of [...surplus, ...stray]) {
    delete state.hosts[h.name]
    fs.rmSync(path.join(HOSTS_DIR, h.name), { recursive: true, force: true })
  }
  for (const h of fresh) delete state.hosts[h.name]
  saveState(state)

  if (fresh.length) {
    const t0 = performance.now()
    const secs = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`
    const files = {
      authorized,
      bashrc: fs.readFileSync('/etc/skel/.bashrc', 'utf8'),
      profile: fs.readFileSync('/etc/skel/.profile', 'utf8'),
    }
    for (const h of fresh) prepareRoot(h, files)
    ipBatch(
      fresh.flatMap((h) => [
        `netns add ${h.netns}`,
        `link add ${h.veth} type veth peer name eth0 address ${h.mac} netns ${h.netns}`,
      ]),
    )
    // No IPv6 on the bridge ports either (see BOOT); before they are up, so it never starts.
    for (const h of fresh) {
      try {
        fs.writeFileSync(`/proc/sys/net/ipv6/conf/${h.veth}/disable_ipv6`, '1')
      } catch {
        /* no IPv6 here */
      }
    }
    // Permanent neighbour entries both ways (BOOT makes the host's for the controller): no ARP.
    // The kernel's neighbour table is shared by every netns and holds 1024 entries that can
    // expire (gc_thresh3). 500 hosts need ~1000 of them: with ARP, "neighbor table overflow"
    // dropped packets and connections waited for SYN retransmits. Permanent ones do not count.
    ipBatch(
      fresh.flatMap((h) => [
        `link set ${h.veth} master ${BRIDGE} up`,
        `neigh replace ${h.address} lladdr ${h.mac} dev ${BRIDGE} nud permanent`,
      ]),
    )
    // One small shell starts every host and prints each one's PID, rather than 500 spawns of this
    // much bigger process. setsid: the host outlives us and our terminal. setsid, nsenter,
    // unshare, sh (exec chroot) and chroot all exec without forking, so each PID printed ends up
    // being that host's sshd.
    const launcher =
      'while read -r name netns fstab root cidr log; do\n' +
      `  setsid nsenter --net="/run/netns/$netns" unshare --mount --uts --propagation private -- sh ${BOOT_FILE} "$name" "$fstab" "$root" "$cidr" ${CONTROLLER} ${BRIDGE_MAC} </dev/null >"$log" 2>&1 &\n` +
      '  echo "$name $!"\ndone\n'
    const lines = fresh.map((h) =>
      [
        h.name,
        h.netns,
        path.join(HOSTS_DIR, h.name, 'fstab'),
        path.join(SCALE_ROOTS, h.name, 'root'),
        `${h.address}/${PREFIX}`,
        path.join(HOSTS_DIR, h.name, 'log'),
      ].join(' '),
    )
    const started = run('sh', ['-c', launcher], `${lines.join('\n')}\n`)
    const byName = new Map(fresh.map((h) => [h.name, h]))
    for (const l of started.trim().split('\n')) {
      const [name = '', pid = ''] = l.split(' ')
      const h = byName.get(name)
      if (h && Number(pid) > 0) state.hosts[name] = { ...h, pid: Number(pid) }
    }
    saveState(state) // every pid at once, so `down` finds them even if the wait fails
    const missing = fresh.filter((h) => !state.hosts[h.name])
    if (missing.length) throw new LabError(`could not start ${missing.map((h) => h.name).join(' ')}`)
    log(
      `started ${fresh.length} host(s)${keep.length ? `, ${keep.length} already up` : ''} (roots, links and processes in ${secs()})`,
    )
    await waitForSshd(
      fresh.map((h) => state.hosts[h.name]!),
      60_000 + fresh.length * 100,
    )
    log(`sshd answering on all ${fresh.length} after ${secs()}`)
  }
  writeInventory(state)
  return { state, started: fresh.length, kept: keep.length, removed: surplus.length }
}

// ---------------------------------------------------------------------------------------------
// down, status

/** Stops everything the scale lab started and removes everything it created. Safe when nothing is up. */
export async function scaleDown(): Promise<void> {
  requireRoot()
  const hosts = new Map<string, Planned>(Object.values(loadScaleState().hosts).map((h) => [h.name, h]))
  const add = (m: RegExpExecArray | null) => {
    if (m && !hosts.has(`s${m[1]}`)) hosts.set(`s${m[1]}`, byIndex(Number(m[1])))
  }
  // What the kernel and the filesystem show, too: netns, links and roots no state file mentions.
  try {
    for (const f of fs.readdirSync('/run/netns')) add(new RegExp(`^${NETNS_PREFIX}(\\d+)$`).exec(f))
  } catch {
    /* no netns dir */
  }
  try {
    for (const d of fs.readdirSync(SCALE_ROOTS)) add(/^s(\d+)$/.exec(d))
  } catch {
    /* no roots */
  }
  try {
    for (const d of fs.readdirSync(HOSTS_DIR)) add(/^s(\d+)$/.exec(d))
  } catch {
    /* no state dir */
  }
  for (const l of ipJson<{ ifname: string }>(['link'])) add(/^fsc-(\d+)(@.*)?$/.exec(l.ifname))
  await removeHosts([...hosts.values()])
  const ours = () =>
    ipJson<{ ifname: string }>(['link'])
      .map((l) => l.ifname.replace(/@.*/, ''))
      .filter((n) => VETH.test(n) || n === BRIDGE)
  ipBatch(
    ours().map((l) => `link del ${l}`),
    true,
  )
  // Host mounts live in the hosts' private mount namespaces, so none should be here; if one is
  // (a host started by hand?), unmount it rather than rm -rf through it.
  const mounts = fs
    .readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => [SCALE_DIR, SCALE_ROOTS].some((d) => m === d || m.startsWith(`${d}/`)))
    .reverse()
  for (const m of mounts) {
    try {
      run('umount', ['-l', m])
    } catch {
      /* gone */
    }
  }
  fs.rmSync(SCALE_ROOTS, { recursive: true, force: true })
  fs.rmSync(SCALE_DIR, { recursive: true, force: true })
  const left = ours()
  if (left.length) throw new LabError(`links left behind: ${left.join(' ')}`)
}

async function scaleStatus(): Promise<ScaleHostStatus[]> {
  const hosts = Object.values(loadScaleState().hosts).sort((a, b) => a.index - b.index)
  return mapLimit(hosts, 32, async (h) => {
    const up = inNetns(h.pid, h.netns)
    return { name: h.name, address: h.address, pid: h.pid, alive: up, sshd: up && (await sshdAnswers(h, 3000)) }
  })
}

// ---------------------------------------------------------------------------------------------
// CLI: `npm run lab -- scale …` (lab.ts's main hands these over)

/** `scale up N | down | status [--json]`: the words after `scale`. The exit code; undefined for a usage error. */
export async function scaleMain(args: string[]): Promise<number | undefined> {
  const say = (s: string) => console.log(`lab: scale: ${s}`)
  const t0 = performance.now()
  const secs = () => ((performance.now() - t0) / 1000).toFixed(2)
  const [cmd, ...rest] = args
  if (cmd === 'up' && rest.length === 1 && /^\d+$/.test(rest[0]!)) {
    const r = await scaleUp(Number(rest[0]), say)
    say(
      `${Object.keys(r.state.hosts).length} hosts up in ${secs()} s (${r.started} started, ${r.kept} kept, ${r.removed} removed); inventory: ${SCALE_INVENTORY}`,
    )
    return 0
  }
  if (cmd === 'down' && !rest.length) {
    await scaleDown()
    say(`down in ${secs()} s`)
    return 0
  }
  if (cmd === 'status' && (rest.length === 0 || (rest.length === 1 && rest[0] === '--json'))) {
    const hosts = await scaleStatus()
    if (rest[0] === '--json') console.log(JSON.stringify(hosts, null, 2))
    else if (!hosts.length) say('down')
    else {
      const bad = hosts.filter((h) => !h.alive || !h.sshd)
      say(`${hosts.length - bad.length} of ${hosts.length} hosts up (sshd answering)`)
      for (const h of bad)
        console.log(
          `${h.name.padEnd(6)} ${h.address.padEnd(14)} pid ${String(h.pid).padEnd(8)} ${h.alive ? 'alive' : 'DEAD '} sshd ${h.sshd ? 'ok' : 'DOWN'}`,
        )
    }
    const ok = hosts.filter((h) => h.alive && h.sshd).length
    return ok === 0 ? 3 : ok === hosts.length ? 0 : 1
  }
  return undefined
}
