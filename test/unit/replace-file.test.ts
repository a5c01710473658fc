// How ferry writes a file on a host (replaceFile in src/platform/common.ts), run for real on this
// machine in a scratch directory that belongs to nobody, as Debian's /etc/frr belongs to frr:
// through the file step's own commands (a recording shell hands them over), in every sh here.
// The race itself, against an attacker that swaps names as fast as it can, is test/lab/file-race.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import {
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { file, type FileRecord } from '../../src/steps/file.ts'
import { editConf } from '../../src/platform/common.ts'
import { linux } from '../../src/platform/linux.ts'
import { recordingShell } from '../../src/shell/recording.ts'
import type { CheckContext, ProbeResult, Step, StepContext } from '../../src/steps/step.ts'

const NOBODY = 65534
const shells = ['/bin/dash', '/bin/bash', '/bin/mksh'].filter((s) => existsSync(s))
const check: CheckContext = { host: {} as CheckContext['host'], platform: linux, pending: new Set() }
const asRoot = process.getuid?.() === 0

const run = (shell: string, cmd: string, input = ''): ProbeResult & { stderr: string } => {
  const r = spawnSync(shell, ['-c', cmd], { encoding: 'utf8', input })
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? 1 }
}

/** The step's apply and undo, as the commands it sends (each `sh -c SCRIPT`) with their stdin. */
async function sent(
  step: Step<FileRecord>,
  record: FileRecord,
  what: 'apply' | 'undo',
): Promise<{ cmd: string; input: string }[]> {
  const out: { cmd: string; input: string }[] = []
  const $ = recordingShell(
    () => ({ stdout: '', code: 0 }),
    (cmd, input) => void out.push({ cmd, input }),
  )
  const ctx = { $, platform: linux } as unknown as StepContext
  await (what === 'apply' ? step.apply(ctx, [], record) : step.undo(ctx, record))
  return out
}

