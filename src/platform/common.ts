// Shell building blocks the three platforms share, and the two halves of the normalised probe
// format: snippets print `key=value` lines, steps read them with `field`/`fields`.
//
// Files are edited on the host, never round-tripped through the controller, and always through
// `replaceFile`: see there for why root never follows a name another user could change. A line
// that writes a file starts with `f=PATH; ` so tests can find it.

import { quote, quoteArgv } from '../shell/quote.ts'
import type { Fact } from '../facts/ospf.ts'
import type {
  Account,
  Cron,
  Iface,
  IfaceKind,
  IfaceState,
  Net,
  NextHop,
  Route,
  ServiceInstances,
  Sysctl,
  Tunnel,
  TunnelIfaceKind,
  Vlan,
} from './types.ts'

/** The value of the first `key=value` line, or undefined. */
export function field(stdout: string, key: string): string | undefined {
  return fields(stdout, key)[0]
}

/** The values of every `key=value` line, in order. */
export function fields(stdout: string, key: string): string[] {
  const prefix = `${key}=`
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length))
}

/** `0o644` → `0644`, as chmod takes it and people read it. */
export function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`
}

/** The directory part of an absolute path: `/etc/rc.conf` → `/etc`, `/x` → `/`. */
export function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/'
}

export interface Replacement {
  /**
   * Shell that prints the new content. It runs in the private directory, where `"$o"` names the
   * file being replaced (a hard link to it, checked to be a regular file), or /dev/null.
   */
  content: string
  /** Without a mode the new file gets the old one's mode and owner (0644 and root's when new). */
  mode?: number
  owner?: string
  /** Run on the new file before it goes in place; `%s` is its path (relative, `./NAME`). */
  validate?: string
  /** Where a copy of the old file is kept (mode 0600), if there is an old file. */
  backup?: string
  /** An empty result removes the file instead. */
  removeIfEmpty?: boolean
}

/**
 * One line of shell that replaces PATH by a new regular file, atomically (a rename), safe where
 * PATH's directory belongs to a less-privileged user (Debian's /etc/frr is frr's): that user can
 * rename and replace any name in it at any moment, so root must not open, chown or chmod any
 * name there after creating it. So the new file is made inside a private directory (mode 0700,
 * root's) that the script made beside PATH and then entered: names inside it are root's alone,
 * and `..` stays PATH's directory, since moving a directory to another parent takes write
 * permission on the directory itself. Its mode and owner are set before the content goes in,
 * chown before chmod (chown clears set-id bits). The old file is reached by `ln -P`, which links
 * the name itself and follows nothing; the link is then checked in the private directory, where
 * it cannot change: a symbolic link, or a file with other hard links (a planted link to
 * /etc/master.passwd, say; FreeBSD and OpenBSD let users make them), is refused, never read.
 * The final `mv NAME ..` renames over whatever PATH is then, which follows no link either.
 * Trusted: the directories above PATH's own. Runs in a subshell, so its cd and trap stay inside.
 */
export function replaceFile(path: string, r: Replacement): string {
  const validate = r.validate && r.validate.replaceAll('%s', '"./$n"')
  const body = [
    ...enterBeside(path, 'written'),
    // Its name may have changed since, and the cleanup then leaves an empty directory behind.
    `trap 'rm -f "./$n" "./$n.was"; cd .. && rmdir "$p" 2>/dev/null' EXIT`,
    'o=/dev/null',
    `if [ -e "../$n" ] || [ -h "../$n" ]; then [ ! -d "../$n" ] || ${fail('is a directory')}; ${LINK_OLD}; o="./$n.was"; fi`,
    r.mode === undefined
      ? 'if [ "$o" = /dev/null ]; then : > "./$n" && chmod 0644 "./$n"; else cp -p "$o" "./$n"; fi || exit 1'
      : `: > "./$n" && ${r.owner ? `chown ${quote(r.owner)} "./$n" && ` : ''}chmod ${octal(r.mode)} "./$n" || exit 1`,
    `{ ${r.content}; } > "./$n" || exit 1`,
    ...(validate
      ? [
          `if ! out=$(${validate} 2>&1); then printf 'validation failed: %s\\n%s\\n' ${quote(r.validate!)} "$out" >&2; exit 3; fi`,
        ]
      : []),
    ...(r.backup
      ? [
          `if [ "$o" != /dev/null ]; then mkdir -p ${quote(dirOf(r.backup))} && cat "$o" > ${quote(r.backup)} || exit 1; fi`,
        ]
      : []),
    r.removeIfEmpty ? 'if [ -s "./$n" ]; then mv -f "./$n" ..; else rm -f "../$n"; fi' : 'mv -f "./$n" ..',
  ]
  return `f=${quote(path)}; ( ${body.join('; ')} )`
}

const fail = (why: string) => `{ echo "ferry: $f ${why}" >&2; exit 1; }`

/**
 * How every script that changes a name in a directory another user may own begins (replaceFile
 * says why): a private directory made beside PATH, entered, and checked to be the one made.
 * Afterwards `$n` is PATH's name, `$d` its directory (physical), `$p` the private directory's name.
 */
function enterBeside(path: string, what: string): string[] {
  return [
    'umask 077',
    `n=${quote(path.slice(path.lastIndexOf('/') + 1))}`,
    `cd -P ${quote(dirOf(path))} && d=$(pwd -P) && p=$(mktemp -d .ferry.XXXXXX) || exit 1`,
    // The name just made could have been swapped for a link to a file or another directory.
    // (An S: Linux gives a directory made in a setgid one the setgid bit; its group still has no access.)
    `cd -P "$p" 2>/dev/null && set -- $(ls -nd .) && case "$1:$3:$(pwd -P)" in drwx--[-S]---*":$(id -u):\${d%/}/$p") ;; *) false ;; esac || ${fail(`was not ${what}: the private directory ferry made beside it was replaced (another user is racing ferry there)`)}`,
  ]
}

/** The old file, hard-linked into the private directory as `./$n.was` and checked there: a regular file with no other link. */
const LINK_OLD =
  `ln -P "../$n" "./$n.was" || exit 1; ` +
  `[ ! -h "./$n.was" ] || ${fail('is a symbolic link: ferry replaces regular files only (give the path it points to)')}; ` +
  `set -- $(ls -nd "./$n.was"); [ -f "./$n.was" ] && [ "$2" -le 2 ] || ${fail('is not a regular file with one link: ferry does not write through hard links')}`

// Directories and links, written the same way. replaceFile trusts the directories above the one
// it writes in, so the steps make missing parents only where no one else can write (and
// src/steps/fs.ts refuses the rest at plan time); a directory or a link in a directory that
// someone else may own goes through a private directory beside it.

/** A directory's mode, and its owner (`user`, `user:group` or `:group`; without one, the creator's). */
export interface DirAttrs {
  mode: number
  owner?: string
}

// Five digits (00755, 02775): GNU chmod keeps a directory's set-id bits under a shorter numeric
// mode (chmod 0755 on drwxr-sr-x changes nothing), and a directory made in a setgid one gets the
// setgid bit; BSD chmod reads any number of leading zeros.
const chownChmod = (a: DirAttrs, name: string) =>
  `${a.owner ? `chown ${quote(a.owner)} ${name} && ` : ''}chmod ${a.mode.toString(8).padStart(5, '0')} ${name}`

/**
 * Makes the missing parents `dirs` (outermost first, each inside the one before), leaving any
 * that exists by now (an earlier step made it). By path, so only inside a directory that the
 * user ferry runs as owns and no one else may write: there no name can be swapped while mkdir,
 * chown and chmod act on it. The plan refuses the rest (src/steps/fs.ts); this checks again on
 * the host, for a parent an earlier step of the run made since (only its owner could open it
 * up afterwards), and names the one it did not make. umask 077 keeps each new one closed until
 * chmod sets its mode.
 */
export function makeParents(dirs: readonly string[], a: DirAttrs): string {
  const made = dirs.map((d) => {
    const q = quote(d)
    return (
      `if [ ! -d ${q} ]; then f=${q}; set -- $(ls -nd ${quote(dirOf(d))}/.); case "$1" in ?????w*|????????w*) false ;; esac && [ "$3" = "$u" ] || ${fail('was not made: a directory above it may be written by another user')}; ` +
      `mkdir ${q} && ${chownChmod(a, q)} || exit 1; fi`
    )
  })
  return `( umask 077; u=$(id -u); ${made.join('; ')} )`
}

/** Removes the parents `dirs` made (given outermost first), innermost first, each only if it is empty. */
export function removeParents(dirs: readonly string[]): string {
  return `{ rmdir ${quoteArgv([...dirs].reverse())} 2>/dev/null || true; }`
}

/**
 * Makes the directory PATH, safe where its parent belongs to a less-privileged user (a home's
 * .ssh): made in a private directory beside it, where its owner and mode are set (and, with
 * `from`, what a tar archive holds is put in it), then renamed into place in one step. A rename
 * never follows a link, replaces an empty directory, and fails on any other name taken.
 */
export function makeDir(path: string, a: DirAttrs, from?: string): string {
  const fill = from ? `tar -xpf ${quote(from)} -C "./$n" && ` : ''
  const body = [
    ...enterBeside(path, 'made'),
    `trap 'rm -rf "./$n"; cd .. && rmdir "$p" 2>/dev/null' EXIT`,
    `mkdir "./$n" && ${fill}${chownChmod(a, '"./$n"')} && mv "./$n" ..`,
  ]
  return `f=${quote(path)}; ( ${body.join('; ')} )`
}

/**
 * Sets the mode and owner of the existing directory PATH through `.`, once inside it: `cd -P`
 * may have followed a link swapped in for the name, so the directory entered must be at PATH
 * itself and be the one the probe saw (`inode`), or nothing changes.
 */
export function setDirAttrs(path: string, inode: string, a: DirAttrs): string {
  const body = [
    `n=${quote(path.slice(path.lastIndexOf('/') + 1))}`,
    `cd -P ${quote(dirOf(path))} && d=$(pwd -P) && cd -P "./$n" || exit 1`,
    `[ "$(pwd -P)" = "\${d%/}/$n" ] && set -- $(ls -di .) && [ "$1" = ${quote(inode)} ] || ${fail('was not changed: it is no longer the directory ferry looked at (replaced, or a link)')}`,
    chownChmod(a, '.'),
  ]
  return `f=${quote(path)}; ( ${body.join('; ')} )`
}

/**
 * Removes the directory PATH with all it holds, after a tar of it at `backup` (mode 0600): it
 * is renamed into a private directory beside it first (a rename follows no link), checked there
 * to be a directory, and archived and removed where no one else can reach it. Whatever fails
 * puts it back (what is left of it), and the archive exists only once it is whole.
 */
export function removeDir(path: string, backup: string): string {
  const body = [
    ...enterBeside(path, 'removed'),
    `trap 'if [ -e "./$n" ] || [ -h "./$n" ]; then mv "./$n" ..; fi; cd .. && rmdir "$p" 2>/dev/null' EXIT`,
    `mv "../$n" "./$n" || exit 1`,
    `[ -d "./$n" ] && [ ! -h "./$n" ] || ${fail('is not a directory')}`,
    // A tar that failed is no backup: undo restores from one only if it is there.
    `mkdir -p ${quote(dirOf(backup))} && tar -cf ${quote(backup)} -C "./$n" . || { rm -f ${quote(backup)}; exit 1; }`,
    'rm -rf "./$n"',
  ]
  return `f=${quote(path)}; ( ${body.join('; ')} )`
}

/**
 * Makes PATH a symbolic link to `target`, made in a private directory beside it and renamed
 * over whatever link was there, in one step. A regular file in the way is checked as replaceFile
 * checks one and copied to `backup` first (mode 0600); without `backup` it is refused, as a
 * directory always is.
 */
export function replaceLink(path: string, target: string, backup?: string): string {
  const file = backup
    ? `${LINK_OLD}; mkdir -p ${quote(dirOf(backup))} && cat "./$n.was" > ${quote(backup)} || exit 1`
    : fail('is a regular file: ferry replaces one by a link only when told to (force)')
  const body = [
    ...enterBeside(path, 'written'),
    `trap 'rm -f "./$n" "./$n.was"; cd .. && rmdir "$p" 2>/dev/null' EXIT`,
    `if [ -h "../$n" ]; then :; elif [ -d "../$n" ]; then ${fail('is a directory')}; elif [ -e "../$n" ]; then ${file}; fi`,
    `ln -s ${quote(target)} "./$n" && mv -f "./$n" ..`,
  ]
  return `f=${quote(path)}; ( ${body.join('; ')} )`
}

/** Replaces a whole file with `lines` (values that are not secret: they travel in argv). */
export function writeFile(path: string, lines: readonly string[], mode: number): string {
  return replaceFile(path, { content: `printf '%s\\n' ${quoteArgv(lines)}`, mode })
}

export function removeFile(path: string): string {
  return `f=${quote(path)}; rm -f "$f"`
}

/**
 * The `instance=` line of a service instance's probe (types.ts, ServiceInstances): whether
 * `path` is a symbolic link to one of `targets`, or else whether any of `taken` (every name the
 * init system would find the service by) is something else, or nothing is there. Nothing is
 * followed: `-h` and readlink look at the name itself. All are shell words, quoted by the caller.
 */
export function instanceState(path: string, targets: readonly string[], taken: readonly string[] = [path]): string {
  return [
    `if [ -h ${path} ]; then case $(readlink ${path}) in ${targets.join('|')}) echo instance=link ;; *) echo instance=other ;; esac`,
    `elif ${taken.map((p) => `[ -e ${p} ] || [ -h ${p} ]`).join(' || ')}; then echo instance=other; else echo instance=none; fi`,
  ].join('\n')
}

/** Removes the symbolic link `path` if it still points at `target`; rm removes the name, following nothing. */
export function unlinkIf(path: string, target: string): string {
  return `if [ "$(readlink ${quote(path)} 2>/dev/null)" = ${quote(target)} ]; then rm -f ${quote(path)}; fi`
}

/** An instance as a link beside its base's script, to the base's bare name (Linux's, FreeBSD's; OpenBSD links the full path). */
export const siblingLink: Pick<ServiceInstances, 'link' | 'unlink'> = {
  link: (base, name, dir) => `ln -s ${quote(base)} ${quote(`${dir}/${name}`)}`,
  unlink: (base, name, dir) => unlinkIf(`${dir}/${name}`, base),
}

/** Makes a file read `lines`: nothing when `current` already does, else a write, or a removal when there are no lines. */
export function saveFile(path: string, lines: readonly string[], current: readonly string[], mode: number): string[] {
  if (lines.join('\n') === current.join('\n')) return []
  return [lines.length ? writeFile(path, lines, mode) : removeFile(path)]
}

// The key of a `key=value` line: text before the first `=`, comments (`#`, sysctl.d's `;`) cut
// off, blanks trimmed. Values never contain `#` or `;` in the files this reads.
const KEY_OF =
  's = $0; sub(/[#;].*/, "", s); i = index(s, "="); k = substr(s, 1, i - 1); gsub(/^[ \\t]+|[ \\t]+$/, "", k)'

