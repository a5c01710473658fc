import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  EXIT_USAGE,
  InventoryError,
  loadInventory,
  renderInventory,
  SelectionError,
  selectHosts,
  type Inventory,
} from '../../src/inventory/index.ts'
import { Secrets } from '../../src/inventory/secrets.ts'

const FIXTURES = path.resolve('test/fixtures/inventory')
const FULL = path.join(FIXTURES, 'full.yaml')
/** How a problem's file is printed: relative to the working directory. */
const shown = (file: string) => path.relative(process.cwd(), file)

const OSPF_KEY = 'ospf-key-from-env'
beforeEach(() => {
  process.env.FERRY_TEST_OSPF_KEY = OSPF_KEY
})

/** The InventoryError `p` rejects with. */
async function rejection(p: Promise<unknown>): Promise<InventoryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(InventoryError)
  return err as InventoryError
}
const loadError = (file: string) => rejection(loadInventory(file))

describe('loadInventory: a valid inventory', () => {
  let inv: Inventory
  beforeAll(async () => {
    process.env.FERRY_TEST_OSPF_KEY = OSPF_KEY
    inv = await loadInventory(FULL)
  })
  const host = (name: string) => inv.hosts.find((h) => h.name === name)!

  it('keeps hosts and groups in file order; `all` is implicit and last', () => {
    expect(inv.file).toBe(FULL)
    expect(inv.hosts.map((h) => h.name)).toEqual(['bastion1', 'server1', 'server2', 'server3'])
    expect(Object.keys(inv.groups)).toEqual(['mesh', 'dc1', 'dc2', 'spare'])
    expect(inv.groups.spare).toEqual({ vars: {} })
    expect(host('bastion1').groups).toEqual(['all'])
    expect(host('server1').groups).toEqual(['mesh', 'dc1', 'all'])
    expect(host('server2').groups).toEqual(['dc1', 'mesh', 'all']) // an explicit `all` moves to the end
  })

  it("merges vars: defaults < groups in the host's order < host", () => {
    expect(host('server1').vars).toEqual({
      ntp: 'pool.ntp.org',
      tunnel: 'openvpn',
      level: 'host',
      ospf_area: '0.0.0.0',
      link_pool: '172.16.2.0/24',
      site: 'dc1',
      router_id: '10.0.0.1',
      loopback: '10.0.0.1/32',
    })
    expect(host('server2').vars.level).toBe('mesh') // groups [dc1, mesh]: mesh comes later and wins
    expect(host('server3').vars.level).toBe('mesh')
    expect(host('bastion1').vars).toEqual({ ntp: 'pool.ntp.org', tunnel: 'none', level: 'defaults' })
  })

  it("applies defaults from the file, then ferry's own", async () => {
    expect(host('server1')).toMatchObject({
      user: 'admin',
      port: 22,
      become: 'sudo',
      becomePassword: 'sudo_pw',
      connectTimeout: 5000,
    })
    expect(host('bastion1')).toMatchObject({ port: 2222, become: 'doas', os: 'openbsd', connectTimeout: 2500 })
    expect(host('server3').os).toBeUndefined()
    // A host that turns become off does not inherit the default become_password.
    expect(host('server2')).toMatchObject({ user: 'root', become: 'none' })
    expect(host('server2').becomePassword).toBeUndefined()

    const minimal = await loadInventory(path.join(FIXTURES, 'minimal.yaml'))
    expect(minimal.hosts).toEqual([
      {
        name: 'r1',
        connection: 'ssh',
        address: '198.18.0.11',
        port: 22,
        user: 'root',
        become: 'none',
        identity: [],
        knownHosts: [],
        connectTimeout: 10_000,
        groups: ['all'],
        vars: {},
        jails: {},
      },
    ])
    expect(minimal.links).toEqual([])
    expect(minimal.secrets.names()).toEqual([])

    const local = await loadInventory(path.join(FIXTURES, 'local.yaml'))
    expect(local.hosts[0]).toMatchObject({
      name: 'controller',
      connection: 'local',
      address: 'localhost',
      groups: ['all'],
    })
  })

  it('resolves jumps to inventory hosts or external hops', () => {
    expect(host('server1').jump).toBe('bastion1')
    expect(host('server2').jump).toEqual({ user: 'ops', address: 'jump.example.org', port: 2200 })
    expect(host('server3').jump).toEqual({ address: '2001:db8::99' })
    expect(host('bastion1').jump).toBeUndefined()
  })

  it('expands ~ and resolves relative paths against the inventory directory', () => {
    expect(host('server1').identity).toEqual([path.join(homedir(), '.ssh/id_ed25519')])
    expect(host('bastion1').identity).toEqual([path.join(FIXTURES, 'keys/bastion'), '/etc/ferry/key'])
    expect(host('server1').knownHosts).toEqual([path.join(FIXTURES, 'known_hosts')])
  })

  it('keeps addresses, jails and links with their settings', () => {
    expect(host('server2').address).toBe('2001:db8::2')
    expect(host('server1').jails).toEqual({ web: { address: '172.16.3.17/32', dataset: 'tank/jails/web' } })
    expect(inv.links).toEqual([
      { a: 'server1', b: 'server2' },
      { a: 'server1', b: 'server3', tunnel: 'gre-ipsec', cost: 20 },
    ])
  })

  it('locates any node by its path', () => {
    expect(inv.locate(['hosts', 'server1', 'vars'])).toEqual({ file: FULL, line: 30, col: 11 })
    expect(inv.locate(['links', 1, 'cost'])).toEqual({ file: FULL, line: 48, col: 56 })
    expect(inv.locate(['hosts', 'nope'])).toBeUndefined()
  })

  it('resolves a bare name to inventory/<name>.yaml under cwd', async () => {
    const byName = await loadInventory('minimal', { cwd: path.dirname(FIXTURES) })
    expect(byName.file).toBe(path.join(FIXTURES, 'minimal.yaml'))
  })

  it('reports a missing inventory and lists the available ones', async () => {
    const err = await rejection(loadInventory('prod', { cwd: path.dirname(FIXTURES) }))
    expect(err.message).toBe(
      `${shown(path.join(FIXTURES, 'prod.yaml'))}:1:1: no such inventory file; available in ${shown(FIXTURES)}/: full, local, minimal`,
    )
    expect(err.exitCode).toBe(EXIT_USAGE)
  })
})

