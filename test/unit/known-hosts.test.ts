// known_hosts checking against real material: keys from ssh-keygen, hashed entries from
// `ssh-keygen -H`, fingerprints compared with `ssh-keygen -lf`. Nothing is hand-computed.

import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fingerprint, hostSpec, KnownHosts, keyType } from '../../src/transport/known-hosts.ts'

interface TestKey {
  type: string
  b64: string
  blob: Buffer
  pub: string
}

let dir: string
let ed: TestKey // the "real" host key
let ed2: TestKey // another ed25519 key (an impostor)
let rsa: TestKey
let ecdsa: TestKey

function genKey(name: string, type: string): TestKey {
  const path = join(dir, name)
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', path])
  const pub = `${path}.pub`
  const [keytype, b64] = readFileSync(pub, 'utf8').trim().split(/\s+/) as [string, string]
  return { type: keytype, b64, blob: Buffer.from(b64, 'base64'), pub }
}

let n = 0
/** Writes a known_hosts file with the given lines; `hashed` runs the real `ssh-keygen -H` over it. */
function hostsFile(lines: string[], hashed = false): string {
  const file = join(dir, `known_hosts.${n++}`)
  writeFileSync(file, lines.join('\n') + '\n')
  if (hashed) execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'pipe' })
  return file
}