/** Prints `saved=VALUE` for the last line of a `key=value` file that sets `key`. */
export function confValue(path: string, key: string): string {
  const p = quote(path)
  return `[ ! -f ${p} ] || K=${quote(key)} awk '{ ${KEY_OF} } i && k == ENVIRON["K"] { v = substr(s, i + 1); gsub(/^[ \\t]+|[ \\t]+$/, "", v); f = 1 } END { if (f) print "saved=" v }' ${p}`
}

/**
 * Sets `key` in a `key=value` file: its first line is replaced by `line` where it stands, later
 * ones dropped, or `line` is appended. Without `line`, every line for the key goes; a file left
 * empty goes too. The file keeps its mode and owner.
 */
export function editConf(path: string, key: string, line?: string): string {
  const awk = `{ ${KEY_OF} } i && k == ENVIRON["K"] { if (!done && ENVIRON["L"] != "") print ENVIRON["L"]; done = 1; next } { print } END { if (!done && ENVIRON["L"] != "") print ENVIRON["L"] }`
  return replaceFile(path, { content: `K=${quote(key)} L=${quote(line ?? '')} awk '${awk}' "$o"`, removeIfEmpty: true })
}

/**
 * sysctl with persistence in a `key=value` file; `set` spells the live assignment, `readonly` a
 * test that prints `readonly=REASON` for a key the kernel would refuse to set, where one can tell.
 */
