// Safe apply, end to end: a change that cuts the host off reverts itself, a good one is confirmed
// over a new connection, a controller killed after arming leaves a host that reverts on its own,
// and two runs on one host never interleave.
import { afterAll, expect } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { accepted, ferry, labIt as it, sh, tempDir, waitFor } from './helpers.ts'

const dir = tempDir()
const state = join(dir, 'state')
const RULES = '/etc/ferry-cut.nft'
const OLD = '# the rules before\n'

/** A runbook that loads an nftables table dropping TCP `port` on lab4's underlay, eth0. */
function cutRunbook(port: number): string {
  const path = join(dir, `cut-${port}.ts`)
  writeFileSync(
    path,
    `import { defineRunbook, file, command, verify } from 'ferry'
export default defineRunbook({ name: 'cut', description: 'drops TCP ${port} on eth0', hosts: 'lab4',
  steps: () => [
    file('rules', { path: '${RULES}', risky: true, content: 'table inet ferrycut {\\n  chain input {\\n    type filter hook input priority 0;\\n    iifname "eth0" tcp dport ${port} drop\\n  }\\n}\\n' }),
    command('load rules', async ({ $ }) => void (await $\`nft -f ${RULES}\`), { risky: true, revert: 'nft delete table inet ferrycut', unless: "nft list table inet ferrycut | grep -q 'dport ${port} drop'" }),
    verify('still answering', { command: 'true' }),
  ] })
`,
  )
  return path
}

const table = () => {
  try {
    return sh('lab4', 'nft list table inet ferrycut')
  } catch {
    return undefined
  }
}
const json = (stdout: string) =>
  JSON.parse(stdout) as {
    runId: string
    hosts: { name: string; status: string; error?: string; steps: { name: string; status: string }[] }[]
  }

function resetLab4(): void {
  sh(
    'lab4',
    `nft delete table inet ferrycut 2>/dev/null || true; printf '%s' '${OLD}' > ${RULES}; rm -rf /var/run/ferry-revert /var/run/ferry.lock`,
  )
}

afterAll(() => {
  sh('lab4', `nft delete table inet ferrycut 2>/dev/null || true; rm -f ${RULES}`)
  sh('lab5', 'rm -f /etc/ferry-kill.conf /tmp/ferry-lock.log /tmp/ferry-go; rm -rf /var/run/ferry.lock')
})

it('a change that cuts SSH: the host reverts itself within the timeout + 5 s, ferry says reverted (exit 3); a corrected run then succeeds', async () => {
  resetLab4()
  const run = ferry(
    ['run', cutRunbook(22), '-i', 'lab', '--confirm-timeout', '5', '--format', 'json', '--state-dir', state],
    { timeout: 60_000 },
  )
  expect(
    await waitFor(20_000, () => table()?.includes('dport 22 drop') ?? false, { every: 50 }),
    'the cutting rule went in',
  ).toBeDefined()
  // When the job was armed, by the host's own clock (the lab shares the controller's).
  const armedAt = Number(sh('lab4', 'date -r "$(ls -d /var/run/ferry-revert/*)/job.sh" +%s%3N').trim())
  expect(await waitFor(15_000, () => table() === undefined, { every: 50 }), 'the rule went away').toBeDefined()
  const revertedAfter = Date.now() - armedAt
  expect(revertedAfter).toBeGreaterThanOrEqual(4_000) // not before its time…
  expect(revertedAfter).toBeLessThanOrEqual(10_000) // …and within the timeout + 5 s
  const done = await run
  expect(done.code, done.stderr).toBe(3)
  const host = json(done.stdout).hosts[0]!
  expect(host).toMatchObject({ name: 'lab4', status: 'reverted' })
  // The verify's probe, in flight when the rule went in, may finish once the host has reverted.
  expect(host.steps.slice(0, 2).map((s) => s.status)).toEqual(['rolled-back', 'rolled-back'])
  expect(sh('lab4', `cat ${RULES}`), 'the file is back from its backup').toBe(OLD)
  expect(
    sh('lab4', 'ls -A /var/run/ferry-revert; ls -d /var/run/ferry.lock 2>/dev/null || true'),
    'no job and no lock left',
  ).toBe('')

  const fixed = await ferry([
    'run',
    cutRunbook(2222),
    '-i',
    'lab',
    '--confirm-timeout',
    '5',
    '--format',
    'json',
    '--state-dir',
    state,
  ])
  expect(fixed.code, fixed.stderr).toBe(0)
  expect(json(fixed.stdout).hosts[0]!.status).toBe('changed')
}, 90_000)

