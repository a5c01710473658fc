// Golden tests for every step type on every OS: probe fixtures in, exact changes, commands and
// files out. The BSD cases reproduce the seed articles' own lines (seed 000: FreeBSD, Quagga,
// rc.conf; seed 003: OpenBSD, gre, isakmpd, sysctl.conf). Every command must also parse under
// dash and mksh, the strictest shells at hand, since no BSD sh is.

import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { commandLines, filesAfter, runCase, PROBE, type Case } from '../golden/harness.ts'
import { commonCases } from '../golden/common.ts'
import type { Os } from '../../src/inventory/types.ts'

// Cases are found by directory, as pyinfra finds its fixtures: test/golden/OS/TYPE.ts exports a
// step type's cases on that OS, so a new step type's fixtures need no list edited anywhere.
// command and verify know no OS; their cases come from common.ts, the same on every OS.
const GOLDEN = join(import.meta.dirname, '../golden')
const TYPES = [
  ...new Set(
    (['freebsd', 'openbsd', 'linux'] as const).flatMap((os) =>
      readdirSync(join(GOLDEN, os))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => f.slice(0, -3)),
    ),
  ),
]
async function casesOf(os: Os): Promise<Case[]> {
  const files = readdirSync(join(GOLDEN, os))
    .filter((f) => f.endsWith('.ts'))
    .sort()
  const cases = await Promise.all(
    files.map(async (f) => ((await import(join(GOLDEN, os, f))) as { default: Case[] }).default),
  )
  return [...cases.flat(), ...commonCases(os)]
}
const [freebsd, openbsd, linux] = await Promise.all([casesOf('freebsd'), casesOf('openbsd'), casesOf('linux')])

const shells = ['/bin/dash', '/bin/mksh'].filter((s) => existsSync(s))

function parses(script: string): void {
  for (const sh of shells) execFileSync(sh, ['-n', '-c', script], { stdio: 'pipe' })
}

function golden(c: Case): void {
  it(c.name, async () => {
    const r = await runCase(c)
    const want = c.expect
    if (want.error) return void expect(r.error).toMatch(want.error)
    expect(r.error).toBeUndefined()
    if (want.applyError) expect(r.applyError).toMatch(want.applyError)
    else expect(r.applyError).toBeUndefined()
    if (typeof want.probe === 'string') expect(r.probe).toBe(want.probe)
    for (const part of Array.isArray(want.probe) ? want.probe : []) expect(r.probe).toContain(part)
    expect(r.changes.map((ch, i) => (typeof want.changes?.[i] === 'string' ? ch.summary : ch))).toEqual(
      want.changes ?? [],
    )
    expect(r.apply).toEqual(want.apply ?? [])
    expect(r.undo).toEqual(want.undo ?? [])
    if (want.revert) expect(r.revert).toEqual(want.revert)
    for (const s of r.revert ?? []) parses(s)
    parses(r.probe)
    for (const s of [...r.apply, ...r.undo]) if (s !== PROBE) parses(typeof s === 'string' ? s : s.cmd)
    if (want.files)
      expect(filesAfter(r.apply, want.files.before ?? {}, Object.keys(want.files.after))).toEqual(want.files.after)
  })
}

describe.each([
  ['freebsd', freebsd],
  ['openbsd', openbsd],
  ['linux', linux],
] as const)('%s', (os, cases) => {
  for (const c of cases) golden(c)

  it('has at least 3 cases of each step type', () => {
    for (const type of [...TYPES, 'command', 'verify']) {
      expect(cases.filter((c) => c.name.startsWith(`${os} ${type}: `)).length, type).toBeGreaterThanOrEqual(3)
    }
  })
})

it('golden file edits are the commands apply sent', () => {
  // filesAfter runs only `f=/etc/…` lines; make sure every platform file edit is one (a file
  // step's write, its content on stdin, is not a platform edit).
  const sent = [...freebsd, ...openbsd, ...linux].flatMap((c) => c.expect.apply ?? [])
  const lines = commandLines(sent.filter((s) => typeof s === 'string'))
  const edits = lines.filter((l) => l.includes('cd -P /etc'))
  expect(edits.length).toBeGreaterThan(10)
  expect(edits.filter((l) => !l.startsWith('f=/etc/'))).toEqual([])
})