export function sysctlIn(
  file: string,
  set: (assignment: string) => string,
  readonly?: (key: string) => string,
): Sysctl {
  return {
    file,
    probe: (key) =>
      [
        `if v=$(sysctl -n ${quote(key)} 2>/dev/null); then printf 'live=%s\\n' "$v"; fi`,
        confValue(file, key),
        ...(readonly ? [readonly(key)] : []),
      ].join('\n'),
    set: (key, value) => set(quote(`${key}=${value}`)),
    persist: (key, value) => editConf(file, key, `${key}=${value}`),
    unpersist: (key) => editConf(file, key),
  }
}

/** A TCP check: `connect` succeeds when the port answers, and the fact prints `open` then. */
export function tcpCheck(connect: string): Fact<boolean> {
  return { command: `${connect} 2>/dev/null && echo open`, parse: (stdout) => stdout.trim() === 'open' }
}

/** The BSDs' `route -n get`: `gateway: 172.16.2.5` and `interface: tap2` lines. */
export const bsdRouteTo = (address: string): Fact<NextHop | undefined> => ({
  command: `route -n get ${quote(address)}`,
  parse(stdout) {
    const dev = /^\s*interface: (\S+)/m.exec(stdout)?.[1]
    if (!dev) return undefined
    const gateway = /^\s*gateway: (\S+)/m.exec(stdout)?.[1]
    return gateway ? { gateway, dev } : { dev }
  },
})