describe('loadInventory: broken inventories', () => {
  beforeEach(() => {
    delete process.env.FERRY_TEST_SURELY_UNSET
  })

  // [fixture in broken/, line, col, a substring of the reason]
  const cases: [string, number, number, string][] = [
    ['syntax.yaml', 5, 3, 'Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['tab.yaml', 4, 1, 'Tabs are not allowed as indentation'],
    ['duplicate-key.yaml', 5, 5, 'duplicate key "port" (first at line 4)'],
    ['multiple-docs.yaml', 3, 1, 'an inventory is a single YAML document'],
    ['unknown-top-key.yaml', 1, 1, 'unknown key "host" (did you mean "hosts"?)'],
    ['unknown-host-key.yaml', 3, 5, 'hosts.r1: unknown key "adress" (did you mean "address"?)'],
    ['unknown-host-key.yaml', 2, 3, 'hosts.r1: missing required key "address"'],
    ['bad-address.yaml', 3, 14, 'hosts.r1.address: must be an IPv4 address, an IPv6 address or a DNS host name'],
    ['bad-port.yaml', 4, 11, 'hosts.r1.port: must be an integer from 1 to 65535'],
    ['bad-os.yaml', 4, 9, 'hosts.r1.os: must be one of freebsd, openbsd, linux'],
    ['bad-connection.yaml', 2, 3, 'hosts.r1: missing required key "address"'],
    ['bad-become.yaml', 2, 11, 'defaults.become: must be one of none, sudo, doas'],
    ['bad-host-name.yaml', 2, 3, 'hosts._r1: names must start with a letter or digit'],
    ['host-not-mapping.yaml', 2, 7, 'hosts.r1: must be a mapping, not string "198.18.0.11"'],
    ['group-all.yaml', 3, 3, 'groups.all: "all" is the implicit group of every host and cannot be declared'],
    ['unknown-group.yaml', 7, 20, 'hosts.r1.groups[1]: unknown group "dc3" (did you mean "dc1"?)'],
    ['jail-cidr.yaml', 5, 23, 'hosts.r1.jails.web.address: must be an IPv4 address with a prefix length'],
    ['link-missing-host.yaml', 6, 17, 'links[1].b: unknown host "r3"'],
    ['link-self.yaml', 5, 8, 'links[0].b: link from r1 to itself'],
    ['link-duplicate.yaml', 6, 5, 'links[1]: duplicate link r2 - r1 (first declared at line 5)'],
    ['jump-loop.yaml', 4, 11, 'hosts.r1.jump: jump loop r1 -> r2 -> r1'],
    ['jump-self.yaml', 4, 11, 'hosts.r1.jump: jump loop r1 -> r1'],
    ['jump-unknown.yaml', 6, 11, 'hosts.r1.jump: unknown jump host "bastoin" (did you mean "bastion"?)'],
    ['secret-missing-file.yaml', 4, 19, 'secrets.zebra_password: cannot read secrets/nope.txt (ENOENT)'],
    ['secret-unset-env.yaml', 4, 17, 'secrets.ospf_md5_key: environment variable FERRY_TEST_SURELY_UNSET is not set'],
    ['secret-bad-scheme.yaml', 5, 8, 'secrets.psk: must start with env:, file: or cmd:'],
    ['secret-empty-cmd.yaml', 4, 8, 'secrets.psk: cmd: needs a command'],
    ['become-password-undeclared.yaml', 5, 22, 'hosts.r1.become_password: secret "sudo_pw" is not declared in secrets'],
    ['become-password-none.yaml', 4, 22, 'hosts.r1.become_password: set but become is none'],
  ]

  it.each(cases)('%s:%i:%i', async (fixture, line, col, reason) => {
    const file = path.join(FIXTURES, 'broken', fixture)
    const err = await loadError(file)
    expect(err.exitCode).toBe(EXIT_USAGE)
    const prefix = `${shown(file)}:${line}:${col}: `
    expect(
      err.message.split('\n').find((l) => l.startsWith(prefix)),
      err.message,
    ).toContain(reason)
    expect(err.problems).toContainEqual(expect.objectContaining({ file, line, col }))
  })

  it("with unsetSecrets: 'warn', a secret whose source is not there is a warning at its line, and the inventory loads", async () => {
    for (const [fixture, col, reason] of [
      ['secret-unset-env.yaml', 17, 'environment variable FERRY_TEST_SURELY_UNSET is not set'],
      ['secret-missing-file.yaml', 19, 'cannot read secrets/nope.txt (ENOENT)'],
    ] as const) {
      const file = path.join(FIXTURES, 'broken', fixture)
      const inv = await loadInventory(file, { unsetSecrets: 'warn' })
      expect(inv.hosts.length).toBeGreaterThan(0)
      expect(inv.warnings).toEqual([
        expect.objectContaining({ file, line: 4, col, message: expect.stringContaining(reason) }),
      ])
    }
    // A malformed source is still an error.
    const err = await rejection(
      loadInventory(path.join(FIXTURES, 'broken', 'secret-empty-cmd.yaml'), { unsetSecrets: 'warn' }),
    )
    expect(err.message).toContain('cmd: needs a command')
  })

  it('reports a jump loop once, not once per host leading into it', async () => {
    const err = await loadError(path.join(FIXTURES, 'broken', 'jump-loop.yaml'))
    expect(err.problems).toHaveLength(1)
  })

  it('collects every problem in a file, in file order', async () => {
    const file = path.join(FIXTURES, 'broken', 'many-problems.yaml')
    const err = await loadError(file)
    expect(err.message).toBe(
      [
        '2:9: defaults.port: must be an integer from 1 to 65535',
        '8:11: hosts.r1.port: must be an integer from 1 to 65535',
        '9:13: hosts.r1.groups: must be a list, not string "mesh"',
        '10:3: hosts.r2: missing required key "address"',
      ]
        .map((l) => `${shown(file)}:${l}`)
        .join('\n'),
    )
  })
})

describe('loadInventory: hostile input', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry-inv-'))
  afterAll(() => rmSync(dir, { recursive: true }))
  let n = 0
  /** Writes `text` to a new file and loads it; returns the file and the error's lines. */
  const refused = async (text: string) => {
    const file = path.join(dir, `${++n}.yaml`)
    writeFileSync(file, text)
    const err = await loadError(file)
    expect(err.exitCode).toBe(EXIT_USAGE)
    return { at: `${file}:`, lines: err.message.split('\n') }
  }
  const HOST = '{ address: 198.18.0.11 }'

  // Both keys are the string "1" (or "true") once loaded: they would be one host, lock and revert directory.
  it.each([
    ['hosts', `hosts:\n  1: ${HOST}\n  "1": ${HOST}\n`, '3:3', '"1"', 2],
    ['hosts', `hosts:\n  true: ${HOST}\n  'true': ${HOST}\n`, '3:3', '"true"', 2],
    ['hosts', `hosts:\n  10: ${HOST}\n  0x0a: ${HOST}\n  "10": ${HOST}\n`, '4:3', '"10"', 2],
    ['groups', `groups: { 1: {}, "1": {} }\nhosts: { r1: ${HOST} }\n`, '1:18', '"1"', 1],
    [
      'jails',
      `hosts:\n  r1:\n    address: 198.18.0.11\n    jails:\n      1: { address: 10.0.0.1/32, dataset: a }\n      "1": { address: 10.0.0.2/32, dataset: b }\n`,
      '6:7',
      '"1"',
      5,
    ],
    ['secrets', `hosts: { r1: ${HOST} }\nsecrets:\n  null: env:HOME\n  "null": env:HOME\n`, '4:3', '"null"', 3],
    ['vars', `hosts: { r1: { address: 198.18.0.11, vars: { 1: a, "1": b } } }\n`, '1:52', '"1"', 1],
  ])('refuses two %s keys that load as the same name', async (_, text, where, key, first) => {
    const { at, lines } = await refused(text)
    expect(lines).toContain(`${at}${where}: duplicate key ${key} (first at line ${first})`)
  })

  it('refuses an alias bomb at the alias that expands too far', async () => {
    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]']
    for (let i = 1; i < 10; i++)
      levels.push(
        `${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9)
          .fill(`*${'abcdefghij'[i - 1]}`)
          .join(', ')}]`,
      )
    const { at, lines } = await refused(
      `defaults:\n  vars:\n${levels.map((l) => `    ${l}\n`).join('')}hosts: { r1: ${HOST} }\n`,
    )
    expect(lines).toEqual([`${at}8:12: aliases expand to more than 100000 values`])
  })

  it('refuses an alias to no anchor before it', async () => {
    const { at, lines } = await refused(`hosts: *nope\n`)
    expect(lines).toEqual([`${at}1:8: alias *nope names no anchor before it`])
  })

  it('refuses an alias inside the node it names', async () => {
    const { at, lines } = await refused(`hosts: { r1: { address: 198.18.0.11, vars: &A { self: *A } } }\n`)
    expect(lines).toEqual([`${at}1:55: alias *A is inside the node it names`])
  })

  // Flow levels are counted before parsing ([ and { alone); block levels after, counting all.
  it.each([
    ['flow', `{ x: ${'['.repeat(20_000)}${']'.repeat(20_000)} }`, /4:115/],
    ['block', `\n${Array.from({ length: 150 }, (_, i) => `${' '.repeat(6 + i)}k${i}:\n`).join('')}`, /102:104/],
    [
      "block, past the parser's stack",
      `\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(6 + i)}k${i}:\n`).join('')}`,
      /\d+:\d+/,
    ],
  ])('refuses nesting more than 100 levels deep (%s)', async (_, vars, where) => {
    const { at, lines } = await refused(`hosts:\n  r1:\n    address: 198.18.0.11\n    vars: ${vars}\n`)
    expect(lines).toHaveLength(1)
    expect(lines[0]!.replace(at, '')).toMatch(new RegExp(`^${where.source}: nested more than 100 levels deep$`))
  })

  it('refuses nesting more than 100 levels deep through aliases', async () => {
    const deep = `${'['.repeat(60)}${']'.repeat(60)}`
    const { at, lines } = await refused(
      `defaults:\n  vars:\n    a: &a ${deep}\n    b: &b [${'['.repeat(50)}*a${']'.repeat(50)}]\nhosts: { r1: ${HOST} }\n`,
    )
    expect(lines).toEqual([`${at}4:62: nested more than 100 levels deep`])
  })

  // `-i /etc/shadow`: the reason must not quote a file that is not an inventory.
  it.each([
    ['a password file', 'root:$6$salt$hash0123:20228:0:99999:7:::\ndaemon:*:20228:0:99999:7:::\n'],
    [
      'a key file',
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n',
    ],
    ['a list', '- hunter2\n- hosts\n'],
    ['broken YAML', 'password: "hunter2\\q"\n!tag-hunter2 x: [\n'],
    ['nothing', ''],
  ])('reads %s as no inventory, quoting none of it', async (_, text) => {
    const { at, lines } = await refused(text)
    expect(lines).toEqual([`${at}1:1: not an inventory: expected a YAML mapping with a "hosts" key`])
  })

  it('refuses a file that is not a regular file, without reading it', async () => {
    const err = await loadError('/dev/zero')
    expect(err.message).toBe('/dev/zero:1:1: cannot read inventory: not a regular file')
  })

  it('shows keys with newlines or control characters escaped, on one line', async () => {
    const { at, lines } = await refused(`hosts:\n  "r1\\nr2\\e[31m": ${HOST}\n`)
    expect(lines).toEqual([
      `${at}2:3: hosts."r1\\nr2\\u001b[31m": names must start with a letter or digit and contain only letters, digits, "_", "." and "-"`,
    ])
  })

  it('refuses a list or mapping as a key, without a warning from the YAML library', async () => {
    const warn = vi.spyOn(process, 'emitWarning')
    try {
      const { at, lines } = await refused(`hosts:\n  ? [r1, r2]\n  : ${HOST}\n`)
      expect(lines).toEqual([`${at}2:5: keys must be strings, not lists, mappings, aliases or tagged values`])
      expect(warn).not.toHaveBeenCalled()
    } finally {
      warn.mockRestore()
    }
  })
})

describe('ferry inventory on hostile files (the real binary)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry-inv-cli-'))
  afterAll(() => rmSync(dir, { recursive: true }))
  const ferry = (file: string) =>
    new Promise<{ code: number; stderr: string }>((done) =>
      execFile(process.execPath, ['bin/ferry.mjs', 'inventory', '-i', file], (err, _stdout, stderr) =>
        done({ code: err ? Number(err.code) : 0, stderr }),
      ),
    )

  it.each([
    [
      'an alias bomb',
      `defaults:\n  vars:\n    a: &a [x, x, x, x, x, x, x, x, x, x]\n${[...'bcdefghi'].map((c, i) => `    ${c}: &${c} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(', ')}]\n`).join('')}hosts: { r1: *i }\n`,
      '',
    ],
    ['a password file', 'root:$6$s3cr3t-salt$hashhashhash:20228:0:99999:7:::\n', 's3cr3t'],
  ])(
    '%s: exit 64 and one line naming file:line:col, nothing quoted',
    async (_, text, secret) => {
      const file = path.join(dir, 'inv.yaml')
      writeFileSync(file, text)
      const r = await ferry(file)
      expect(r.code).toBe(64)
      expect(r.stderr).toMatch(new RegExp(`^ferry: ${file}:\\d+:\\d+: [^\\n]+\\n$`))
      if (secret) expect(r.stderr).not.toContain(secret)
    },
    30_000,
  )
})

describe('secrets', () => {
  let inv: Inventory
  beforeEach(async () => {
    inv = await loadInventory(FULL)
  })

  it('lists names and sources without resolving anything', () => {
    expect(inv.secrets.names()).toEqual([
      'ospf_md5_key',
      'zebra_password',
      'openvpn_key',
      'ipsec_psk',
      'sudo_pw',
      'broken_cmd',
    ])
    expect(inv.secrets.source('ospf_md5_key')).toBe('env:FERRY_TEST_OSPF_KEY')
    expect(inv.secrets.redact(`key=${OSPF_KEY}`)).toBe(`key=${OSPF_KEY}`)
  })

  it('resolves env, file (one trailing newline stripped) and cmd secrets', async () => {
    expect(await inv.secrets.get('ospf_md5_key')).toBe(OSPF_KEY)
    expect(await inv.secrets.get('zebra_password')).toBe('zebra-secret')
    expect(await inv.secrets.get('openvpn_key')).toBe(
      (await readFile(path.join(FIXTURES, 'secrets/static.key'), 'utf8')).slice(0, -1),
    )
    expect(await inv.secrets.get('ipsec_psk')).toBe('psk-from-cmd')
  })

  it('caches a value: a changed environment does not change it', async () => {
    expect(await inv.secrets.get('ospf_md5_key')).toBe(OSPF_KEY)
    process.env.FERRY_TEST_OSPF_KEY = 'changed'
    expect(await inv.secrets.get('ospf_md5_key')).toBe(OSPF_KEY)
  })

  it('runs a cmd secret once, from the inventory directory, and strips one newline', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-inv-'))
    try {
      await writeFile(
        path.join(dir, 'inv.yaml'),
        "hosts: { r1: { address: 198.18.0.11 } }\nsecrets:\n  counted: cmd:echo run >> runs.log; printf 'counted-value\\n\\n'\n",
      )
      const local = await loadInventory(path.join(dir, 'inv.yaml'))
      const values = await Promise.all([local.secrets.get('counted'), local.secrets.get('counted')])
      expect(values).toEqual(['counted-value\n', 'counted-value\n'])
      expect(await local.secrets.get('counted')).toBe('counted-value\n')
      expect(await readFile(path.join(dir, 'runs.log'), 'utf8')).toBe('run\n')
    } finally {
      await rm(dir, { recursive: true })
    }
  })

  it('reports a failing cmd with its location and exit code, never its output', async () => {
    const err = await rejection(inv.secrets.get('broken_cmd'))
    expect(err.message).toBe(`${shown(FULL)}:55:15: secrets.broken_cmd: command exited with code 3`)
    expect(inv.secrets.redact('leaked-output')).toBe('leaked-output') // nothing was resolved
  })

  // A cmd: secret leaves the pid of a child of its own in `pid`; killed, it may stay a zombie a moment.
  const SLOW = 'cmd:sleep 600 & echo $! > pid; wait'
  const running = async (dir: string) => {
    const pid = (await readFile(path.join(dir, 'pid'), 'utf8')).trim()
    expect(pid).toMatch(/^\d+$/)
    try {
      return !execFileSync('ps', ['-o', 'stat=', '-p', pid], { encoding: 'utf8' }).trim().startsWith('Z')
    } catch {
      return false // no such process
    }
  }

  it('kills a cmd secret that outlives its timeout, with everything it started', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-inv-'))
    try {
      const slow = new Secrets(new Map([['slow', SLOW]]), dir, () => ({ file: FULL, line: 7, col: 9 }), 300)
      const started = Date.now()
      const err = await rejection(slow.get('slow'))
      expect(Date.now() - started).toBeLessThan(5000)
      expect(err.message).toBe(`${shown(FULL)}:7:9: secrets.slow: command did not finish within 0.3 s`)
      await vi.waitFor(async () => expect(await running(dir)).toBe(false))
    } finally {
      await rm(dir, { recursive: true })
    }
  })

  it('kills a cmd secret still running when ferry exits', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-inv-'))
    try {
      execFileSync(process.execPath, [
        '--input-type=module',
        '-e',
        `
        const { createJiti } = await import('jiti')
        const { Secrets } = await createJiti(import.meta.url).import(${JSON.stringify(path.resolve('src/inventory/secrets.ts'))})
        const { existsSync, readFileSync } = await import('node:fs')
        const pid = ${JSON.stringify(path.join(dir, 'pid'))}
        new Secrets(new Map([['slow', ${JSON.stringify(SLOW)}]]), ${JSON.stringify(dir)}, () => ({})).get('slow')
        setInterval(() => existsSync(pid) && readFileSync(pid, 'utf8').endsWith('\\n') && process.exit(0), 50)`,
      ])
      await vi.waitFor(async () => expect(await running(dir)).toBe(false))
    } finally {
      await rm(dir, { recursive: true })
    }
  }, 30_000)

  it('rejects an undeclared secret', async () => {
    await expect(inv.secrets.get('nope')).rejects.toThrow('secret "nope" is not declared in secrets')
    expect(() => inv.secrets.source('nope')).toThrow(InventoryError)
  })

  it('redacts every resolved value, including the lines of a multi-line one', async () => {
    const key = await inv.secrets.get('openvpn_key')
    await inv.secrets.get('sudo_pw')
    await inv.secrets.get('ospf_md5_key')
    const [, line1] = key.split('\n')
    const text = `password sudo-password-1\nkey ${OSPF_KEY}\n${key}\n+${line1}\nsudo-password-12`
    expect(inv.secrets.redact(text)).toBe('password <secret>\nkey <secret>\n<secret>\n+<secret>\n<secret>2')
  })
})

describe('selectHosts', () => {
  let inv: Inventory
  beforeAll(async () => {
    process.env.FERRY_TEST_OSPF_KEY = OSPF_KEY
    inv = await loadInventory(FULL)
  })
  const names = (limit?: string, base?: string) => selectHosts(inv, limit, base).map((h) => h.name)

  it('selects everything by default', () => {
    expect(names()).toEqual(['bastion1', 'server1', 'server2', 'server3'])
    expect(names('all')).toEqual(names())
  })

  it('selects by host name and group name, in inventory order', () => {
    expect(names('server3,server1')).toEqual(['server1', 'server3'])
    expect(names('dc1')).toEqual(['server1', 'server2'])
    expect(names('dc2,bastion1')).toEqual(['bastion1', 'server3'])
  })

  it('matches globs against host and group names', () => {
    expect(names('server*')).toEqual(['server1', 'server2', 'server3'])
    expect(names('server[13]')).toEqual(['server1', 'server3'])
    expect(names('bastion?')).toEqual(['bastion1'])
    expect(names('dc?')).toEqual(['server1', 'server2', 'server3'])
  })

  it('excludes with ! and intersects with &', () => {
    expect(names('mesh,!server2')).toEqual(['server1', 'server3'])
    expect(names('mesh,&dc1')).toEqual(['server1', 'server2'])
    expect(names('all,&mesh,!dc2')).toEqual(['server1', 'server2'])
    expect(names('!mesh')).toEqual(['bastion1'])
    expect(names('!server*,!bastion1')).toEqual([])
  })

  it('narrows the base pattern with the limit', () => {
    expect(names('dc1', 'mesh')).toEqual(['server1', 'server2'])
    expect(names('!server1', 'mesh')).toEqual(['server2', 'server3'])
    expect(names('bastion1', 'mesh')).toEqual([])
    expect(names(undefined, 'mesh,!dc2')).toEqual(['server1', 'server2'])
  })

  it('accepts an empty group', () => {
    expect(names('spare')).toEqual([])
  })

  it('rejects a pattern that matches no host and no group, suggesting names', () => {
    const select = (limit: string) => () => selectHosts(inv, limit)
    expect(select('sever1')).toThrow(SelectionError)
    expect(select('sever1')).toThrow(
      'pattern "sever1" matches no host and no group; similar: server1, server2, server3',
    )
    expect(select('mesh,!nope')).toThrow('pattern "nope" matches no host and no group')
    expect(select('&zz*')).toThrow('pattern "zz*"')
    expect(() => selectHosts(inv, undefined, 'mseh')).toThrow('similar: mesh')
    const err = (() => {
      try {
        selectHosts(inv, 'x')
      } catch (e) {
        return e
      }
    })()
    expect((err as SelectionError).exitCode).toBe(EXIT_USAGE)
  })
})

describe('renderInventory', () => {
  let inv: Inventory
  let values: string[]
  beforeAll(async () => {
    process.env.FERRY_TEST_OSPF_KEY = OSPF_KEY
    inv = await loadInventory(FULL)
    values = await Promise.all(
      ['ospf_md5_key', 'zebra_password', 'ipsec_psk', 'sudo_pw'].map((n) => inv.secrets.get(n)),
    )
  })

  it('renders text for an operator, without secret values', () => {
    const text = renderInventory(inv, inv.hosts, 'text')
    for (const v of values) expect(text).not.toContain(v)
    expect(text).toContain('ospf_md5_key:    <secret> (env:FERRY_TEST_OSPF_KEY)')
    expect(text).toContain('  server1\n    address  203.0.113.11:22\n    user     admin\n    os       freebsd\n')
    expect(text).toContain('    address  [2001:db8::2]:22')
    expect(text).toContain('    jump     ops@jump.example.org:2200')
    expect(text).toContain('    jails    web  172.16.3.17/32  tank/jails/web')
    expect(text).toContain('      router_id  10.0.0.1')
    expect(text).toContain('  mesh: server1, server2, server3')
    expect(text).toContain('  server1 - server3  tunnel=gre-ipsec cost=20')
  })

  it('renders JSON with the selected hosts and secrets as sources', () => {
    const json = renderInventory(inv, selectHosts(inv, 'server1'), 'json')
    for (const v of values) expect(json).not.toContain(v)
    const out = JSON.parse(json)
    expect(out.hosts.map((h: { name: string }) => h.name)).toEqual(['server1'])
    expect(out.hosts[0].vars.router_id).toBe('10.0.0.1')
    expect(out.groups.dc1).toEqual({ vars: { level: 'dc1', site: 'dc1' }, hosts: ['server1'] })
    expect(out.links).toHaveLength(2)
    expect(out.secrets.ospf_md5_key).toEqual({ source: 'env:FERRY_TEST_OSPF_KEY', value: '<secret>' })
  })
})
