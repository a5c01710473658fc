// Handlers: per-host handlers from a function, and a rollback that runs the handlers of the
// steps it undid, so a daemon rereads the file that was put back. A local host, real files: the
// "daemon" is a log line recording what the config held when it was reloaded.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { defineRunbook } from '../../src/runbook.ts'
import { buildSteps } from '../../src/engine/build.ts'
import { HostRunner } from '../../src/engine/host.ts'
import { file } from '../../src/steps/file.ts'
import { command } from '../../src/steps/command.ts'
import { verify } from '../../src/steps/verify.ts'
import { LocalTransport } from '../../src/transport/local.ts'
import { loadInventory } from '../../src/inventory/load.ts'
import type { Host } from '../../src/inventory/types.ts'
import type { Step } from '../../src/steps/step.ts'

/** Runs steps on this machine as host `host` (no rollback unless asked), over a local transport. */
async function runLocally(
  host: Host,
  steps: Step[],
  opts: { handlers?: Record<string, Step>; rollbackOnFailure?: boolean } = {},
) {
  const t = new LocalTransport('me')
  try {
    return await new HostRunner({
      host,
      $: t.$,
      probe$: t.probe$,
      steps,
      handlers: opts.handlers ?? {},
      dryRun: false,
      rollbackOnFailure: opts.rollbackOnFailure ?? false,
    }).execute()
  } finally {
    await t.close()
  }
}

it('a failed verify rolls the config back and reloads again, so the daemon runs the old config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-handlers-'))
  const conf = join(dir, 'daemon.conf')
  const log = join(dir, 'reloads')
  writeFileSync(conf, 'key good\n')
  writeFileSync(join(dir, 'inv.yaml'), 'hosts:\n  me: { connection: local, vars: { key: bad } }\n')
  const runbook = defineRunbook({
    name: 'handlers',
    description: 'a config, its reload, and a check that fails',
    steps: ({ host }) => [
      file('config', { path: conf, content: `key ${String(host.vars.key)}\n`, notify: `reload ${host.name}` }),
      verify('daemon healthy', { command: `grep -q good ${log}.last`, timeout: 1, interval: 0.2 }),
    ],
    // Named per host, so only a function can build them.
    handlers: ({ host }) => ({
      [`reload ${host.name}`]: command(
        `reload ${host.name}`,
        async ({ $ }) => void (await $`sh -c ${`cat ${conf} | tee ${log}.last >> ${log}`}`),
        { repeatOnRollback: true },
      ),
    }),
  })
  const inv = await loadInventory(join(dir, 'inv.yaml'))
  const [plan] = await buildSteps(runbook, inv, inv.hosts, {})
  expect(Object.keys(plan!.handlers)).toEqual(['reload me'])
  const outcome = await runLocally(plan!.host, plan!.steps, { handlers: plan!.handlers, rollbackOnFailure: true })
  expect(outcome.status).toBe('rolled-back')
  expect(outcome.error).toMatch(/daemon healthy: not satisfied/)
  expect(readFileSync(conf, 'utf8')).toBe('key good\n')
  // Reloaded with the new config, then, after the rollback, with the old one again.
  expect(readFileSync(log, 'utf8')).toBe('key bad\nkey good\n')
})

it('a handler and a step with the same name are refused before anything runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-handlers-'))
  writeFileSync(join(dir, 'inv.yaml'), 'hosts:\n  me: { connection: local }\n')
  const noop = command('reload', async () => {}, { undo: async () => {} })
  const runbook = defineRunbook({ name: 'dup', description: 'dup', steps: () => [noop], handlers: { reload: noop } })
  const inv = await loadInventory(join(dir, 'inv.yaml'))
  await expect(buildSteps(runbook, inv, inv.hosts, {})).rejects.toThrow(
    /two steps are named "reload".*step and handler names must be unique/,
  )
})