/** The BSDs' reachability facts: route get, and nc, which both have in base. */
/** A destination as netstat and route(8) abbreviate it (`192.168.1/24`, `127/8`, `10.0.0.1`), in full. */
function bsdDestination(d: string): string {
  if (d === 'default') return d
  const [net = '', prefix] = d.split('/')
  const octets = net.split('.')
  return `${[...octets, '0', '0', '0'].slice(0, 4).join('.')}/${prefix ?? (octets.length === 4 ? 32 : octets.length * 8)}`
}

/**
 * A BSD routing table as netstat -r and OpenBSD's route show print it (Destination Gateway Flags
 * …), the destinations of the static routes (flag S): `list` is the command for one table.
 */
export const bsdStaticRoutes =
  (list: (table: number) => string) =>
  (table: number): Fact<string[]> => ({
    command: list(table),
    parse: (out) =>
      out
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((w) => w.length >= 3 && /^[\d./]+$|^default$/.test(w[0]!) && w[2]!.includes('S'))
        .map((w) => bsdDestination(w[0]!)),
  })

export const bsdNet: Omit<Net, 'staticRoutes'> = {
  routeTo: bsdRouteTo,
  tcpOpen: (address, port) => tcpCheck(`nc -z -w 3 ${quote(address)} ${port}`),
}

