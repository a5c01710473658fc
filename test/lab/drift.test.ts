// ferry drift on the lab: deploy-mesh on five hosts, then hand-made drift on three of them, seen
// in every format, notified, fixed, and checked on a schedule.
import { afterAll, beforeAll, expect } from 'vitest'
import { createServer, type Server } from 'node:http'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { loadInventory } from '../../src/inventory/index.ts'
import { linksOf, allocateLinks } from '../../src/mesh/links.ts'
import { accepted, ferry, labIt as it, sh, tempDir, waitFor, ROOT, type Run } from './helpers.ts'
import { parsePrometheus } from '../fixtures/prometheus.ts'

const MESH = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5']
let mesh: { runId: string; state: string } | undefined
/** The journal the drift checks share, so first-seen and notify see the checks before. */
const state = tempDir()
let tap = '' // lab3's interface for its link to lab5, whose config the test removes
const tunnelConf = () => `/etc/openvpn/ferry/${tap}.conf`

beforeAll(async () => {
  if (process.env.FERRY_LAB_SKIP === '1') return
  const deployState = tempDir()
  const deployed = await ferry(['run', 'deploy-mesh', '-i', 'lab', '--format', 'json', '--state-dir', deployState])
  expect(deployed.code, deployed.stderr).toBe(0)
  mesh = { runId: JSON.parse(deployed.stdout).runId, state: deployState }
  const inv = await loadInventory('lab')
  tap = linksOf(allocateLinks(inv), 'lab3').find((l) => l.remote.host === 'lab5')!.local.ifname
}, 300_000)

afterAll(async () => {
  if (!mesh) return
  const undo = await ferry(['rollback', mesh.runId, '--state-dir', mesh.state])
  expect(undo.code, undo.stdout).toBe(0)
}, 120_000)

const drift = (...args: string[]) => ferry(['drift', '-i', 'lab', '--state-dir', state, ...args], { timeout: 120_000 })