describe.skipIf(!asRoot).each(shells)('the file step writes through %s', (shell) => {
  let dir = ''
  let backups = ''
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-replace-'))
    chownSync(dir, NOBODY, NOBODY)
    backups = mkdtempSync(join(tmpdir(), 'ferry-backups-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))
  afterEach(() => rmSync(backups, { recursive: true, force: true }))

  /** Probe, then apply as ferry would: what check saw, the record, and how the write ended. */
  async function write(opts: Parameters<typeof file>[1]) {
    const step = file('f', opts)
    const probe = run(shell, step.probe(linux))
    const record = { ...step.record(probe, check), backup: join(backups, 'f', 'b1') }
    const results = (await sent(step, record, 'apply')).map(({ cmd, input }) => run(shell, cmd, input))
    return { step, record, result: results[0]!, probeAfter: () => run(shell, step.probe(linux)) }
  }

  const litter = () => readdirSync(dir).filter((n) => n.startsWith('.ferry.'))

  it('a new file: owner and mode as asked, the content, nothing left beside it', async () => {
    const path = join(dir, 'new.conf')
    const { result } = await write({ path, content: 'hello\n', mode: 0o640, owner: 'nobody' })
    expect(result.code, result.stderr).toBe(0)
    expect(readFileSync(path, 'utf8')).toBe('hello\n')
    const st = statSync(path)
    expect([st.mode & 0o7777, st.uid]).toEqual([0o640, NOBODY])
    expect(litter()).toEqual([])
  })

  it('a set-uid mode with an owner converges: chown goes before chmod, which chown would clear', async () => {
    const path = join(dir, 'tool')
    writeFileSync(path, 'old\n')
    const { step, result, probeAfter } = await write({ path, content: '#!/bin/sh\n', mode: 0o4755, owner: 'nobody' })
    expect(result.code, result.stderr).toBe(0)
    expect(statSync(path).mode & 0o7777).toBe(0o4755)
    expect(step.check(probeAfter(), check)).toEqual([])
  })

  it('an old file: backed up 0600 where the record says, then undone to its content, mode and owner', async () => {
    const path = join(dir, 'old.conf')
    writeFileSync(path, 'old\n', { mode: 0o644 })
    chownSync(path, NOBODY, NOBODY)
    const { step, record, result } = await write({ path, content: 'new\n', mode: 0o600 })
    expect(result.code, result.stderr).toBe(0)
    expect(readFileSync(path, 'utf8')).toBe('new\n')
    // The old owner kept (none was asked for), the new mode.
    expect([statSync(path).mode & 0o7777, statSync(path).uid]).toEqual([0o600, NOBODY])
    expect(readFileSync(record.backup, 'utf8')).toBe('old\n')
    expect(statSync(record.backup).mode & 0o777).toBe(0o600)
    for (const { cmd } of await sent(step, record, 'undo')) expect(run(shell, cmd).code).toBe(0)
    expect(readFileSync(path, 'utf8')).toBe('old\n')
    expect([statSync(path).mode & 0o7777, statSync(path).uid]).toEqual([0o644, NOBODY])
    expect(existsSync(record.backup)).toBe(false)
    expect(litter()).toEqual([])
  })

  it('a symbolic link in the way is refused, at plan time and at apply: neither it nor what it points to changes', async () => {
    const target = join(backups, 'root-only')
    writeFileSync(target, 'secret\n', { mode: 0o600 })
    const path = join(dir, 'link.conf')
    symlinkSync(target, path)
    const step = file('f', { path, content: 'x\n', mode: 0o644, owner: 'nobody' })
    expect(() => step.check(run(shell, step.probe(linux)), check)).toThrow(/is a symbolic link/)
    // Apply, had the link been swapped in after the probe.
    const record: FileRecord = { existed: true, mode: 0o644, owner: 'nobody:nogroup', backup: join(backups, 'f', 'b1') }
    const [apply] = await sent(step, record, 'apply')
    const r = run(shell, apply!.cmd, apply!.input)
    expect([r.code, r.stderr]).toEqual([
      1,
      `ferry: ${path} is a symbolic link: ferry replaces regular files only (give the path it points to)\n`,
    ])
    expect(lstatSync(path).isSymbolicLink()).toBe(true)
    expect([readFileSync(target, 'utf8'), statSync(target).mode & 0o777, statSync(target).uid]).toEqual([
      'secret\n',
      0o600,
      0,
    ])
    expect(litter()).toEqual([])
  })

  it("a hard link to another file in the way is refused (the BSDs let users link root's files)", async () => {
    const target = join(backups, 'root-only')
    writeFileSync(target, 'secret\n', { mode: 0o600 })
    const path = join(dir, 'hard.conf')
    linkSync(target, path)
    const { result } = await write({ path, content: 'x\n', mode: 0o644 })
    expect(result.stderr).toContain('is not a regular file with one link')
    expect(result.code).toBe(1)
    expect([readFileSync(target, 'utf8'), statSync(target).nlink]).toEqual(['secret\n', 2])
    expect(existsSync(join(backups, 'f', 'b1'))).toBe(false)
  })

  it('a validator that fails leaves the file as it was, says why, and leaves nothing beside it', async () => {
    const path = join(dir, 'v.conf')
    writeFileSync(path, 'good\n')
    const { result } = await write({ path, content: 'bad\n', validate: 'grep -q good %s' })
    expect(result.code).toBe(3)
    expect(result.stderr).toBe('validation failed: grep -q good %s\n\n')
    expect(readFileSync(path, 'utf8')).toBe('good\n')
    expect(litter()).toEqual([])
  })

  it("a key=value edit keeps the file's mode and owner, and a file left empty goes", () => {
    const path = join(dir, 'sysctl.conf')
    writeFileSync(path, 'a=1\n', { mode: 0o640 })
    chownSync(path, NOBODY, NOBODY)
    expect(run(shell, editConf(path, 'b', 'b=2')).code).toBe(0)
    expect(readFileSync(path, 'utf8')).toBe('a=1\nb=2\n')
    expect([statSync(path).mode & 0o777, statSync(path).uid]).toEqual([0o640, NOBODY])
    expect(run(shell, editConf(path, 'a')).code).toBe(0)
    expect(run(shell, editConf(path, 'b')).code).toBe(0)
    expect(existsSync(path)).toBe(false)
    expect(litter()).toEqual([])
  })
})