/**
 * `ip -4 route show table N`, less the kernel's own routes and a routing daemon's (zebra's
 * protocols: a BGP speaker in the domain fills its table): what an administrator or ferry set, as
 * the BSDs' static flag S says.
 */
export const linuxStaticRoutes = (table: number): Fact<string[]> => ({
  command: `ip -4 route show table ${table}`,
  parse: (out) =>
    out
      .split('\n')
      .filter(
        (l) =>
          l.trim() !== '' && !/ proto (kernel|bgp|ospf|isis|rip|eigrp|babel|openfabric)\b/.test(l) && !/^\s/.test(l),
      )
      .map((l) => {
        const words = l.split(/\s+/)
        const d = /^(blackhole|unreachable|prohibit|throw|local|broadcast|multicast)$/.test(words[0]!)
          ? words[1]!
          : words[0]!
        return d === 'default' || d.includes('/') ? d : `${d}/32`
      }),
})

// `ifconfig NAME` on FreeBSD and OpenBSD, normalised. Both print `inet A netmask 0xffffffff` and
// `inet A --> B netmask 0xffffffff` for point-to-point; the tunnel line is `tunnel inet A --> B`
// on FreeBSD, `tunnel: inet A --> B ttl 64` on OpenBSD, `physical address inet A --> B` on old
// OpenBSD. Netmasks come in hex and become prefix lengths.
const BSD_IFCONFIG_AWK = [
  'function bits(m,  h, i, d, n) { h = tolower(substr(m, 3)); for (i = 1; i <= length(h); i++) { d = index("0123456789abcdef", substr(h, i, 1)) - 1; n += (d >= 8) + (d % 8 >= 4) + (d % 4 >= 2) + d % 2 } return n + 0 }',
  'NR == 1 { u = ($0 ~ /[<,]UP[,>]/); print "up=" u; if (match($0, / rdomain [0-9]+/)) print "domain=" substr($0, RSTART + 9, RLENGTH - 9) }',
  '$1 == "description:" { sub(/^[ \\t]*description: /, ""); print "description=" $0 }',
  '$1 == "encap:" && $2 == "vnetid" && $3 ~ /^[0-9]+$/ { for (i = 4; i < NF; i++) if ($i == "parent") print "vlan=" $3 " " $(i + 1) }',
  '$1 == "inet" { p = ""; m = ""; for (i = 3; i < NF; i++) { if ($i == "-->") p = $(i + 1); if ($i == "netmask") m = $(i + 1) } n = bits(m); if (p == "") print "addr=" $2 "/" n; else print "addr=" $2 " peer " p (n == 32 ? "" : "/" n) }',
  '($1 == "tunnel" || $1 == "tunnel:") && $2 == "inet" { print "tunnel=" $3 " " $5 }',
  '$1 == "physical" && $2 == "address" && $3 == "inet" { print "tunnel=" $4 " " $6 }',
].join('\n')

/** The live half of an interface probe on the BSDs. */
export function bsdLiveProbe(name: string): string {
  const n = quote(name)
  return `if out=$(ifconfig ${n} 2>/dev/null); then echo exists=1; printf '%s\\n' "$out" | awk '${BSD_IFCONFIG_AWK}'; else echo exists=0; echo up=0; fi`
}

/** The parts of `A peer B` (prefix 32) or `A peer B/30`; undefined for a CIDR address. */
export function peerOf(address: string): { local: string; peer: string; prefix: number } | undefined {
  const m = /^(\S+) peer ([^\s/]+)(?:\/(\d+))?$/.exec(address)
  return m ? { local: m[1]!, peer: m[2]!, prefix: Number(m[3] ?? 32) } : undefined
}

/** `A peer B` → `A B netmask 0xffffffff`, for ifconfig after `inet` or alone on a hostname.if line; undefined for a CIDR address. */
export function pair(address: string): string | undefined {
  const p = peerOf(address)
  return p && `${p.local} ${p.peer} netmask ${hexMask(p.prefix)}`
}

/** The BSDs name a cloned interface after its driver, with a unit number: gre5, tap5, vlan6. */
const BSD_DRIVERS: Record<Exclude<IfaceKind, 'vrf'>, string> = {
  loopback: 'lo',
  gre: 'gre',
  tap: 'tap',
  tun: 'tun',
  vlan: 'vlan',
}