/** A local HTTP server that keeps every POST body. */
async function receiver(): Promise<{ url: string; posts: unknown[]; server: Server }> {
  const posts: unknown[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      posts.push(JSON.parse(body))
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/hook`, posts, server }
}

it('finds exactly the three hand-made drifts, in every format, notifies, and --fix converges', async () => {
  const hook = await receiver()
  try {
    const clean = await drift('--format', 'json', '--notify', hook.url)
    expect(clean.code, clean.stdout + clean.stderr).toBe(0)
    // Marked drift: true but for other inventories: deploy-ha-vpn's hosts (group ha-vpn) are not here.
    expect(clean.stderr).toContain('ferry drift: deploy-ha-vpn not checked: its hosts (ha-vpn) are not in ')
    expect(JSON.parse(clean.stdout).summary).toMatchObject({ hosts: 5, inSync: 5, drifted: 0, driftedSteps: 0 })

    // By hand, as an operator might: a cost edited, forwarding turned off, a tunnel's config removed.
    sh(
      'lab1',
      "sed -i 's/^ ip ospf cost 20$/ ip ospf cost 99/' /etc/frr/frr.conf && grep -q 'cost 99' /etc/frr/frr.conf",
    )
    sh('lab2', 'sysctl -qw net.ipv4.ip_forward=0')
    sh('lab3', `rm ${tunnelConf()}`)

    const found = await drift('--format', 'json', '--notify', hook.url)
    expect(found.code, found.stderr).toBe(2)
    const report = JSON.parse(found.stdout) as {
      hosts: {
        name: string
        status: string
        steps: { runbook: string; step: string; status: string; diff?: string; firstSeen?: string }[]
      }[]
    }
    const drifted = report.hosts.flatMap((h) =>
      h.steps.filter((s) => s.status === 'drifted').map((s) => ({ host: h.name, ...s })),
    )
    expect(drifted.map((d) => `${d.host} ${d.step}`)).toEqual([
      'lab1 frr.conf',
      'lab2 forwarding',
      `lab3 ${tap} config`,
    ])
    expect(report.hosts.map((h) => h.status)).toEqual(['drifted', 'drifted', 'drifted', 'in-sync', 'in-sync'])
    const [cost, forwarding, removed] = drifted
    expect(cost!.diff).toMatch(
      /^--- \/etc\/frr\/frr\.conf\n\+\+\+ \/etc\/frr\/frr\.conf\n@@ .* @@\n(?: .*\n)*- ip ospf cost 99\n\+ ip ospf cost 20\n/m,
    )
    expect(forwarding!.diff).toBe('net.ipv4.ip_forward: 0 → 1')
    expect(removed!.diff).toMatch(new RegExp(`^--- /dev/null\\n\\+\\+\\+ ${tunnelConf()}\\n@@ -0,0 \\+1,\\d+ @@\\n`))
    expect(removed!.diff).toContain(`\n+dev ${tap}\n`)
    for (const d of drifted) expect(Date.parse(d.firstSeen!)).toBeGreaterThan(Date.now() - 120_000)

    // Nagios: CRITICAL with perfdata, exit 2. Prometheus: parses. JUnit: valid, three failures.
    const nagios = await drift('--format', 'nagios')
    expect(nagios.code).toBe(2)
    expect(nagios.stdout).toMatch(/^FERRY DRIFT CRITICAL - .*lab1.*lab2.*lab3.* \| .*'?drifted_steps'?=3;0;0;0/)
    const prom = join(tempDir(), 'ferry.prom')
    expect((await drift('--format', 'prometheus', '--output', prom)).code).toBe(2)
    const samples = parsePrometheus(readFileSync(prom, 'utf8'))
    const steps = (host: string) =>
      samples.find(
        (s) => s.name === 'ferry_drift_drifted_steps' && s.labels.host === host && s.labels.runbook === 'deploy-mesh',
      )?.value
    expect(MESH.map(steps)).toEqual([1, 1, 1, 0, 0])
    expect(readdirSync(join(prom, '..'))).toEqual(['ferry.prom']) // written by rename: no temp file left
    const junit = await drift('--format', 'junit')
    expect(XMLValidator.validate(junit.stdout)).toBe(true)
    expect(new XMLParser({ ignoreAttributes: false }).parse(junit.stdout).testsuites['@_failures']).toBe('3')

    // The first sighting is kept across checks.
    const again = JSON.parse((await drift('--format', 'json')).stdout) as typeof report
    const again1 = again.hosts[0]!.steps.find((s) => s.status === 'drifted')!
    expect(again1.firstSeen).toBe(cost!.firstSeen)

    // --fix converges only what drifted; the next check is clean, and the mesh converged again.
    const fixed = await drift('--fix', '--notify', hook.url)
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0)
    expect(fixed.stderr).toContain('fixing deploy-mesh on lab1, lab2, lab3')
    const after = await drift('--format', 'json', '--notify', hook.url)
    expect(after.code, after.stdout).toBe(0)
    expect(sh('lab2', 'sysctl -n net.ipv4.ip_forward')).toBe('1\n')
    expect(sh('lab3', `test -f ${tunnelConf()} && echo back`)).toBe('back\n')

    // One POST when drift appeared, one when it cleared, none for the checks between.
    expect(await waitFor(30_000, () => hook.posts.length >= 2), 'two notifications').toBeDefined()
    expect(hook.posts.map((p) => (p as { event: string }).event)).toEqual(['drift-appeared', 'drift-cleared'])
    expect((hook.posts[0] as { hosts: { name: string }[] }).hosts.map((h) => h.name)).toEqual(['lab1', 'lab2', 'lab3'])
  } finally {
    hook.server.close()
  }
}, 300_000)

it('history lists every check with its findings', async () => {
  const runs = JSON.parse((await ferry(['history', '--json', '--state-dir', state])).stdout).runs as {
    id: string
    runbook: string
    status: string
  }[]
  const checks = runs.filter((r) => r.runbook === 'drift: deploy-mesh')
  expect(checks.length).toBeGreaterThanOrEqual(6)
  expect(checks.map((c) => c.status)).toContain('drifted')
  expect(checks[0]!.status).toBe('in-sync')
  const shown = await ferry(['history', 'show', checks.find((c) => c.status === 'drifted')!.id, '--state-dir', state])
  expect(shown.stdout).toContain('deploy-mesh › forwarding')
})

it('--every 2s for 7 s runs 3 or 4 checks that never overlap, even with a slow one, over one SSH connection, and SIGTERM ends it at once', async () => {
  const every = tempDir()
  // A drift-checkable runbook whose probe sleeps as long as /tmp/ferry-slow on the host says.
  const runbook = join(every, 'slow.ts')
  writeFileSync(
    runbook,
    `import { defineRunbook, verify } from 'ferry'
export default defineRunbook({ name: 'slow', description: 'a check that can be made slow', hosts: 'lab1',
  steps: () => [verify('not slow', { command: 'sleep "$(cat /tmp/ferry-slow 2>/dev/null || echo 0)"' })] })
`,
  )
  sh('lab1', 'echo 3 > /tmp/ferry-slow')
  const acceptedBefore = accepted('lab1')
  let done: Run
  let took: number
  try {
    const run = ferry(['drift', '-i', 'lab', runbook, '--every', '2s', '--state-dir', every], { timeout: 30_000 })
    // The journal appears with the first check: from then on, 7 s. That check takes over 3 s, so
    // the tick at 2 s falls inside it and is skipped.
    expect(
      await waitFor(15_000, () => existsSync(join(every, 'journal.db')), { every: 20 }),
      'the first check started',
    ).toBeDefined()
    await sleep(3_500)
    sh('lab1', 'rm -f /tmp/ferry-slow')
    await sleep(3_500)
    const stopAt = Date.now()
    process.kill(run.pid, 'SIGTERM')
    done = await run
    took = Date.now() - stopAt
  } finally {
    sh('lab1', 'rm -f /tmp/ferry-slow')
  }
  expect(done.code, done.stderr).toBe(0)
  expect(took).toBeLessThan(2_000)
  const runs = (
    JSON.parse((await ferry(['history', '--json', '--state-dir', every])).stdout).runs as {
      started: string
      finished?: string
    }[]
  )
    .filter((r) => r.finished)
    .map((r) => ({ from: Date.parse(r.started), to: Date.parse(r.finished!) }))
    .sort((a, b) => a.from - b.from)
  expect(runs.length).toBeGreaterThanOrEqual(3)
  expect(runs.length).toBeLessThanOrEqual(4)
  expect(runs[0]!.to - runs[0]!.from).toBeGreaterThanOrEqual(3_000) // the slow one
  for (let i = 1; i < runs.length; i++) expect(runs[i]!.from).toBeGreaterThanOrEqual(runs[i - 1]!.to)
  expect(accepted('lab1') - acceptedBefore, 'SSH connections to lab1 over all the checks').toBe(1)
}, 60_000)

it('--install-timer prints a crontab line where there is no systemd, and writes units into --unit-dir', async () => {
  // Where systemd runs, this would write /etc/systemd/system: only --unit-dir is tried there.
  if (!existsSync('/run/systemd/system')) {
    const cron = await ferry([
      'drift',
      '-i',
      'lab',
      '--every',
      '15m',
      '--format',
      'prometheus',
      '-o',
      'x.prom',
      '--install-timer',
    ])
    expect(cron.code, cron.stderr).toBe(0)
    expect(cron.stdout).toMatch(
      new RegExp(
        `^# no systemd here.*\\n\\*/15 \\* \\* \\* \\* cd ${ROOT} && \\S+node \\S+/bin/ferry\\.mjs drift -i lab --format prometheus -o ${ROOT}/x\\.prom\\n$`,
      ),
    )
  }
  const dir = tempDir()
  const units = await ferry(['drift', '-i', 'lab', '--every', '10m', '--install-timer', '--unit-dir', dir])
  expect(units.code, units.stderr).toBe(0)
  expect(readFileSync(join(dir, 'ferry-drift.timer'), 'utf8')).toContain('OnUnitActiveSec=600s')
  expect(readFileSync(join(dir, 'ferry-drift.service'), 'utf8')).toMatch(
    /ExecStart=\S+node \S+\/bin\/ferry\.mjs drift -i lab\n/,
  )
})
