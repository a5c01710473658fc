// The CLI as a user meets it: a real `node bin/ferry.mjs` process, no lab needed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:net'
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../..')
const FIXTURES = join(ROOT, 'test/fixtures/inventory')

function ferry(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(
      process.execPath,
      [join(ROOT, 'bin/ferry.mjs'), ...args],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } },
      (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
    ),
  )
}

describe('help', () => {
  it.each([[[]], [['exec']], [['inventory']]])('ferry %j --help explains usage with examples', async (sub) => {
    const r = await ferry([...sub, '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Usage: ferry/m)
    expect(r.stdout).toContain('Examples:')
  })

  it('rejects an unknown command or a missing inventory as a bad invocation (64)', async () => {
    expect((await ferry(['frobnicate'])).code).toBe(64)
    const r = await ferry(['exec', '--', 'true'])
    expect(r.code).toBe(64)
    expect(r.stderr).toContain("required option '-i, --inventory")
  })
})

describe('local transport', () => {
  it('ferry exec runs a connection: local host on the controller through /bin/sh', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-'))
    writeFileSync(join(dir, 'inv.yaml'), 'hosts:\n  me: { connection: local }\n')
    const r = await ferry([
      'exec',
      '-i',
      join(dir, 'inv.yaml'),
      '--format',
      'json',
      '--',
      'echo "$0" $((6*7)); hostname',
    ])
    expect(r.code).toBe(0)
    const [host] = JSON.parse(r.stdout).hosts
    expect(host.stdout).toBe(`/bin/sh 42\n${hostname()}\n`)
  })
})

describe('ferry inventory', () => {
  it('shows hosts, groups and effective vars, with secrets as <secret>', async () => {
    const r = await ferry(['inventory', '-i', join(FIXTURES, 'full.yaml'), '--json'], {
      FERRY_TEST_OSPF_KEY: 'sup3r-s3cret-md5',
    })
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.hosts.length).toBeGreaterThan(1)
    expect(Object.values(out.secrets).every((s) => (s as { value: string }).value === '<secret>')).toBe(true)
    expect(r.stdout).not.toContain('sup3r-s3cret-md5')
  })

  it('an unknown --limit pattern is a bad invocation', async () => {
    const r = await ferry(['inventory', '-i', join(FIXTURES, 'full.yaml'), '--limit', 'nosuchthing'], {
      FERRY_TEST_OSPF_KEY: 'x',
    })
    expect(r.code).toBe(64)
    expect(r.stderr).toContain('nosuchthing')
  })

  it.each(['', ',', ' ', '[z-a]', 'r[1'])(
    '--limit %j is a bad invocation, on one line: never every host, never a stack trace',
    async (limit) => {
      const r = await ferry(['inventory', '-i', join(FIXTURES, 'full.yaml'), '--limit', limit], {
        FERRY_TEST_OSPF_KEY: 'x',
      })
      expect(r.code).toBe(64)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(new RegExp(`^ferry: --limit "${limit.replace(/[[\]]/g, '\\$&')}": [^\n]+\n$`))
    },
  )
})

describe('broken inventories stop before any host is contacted', () => {
  let server: Server
  let port = 0
  let connections = 0
  beforeAll(async () => {
    server = createServer((s) => {
      connections++
      s.destroy()
    }).listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    port = (server.address() as { port: number }).port
  })
  afterAll(() => server.close())

  const good = () => `  ok: { address: 127.0.0.1, port: ${port} }\n`
  const cases: Record<string, () => string> = {
    'unknown host key': () => `hosts:\n${good()}  bad: { address: 127.0.0.1, prot: 22 }\n`,
    'link to a missing host': () => `hosts:\n${good()}links:\n  - { a: ok, b: ghost }\n`,
    'missing secret file': () => `hosts:\n${good()}secrets:\n  key: file:does/not/exist\n`,
    'jump loop': () => `hosts:\n${good()}  a: { address: 127.0.0.1, jump: b }\n  b: { address: 127.0.0.1, jump: a }\n`,
    'bad YAML': () => `hosts:\n${good()}  x: [unclosed\n`,
  }
  it.each(Object.keys(cases))('%s: exit 64 with file:line:col, and 0 connections', async (name) => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-'))
    const file = join(dir, 'inv.yaml')
    writeFileSync(file, cases[name]!())
    const r = await ferry(['exec', '-i', file, '--', 'true'])
    expect(r.code).toBe(64)
    expect(r.stderr).toMatch(new RegExp(`${file.replaceAll('/', '\\/')}:\\d+:\\d+: `))
    expect(connections).toBe(0)
  })

  // A secret whose source is not there: showing the inventory reads no secret, so it warns.
  const unset = ['secret-missing-file.yaml', 'secret-unset-env.yaml']
  it.each(readdirSync(join(FIXTURES, 'broken')).filter((f) => !unset.includes(f)))(
    'fixture %s is rejected by the CLI with exit 64',
    async (f) => {
      const r = await ferry(['inventory', '-i', join(FIXTURES, 'broken', f)])
      expect(r.code).toBe(64)
      expect(r.stderr).toMatch(/\.yaml:\d+:\d+: /)
    },
  )

  it.each(unset)(
    'fixture %s: ferry inventory shows it with a warning at file:line:col; ferry exec refuses it (64)',
    async (f) => {
      const file = join(FIXTURES, 'broken', f)
      const shown = await ferry(['inventory', '-i', file])
      expect(shown.code, shown.stderr).toBe(0)
      expect(shown.stdout).toContain('hosts (')
      expect(shown.stderr).toMatch(/^ferry: warning: \S+\.yaml:4:\d+: secrets\.\w+: .* \(a run needs it\)$/m)
      const exec = await ferry(['exec', '-i', file, '--', 'true'])
      expect(exec.code).toBe(64)
      expect(exec.stderr).toMatch(/\.yaml:4:\d+: secrets\./)
      expect(connections).toBe(0)
    },
  )
})
