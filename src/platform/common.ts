// Shell building blocks the three platforms share, and the two halves of the normalised probe
// format: snippets print `key=value` lines, steps read them with `field`/`fields`.
//
// Files are edited on the host, never round-tripped through the controller, and always through
// `replaceFile`: see there for why root never follows a name another user could change. A line
// that writes a file starts with `f=PATH; ` so tests can find it.

import { quote, quoteArgv } from '../shell/quote.ts'
import type { Fact } from '../facts/ospf.ts'
import type { Iface, IfaceKind, IfaceState, Net, NextHop, Sysctl, Tunnel, TunnelIfaceKind } from './types.ts'

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
  const name = path.slice(path.lastIndexOf('/') + 1)
  const fail = (why: string) => `{ echo "ferry: $f ${why}" >&2; exit 1; }`
  const validate = r.validate && r.validate.replaceAll('%s', '"./$n"')
  const body = [
    'umask 077',
    `n=${quote(name)}`,
    `cd -P ${quote(dirOf(path))} && d=$(pwd -P) && p=$(mktemp -d .ferry.XXXXXX) || exit 1`,
    // The name just made could have been swapped for a link to a file or another directory.
    `cd -P "$p" 2>/dev/null && set -- $(ls -nd .) && case "$1:$3:$(pwd -P)" in drwx------*":$(id -u):\${d%/}/$p") ;; *) false ;; esac || ${fail('was not written: the private directory ferry made beside it was replaced (another user is racing ferry there)')}`,
    // Its name may have changed since, and the cleanup then leaves an empty directory behind.
    `trap 'rm -f "./$n" "./$n.was"; cd .. && rmdir "$p" 2>/dev/null' EXIT`,
    'o=/dev/null',
    `if [ -e "../$n" ] || [ -h "../$n" ]; then [ ! -d "../$n" ] || ${fail('is a directory')}; ln -P "../$n" "./$n.was" || exit 1; ` +
      `[ ! -h "./$n.was" ] || ${fail('is a symbolic link: ferry replaces regular files only (give the path it points to)')}; ` +
      `set -- $(ls -nd "./$n.was"); [ -f "./$n.was" ] && [ "$2" -le 2 ] || ${fail('is not a regular file with one link: ferry does not write through hard links')}; o="./$n.was"; fi`,
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
export const bsdNet: Net = {
  routeTo: bsdRouteTo,
  tcpOpen: (address, port) => tcpCheck(`nc -z -w 3 ${quote(address)} ${port}`),
}

// `ifconfig NAME` on FreeBSD and OpenBSD, normalised. Both print `inet A netmask 0xffffffff` and
// `inet A --> B netmask 0xffffffff` for point-to-point; the tunnel line is `tunnel inet A --> B`
// on FreeBSD, `tunnel: inet A --> B ttl 64` on OpenBSD, `physical address inet A --> B` on old
// OpenBSD. Netmasks come in hex and become prefix lengths.
const BSD_IFCONFIG_AWK = [
  'function bits(m,  h, i, d, n) { h = tolower(substr(m, 3)); for (i = 1; i <= length(h); i++) { d = index("0123456789abcdef", substr(h, i, 1)) - 1; n += (d >= 8) + (d % 8 >= 4) + (d % 4 >= 2) + d % 2 } return n + 0 }',
  'NR == 1 { u = ($0 ~ /[<,]UP[,>]/); print "up=" u }',
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

/** The BSDs name a cloned interface after its driver, with a unit number: gre5, tap5. */
const BSD_DRIVERS: Record<IfaceKind, string> = { loopback: 'lo', gre: 'gre', tap: 'tap', tun: 'tun' }

export const bsdTunnelName = (kind: TunnelIfaceKind, n: number) => `${BSD_DRIVERS[kind]}${n}`

/**
 * Why a BSD cannot clone an interface of this name: the driver's name and a unit number, and
 * never lo0, which is always there. `cloned` adds the word to the message, as FreeBSD says it.
 */
export function bsdRefuse(iface: Iface, cloned: boolean): string | undefined {
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
  remove: string[]
  add: string[]
  /** true: bring up, false: take down, undefined: leave. */
  up?: boolean
  /** Addresses left on the interface once `remove` is done: the first added one needs no alias. */
  kept: number
}

export function ifaceDelta(from: IfaceState, to: IfaceState): IfaceDelta {
  if (!to.exists) return { create: false, destroy: from.exists, remove: [], add: [], kept: 0 }
  // A missing interface keeps the probe's `up`: Linux loopback addresses live on `lo`, which is up.
  const base = from.exists ? from : { ...from, addresses: [], tunnel: undefined }
  const remove = base.addresses.filter((a) => !to.addresses.includes(a))
  return {
    create: !from.exists,
    destroy: false,
    tunnel: to.tunnel && !sameTunnel(base.tunnel, to.tunnel) ? to.tunnel : undefined,
    remove,
    add: to.addresses.filter((a) => !base.addresses.includes(a)),
    up: to.up === base.up ? undefined : to.up,
    kept: base.addresses.length - remove.length,
  }
}
