// ferry drift against the controller itself (connection: local) and a runbook that manages two
// files in a temp dir: the CLI end to end, journal and first-seen, --fix and --notify, without the
// lab. The lab test (test/lab/drift.test.ts) does the same on deploy-mesh.
import { describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { intervalSeconds } from '../../src/cli/drift.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const dir = mkdtempSync(join(tmpdir(), 'ferry-drift-'))
const state = join(dir, 'state')
const a = join(dir, 'a.conf')
const b = join(dir, 'b.conf')
writeFileSync(join(dir, 'inv.yaml'), 'hosts:\n  me: { connection: local, os: linux }\n')
writeFileSync(
  join(dir, 'files.ts'),
  `import { defineRunbook, file } from 'ferry'
export default defineRunbook({ name: 'files', description: 'two files', drift: true, steps: () => [
  file('a', { path: ${JSON.stringify(a)}, content: 'cost 10\\n', mode: 0o644 }),
  file('b', { path: ${JSON.stringify(b)}, content: 'forwarding 1\\n', mode: 0o644 }),
] })
`,
)

const ferry = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
    execFile(
      process.execPath,
      [join(ROOT, 'bin/ferry.mjs'), ...args],
      { cwd: dir, env: { ...process.env, NO_COLOR: '1', ...env } },
      (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
    ),
  )
const drift = (...args: string[]) => ferry(['drift', '-i', 'inv.yaml', './files.ts', '--state-dir', state, ...args])
/** Both files as the runbook has them: each test starts in sync, whatever ran before it. */
const inSync = () => {
  writeFileSync(a, 'cost 10\n')
  writeFileSync(b, 'forwarding 1\n')
}

describe('ferry drift on the controller', () => {
  it(
    'is in sync after a run, names what drifted with its diff, keeps the first sighting, and --fix converges',
    { timeout: 60_000 },
    async () => {
      expect((await ferry(['run', './files.ts', '-i', 'inv.yaml', '--state-dir', state])).code).toBe(0)
      const clean = await drift()
      expect(clean.code, clean.stderr).toBe(0)
      expect(clean.stdout).toMatch(/me +in-sync/)

      writeFileSync(a, 'cost 99\n')
      const found = await drift('--format', 'json')
      expect(found.code).toBe(2)
      const report = JSON.parse(found.stdout)
      expect(report.summary).toMatchObject({ hosts: 1, drifted: 1, driftedSteps: 1 })
      const [step] = report.hosts[0].steps.filter((s: { status: string }) => s.status === 'drifted')
      expect(step).toMatchObject({ runbook: 'files', step: 'a' })
      expect(step.diff).toBe(`--- ${a}\n+++ ${a}\n@@ -1,1 +1,1 @@\n-cost 99\n+cost 10\n`)
      const again = JSON.parse((await drift('--format', 'json')).stdout)
      expect(again.hosts[0].steps[0].firstSeen).toBe(step.firstSeen)

      const text = await drift()
      expect(text.stdout).toContain('-cost 99\n')
      const fixed = await drift('--fix')
      expect(fixed.code, fixed.stderr).toBe(0)
      expect(readFileSync(a, 'utf8')).toBe('cost 10\n')
      expect((await drift()).code).toBe(0)
      // A drift that comes back is new: its first sighting is not the old one's.
      writeFileSync(a, 'cost 98\n')
      const back = JSON.parse((await drift('--format', 'json')).stdout)
      expect(Date.parse(back.hosts[0].steps[0].firstSeen)).toBeGreaterThan(Date.parse(step.firstSeen))
      expect((await drift('--fix')).code).toBe(0)

      // Every check is in the history, as a run of kind drift.
      const runs = JSON.parse((await ferry(['history', '--json', '--state-dir', state])).stdout).runs as {
        runbook: string
        status: string
      }[]
      expect(
        runs
          .filter((r) => r.runbook === 'drift: files')
          .map((r) => r.status)
          .reverse(),
      ).toEqual(['in-sync', 'drifted', 'drifted', 'drifted', 'drifted', 'in-sync', 'drifted', 'drifted'])
      // ... and the fixes as runs of the runbook itself.
      expect(runs.filter((r) => r.runbook === 'files').map((r) => r.status)).toEqual(['changed', 'changed', 'changed'])
    },
  )

  it(
    'POSTs once when drift appears and once when it clears, retrying a server that fails at first',
    { timeout: 60_000 },
    async () => {
      const posts: { event: string }[] = []
      let refusals = 1
      const server = createServer((req, res) => {
        let body = ''
        req.on('data', (c) => (body += c))
        req.on('end', () => {
          if (refusals-- > 0) return void res.writeHead(503).end()
          posts.push(JSON.parse(body))
          res.writeHead(204).end()
        })
      })
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
      try {
        const notifyState = join(dir, 'notify-state')
        const check = () =>
          ferry(['drift', '-i', 'inv.yaml', './files.ts', '--state-dir', notifyState, '--notify', url])
        inSync()
        expect((await check()).code).toBe(0) // in sync from the start: nothing to say
        writeFileSync(b, 'forwarding 0\n')
        expect((await check()).code).toBe(2) // appeared (after one 503)
        expect(posts.map((p) => p.event)).toEqual(['drift-appeared']) // retried within that check
        expect((await check()).code).toBe(2) // still: nothing new
        writeFileSync(b, 'forwarding 1\n')
        expect((await check()).code).toBe(0) // cleared
        expect(posts.map((p) => p.event)).toEqual(['drift-appeared', 'drift-cleared'])
      } finally {
        server.close()
      }
    },
  )

  it('formats for Nagios with plugin exit codes, and writes Prometheus atomically', { timeout: 30_000 }, async () => {
    inSync()
    writeFileSync(b, 'forwarding 0\n')
    const crit = await drift('--format', 'nagios')
    expect(crit.code).toBe(2)
    expect(crit.stdout).toMatch(/^FERRY DRIFT CRITICAL - 1 drifted step on me \| drifted_steps=1;0;0;0 /)
    const warn = await drift('--format', 'nagios', '--critical', '5')
    expect(warn.code).toBe(1)
    const prom = join(dir, 'out', 'ferry.prom')
    const nowhere = await drift('--format', 'prometheus', '-o', prom)
    expect(nowhere.code).toBe(64)
    expect(nowhere.stderr).toContain(`--output ${prom}: directory ${join(dir, 'out')} does not exist`)
    mkdirSync(join(dir, 'out'))
    expect((await drift('--format', 'prometheus', '-o', prom)).code).toBe(2)
    expect(readdirSync(join(dir, 'out'))).toEqual(['ferry.prom'])
    expect(readFileSync(prom, 'utf8')).toContain('ferry_drift_drifted_steps{host="me",runbook="files"} 1\n')
    writeFileSync(b, 'forwarding 1\n')
  })

  it(
    '-o writes reports that hold diffs 0600, Prometheus and Nagios 0644, or as --output-mode says',
    { timeout: 60_000 },
    async () => {
      inSync()
      writeFileSync(b, 'forwarding 0\n')
      const out = join(dir, 'reports')
      mkdirSync(out, { recursive: true })
      const mode = (f: string) => statSync(join(out, f)).mode & 0o777
      for (const format of ['text', 'json', 'junit', 'prometheus'])
        expect((await drift('--format', format, '-o', join(out, format))).code).toBe(2)
      expect(readFileSync(join(out, 'json'), 'utf8')).toContain('-forwarding 0')
      expect([mode('text'), mode('json'), mode('junit'), mode('prometheus')]).toEqual([0o600, 0o600, 0o600, 0o644])
      expect((await drift('--format', 'json', '-o', join(out, 'json'), '--output-mode', '0640')).code).toBe(2)
      expect(mode('json')).toBe(0o640)
      const bad = await drift('--format', 'json', '-o', join(out, 'json'), '--output-mode', 'a+r')
      expect(bad.code).toBe(64)
      expect(bad.stderr).toContain('expected an octal mode such as 0640')
      inSync()
    },
  )

  it(
    'without a runbook named, checks those marked drift: true; bad --every is exit 64',
    { timeout: 30_000 },
    async () => {
      const none = await ferry(['drift', '-i', 'inv.yaml', '--state-dir', state])
      // This directory has no runbooks/: nothing is marked.
      expect(none.code).toBe(64)
      expect(none.stderr).toContain('no runbook in')
      const bad = await drift('--every', 'often')
      expect(bad.code).toBe(64)
      expect(bad.stderr).toContain('--every often')
      expect((await drift('--fix', '--format', 'json')).stderr).toContain('--fix reports its run as text')
      expect((await drift('--fix', '--install-timer')).code).toBe(64)
      // A Nagios check that cannot run says UNKNOWN on its line, with the plugin's exit 3.
      const unknown = await drift('--format', 'nagios', '--limit', 'nobody')
      expect(unknown.code).toBe(3)
      expect(unknown.stdout).toMatch(/^FERRY DRIFT UNKNOWN - .*nobody/)
    },
  )
})

describe('--install-timer', { timeout: 30_000 }, () => {
  // A secret and a URL with everything systemd, cron or sh would read as syntax.
  const KEY = `k"e$y\\%x\`y'z`
  const URL = 'https://hooks.example.test/T0K3N?a=1%20&b=$x'
  writeFileSync(
    join(dir, 'timer.yaml'),
    'hosts:\n  me: { connection: local, os: linux }\nsecrets:\n  key: env:FERRY_TIMER_KEY\n',
  )
  const install = (...args: string[]) =>
    ferry(
      [
        'drift',
        '-i',
        'timer.yaml',
        './files.ts',
        '--every',
        '15m',
        '--notify',
        URL,
        '-o',
        join(dir, '100%.prom'),
        '--format',
        'prometheus',
        '--install-timer',
        '--state-dir',
        state,
        ...args,
      ],
      { FERRY_TIMER_KEY: KEY },
    )
  /** What sh reads from an environment file: the values exactly. */
  const sourced = (file: string) =>
    new Promise<string>((done) =>
      execFile(
        '/bin/sh',
        ['-c', 'set -a; . "$1"; printf "%s\\n%s" "$FERRY_TIMER_KEY" "$FERRY_NOTIFY_URL"', 'sh', file],
        { env: {} },
        (_err, stdout) => done(stdout),
      ),
    )

  it('keeps secrets and the --notify URL out of the units, in a 0600 environment file the service reads', async () => {
    const units = join(dir, 'units')
    const r = await install('--unit-dir', units)
    expect(r.code, r.stderr).toBe(0)
    const service = readFileSync(join(units, 'ferry-drift.service'), 'utf8')
    expect(service).not.toContain('T0K3N')
    expect(service).toContain(`EnvironmentFile=${units}/ferry-drift.env\n`)
    // systemd would expand % and $ in ExecStart=: doubled, they are themselves.
    expect(service).toContain(
      `\nExecStart=${process.execPath} ${join(ROOT, 'bin/ferry.mjs')} drift -i ${dir}/timer.yaml ./files.ts -o "${dir}/100%%.prom" --format prometheus --state-dir ${state}\n`,
    )
    const env = join(units, 'ferry-drift.env')
    expect(statSync(env).mode & 0o777).toBe(0o600)
    expect(await sourced(env)).toBe(`${KEY}\n${URL}`)
  })

  it('where there is no systemd, prints a crontab line that reads the environment file, with % escaped', async () => {
    if (existsSync('/run/systemd/system')) return // it would write /etc/systemd/system instead
    const r = await install()
    expect(r.code, r.stderr).toBe(0)
    const env = join(state, 'ferry-drift.env')
    expect(r.stdout).not.toContain('T0K3N')
    expect(r.stdout.split('\n')[1]).toBe(
      `*/15 * * * * cd ${dir} && set -a && . ${env} && set +a && ${process.execPath} ${join(ROOT, 'bin/ferry.mjs')} drift -i ${dir}/timer.yaml ./files.ts -o ${dir}/100\\%.prom --format prometheus --state-dir ${state}`,
    )
    expect(statSync(env).mode & 0o777).toBe(0o600)
    expect(await sourced(env)).toBe(`${KEY}\n${URL}`)
    // As cron runs it, with no environment of ours: the inventory's secret comes from the file.
    inSync()
    const command = r.stdout.split('\n')[1]!.slice('*/15 * * * * '.length).replaceAll('\\%', '%')
    const code = await new Promise<number | null>((done) =>
      execFile('/bin/sh', ['-c', command], { env: { PATH: process.env.PATH } }, (err) =>
        done(err ? ((err as { code?: number }).code ?? null) : 0),
      ),
    )
    expect(code).toBe(0)
    expect(readFileSync(join(dir, '100%.prom'), 'utf8')).toContain(
      'ferry_drift_drifted_steps{host="me",runbook="files"} 0\n',
    )
  })

  it('a check keeps the --notify URL out of the journal', async () => {
    inSync()
    const r = await ferry([
      'drift',
      '-i',
      'inv.yaml',
      './files.ts',
      '--state-dir',
      state,
      '--notify',
      'http://127.0.0.1:9/T0K3N',
    ])
    expect(r.code, r.stderr).toBe(0)
    const id = /^drift check (\S+):/m.exec(r.stdout)![1]!
    const shown = await ferry(['history', 'show', id, '--json', '--state-dir', state])
    expect(JSON.parse(shown.stdout).argv).toContain('<secret>')
    expect(shown.stdout).not.toContain('T0K3N')
    const bad = await drift('--notify', 'hooks.example.test/T0K3N')
    expect(bad.code).toBe(64)
    expect(bad.stderr).toContain('expected an http:// or https:// URL')
  })
})

describe('--every', () => {
  it('reads intervals, and leaves anything else to croner as a cron expression', () => {
    expect(intervalSeconds('2s')).toBe(2)
    expect(intervalSeconds('15m')).toBe(900)
    expect(intervalSeconds('1h')).toBe(3600)
    expect(intervalSeconds('*/15 * * * *')).toBeUndefined()
    expect(() => intervalSeconds('0s')).toThrow(/at least 1s/)
  })
})