it('a good change is confirmed over a new connection and the job disarmed: nothing reverts after the timeout', async () => {
  resetLab4()
  const before = accepted('lab4')
  const run = await ferry([
    'run',
    cutRunbook(2222),
    '-i',
    'lab',
    '--confirm-timeout',
    '3',
    '--format',
    'json',
    '--state-dir',
    state,
  ])
  expect(run.code, run.stderr).toBe(0)
  expect(json(run.stdout).hosts[0]).toMatchObject({ status: 'changed', confirmed: true })
  expect(accepted('lab4') - before, 'the run connection, then a new one to confirm over').toBe(2)
  await new Promise((r) => setTimeout(r, 4_000))
  expect(table()).toContain('dport 2222 drop')
  expect(sh('lab4', `cat ${RULES}`)).toContain('dport 2222 drop')
  expect(sh('lab4', 'ls -A /var/run/ferry-revert'), 'the job is gone').toBe('')
}, 60_000)

it('a controller killed (SIGKILL) right after arming: the host reverts by itself, and its lock is stale until --break-lock', async () => {
  sh('lab5', 'rm -rf /var/run/ferry.lock /var/run/ferry-revert; echo before > /etc/ferry-kill.conf')
  const runbook = join(dir, 'kill.ts')
  writeFileSync(
    runbook,
    `import { defineRunbook, file, command } from 'ferry'
export default defineRunbook({ name: 'kill', description: 'a risky file, then a long step', hosts: 'lab5',
  steps: () => [
    file('conf', { path: '/etc/ferry-kill.conf', content: 'after\\n', risky: true }),
    command('long', async ({ $ }) => void (await $\`sleep 20\`)),
  ] })
`,
  )
  const run = ferry(['run', runbook, '-i', 'lab', '--confirm-timeout', '4', '--state-dir', state], { timeout: 60_000 })
  expect(
    await waitFor(20_000, () => sh('lab5', 'cat /etc/ferry-kill.conf') === 'after\n', { every: 50 }),
    'the risky change went in',
  ).toBeDefined()
  process.kill(run.pid, 'SIGKILL')
  await run
  // The job's status file is written once its script has run.
  expect(
    await waitFor(10_000, () => sh('lab5', 'cat /var/run/ferry-revert/*/reverted 2>/dev/null || true') === '0\n'),
    'the revert job ran, and succeeded',
  ).toBeDefined()
  expect(sh('lab5', 'cat /etc/ferry-kill.conf'), 'the host put the file back itself').toBe('before\n')

  const refused = await ferry(['run', runbook, '-i', 'lab', '--state-dir', state, '--format', 'json'])
  expect(refused.code).toBe(1)
  expect(json(refused.stdout).hosts[0]!.error).toMatch(
    /lab5 is locked by run \S+ \(controller .*, pid \d+, .*no longer runs on this controller.*stale.*--break-lock/,
  )
  expect(sh('lab5', 'cat /etc/ferry-kill.conf'), 'a refused run changes nothing').toBe('before\n')
}, 90_000)

it('two runs on one host: the second refuses at once, or waits with --lock-wait; their steps never interleave', async () => {
  sh('lab5', 'rm -rf /var/run/ferry.lock /tmp/ferry-lock.log /tmp/ferry-go')
  const runbook = join(dir, 'slow.ts')
  // Each step logs, on the host, which run it belongs to (TAG) and when it starts and ends. Run
  // A's first step holds on until the test says go, so the others surely meet its lock.
  writeFileSync(
    runbook,
    `import { defineRunbook, command } from 'ferry'
const tag = process.env.TAG
const hold = tag === 'A' ? 'while [ ! -f /tmp/ferry-go ]; do sleep 0.1; done; ' : ''
export default defineRunbook({ name: 'slow', description: 'two slow steps', hosts: 'lab5',
  steps: () => [1, 2].map((n) => command(\`step \${n}\`, async ({ $ }) => void (await $\`sh -c \${\`echo "\${tag} start $(date +%s%N)" >> /tmp/ferry-lock.log; \${hold}sleep 1; echo "\${tag} end $(date +%s%N)" >> /tmp/ferry-lock.log\`}\`))) })
`,
  )
  const run = (tag: string, ...extra: string[]) =>
    ferry(['run', runbook, '-i', 'lab', '--state-dir', state, '--format', 'json', ...extra], {
      timeout: 60_000,
      env: { TAG: tag },
    })
  const first = run('A')
  expect(
    await waitFor(20_000, () => sh('lab5', 'cat /tmp/ferry-lock.log').includes('A start'), { every: 50 }),
  ).toBeDefined()
  const refused = await run('B')
  const connected = accepted('lab5')
  const waited = run('C', '--lock-wait', '30')
  // C has connected and is waiting for the lock: then A may go on.
  expect(await waitFor(20_000, () => accepted('lab5') > connected, { every: 50 })).toBeDefined()
  await new Promise((r) => setTimeout(r, 500))
  sh('lab5', 'touch /tmp/ferry-go')
  const [a, c] = await Promise.all([first, waited])
  expect(a.code, a.stderr).toBe(0)
  expect(refused.code).toBe(1)
  expect(json(refused.stdout).hosts[0]!.error).toContain(`lab5 is locked by run ${json(a.stdout).runId}`)
  expect(c.code, c.stderr).toBe(0)
  // The host's log: A's two steps, then C's, each starting after the one before ended; B none.
  const log = sh('lab5', 'cat /tmp/ferry-lock.log')
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
  expect(log.map(([tag, what]) => `${tag} ${what}`)).toEqual([
    'A start',
    'A end',
    'A start',
    'A end',
    'C start',
    'C end',
    'C start',
    'C end',
  ])
  for (let i = 1; i < log.length; i++) expect(BigInt(log[i]![2]!)).toBeGreaterThan(BigInt(log[i - 1]![2]!))
  // And the journal agrees: the waiting run started before the first finished, but only held
  // the host after.
  const runs = JSON.parse((await ferry(['history', '--json', '--state-dir', state])).stdout).runs as {
    id: string
    started: string
    finished: string
  }[]
  const byId = new Map(runs.map((r) => [r.id, r]))
  const [ra, rc] = [byId.get(json(a.stdout).runId)!, byId.get(json(c.stdout).runId)!]
  expect(Date.parse(rc.started)).toBeLessThan(Date.parse(ra.finished))
  expect(Date.parse(rc.finished)).toBeGreaterThan(Date.parse(ra.finished))
}, 90_000)

it('--break-lock takes over a lock its holder left behind', async () => {
  sh(
    'lab5',
    "rm -rf /var/run/ferry.lock; mkdir /var/run/ferry.lock; printf 'run=20260101-000000-dead\\ncontroller=elsewhere\\npid=1\\nsince=2026-01-01T00:00:00Z\\n' > /var/run/ferry.lock/owner",
  )
  const runbook = join(dir, 'noop.ts')
  writeFileSync(
    runbook,
    `import { defineRunbook, verify } from 'ferry'
export default defineRunbook({ name: 'noop', description: 'checks only', hosts: 'lab5', steps: () => [verify('up', { command: 'true' })] })
`,
  )
  const refused = await ferry(['run', runbook, '-i', 'lab', '--state-dir', state, '--format', 'json'])
  expect(refused.code).toBe(1)
  expect(json(refused.stdout).hosts[0]!.error).toBe(
    'lab5 is locked by run 20260101-000000-dead (controller elsewhere, pid 1, since 2026-01-01T00:00:00Z); wait for it with --lock-wait SECONDS, or if you know it is stale, --break-lock',
  )
  const broke = await ferry(['run', runbook, '-i', 'lab', '--state-dir', state, '--format', 'json', '--break-lock'])
  expect(broke.code, broke.stderr).toBe(0)
  expect(sh('lab5', 'ls -d /var/run/ferry.lock 2>/dev/null || echo free').trim(), 'released at the end').toBe('free')
})