export const bsdTunnelName = (kind: TunnelIfaceKind, n: number) => `${BSD_DRIVERS[kind]}${n}`

/**
 * Why a BSD cannot clone an interface of this name: the driver's name and a unit number, and
 * never lo0, which is always there. `cloned` adds the word to the message, as FreeBSD says it.
 */
export function bsdRefuse(iface: Iface, cloned: boolean): string | undefined {
  if (iface.kind === 'vrf')
    return `${iface.name}: a vrf interface is Linux's; on the BSDs a routing domain's own interface is its loopback (domainIface)`
  const driver = BSD_DRIVERS[iface.kind]
  if (!new RegExp(`^${driver}[0-9]+$`).test(iface.name) || iface.name === 'lo0')
    return `${iface.name}: a ${cloned ? 'cloned ' : ''}${iface.kind} interface is named ${driver}N${iface.kind === 'loopback' ? ' (N ≥ 1)' : ''}`
  return undefined
}

/** The address alone, no prefix or peer: what removing it takes. */
export function localOf(address: string): string {
  return address.split(/[ /]/)[0]!
}

/** `32` → `0xffffffff`, the form the BSDs print and the seed articles write. */
export function hexMask(prefix: number): string {
  return `0x${((0xffffffff << (32 - prefix)) >>> 0).toString(16).padStart(8, '0')}`
}

function sameTunnel(a: Tunnel | undefined, b: Tunnel | undefined): boolean {
  return a?.local === b?.local && a?.remote === b?.remote
}

/** What must happen to take an interface from one state to another; platforms spell it out. */
export interface IfaceDelta {
  create: boolean
  destroy: boolean
  tunnel?: Tunnel
  /** The tag and parent to set (a vlan made, or moved). */
  vlan?: Vlan
  /** The routing domain to move it to (0: the default one); moving it drops its addresses on OpenBSD, so `add` then holds them all. */
  domain?: number
  /** The description to set ('' clears it). */
  description?: string
  remove: string[]
  add: string[]
  /** true: bring up, false: take down, undefined: leave. */
  up?: boolean
  /** Addresses left on the interface once `remove` is done: the first added one needs no alias. */
  kept: number
}

/**
 * The routing domain is always compared (none is the default one, 0); a description only when
 * one is wanted. Moving to another domain takes every address off first and puts the wanted ones
 * back after: OpenBSD's `rdomain` drops them itself, and an address belongs to its domain.
 */
export function ifaceDelta(from: IfaceState, to: IfaceState): IfaceDelta {
  if (!to.exists) return { create: false, destroy: from.exists, remove: [], add: [], kept: 0 }
  // A missing interface keeps the probe's `up`: Linux loopback addresses live on `lo`, which is up.
  const base = from.exists ? from : { ...from, addresses: [], tunnel: undefined, vlan: undefined, domain: undefined }
  const moved = (to.domain ?? 0) !== (base.domain ?? 0)
  const remove = moved ? base.addresses : base.addresses.filter((a) => !to.addresses.includes(a))
  return {
    create: !from.exists,
    destroy: false,
    tunnel: to.tunnel && !sameTunnel(base.tunnel, to.tunnel) ? to.tunnel : undefined,
    vlan: to.vlan && (to.vlan.id !== base.vlan?.id || to.vlan.parent !== base.vlan?.parent) ? to.vlan : undefined,
    domain: moved ? (to.domain ?? 0) : undefined,
    description:
      to.description !== undefined && to.description !== (from.exists ? (from.description ?? '') : '')
        ? to.description
        : undefined,
    remove,
    add: moved ? to.addresses : to.addresses.filter((a) => !base.addresses.includes(a)),
    up: to.up === base.up ? undefined : to.up,
    kept: base.addresses.length - remove.length,
  }
}

/** The `@` keywords every Vixie cron takes (Debian's, FreeBSD's and OpenBSD's crontab(5)). */
export const CRON_SPECIALS = ['reboot', 'yearly', 'annually', 'monthly', 'weekly', 'daily', 'midnight', 'hourly']

/**
 * Vixie cron's crontab(1), which Debian, FreeBSD and OpenBSD ship: `-u USER` with `-l`, `-r`, or
 * `-` for a new crontab on stdin. `-l` leaves out the three header lines the install wrote. The
 * spool file, not `-l`'s status, tells whether a user has a crontab: `-l` fails alike for none
 * and for a crontab it cannot read.
 */