const line = (hosts: string, k: TestKey) => `${hosts} ${k.type} ${k.b64}`
const load = (...lines: string[]) => KnownHosts.load([hostsFile(lines)])

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-known-hosts-'))
  ed = genKey('ed', 'ed25519')
  ed2 = genKey('ed2', 'ed25519')
  rsa = genKey('rsa', 'rsa')
  ecdsa = genKey('ecdsa', 'ecdsa')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('helpers', () => {
  it('keyType reads the type from the wire blob', () => {
    expect(keyType(ed.blob)).toBe('ssh-ed25519')
    expect(keyType(rsa.blob)).toBe('ssh-rsa')
    expect(keyType(ecdsa.blob)).toBe(ecdsa.type)
    expect(() => keyType(Buffer.from([0, 0, 0, 9, 65]))).toThrow()
  })

  it('fingerprint equals what ssh-keygen -lf prints', () => {
    for (const k of [ed, rsa, ecdsa]) {
      const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', k.pub], { encoding: 'utf8' })
      expect(fingerprint(k.blob)).toBe(/(SHA256:\S+)/.exec(out)![1])
    }
  })

  it('hostSpec brackets non-22 ports', () => {
    expect(hostSpec('server1', 22)).toBe('server1')
    expect(hostSpec('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222')
  })
})

describe('check', () => {
  it('matches a plain entry, and reports its file and line', () => {
    const file = hostsFile(['# comment', line('server1', ed)])
    const v = KnownHosts.load([file]).check('server1', 22, ed.blob)
    expect(v).toMatchObject({ kind: 'match', entry: { type: 'ssh-ed25519', file, line: 2 } })
  })

  it('host names match case-insensitively', () => {
    expect(load(line('Server1', ed)).check('SERVER1', 22, ed.blob).kind).toBe('match')
  })

  it('keeps port 22 and [host]:port entries apart', () => {
    const kh = load(line('server1', ed), line('[server2]:2222', ed))
    expect(kh.check('server2', 2222, ed.blob).kind).toBe('match')
    expect(kh.check('server1', 2222, ed.blob).kind).toBe('unknown')
    expect(kh.check('server2', 22, ed.blob).kind).toBe('unknown')
  })

  it('matches hashed entries produced by ssh-keygen -H, for both forms', () => {
    const file = hostsFile([line('server1', ed), line('[10.0.0.7]:2222', rsa)], true)
    expect(readFileSync(file, 'utf8')).not.toMatch(/server1|10\.0\.0\.7/) // really hashed
    const kh = KnownHosts.load([file])
    expect(kh.check('server1', 22, ed.blob).kind).toBe('match')
    expect(kh.check('10.0.0.7', 2222, rsa.blob).kind).toBe('match')
    expect(kh.check('10.0.0.7', 22, rsa.blob).kind).toBe('unknown')
    expect(kh.check('server2', 22, ed.blob).kind).toBe('unknown')
    expect(kh.check('server1', 22, ed2.blob).kind).toBe('mismatch')
  })

  it('supports * and ? wildcards, also inside brackets', () => {
    const kh = load(line('*.dc1.example', ed), line('[10.0.0.?]:2222', rsa))
    expect(kh.check('r1.dc1.example', 22, ed.blob).kind).toBe('match')
    expect(kh.check('r1.dc2.example', 22, ed.blob).kind).toBe('unknown')
    expect(kh.check('10.0.0.5', 2222, rsa.blob).kind).toBe('match')
    expect(kh.check('10.0.0.15', 2222, rsa.blob).kind).toBe('unknown')
    expect(kh.check('10.0.0.5', 22, rsa.blob).kind).toBe('unknown')
  })

  it('a negated pattern excludes the line even when another pattern matches', () => {
    const kh = load(line('*.dc1.example,!bad.dc1.example', ed))
    expect(kh.check('good.dc1.example', 22, ed.blob).kind).toBe('match')
    expect(kh.check('bad.dc1.example', 22, ed.blob).kind).toBe('unknown')
  })

  it('accepts comma lists of names and addresses', () => {
    const kh = load(line('server1,203.0.113.11,[203.0.113.11]:2222', ed))
    for (const [h, p] of [
      ['server1', 22],
      ['203.0.113.11', 22],
      ['203.0.113.11', 2222],
    ] as const) {
      expect(kh.check(h, p, ed.blob).kind).toBe('match')
    }
    expect(kh.check('server1', 2222, ed.blob).kind).toBe('unknown')
  })

  it('reports an unknown host', () => {
    expect(load(line('server1', ed)).check('server9', 22, ed.blob)).toEqual({ kind: 'unknown' })
  })

  it('a mismatch lists every expected key with its file and line', () => {
    const file = hostsFile([line('server1', ed), '', line('server1', rsa)])
    const v = KnownHosts.load([file]).check('server1', 22, ed2.blob)
    expect(v.kind).toBe('mismatch')
    if (v.kind !== 'mismatch') return
    expect(v.expected.map((k) => [fingerprint(k.blob), k.file, k.line])).toEqual([
      [fingerprint(ed.blob), file, 1],
      [fingerprint(rsa.blob), file, 3],
    ])
  })

  it('a key of a type not on file is a mismatch, not unknown (strict)', () => {
    const v = load(line('server1', rsa)).check('server1', 22, ed.blob)
    expect(v).toMatchObject({ kind: 'mismatch', expected: [{ type: 'ssh-rsa' }] })
  })

  it('@revoked refuses the key for every host, even when also listed as valid', () => {
    const kh = load(line('server1', ed), `@revoked ${line('other.example', ed)}`, line('server2', rsa))
    expect(kh.check('server1', 22, ed.blob)).toMatchObject({ kind: 'revoked', entry: { line: 2 } })
    expect(kh.check('nowhere', 2222, ed.blob).kind).toBe('revoked')
    expect(kh.check('server2', 22, rsa.blob).kind).toBe('match')
    // A revoked line is not a host entry: it does not make server1's rsa key "expected".
    expect(kh.check('other.example', 22, rsa.blob).kind).toBe('unknown')
  })

  it('ignores @cert-authority lines', () => {
    const kh = load(`@cert-authority ${line('*', ed)}`)
    expect(kh.check('server1', 22, ed.blob).kind).toBe('unknown')
    expect(kh.knownTypes('server1', 22)).toEqual([])
  })

  it('skips comments, blank lines and malformed lines', () => {
    const file = hostsFile([
      '# a comment',
      '   ',
      '\t# indented comment',
      'server1 ssh-ed25519', // no key
      `server1 ssh-rsa ${ed.b64}`, // type disagrees with the blob
      'server1 ssh-ed25519 !!!notbase64!!!',
      '|1|short|bad ssh-ed25519 ' + ed.b64, // broken hash
      `@bogus ${line('server1', ed2)}`, // unknown marker
      line('server1', ed) + ' trailing comment',
    ])
    const kh = KnownHosts.load([file])
    expect(kh.check('server1', 22, ed.blob)).toMatchObject({ kind: 'match', entry: { line: 9 } })
    expect(kh.knownTypes('server1', 22)).toEqual(['ssh-ed25519'])
  })

  it('consults all files in order, skipping missing ones', () => {
    const a = hostsFile([line('server1', ed)])
    const b = hostsFile([line('server2', rsa), line('server1', ecdsa)])
    const kh = KnownHosts.load([join(dir, 'missing'), a, b])
    expect(kh.check('server2', 22, rsa.blob)).toMatchObject({ kind: 'match', entry: { file: b, line: 1 } })
    expect(kh.check('server1', 22, ecdsa.blob)).toMatchObject({ kind: 'match', entry: { file: b, line: 2 } })
    const v = kh.check('server1', 22, ed2.blob)
    expect(v.kind === 'mismatch' && v.expected.map((k) => k.file)).toEqual([a, b])
  })

  it('throws on a file that exists but cannot be read', () => {
    const d = join(dir, 'a-directory')
    mkdirSync(d)
    expect(() => KnownHosts.load([d])).toThrow()
  })
})

describe('knownTypes', () => {
  it('lists the key types on file for the host, without duplicates', () => {
    const kh = load(line('server1', ed), line('*', rsa), line('server1', ed2), line('[server1]:2222', ecdsa))
    expect(kh.knownTypes('server1', 22)).toEqual(['ssh-ed25519', 'ssh-rsa'])
    expect(kh.knownTypes('server1', 2222)).toEqual(['ssh-rsa', ecdsa.type])
  })
})

describe('append', () => {
  it('creates the file (and dir) with mode 0600, and later checks match', () => {
    const file = join(dir, 'new', 'sub', 'known_hosts')
    const kh = KnownHosts.load([file])
    expect(kh.check('server1', 2222, ed.blob).kind).toBe('unknown')
    kh.append(file, 'server1', 2222, ed.blob)
    kh.append(file, 'server2', 22, rsa.blob)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8')).toBe(`${line('[server1]:2222', ed)}\n${line('server2', rsa)}\n`)
    expect(kh.check('server1', 2222, ed.blob)).toMatchObject({ kind: 'match', entry: { file, line: 1 } })
    expect(kh.check('server2', 22, rsa.blob)).toMatchObject({ kind: 'match', entry: { file, line: 2 } })
    const fresh = KnownHosts.load([file])
    expect(fresh.check('server1', 2222, ed.blob)).toMatchObject({ kind: 'match', entry: { file, line: 1 } })
    expect(fresh.check('server2', 22, rsa.blob)).toMatchObject({ kind: 'match', entry: { file, line: 2 } })
    // OpenSSH reads what we wrote, too.
    const found = execFileSync('ssh-keygen', ['-F', '[server1]:2222', '-f', file], { encoding: 'utf8' })
    expect(found).toContain(ed.b64)
  })

  it('does not glue the new entry onto a last line without a newline', () => {
    const file = join(dir, 'no-newline')
    writeFileSync(file, line('server1', ed))
    const kh = KnownHosts.load([file])
    kh.append(file, 'server2', 22, rsa.blob)
    expect(kh.check('server2', 22, rsa.blob)).toMatchObject({ kind: 'match', entry: { line: 2 } })
    const fresh = KnownHosts.load([file])
    expect(fresh.check('server1', 22, ed.blob).kind).toBe('match')
    expect(fresh.check('server2', 22, rsa.blob)).toMatchObject({ kind: 'match', entry: { line: 2 } })
  })
})
