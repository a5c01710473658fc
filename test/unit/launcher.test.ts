// bin/ferry.mjs: the bundle when it is fresh, run from V8's code cache; the sources otherwise.
// A copy of the launcher and the build script in a temporary root, with the real src/ and
// node_modules/ linked in, so the bundle can be made stale without touching the repository's.
import { execFile, execFileSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const REPO = join(import.meta.dirname, '../..')
const root = mkdtempSync(join(tmpdir(), 'ferry-launcher-'))
const bundle = join(root, 'dist/ferry.cjs')
// The code cache is named after the build, which the bundle's first line names.
const cache = () => `${bundle}.${/^\/\/ ferry build (\w+)\n/.exec(readFileSync(bundle, 'utf8'))![1]}.cache`
const out = join(root, 'work/seen')

function ferry(env: Record<string, string> = {}): Promise<{ code: number; stderr: string; seen: string }> {
  rmSync(out, { force: true })
  return new Promise((done) =>
    execFile(
      process.execPath,
      [join(root, 'bin/ferry.mjs'), 'run', './seen.ts', '-i', 'inv.yaml', '--state-dir', join(root, 'work/state')],
      { cwd: join(root, 'work'), env: { ...process.env, NO_COLOR: '1', ...env } },
      (err, _stdout, stderr) =>
        done({
          code: err ? Number((err as { code?: number }).code) : 0,
          stderr,
          seen: existsSync(out) ? readFileSync(out, 'utf8') : '',
        }),
    ),
  )
}

beforeAll(() => {
  for (const dir of ['bin', 'scripts', 'work']) mkdirSync(join(root, dir))
  copyFileSync(join(REPO, 'bin/ferry.mjs'), join(root, 'bin/ferry.mjs'))
  copyFileSync(join(REPO, 'scripts/build.mjs'), join(root, 'scripts/build.mjs'))
  symlinkSync(join(REPO, 'src'), join(root, 'src'))
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'))
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')])
  // `far` is an SSH host on a port nobody listens on: dialling it loads ssh2, which ferry loads
  // only on first use, and is refused at once.
  writeFileSync(
    join(root, 'work/inv.yaml'),
    'hosts:\n  me: { connection: local }\n  far: { address: 127.0.0.1, port: 1 }\n',
  )
  // The bundle exports the CLI's main beside the API; the sources' API (src/index.ts) does not.
  // ssh2 is in the bundle, but its native crypto binding must still be found in node_modules.
  // A run, so the task list (listr2, loaded on demand) is drawn from the cached code too.
  writeFileSync(
    join(root, 'work/seen.ts'),
    `import * as ferry from 'ferry'
import { createRequire } from 'node:module'
let binding = false
export default ferry.defineRunbook({
  name: 'seen',
  hosts: 'me',
  prepare: async ({ inventory, connect }) => {
    await connect(inventory.hosts.find((h) => h.name === 'far')!).catch(() => {})
    binding = Object.keys(createRequire(import.meta.url).cache).some((f) => f.endsWith('/sshcrypto.node'))
    return {}
  },
  steps: () => [ferry.file('what ferry is', { path: ${JSON.stringify(out)}, content: typeof (ferry as Record<string, unknown>).main + ' ' + binding + '\\n' })],
})
`,
  )
}, 60_000)

afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('bin/ferry.mjs', () => {
  it(
    "runs the fresh bundle, with ssh2's native binding, and a runbook importing ferry gets the bundle itself",
    { timeout: 30_000 },
    async () => {
      rmSync(cache(), { force: true })
      const first = await ferry()
      expect(first.code, first.stderr).toBe(0)
      expect(first.seen).toBe('function true\n')
      // The first run leaves V8's code cache; the next one uses it, and so does not write it again.
      expect(existsSync(cache())).toBe(true)
      const written = statSync(cache()).mtimeMs
      const second = await ferry()
      expect(second.code, second.stderr).toBe(0)
      expect(second.seen).toBe('function true\n')
      expect(statSync(cache()).mtimeMs).toBe(written)
    },
  )

  it('a cache V8 rejects is replaced, and the command runs regardless', { timeout: 30_000 }, async () => {
    writeFileSync(cache(), 'not a code cache')
    const r = await ferry()
    expect(r.code, r.stderr).toBe(0)
    expect(r.seen).toBe('function true\n')
    expect(statSync(cache()).size).toBeGreaterThan(100_000)
  })

  it('runs from the sources when the bundle is older than they are, or when told to', { timeout: 60_000 }, async () => {
    const forced = await ferry({ FERRY_FROM_SOURCE: '1' })
    expect(forced.code, forced.stderr).toBe(0)
    expect(forced.seen).toMatch(/^undefined /)
    const aged = new Date('2001-01-01')
    utimesSync(bundle, aged, aged)
    rmSync(cache(), { force: true })
    const stale = await ferry()
    expect(stale.code, stale.stderr).toBe(0)
    expect(stale.seen).toMatch(/^undefined /)
    expect(existsSync(cache())).toBe(false)
  })
})
