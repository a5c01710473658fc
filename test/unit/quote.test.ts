import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { quote, quoteArgv } from '../../src/shell/quote.ts'
import { LocalTransport } from '../../src/transport/local.ts'
import { createShell } from '../../src/shell/remote.ts'
import { corpus, MARKER_DIR } from '../fixtures/injection-corpus.ts'

describe('quote', () => {
  it('leaves safe words bare and single-quotes the rest', () => {
    expect(quote('abc/def-1.2:x=y@z')).toBe('abc/def-1.2:x=y@z')
    expect(quote('')).toBe("''")
    expect(quote('a b')).toBe("'a b'")
    expect(quote("it's")).toBe(`'it'\\''s'`)
    expect(quoteArgv(['printf', '%s\n', 'a b'])).toBe(`printf '%s\n' 'a b'`)
  })

  it('never produces the bash-only $-quote form', () => {
    for (const s of corpus) expect(quote(s).startsWith("$'")).toBe(false)
  })

  it('refuses NUL, which no shell argument can carry', () => {
    expect(() => quote('a\0b')).toThrow(/NUL/)
  })

  const shells = ['/bin/sh', '/bin/dash', '/bin/bash', '/bin/mksh'].filter((s) => existsSync(s))
  it.each(shells)('every corpus string round-trips byte-identical through %s with no side effects', (shell) => {
    rmSync(MARKER_DIR, { recursive: true, force: true })
    mkdirSync(MARKER_DIR, { recursive: true })
    for (const s of corpus) {
      const out = execFileSync(shell, ['-c', `printf %s ${quote(s)}`])
      expect(out.equals(Buffer.from(s))).toBe(true)
    }
    expect(readdirSync(MARKER_DIR)).toEqual([])
  })
})

describe('local transport $', () => {
  it('runs through sh -c with POSIX quoting, and returns zx ProcessOutput', async () => {
    const t = new LocalTransport('local')
    rmSync(MARKER_DIR, { recursive: true, force: true })
    mkdirSync(MARKER_DIR, { recursive: true })
    for (const s of corpus.slice(0, 40)) {
      const out = await t.$`printf %s ${s}`
      expect(out.buffer().equals(Buffer.from(s))).toBe(true)
    }
    expect(readdirSync(MARKER_DIR)).toEqual([])
    const failed = await t.$`exit 3`.nothrow()
    expect(failed.exitCode).toBe(3)
    await expect(t.$`echo oops >&2; exit 5`).rejects.toMatchObject({ exitCode: 5, stderr: 'oops\n' })
    expect(t.stats.channels).toBe(42)
  })

  it('passes stdin and honours timeouts by killing the command', async () => {
    const t = new LocalTransport('local')
    expect((await t.$({ input: 'from stdin' })`cat`).stdout).toBe('from stdin')
    const started = Date.now()
    const out = await t.$`sleep 5`.timeout(200).nothrow()
    expect(out.signal).toBe('SIGTERM')
    expect(Date.now() - started).toBeLessThan(4000)
  })

  it('kills a command even when the login shell printed to stderr first (a .bashrc warning), and keeps what it printed', async () => {
    const noisy = createShell((c) => new LocalTransport('x').execute(`echo 'bashrc: pyenv not found' >&2; ${c}`), {
      host: 'x',
    })
    const out = await noisy`sleep 30; echo never`.timeout(200).nothrow()
    expect([out.signal, out.stdout]).toEqual(['SIGTERM', ''])
    expect(out.stderr).toBe('bashrc: pyenv not found\n')
    const ok = await noisy`echo fine`
    expect([ok.stdout, ok.stderr, ok.exitCode]).toEqual(['fine\n', 'bashrc: pyenv not found\n', 0])
  })

  it('uses the requested interpreter on the target', async () => {
    const $ = createShell((c) => new LocalTransport('x').execute(c), { host: 'x', shell: '/bin/bash' })
    expect((await $`echo $BASH_VERSION`).stdout.trim()).not.toBe('')
  })
})