it(
  "verify's hold: after a change, a condition that passes once and then fails is not enough",
  { timeout: 15_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-hold-'))
    const flag = join(dir, 'full')
    writeFileSync(join(dir, 'inv.yaml'), 'hosts:\n  me: { connection: local }\n')
    const inv = await loadInventory(join(dir, 'inv.yaml'))
    const run = async (flapAfterMs?: number) => {
      writeFileSync(flag, '')
      const command = `test -e ${flag}`
      const steps = [
        file(`config ${flapAfterMs}`, { path: join(dir, `conf-${flapAfterMs}`), content: 'x\n' }),
        verify('neighbour Full', { command, timeout: 1, hold: 1.5, interval: 0.1 }),
      ]
      const timer = flapAfterMs === undefined ? undefined : setTimeout(() => rmSync(flag), flapAfterMs)
      const started = Date.now()
      const outcome = await runLocally(inv.hosts[0]!, steps)
      clearTimeout(timer)
      return { outcome, command, took: Date.now() - started }
    }
    const steady = await run()
    expect(steady.outcome.status).toBe('changed')
    // A lower bound, so a slow machine cannot fail it: the condition was watched for the whole hold
    // (without one, the batched probe's first pass would have ended the run at once).
    expect(steady.took).toBeGreaterThanOrEqual(1500)
    const flapping = await run(500)
    expect(flapping.outcome.status).toBe('failed')
    expect(flapping.outcome.error).toBe(`neighbour Full: not satisfied after 2.5 s: \`${flapping.command}\` exited 1`)
  },
)

it(
  'verify polls hand `expect` the stdout alone, as the batched probe does: a warning on stderr cannot break a JSON parse',
  { timeout: 15_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-verify-'))
    writeFileSync(join(dir, 'inv.yaml'), 'hosts:\n  me: { connection: local }\n')
    const inv = await loadInventory(join(dir, 'inv.yaml'))
    const steps = [
      file('config', { path: join(dir, 'conf'), content: 'x\n' }),
      // After a change the hold makes it poll; every poll warns on stderr and answers on stdout.
      verify('neighbours', {
        command: `echo 'vtysh: warning' >&2; echo '{"neighbors":{}}'`,
        timeout: 2,
        hold: 0.3,
        interval: 0.1,
        expect: (out) => JSON.parse(out).neighbors !== undefined || 'no table',
      }),
    ]
    const outcome = await runLocally(inv.hosts[0]!, steps)
    expect([outcome.status, outcome.error]).toEqual(['changed', undefined])
  },
)

it(
  "verify's moving: after a change, counts must be seen to grow across polls; with no change, one look that passes is enough",
  { timeout: 15_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-moving-'))
    writeFileSync(join(dir, 'inv.yaml'), 'hosts:\n  me: { connection: local }\n')
    const inv = await loadInventory(join(dir, 'inv.yaml'))
    const counter = join(dir, 'count')
    // A packet count: one more at every look (the probe's and each poll's), or the same for ever.
    const growing = `n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n + 1)) > ${counter}; echo $n`
    const run = async (command: string, config: string) => {
      const steps = [
        file('config', { path: join(dir, 'conf'), content: config }),
        verify('counts', {
          command,
          timeout: 1,
          interval: 0.1,
          moving: (first, now) => Number(now) > Number(first) || `still ${now.trim()}`,
        }),
      ]
      const outcome = await runLocally(inv.hosts[0]!, steps)
      return [outcome.status, outcome.error, outcome.steps.map((s) => s.status)]
    }
    expect(await run(growing, 'a\n')).toEqual(['changed', undefined, ['changed', 'changed']])
    expect(await run('echo 7', 'b\n')).toEqual([
      'failed',
      'counts: not satisfied after 1 s: still 7',
      ['changed', 'failed'],
    ])
    // Nothing changed: the check passed on the probe, and the verify polled nothing.
    expect(await run('echo 7', 'b\n')).toEqual(['ok', undefined, ['ok', 'ok']])
  },
)
