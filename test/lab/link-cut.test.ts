// A risky change whose host loses its link (issue 16, High 3): whatever the moment the connection
// dies, the run ends as designed. The host reverts itself at --confirm-timeout (its revert job
// brings the link back up), and the run reports `reverted` with exit 3, its journal closed, and
// the host's lock and revert directory gone once the host answers again. Before, a kill sent
// over the dead connection failed with ssh2's "Unable to exec" nobody caught: ferry died with a
// stack trace (exit 1), the run stayed `running`, and the lock refused the next run.
//
// The link goes down on lab5 (`ip link set eth0 down` in its namespace) at four moments:
//   mid-command   the risky command itself takes it down, as in the report
//   channel open  just before the next step opens a channel on the run's connection
//   connect       just before the new connection that would confirm the change
//   confirm       while that confirmation runs (its health check, a verify, is held for 3 s)
// and, for a connection that dies outright rather than going silent, the confirming connection
// is reset (its sshd killed) mid-check: the host still answers, so ferry fires the revert itself.
import { afterEach, expect } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { netnsPids } from '../../lab/lab.ts'
import { accepted, ferry, labIt as it, labYaml, sh, tempDir, waitFor, writeInventory, type Report } from './helpers.ts'

const HOST = 'lab5'
const dir = tempDir()
const MARK = '/run/ferry-cut-ready'
const SLOW = '/run/ferry-cut-slow'

const linkUp = () => sh(HOST, 'ip -o link show eth0').includes('state UP')

afterEach(() => {
  sh(HOST, `ip link set eth0 up; rm -f ${MARK} ${SLOW}; rm -rf /var/run/ferry.lock /var/run/ferry-revert`)
})

/** A runbook on lab5: a risky command (`cut`, reverted by bringing eth0 up), then `after` steps. */
function runbook(name: string, cut: string, after: string): string {
  const path = join(dir, `${name}.ts`)
  writeFileSync(
    path,
    `import { defineRunbook, command, verify } from 'ferry'
import { setTimeout as sleep } from 'node:timers/promises'
export default defineRunbook({ name: '${name}', description: 'cuts its own link', hosts: '${HOST}',
  steps: () => [
    command('cut', async ({ $ }) => void (await $\`sh -c \${${JSON.stringify(cut)}}\`), { risky: true, revert: 'ip link set eth0 up' }),
    ${after}
  ] })
`,
  )
  return path
}

/** Runs it with --confirm-timeout 8; `during` may cut the link from outside while it runs. */
async function cutRun(path: string, during?: () => Promise<void>) {
  const inv = writeInventory(labYaml([HOST], { defaults: '  os: linux' }))
  const state = join(tempDir(), 'state')
  const started = Date.now()
  const run = ferry(['run', path, '-i', inv, '--confirm-timeout', '8', '--format', 'json', '--state-dir', state], {
    timeout: 120_000,
  })
  await during?.()
  const done = await run
  const seconds = (Date.now() - started) / 1000
  let report: Report
  try {
    report = JSON.parse(done.stdout) as Report
  } catch {
    throw new Error(`no report (exit ${done.code}): ${done.stdout}\n${done.stderr}`)
  }
  const history = JSON.parse((await ferry(['history', '--json', '--state-dir', state])).stdout).runs as {
    id: string
    status: string
    finished?: string
  }[]
  return { done, report, history, seconds }
}

/** What every moment must end in. */
function expectReverted(r: Awaited<ReturnType<typeof cutRun>>): void {
  expect(r.done.code, `${r.done.stderr}\n${r.done.stdout}`).toBe(3)
  expect(r.done.stderr).not.toMatch(/\n\s+at /) // no stack trace
  const host = r.report.hosts[0]!
  expect(host).toMatchObject({ name: HOST, status: 'reverted' })
  expect(host.steps[0]).toMatchObject({ name: 'cut', status: 'rolled-back' })
  // The journal is closed: the run is finished, not `running`.
  const run = r.history.find((h) => h.id === r.report.runId)!
  expect(run.finished, JSON.stringify(run)).toBeTruthy()
  // The host brought its link back itself, and ferry left nothing behind on it.
  expect(linkUp()).toBe(true)
  // (Other tests' runs may have left a job's directory: a controller killed after arming does.)
  expect(sh(HOST, `ls -d /var/run/ferry-revert/${r.report.runId} /var/run/ferry.lock 2>/dev/null; true`)).toBe('')
}

