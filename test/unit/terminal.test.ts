// What hosts send reaches the operator's terminal only as text (issue 16, findings 7 and 8): no
// escape sequence from a file or a command's output is ever printed raw, and no secret is printed
// at all. The controller is the host here (connection: local).
import { describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { printable } from '../../src/report/printable.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const dir = mkdtempSync(join(tmpdir(), 'ferry-terminal-'))
const state = join(dir, 'state')
const motd = join(dir, 'motd')
const KEY = `k3y-${process.pid}-value`
writeFileSync(
  join(dir, 'inv.yaml'),
  'hosts:\n  me: { connection: local, os: linux }\nsecrets:\n  key: env:FERRY_TERMINAL_KEY\n',
)
// A title change, a screen clear, a bell and a carriage return: in a file on the host, and in what
// a failing command says. Dry runs: they take no host lock, which other test files take here.
writeFileSync(join(dir, 'fail.sh'), String.raw`printf '\033]0;pwned\007\033[2J\rit failed\n' >&2; exit 1` + '\n')
writeFileSync(
  join(dir, 'motd.ts'),
  `import { defineRunbook, file } from 'ferry'
export default defineRunbook({ name: 'motd', description: 'a file', steps: () => [
  file('motd', { path: ${JSON.stringify(motd)}, content: 'welcome\\n', mode: 0o644 }),
] })
`,
)
writeFileSync(
  join(dir, 'complain.ts'),
  `import { command, defineRunbook } from 'ferry'
export default defineRunbook({ name: 'complain', description: 'a command whose guard fails', steps: () => [
  command('complain', async () => {}, { unless: async ({ $ }) => { await $\`sh ${join(dir, 'fail.sh')}\`; return false } }),
] })
`,
)

const ferry = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
    execFile(
      process.execPath,
      [join(ROOT, 'bin/ferry.mjs'), ...args],
      { cwd: dir, env: { ...process.env, NO_COLOR: '1', FERRY_TERMINAL_KEY: KEY, ...env } },
      (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
    ),
  )

/** With colour off, no escape or control character but tab and newline may be printed. */
function expectOnlyText(out: string): void {
  expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/)
}

describe('host bytes on the terminal', { timeout: 60_000 }, () => {
  it('ferry run shows a diff and a failing command escaped, in its report and its progress lines; so does history show', async () => {
    writeFileSync(motd, '\x1b]0;pwned\x07\x1b[2Jold motd\r\n')
    const diff = String.raw`-\x1b]0;pwned\x07\x1b[2Jold motd\x0d`
    const error = String.raw`\x1b]0;pwned\x07\x1b[2J\x0dit failed`
    for (const [runbook, code, shows] of [
      ['./motd.ts', 2, diff],
      ['./complain.ts', 1, error],
    ] as const) {
      const run = await ferry(['run', runbook, '-i', 'inv.yaml', '--dry-run', '--state-dir', state])
      expect(run.code, run.stderr).toBe(code)
      expectOnlyText(run.stdout)
      expectOnlyText(run.stderr)
      expect(run.stdout).toContain(shows)

      const id = /^run (\S+):/m.exec(run.stderr)![1]!
      const shown = await ferry(['history', 'show', id, '--state-dir', state])
      expect(shown.code).toBe(0)
      expectOnlyText(shown.stdout)
      expect(shown.stdout).toContain(shows)
    }
  })

  it('ferry exec shows the output escaped as text, and exactly as JSON', async () => {
    const line = String.raw`printf '\033]0;pwned\007tab\there\n'`
    const text = await ferry(['exec', '-i', 'inv.yaml', '--', line])
    expect(text.code, text.stderr).toBe(0)
    expectOnlyText(text.stdout)
    expect(text.stdout).toContain(String.raw`me | \x1b]0;pwned\x07tab` + '\there\n')
    const json = await ferry(['exec', '-i', 'inv.yaml', '--format', 'json', '--', line])
    expect(JSON.parse(json.stdout).hosts[0].stdout).toBe('\x1b]0;pwned\x07tab\there\n')
  })
})

describe('secrets in what ferry exec prints', { timeout: 30_000 }, () => {
  it('are <secret>, on stdout and stderr, as text and as JSON', async () => {
    const line = 'echo "key=$FERRY_TERMINAL_KEY"; echo "again $FERRY_TERMINAL_KEY" >&2'
    const text = await ferry(['exec', '-i', 'inv.yaml', '--', line])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toBe('me | ok | rc=0\nme | key=<secret>\nme | again <secret>\n')
    const json = await ferry(['exec', '-i', 'inv.yaml', '--format', 'json', '--', line])
    expect(json.stdout).not.toContain(KEY)
    expect(JSON.parse(json.stdout).hosts[0]).toMatchObject({ stdout: 'key=<secret>\n', stderr: 'again <secret>\n' })
  })

  it('that cannot be resolved make exec refuse to run (64), naming the secret, rather than print it unredacted', async () => {
    writeFileSync(
      join(dir, 'failing.yaml'),
      'hosts:\n  me: { connection: local, os: linux }\nsecrets:\n  vault: cmd:exit 3\n',
    )
    const r = await ferry(['exec', '-i', 'failing.yaml', '--', 'echo ran'])
    expect(r.code).toBe(64)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/failing\.yaml:\d+:\d+: secrets\.vault: command exited with code 3\n$/)
  })
})

describe('printable', () => {
  it('shows C0 and C1 controls and bidirectional overrides as escapes, and keeps tab and newline', () => {
    expect(printable('a\x1b[2Jb\x9bc\u202ed\u2066e\tf\ng\x7f\x00')).toBe(
      String.raw`a\x1b[2Jb\x9bc\u202ed\u2066e` + '\tf\ng' + String.raw`\x7f\x00`,
    )
  })
})
