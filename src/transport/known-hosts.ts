// Strict host key checking against OpenSSH known_hosts files, for ssh2's `hostVerifier`
// (which hands us the server key as a wire blob: string keytype, then key data).
//
// Format, per sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT":
//   [marker] hostpatterns keytype base64key [comment]
// - `@revoked` lines refuse that key for every host; `@cert-authority` lines are ignored
//   because ferry does not do host certificates (a CA key must never count as a host key).
// - hostpatterns: comma list with `*`/`?` wildcards and `!` negation, or one hashed name
//   `|1|base64salt|base64hmac` with hmac = HMAC-SHA1(salt, hostSpec(host, port)).
// - Non-22 ports are written `[host]:port`; patterns are matched against that whole string.
// Lines we cannot parse are skipped, as OpenSSH does.

import { createHash, createHmac } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

export interface KnownKey {
  type: string
  blob: Buffer
  file: string
  line: number
}

export type HostKeyVerdict =
  | { kind: 'match'; entry: KnownKey }
  | { kind: 'unknown' } // no entry for this host at all
  | { kind: 'mismatch'; expected: KnownKey[] } // entries exist, none equals the offered key
  | { kind: 'revoked'; entry: KnownKey } // offered key is marked @revoked (any host)

/** Parsed known_hosts files by path, with the text they were parsed from (see `load`). Entries are never mutated. */
const parsedFiles = new Map<string, { text: string; entries: Entry[] }>()
/** Compiled host patterns (see globMatch): every connection matches every pattern of the files. */
const globs = new Map<string, RegExp>()

type HostMatcher = { hashed: false; patterns: string[] } | { hashed: true; salt: Buffer; hmac: Buffer }

interface Entry {
  revoked: boolean
  hosts: HostMatcher
  key: KnownKey
}

export class KnownHosts {
  private constructor(private readonly entries: Entry[]) {}

  /** Missing files are skipped silently (a fresh machine has none); any other read error throws. */
  static load(files: string[]): KnownHosts {
    const entries: Entry[] = []
    for (const file of files) {
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw err
      }
      // Cache: a run loads the same files once per connection, and parsing is O(lines), so 500
      // hosts with a 500-line known_hosts meant 250,000 line parses. The file is still read each
      // time (a change is seen at once); only unchanged text skips the parse.
      const cached = parsedFiles.get(file)
      if (cached?.text === text) {
        for (const e of cached.entries) entries.push(e)
        continue
      }
      const parsed: Entry[] = []
      text.split('\n').forEach((raw, i) => {
        const entry = parseLine(raw, file, i + 1)
        if (entry) parsed.push(entry)
      })
      parsedFiles.set(file, { text, entries: parsed })
      for (const e of parsed) entries.push(e)
    }
    return new KnownHosts(entries)
  }

  /**
   * host is the name/address the user connected to; port 22 uses the bare form, other ports `[host]:port`.
   *
   * Strictness: if ANY entry exists for the host (of any key type) and none equals the offered
   * key, that is a mismatch. OpenSSH only warns when the server offers a key of a type it has
   * no entry for; we refuse, because the client prefers the known types (see knownTypes), so a
   * well-behaved server presents one of them and anything else is suspicious.
   */
  check(host: string, port: number, key: Buffer): HostKeyVerdict {
    const type = keyType(key)
    const equals = (k: KnownKey) => k.type === type && k.blob.equals(key)
    // Revocation is checked first and regardless of the host pattern: a revoked key is never good.
    const revoked = this.entries.find((e) => e.revoked && equals(e.key))
    if (revoked) return { kind: 'revoked', entry: revoked.key }
    const expected = this.forHost(host, port)
    const match = expected.find(equals)
    if (match) return { kind: 'match', entry: match }
    return expected.length ? { kind: 'mismatch', expected } : { kind: 'unknown' }
  }

  /**
   * The key types known for this host, in file order without duplicates, so the client can
   * prefer them in its hostkey algorithm list (as OpenSSH does). These are key types: an
   * `ssh-rsa` key is negotiated as `rsa-sha2-512`/`rsa-sha2-256`, which the caller must map.
   */
  knownTypes(host: string, port: number): string[] {
    return [...new Set(this.forHost(host, port).map((k) => k.type))]
  }

  /**
   * Trust on first use: append a plain `host keytype base64` line (`[host]:port` for port != 22)
   * to `file`, creating it (and its dir) with mode 0600 if needed, and remember it in memory.
   */
  append(file: string, host: string, port: number, key: Buffer): void {
    const type = keyType(key)
    let existing = ''
    try {
      existing = readFileSync(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    }
    // A file whose last line lacks its newline would otherwise have our entry glued onto it.
    const sep = existing && !existing.endsWith('\n') ? '\n' : ''
    const spec = hostSpec(host.toLowerCase(), port)
    const fd = openSync(file, 'a', 0o600)
    try {
      writeSync(fd, `${sep}${spec} ${type} ${key.toString('base64')}\n`)
    } finally {
      closeSync(fd)
    }
    const line = (existing + sep).split('\n').length
    this.entries.push({
      revoked: false,
      hosts: { hashed: false, patterns: [spec] },
      key: { type, blob: Buffer.from(key), file, line },
    })
  }

  /** Valid (non-revoked) keys whose host patterns accept this host, in file order. */
  private forHost(host: string, port: number): KnownKey[] {
    // OpenSSH lowercases the host name before matching or hashing it.
    const spec = hostSpec(host.toLowerCase(), port)
    return this.entries.filter((e) => !e.revoked && hostMatches(e.hosts, spec)).map((e) => e.key)
  }
}