export function vixieCron(o: { spool: string; dir?: string; specials: readonly string[] }): Cron {
  return {
    ...o,
    probe: (user) =>
      [
        `if id ${quote(user)} >/dev/null 2>&1; then echo user=1; else echo user=0; fi`,
        'if ! command -v crontab >/dev/null 2>&1; then echo crontab=0',
        `elif [ -f ${quote(`${o.spool}/${user}`)} ]; then echo crontab=1; echo tab=1; crontab -u ${quote(user)} -l || exit 3`,
        'else echo crontab=1; echo tab=0; fi',
      ].join('\n'),
    list: (user) => `crontab -u ${quote(user)} -l`,
    install: (user) => `crontab -u ${quote(user)} -`,
    // FreeBSD's asks first when its stdin is a terminal.
    remove: (user) => `crontab -u ${quote(user)} -r </dev/null`,
  }
}

// Users and groups: the probes all three share (getent's output is passwd(5) and group(5) lines
// everywhere), and the flags useradd, usermod and pw take alike. On the BSDs root's getent passwd
// prints the password hash, so its lines go straight into awk, which prints other fields only.

/** The BSDs keep the hash in /etc/master.passwd, root's alone (pwd_mkdb builds the databases from it). */
export function bsdHash(name: string): string {
  return `U=${quote(name)} awk -F: '$1 == ENVIRON["U"] { print $2; exit }' /etc/master.passwd`
}

const PASSWD_AWK = [
  'BEGIN { n = split(ENVIRON["W"], w, " "); for (i = 1; i <= n; i++) want[w[i]] = 1 }',
  '$1 == "p" && !p { p = 1; gid = $5; print "exists=1"; print "uid=" $4; print "gid=" $5; print "comment=" $6; print "home=" $7; print "shell=" $8 }',
  '$1 == "u" { print "uid_user=" $2 }',
  '$1 == "g" { if (p && $4 == gid && !pg) { pg = 1; print "group=" $2 } if ($2 in want) print "has=" $2; k = split($5, m, ","); for (i = 1; i <= k; i++) if (m[i] == ENVIRON["U"]) print "member=" $2 }',
].join('\n')

/**
 * The user probe (see Users.probeUser): `printHash` prints the hash, `sha256` is the OS's SHA-256
 * tool the digest goes through.
 */
export function userProbe(
  name: string,
  o: { home: string; uid?: number; groups: readonly string[]; hash: boolean; locked?: boolean },
  printHash: string,
  sha256: string,
): string {
  const n = quote(name)
  const sources = [
    `getent passwd ${n} | sed 's/^/p:/'`,
    ...(o.uid === undefined ? [] : [`getent passwd ${o.uid} | sed 's/^/u:/'`]),
    `getent group | sed 's/^/g:/'`,
  ]
  return [
    `{ ${sources.join('; ')}; } | U=${n} W=${quote(o.groups.join(' '))} awk -F: '${PASSWD_AWK}'`,
    `if [ -d ${quote(o.home)} ]; then echo home_dir=1; fi`,
    ...(o.hash ? [`echo "hash=$(${printHash} | tr -d '\\n' | ${sha256})"`] : []),
    ...(o.locked ? [`case $(${printHash}) in '*'* | '!'*) echo locked=1 ;; esac`] : []),
  ].join('\n')
}

const GROUP_AWK = [
  '$1 == "g" && !g { g = 1; print "exists=1"; print "gid=" $4; k = split($5, m, ","); for (i = 1; i <= k; i++) print "member=" m[i] }',
  '$1 == "i" { print "gid_group=" $2 }',
].join('\n')

/** The group probe (see Users.probeGroup). */
export function groupProbe(name: string, o: { gid?: number; primary: boolean }): string {
  const n = quote(name)
  const sources = [
    `getent group ${n} | sed 's/^/g:/'`,
    ...(o.gid === undefined ? [] : [`getent group ${o.gid} | sed 's/^/i:/'`]),
  ]
  return [
    `{ ${sources.join('; ')}; } | awk -F: '${GROUP_AWK}'`,
    ...(o.primary
      ? [
          `g=$(getent group ${n} | cut -d: -f3)`,
          `if [ -n "$g" ]; then getent passwd | G="$g" awk -F: '$4 == ENVIRON["G"] { print "primary=" $1 }'; fi`,
        ]
      : []),
  ].join('\n')
}

/** The flags of an account's settings, as useradd, usermod and pw spell them (`groups`: -G, or OpenBSD usermod's -S). */
export function accountFlags(a: Account, groups = '-G'): string[] {
  return [
    ...(a.uid === undefined ? [] : ['-u', String(a.uid)]),
    ...(a.group === undefined ? [] : ['-g', a.group]),
    ...(a.groups === undefined ? [] : [groups, a.groups.join(',')]),
    ...(a.comment === undefined ? [] : ['-c', a.comment]),
    ...(a.home === undefined ? [] : ['-d', a.home]),
    ...(a.shell === undefined ? [] : ['-s', a.shell]),
  ]
}

/** A new account's flags: no -G for no groups. */
export function newAccountFlags(a: Account): string[] {
  return accountFlags(a.groups?.length ? a : { ...a, groups: undefined })
}