/** Waits for the risky step's marker on the host, then takes the link down from outside. */
async function cutWhenMarked(): Promise<void> {
  expect(
    await waitFor(30_000, () => sh(HOST, `[ -f ${MARK} ] && echo y || true`).trim() === 'y', { every: 50 }),
    'the risky step ran',
  ).toBeDefined()
  sh(HOST, 'ip link set eth0 down')
}

it('mid-command: the risky command takes its own link down', async () => {
  const r = await cutRun(runbook('mid', 'ip link set eth0 down', ''))
  console.log(`mid-command: exit ${r.done.code} after ${r.seconds.toFixed(1)} s: ${r.report.hosts[0]?.error}`)
  expectReverted(r)
}, 120_000)

it('channel open: the link goes down before the next step opens its channel', async () => {
  const path = runbook(
    'open',
    `touch ${MARK}`,
    "command('next', async ({ $ }) => { await sleep(2000); await $`true` }),",
  )
  const r = await cutRun(path, cutWhenMarked)
  console.log(`channel open: exit ${r.done.code} after ${r.seconds.toFixed(1)} s: ${r.report.hosts[0]?.error}`)
  expectReverted(r)
}, 120_000)

it('connect: the link goes down before the new connection that would confirm', async () => {
  const before = accepted(HOST)
  const path = runbook('connect', `touch ${MARK}`, "command('wait', async () => { await sleep(2000) }),")
  const r = await cutRun(path, cutWhenMarked)
  console.log(`connect: exit ${r.done.code} after ${r.seconds.toFixed(1)} s: ${r.report.hosts[0]?.error}`)
  expectReverted(r)
  // The run's connection, then none while the link was down, then the one that read the outcome.
  expect(accepted(HOST) - before).toBe(2)
}, 120_000)

it('confirm: the link goes down while the new connection checks the host', async () => {
  const before = accepted(HOST)
  const path = runbook(
    'confirm',
    `touch ${SLOW}`,
    `verify('answers', { command: 'if [ -f ${SLOW} ]; then sleep 3; fi; true', timeout: 20 }),`,
  )
  const r = await cutRun(path, async () => {
    // The second connection is the confirmation's; its health check sleeps 3 s.
    expect(
      await waitFor(60_000, () => accepted(HOST) >= before + 2, { every: 20 }),
      'ferry reconnected to confirm',
    ).toBeDefined()
    await new Promise((resolve) => setTimeout(resolve, 500))
    sh(HOST, 'ip link set eth0 down')
  })
  console.log(`confirm: exit ${r.done.code} after ${r.seconds.toFixed(1)} s: ${r.report.hosts[0]?.error}`)
  expectReverted(r)
}, 120_000)

it('confirm, reset: the confirming connection dies outright mid-check; ferry fires the revert itself (rolled back, exit 1)', async () => {
  const before = accepted(HOST)
  const path = runbook(
    'reset',
    `touch ${SLOW}`,
    `verify('answers', { command: 'if [ -f ${SLOW} ]; then sleep 3; fi; true', timeout: 20 }),`,
  )
  const r = await cutRun(path, async () => {
    expect(
      await waitFor(60_000, () => accepted(HOST) >= before + 2, { every: 20 }),
      'ferry reconnected to confirm',
    ).toBeDefined()
    await new Promise((resolve) => setTimeout(resolve, 500))
    // The session processes of the confirming connection (the run's own was dropped before it).
    const sessions = netnsPids(`ferry-${HOST}`).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sshd: root')
      } catch {
        return false
      }
    })
    expect(sessions.length).toBeGreaterThan(0)
    for (const pid of sessions) process.kill(pid, 'SIGKILL')
  })
  console.log(`confirm, reset: exit ${r.done.code} after ${r.seconds.toFixed(1)} s: ${r.report.hosts[0]?.error}`)
  expect(r.done.code, `${r.done.stderr}\n${r.done.stdout}`).toBe(1)
  expect(r.done.stderr).not.toMatch(/\n\s+at /)
  expect(r.report.hosts[0]).toMatchObject({
    status: 'rolled-back',
    error: expect.stringContaining('the changes could not be confirmed over a new connection'),
  })
  expect(r.history.find((h) => h.id === r.report.runId)?.finished).toBeTruthy()
  expect(linkUp()).toBe(true)
  expect(sh(HOST, `ls -d /var/run/ferry-revert/${r.report.runId} /var/run/ferry.lock 2>/dev/null; true`)).toBe('')
}, 120_000)
