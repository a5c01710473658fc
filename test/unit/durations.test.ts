// Durations past what a Node timer holds (2^31 - 1 ms, 24.8 days) are refused as a bad
// invocation (issue 16): such a timer fires after 1 ms, so --confirm-timeout 2147485 reverted the
// apply at once, and drift --every 9999999d exited 13. Against the controller (connection: local).
import { describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../..')
const dir = mkdtempSync(join(tmpdir(), 'ferry-durations-'))
const state = join(dir, 'state')
writeFileSync(join(dir, 'inv.yaml'), 'hosts:\n  me: { connection: local, os: linux }\n')
writeFileSync(join(dir, 'same'), 'same\n')
writeFileSync(
  join(dir, 'noop.ts'),
  `import { defineRunbook, file } from 'ferry'
export default defineRunbook({ name: 'noop', description: 'a file already in place', drift: true, steps: () => [
  file('same', { path: ${JSON.stringify(join(dir, 'same'))}, content: 'same\\n' }),
] })
`,
)

const ferry = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
    execFile(
      process.execPath,
      [join(ROOT, 'bin/ferry.mjs'), ...args],
      { cwd: dir, env: { ...process.env, NO_COLOR: '1', FERRY_STATE_DIR: state } },
      (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
    ),
  )
const run = (...args: string[]) => ferry(['run', './noop.ts', '-i', 'inv.yaml', '--dry-run', ...args])

describe('durations past 24.8 days', { timeout: 60_000 }, () => {
  it('are accepted up to 2147483 s', async () => {
    const r = await run('--confirm-timeout', '2147483', '--lock-wait', '2147483')
    expect(r.code, r.stderr).toBe(0)
  })

  it.each([
    [
      ['--confirm-timeout', '2147484'],
      /'--confirm-timeout <seconds>' argument '2147484' is invalid\. expected a whole number of seconds from 1 to 2147483 \(24 days\)/,
    ],
    [['--lock-wait', '2147484'], /'--lock-wait <seconds>' argument '2147484' is invalid/],
    [['--persist', '596524h'], /argument '596524h' is invalid\. 596524h is too long: at most 2147483 s \(24 days\)/],
  ])('run %j is a bad invocation (64)', async (args, message) => {
    const r = await run(...args)
    expect(r.code).toBe(64)
    expect(r.stderr).toMatch(message)
  })

  it('exec --timeout past it is a bad invocation (64)', async () => {
    const exec = await ferry(['exec', '-i', 'inv.yaml', '--timeout', '2147484', '--', 'true'])
    expect(exec.code).toBe(64)
    expect(exec.stderr).toContain("--timeout <seconds>' argument '2147484' is invalid")
  })

  it('rollback --lock-wait past it is a bad invocation (64)', async () => {
    const id = /^run (\S+):/m.exec((await run()).stderr)![1]!
    expect((await ferry(['rollback', id])).code).toBe(0) // a dry run: nothing to undo
    const rollback = await ferry(['rollback', id, '--lock-wait', '2147484'])
    expect(rollback.code).toBe(64)
    expect(rollback.stderr).toContain("'--lock-wait <seconds>' argument '2147484' is invalid")
  })

  it('drift --every past it is a bad invocation (64), not exit 13', async () => {
    const drift = await ferry(['drift', '-i', 'inv.yaml', './noop.ts', '--every', '9999999d'])
    expect(drift.code).toBe(64)
    expect(drift.stderr).toBe('ferry: --every 9999999d: at most 2147483 s (24 days)\n')
  })
})