/** OpenSSH style: 'SHA256:' + unpadded base64 of sha256(blob). */
export function fingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '')
}

/** Reads the type string from the wire blob (uint32 length, then that many bytes). */
export function keyType(key: Buffer): string {
  if (key.length < 4) throw new Error('host key blob too short')
  const len = key.readUInt32BE(0)
  if (len === 0 || 4 + len > key.length) throw new Error('host key blob has a bad type length')
  return key.subarray(4, 4 + len).toString('latin1')
}

/** 'host' for port 22, '[host]:port' otherwise: the name known_hosts stores and hashes. */
export function hostSpec(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

function parseLine(raw: string, file: string, line: number): Entry | undefined {
  const fields = raw.trim().split(/\s+/)
  if (!fields[0] || fields[0].startsWith('#')) return undefined
  let revoked = false
  if (fields[0].startsWith('@')) {
    // @cert-authority (and any unknown marker) lines are not host keys for us.
    if (fields[0] !== '@revoked') return undefined
    revoked = true
    fields.shift()
  }
  const [hostField, type, b64] = fields
  if (!hostField || !type || !b64) return undefined
  const hosts = parseHosts(hostField)
  if (!hosts) return undefined
  const blob = Buffer.from(b64, 'base64')
  // Node's base64 decoder ignores garbage, so make sure the blob is well formed and agrees with
  // the type field; otherwise the line is corrupt (OpenSSH refuses such lines too).
  try {
    if (keyType(blob) !== type) return undefined
  } catch {
    return undefined
  }
  return { revoked, hosts, key: { type, blob, file, line } }
}

function parseHosts(field: string): HostMatcher | undefined {
  if (!field.startsWith('|')) return { hashed: false, patterns: field.toLowerCase().split(',') }
  // Hashed: `|1|salt|hmac`. Only format 1 (HMAC-SHA1, 20-byte salt) exists.
  const m = /^\|1\|([^|]+)\|([^|]+)$/.exec(field)
  if (!m) return undefined
  const salt = Buffer.from(m[1]!, 'base64')
  const hmac = Buffer.from(m[2]!, 'base64')
  if (salt.length !== 20 || hmac.length !== 20) return undefined
  return { hashed: true, salt, hmac }
}

function hostMatches(hosts: HostMatcher, spec: string): boolean {
  if (hosts.hashed) return createHmac('sha1', hosts.salt).update(spec).digest().equals(hosts.hmac)
  // Any matching negated pattern rules the line out, even if another pattern matches.
  let positive = false
  for (const p of hosts.patterns) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), spec)) return false
    } else if (globMatch(p, spec)) {
      positive = true
    }
  }
  return positive
}

/** `*` = any run of characters, `?` = exactly one; everything else literal (including `[`). */
function globMatch(pattern: string, s: string): boolean {
  let re = globs.get(pattern)
  if (!re) {
    if (globs.size >= 100_000) globs.clear()
    re = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
      's',
    )
    globs.set(pattern, re)
  }
  return re.test(s)
}
