// Commit-confirmed and host locks without a lab: the revert job's commands per platform (golden,
// since no BSD host exists here, so FreeBSD and OpenBSD are proved by their text and by parsing
// under dash and mksh), then the job and the lock run for real on this machine, in a scratch dir.
import { describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { armScript, clearScript, parseSettled, revertScript, settleScript } from '../../src/engine/revert-job.ts'
import { LockedError, isStale, lockScript, ownerOf, parseOwner, unlockScript } from '../../src/engine/lock.ts'
import { platformFor } from '../../src/platform/platform.ts'
import { tempDir } from '../lab/helpers.ts'

const RUN = '20261121-120000-abcd'
const shells = ['/bin/dash', '/bin/mksh'].filter((s) => existsSync(s))
const sh = (script: string, input = '') => spawnSync('/bin/sh', ['-c', script], { input, encoding: 'utf8' })

const ARM_HEAD = `set -e
umask 077
d=/var/run/ferry-revert/${RUN}
mkdir -p /var/run/ferry-revert
rm -rf "$d"
mkdir "$d"
cat > "$d/revert.sh"
printf '%s\\n' 'd=/var/run/ferry-revert/${RUN}
trap '\\'''\\'' HUP
sleep 120
mv "$d/armed" "$d/firing" 2>/dev/null || exit 0
sh "$d/revert.sh" > "$d/revert.log" 2>&1
echo $? > "$d/reverted.new" && mv "$d/reverted.new" "$d/reverted"' > "$d/job.sh"
: > "$d/armed"
`

describe('the revert job, per platform (golden)', () => {
  it.each([
    ['linux', 'setsid -f sh "$d/job.sh" </dev/null >/dev/null 2>&1'],
    ['freebsd', 'daemon -f sh "$d/job.sh" </dev/null >/dev/null 2>&1'],
    ['openbsd', 'nohup sh "$d/job.sh" </dev/null >/dev/null 2>&1 &'],
  ] as const)('%s: written under umask 077, then detached with: %s', (os, detach) => {
    const script = armScript(platformFor(os), RUN, 120)
    expect(script).toBe(ARM_HEAD + detach)
    for (const shell of shells) execFileSync(shell, ['-n', '-c', script])
  })

  it('settling: confirm renames armed away (disarm), revert fires it; both wait for a job caught firing', () => {
    expect(settleScript(RUN, 'confirm').split('\n')[1]).toBe(
      'if mv "$d/armed" "$d/disarmed" 2>/dev/null || [ -f "$d/disarmed" ]; then echo disarmed; exit 0; fi',
    )
    expect(settleScript(RUN, 'revert').split('\n')[1]).toBe(
      'if [ -f "$d/disarmed" ]; then echo disarmed; exit 0; elif mv "$d/armed" "$d/firing" 2>/dev/null; then : > "$d/by-controller"; sh "$d/revert.sh" > "$d/revert.log" 2>&1; echo $? > "$d/reverted.new" && mv "$d/reverted.new" "$d/reverted"; fi',
    )
    for (const how of ['confirm', 'revert'] as const)
      for (const shell of shells) execFileSync(shell, ['-n', '-c', settleScript(RUN, how)])
  })

  it('the revert script runs every command even after one fails, fails if any did, and names steps, not commands', () => {
    const script = revertScript(
      [
        { name: 'nft rules', commands: ['false', 'echo second'] },
        { name: 'conf', commands: ['echo third'] },
      ],
      'run X on h',
    )
    const r = sh(script)
    expect(r.stdout).toBe('second\nthird\n')
    expect(r.stderr).toBe('ferry revert: nft rules: a command failed\n')
    expect(r.status).toBe(1)
    expect(sh(revertScript([{ name: 'ok', commands: ['true'] }], 'x')).status).toBe(0)
  })
})

describe('the revert job, run on this machine', () => {
  const linux = platformFor('linux')
  const arm = (root: string, seconds: number, marker: string) => {
    const r = sh(
      armScript(linux, RUN, seconds, root),
      revertScript([{ name: 'mark', commands: [`echo reverted > ${marker}`] }], 'test'),
    )
    expect(r.status, r.stderr).toBe(0)
  }

  it('fires by itself at its timeout, detached (the arming shell has long exited); settling then reports it', async () => {
    const root = tempDir()
    const marker = join(root, 'marker')
    const armed = Date.now()
    arm(root, 1, marker)
    expect(existsSync(marker), 'not before its time').toBe(false)
    // Polled, not slept: on a loaded machine the job may start late, and that is not a failure.
    while (!existsSync(marker) && Date.now() - armed < 15_000) await sleep(50)
    expect(Date.now() - armed, 'not before its timeout').toBeGreaterThanOrEqual(1_000)
    expect(readFileSync(marker, 'utf8')).toBe('reverted\n')
    expect(parseSettled(sh(settleScript(RUN, 'confirm', root)).stdout)).toEqual({
      state: 'reverted',
      by: 'job',
      ok: true,
      log: '',
    })
    // Asked again (its answer lost with a dying connection), it says the same, until cleared.
    expect(parseSettled(sh(settleScript(RUN, 'revert', root)).stdout)).toEqual({
      state: 'reverted',
      by: 'job',
      ok: true,
      log: '',
    })
    sh(clearScript(RUN, root))
    expect(existsSync(join(root, RUN)), 'cleared').toBe(false)
  })

  it('disarmed in time, it never fires', async () => {
    const root = tempDir()
    const marker = join(root, 'marker')
    arm(root, 2, marker)
    expect(parseSettled(sh(settleScript(RUN, 'confirm', root)).stdout)).toEqual({ state: 'disarmed' })
    // Asked again, or asked to revert after all: the disarm stands.
    expect(parseSettled(sh(settleScript(RUN, 'confirm', root)).stdout)).toEqual({ state: 'disarmed' })
    expect(parseSettled(sh(settleScript(RUN, 'revert', root)).stdout)).toEqual({ state: 'disarmed' })
    await sleep(3_000)
    expect(existsSync(marker)).toBe(false)
  })

  it('the controller can fire it early', () => {
    const root = tempDir()
    const marker = join(root, 'marker')
    arm(root, 30, marker)
    expect(parseSettled(sh(settleScript(RUN, 'revert', root)).stdout)).toEqual({
      state: 'reverted',
      by: 'controller',
      ok: true,
      log: '',
    })
    expect(readFileSync(marker, 'utf8')).toBe('reverted\n')
    // Asked again, it still says who fired it, and does not run the revert twice.
    sh(`rm ${marker}`)
    expect(parseSettled(sh(settleScript(RUN, 'revert', root)).stdout)).toEqual({
      state: 'reverted',
      by: 'controller',
      ok: true,
      log: '',
    })
    expect(existsSync(marker)).toBe(false)
  })
})

describe('host locks, run on this machine', () => {
  it('one holder at a time; a second is refused and told who holds it; only the holder releases it', () => {
    const dir = join(tempDir(), 'ferry.lock')
    const a = ownerOf('run-a')
    expect(sh(lockScript(a, false, dir)).status).toBe(0)
    const refused = sh(lockScript(ownerOf('run-b'), false, dir))
    expect(refused.status).toBe(1)
    expect(parseOwner(refused.stdout)).toEqual(a)
    expect(
      sh(lockScript(ownerOf('run-a'), false, dir)).status,
      'the holder may take it again (one machine, two names)',
    ).toBe(0)
    sh(unlockScript('run-b', dir))
    expect(existsSync(dir), 'run-b cannot release run-a').toBe(true)
    sh(unlockScript('run-a', dir))
    expect(existsSync(dir)).toBe(false)
  })

  it('--break-lock takes a held lock over and prints whose it was', () => {
    const dir = join(tempDir(), 'ferry.lock')
    sh(lockScript(ownerOf('run-a'), false, dir))
    const broke = sh(lockScript(ownerOf('run-b'), true, dir))
    expect(broke.status).toBe(0)
    expect(broke.stdout).toMatch(/^broken\nrun=run-a\n/)
    expect(parseOwner(readFileSync(join(dir, 'owner'), 'utf8')).run).toBe('run-b')
  })

  it('stale: held by a process of this controller that is gone; a live one, or another controller, is not', () => {
    const dead = spawnSync('true').pid!
    expect(isStale({ run: 'x', controller: hostname(), pid: dead, since: '' })).toBe(true)
    expect(isStale({ run: 'x', controller: hostname(), pid: process.pid, since: '' })).toBe(false)
    expect(isStale({ run: 'x', controller: 'elsewhere', pid: dead, since: '' })).toBe(false)
    expect(new LockedError('r1', { run: 'x', controller: hostname(), pid: dead, since: 'then' }, 0).message).toBe(
      `r1 is locked by run x (controller ${hostname()}, pid ${dead}, since then): that process no longer runs on this controller, so the lock is stale; --break-lock removes it`,
    )
  })
})