/**
 * A boot configuration kept in several files, as `render` gives it: each file's lines after a
 * line `==> PATH <==`. Lines before the first such line belong to `single` (a one-file
 * configuration has no header at all).
 */
export function splitFiles(lines: readonly string[], single: string): { path: string; lines: string[] }[] {
  const files: { path: string; lines: string[] }[] = []
  for (const line of lines) {
    const header = /^==> (.+) <==$/.exec(line)
    if (header) files.push({ path: header[1]!, lines: [] })
    else if (files.length) files.at(-1)!.lines.push(line)
    else files.push({ path: single, lines: [line] })
  }
  return files
}

/** The header that starts a file's lines in a several-file configuration. */
export const fileHeader = (path: string) => `==> ${path} <==`

/** `16` → `255.255.0.0`, as route(8) prints a mask. */
export function dottedMask(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
  return [24, 16, 8, 0].map((s) => (m >>> s) & 0xff).join('.')
}

/** The parts of a route's destination: `default`, or a network and its prefix length. */
export function routeDest(to: string): { address: string; prefix: number } {
  if (to === 'default') return { address: '0.0.0.0', prefix: 0 }
  const [address, prefix] = to.split('/')
  return { address: address!, prefix: Number(prefix ?? 32) }
}

// `route -n get` on FreeBSD and OpenBSD: `destination:`, `mask:` (none for a host route; an
// all-zero address or mask reads `default`), `gateway:`, `interface:` and `flags: <UP,GATEWAY,…>`.
// The kernel answers with the best match, so the destination and mask must be the route's own.
const BSD_ROUTE_AWK = [
  'function z(v) { return v == "0.0.0.0" ? "default" : v }',
  '$1 == "destination:" { d = z($2) } $1 == "mask:" { m = z($2) } $1 == "gateway:" { g = $2 } $1 == "interface:" { i = $2 } $1 == "flags:" { f = $2 }',
  'END { if (d != ENVIRON["D"] || m != ENVIRON["M"]) exit; if (f ~ /BLACKHOLE/) print "route=blackhole"; else if (f ~ /REJECT/) print "route=reject"; else if (f ~ /GATEWAY/) print "route=via " g " dev " i; else print "route=dev " i }',
].join('\n')

/** The live half of a route probe on the BSDs: `get` is the route(8) command that looks it up. */
export function bsdRouteProbe(get: string, to: string): string {
  const { address, prefix } = routeDest(to)
  const d = prefix === 0 ? 'default' : address
  const m = prefix === 0 ? 'default' : prefix === 32 ? '' : dottedMask(prefix)
  return `if out=$(${get} 2>/dev/null); then printf '%s\\n' "$out" | D=${quote(d)} M=${quote(m)} awk '${BSD_ROUTE_AWK}'; fi`
}

/** The interface whose boot configuration keeps a route, where the OS keeps routes that way (Linux, OpenBSD). */
export const bootIface = (r: Route) => r.iface ?? r.dev

/**
 * A route's own lines in the boot file of the interface that keeps it, a file its interface's
 * step writes and keeps route lines in (ifupdown's stanza, OpenBSD's hostname.if). In awk, `match`
 * picks the lines that add a route and `keys` sets k to one's destination and t to its table;
 * the route's own are those with its destination `dest` and table.
 */
export interface RouteLines {
  path: string
  match: string
  keys: string
  dest: string
  table?: number
  /** The file's mode when save writes it; default, as it was. */
  mode?: number
}

/** awk over the route's lines: OURS runs on its own, `rest` after (`{ print }`). */
const routeAwk = (l: RouteLines, ours: string, rest = '') =>
  `K=${quote(l.dest)} T=${quote(l.table ? String(l.table) : '')} awk '${l.match} { ${l.keys}; if (k == ENVIRON["K"] && t == ENVIRON["T"]) { ${ours} } }${rest}'`

/** Prints the route's lines as `saved=`, or `nosave=WHY` when there is no file. */
export function routeLinesProbe(l: RouteLines, why: string): string {
  const f = quote(l.path)
  return `if [ -f ${f} ]; then ${routeAwk(l, 'print "saved=" $0')} ${f}; else echo ${quote(`nosave=${why}`)}; fi`
}

/** Replaces the route's lines with `lines` (after the file's others), in place: every other line stays. */
export function saveRouteLines(l: RouteLines, lines: readonly string[], current: readonly string[]): string[] {
  if (lines.join('\n') === current.join('\n')) return []
  const add = lines.length ? `; printf '%s\\n' ${quoteArgv(lines)}` : ''
  return [replaceFile(l.path, { content: `${routeAwk(l, 'next', ' { print }')} "$o"${add}`, mode: l.mode })]
}
