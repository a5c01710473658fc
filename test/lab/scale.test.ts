// The scale lab (lab/scale.ts) end to end, small: 20 sshd-only hosts come up through the lab CLI,
// the scale benchmark's runbook converges them and then changes nothing in 3 round trips per host,
// a second `scale up 20` leaves every host as it was, and `scale down` leaves nothing behind.
import { execFile, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import { alive } from '../../lab/lab.ts'
import {
  SCALE_DIR,
  SCALE_INVENTORY,
  SCALE_KNOWN_HOSTS,
  SCALE_ROOTS,
  loadScaleState,
  scaleDown,
  scaleHostNames,
} from '../../lab/scale.ts'
import { ferry, labIt as it, tempDir, ROOT, type Run } from './helpers.ts'

const N = 20
const RUNBOOK = 'bench/scale-runbook.ts'

const lab = async (...args: string[]) =>
  (await promisify(execFile)(process.execPath, [join(ROOT, 'bin/lab.mjs'), 'scale', ...args], { cwd: ROOT })).stdout
const run = (state: string, ...extra: string[]) =>
  ferry(
    [
      'run',
      RUNBOOK,
      '-i',
      SCALE_INVENTORY,
      '--limit',
      scaleHostNames(N).join(','),
      '--forks',
      '10',
      '--format',
      'json',
      '--state-dir',
      state,
      ...extra,
    ],
    { timeout: 120_000 },
  )
const json = (r: Run) => {
  try {
    return JSON.parse(r.stdout) as {
      hosts: { name: string; status: string; steps: { status: string }[] }[]
      summary: Record<string, number>
      stats?: Record<string, { roundTrips: number }>
    }
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`)
  }
}
const pids = () => Object.fromEntries(Object.values(loadScaleState().hosts).map((h) => [h.name, h.pid]))
const ours = {
  netns: () =>
    execFileSync('ip', ['netns', 'list'])
      .toString()
      .split('\n')
      .filter((l) => l.startsWith('ferryscale-')),
  links: () =>
    execFileSync('ip', ['-o', 'link'])
      .toString()
      .split('\n')
      .map((l) => l.split(': ')[1]?.replace(/@.*/, '') ?? '')
      .filter((n) => n.startsWith('fsc-')),
  /** Processes in the scale hosts' roots (an sshd and what it runs). */
  rooted: () =>
    fs
      .readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return fs.readlinkSync(`/proc/${p}/root`).startsWith(`${SCALE_ROOTS}/`)
        } catch {
          return false
        }
      }),
}

describe('the scale lab', () => {
  // From nothing (a bench may have left hosts up), and whatever happens, back to nothing. The
  // main lab, which setup.ts brings up, is not touched.
  beforeAll(async () => {
    if (process.env.FERRY_LAB_SKIP !== '1') await scaleDown()
  }, 60_000)
  afterAll(async () => {
    if (process.env.FERRY_LAB_SKIP !== '1') await scaleDown()
  }, 60_000)
  const state = tempDir()
  let first: Record<string, number> = {}

  it(`scale up ${N} brings up ${N} hosts, each with its own sshd, host key and address`, async () => {
    const out = await lab('up', String(N))
    expect(out).toContain(`${N} hosts up`)
    expect(out).toContain(`(${N} started, 0 kept, 0 removed)`)
    first = pids()
    expect(Object.keys(first).sort()).toEqual(scaleHostNames(N).sort())
    expect(Object.values(first).every(alive)).toBe(true)
    expect(new Set(Object.values(first)).size).toBe(N)
    expect(ours.netns()).toHaveLength(N)
    // Strict host key checking has something to check: one line per host, N different keys.
    const known = fs.readFileSync(SCALE_KNOWN_HOSTS, 'utf8').trim().split('\n')
    expect(known).toHaveLength(N)
    expect(new Set(known.map((l) => l.split(' ')[2])).size).toBe(N)
    expect(await lab('status')).toContain(`${N} of ${N} hosts up`)
  }, 120_000)

  it('the scale runbook converges every host, then changes nothing in 3 round trips per host', async () => {
    const converge = await run(state)
    expect(converge.code, converge.stderr).toBe(0)
    const applied = json(converge)
    expect(applied.summary).toMatchObject({ changed: N, failed: 0, unreachable: 0 })
    expect(applied.hosts.map((h) => h.status)).toEqual(Array(N).fill('changed'))

    const noop = await run(state, '--stats')
    expect(noop.code, noop.stderr).toBe(0)
    const again = json(noop)
    expect(again.summary).toMatchObject({ ok: N, changed: 0, failed: 0, unreachable: 0 })
    expect(again.hosts.every((h) => h.steps.length === 10 && h.steps.every((s) => s.status === 'ok'))).toBe(true)
    expect(Object.keys(again.stats ?? {}).sort()).toEqual(scaleHostNames(N).sort())
    expect(Object.values(again.stats!).map((s) => s.roundTrips)).toEqual(Array(N).fill(3))
  }, 180_000)

  it(`scale up ${N} again changes nothing: the same sshd on every host`, async () => {
    const out = await lab('up', String(N))
    expect(out).toContain(`(0 started, ${N} kept, 0 removed)`)
    expect(pids()).toEqual(first)
    expect(Object.values(first).every(alive)).toBe(true)
    // The hosts kept their state too: the runbook still finds nothing to do.
    const noop = await run(state)
    expect(noop.code, noop.stderr).toBe(0)
    expect(json(noop).summary).toMatchObject({ ok: N, changed: 0 })
  }, 120_000)

  it('scale down leaves no namespace, link, process or state behind', async () => {
    const out = await lab('down')
    expect(out).toMatch(/down in/)
    expect(ours.netns()).toEqual([])
    expect(ours.links()).toEqual([])
    expect(Object.values(first).filter(alive)).toEqual([])
    expect(ours.rooted()).toEqual([])
    expect(fs.existsSync(SCALE_DIR)).toBe(false)
    expect(fs.existsSync(SCALE_ROOTS)).toBe(false)
    // And it is safe to run again with nothing up.
    expect(await lab('down')).toMatch(/down in/)
    expect(await lab('status').catch((e: { code?: number; stdout?: string }) => `exit ${e.code}: ${e.stdout}`)).toMatch(
      /exit 3: .*down/,
    )
  }, 60_000)
})
