// The engine's own parts, and `ferry run` against a `connection: local` host: no lab needed.
import { describe, expect, it } from 'vitest'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { render } from '@inquirer/testing'
import { probeScript, parseProbes, probeGated } from '../../src/engine/probe.ts'
import { $ } from 'zx/core'
import { affects } from '../../src/engine/apply.ts'
import { file } from '../../src/steps/file.ts'
import { command } from '../../src/steps/command.ts'
import { verify } from '../../src/steps/verify.ts'
import { LocalTransport } from '../../src/transport/local.ts'
import { paramFields, parseParamFlags, promptFor, resolveParams, ParamError } from '../../src/cli/params.ts'
import { z } from 'zod'

const ROOT = resolve(import.meta.dirname, '../..')

describe('batched probe', () => {
  it('gives every snippet its own exact stdout and exit status, through a real sh', () => {
    const snippets = [
      'printf "no newline"',
      'printf "two\\nlines\\n"',
      'exit 3',
      'set -e; false; echo never',
      `echo "ferry-probe-x:end:0:0"; printf ''`,
      'echo to stderr >&2; echo out',
      'cat', // stdin is /dev/null: must not swallow the rest of the script
    ]
    const token = 'ferry-probe-0123456789abcdef'
    const out = execFileSync('/bin/dash', ['-s'], { input: probeScript(snippets, token) }).toString()
    expect(parseProbes(out, snippets.length, token)).toEqual([
      { stdout: 'no newline', code: 0 },
      { stdout: 'two\nlines\n', code: 0 },
      { stdout: '', code: 3 },
      { stdout: '', code: 1 },
      { stdout: 'ferry-probe-x:end:0:0\n', code: 0 },
      { stdout: 'out\n', code: 0 },
      { stdout: '', code: 0 },
    ])
  })

  it("with snippets per kernel, runs the branch of the host's own uname -s, behind the gate, in every sh", async () => {
    // A uname that says what the test wants: the branch must come from the host, not from ferry.
    const bin = mkdtempSync(join(tmpdir(), 'ferry-uname-'))
    const snippets = { Linux: ['echo linux one', 'exit 4'], FreeBSD: ['echo freebsd one', 'echo freebsd two'] }
    for (const sh of ['/bin/dash', '/bin/bash', '/bin/mksh']) {
      for (const [kernel, expected] of [
        [
          'FreeBSD',
          [
            { stdout: 'freebsd one\n', code: 0 },
            { stdout: 'freebsd two\n', code: 0 },
          ],
        ],
        [
          'Linux',
          [
            { stdout: 'linux one\n', code: 0 },
            { stdout: '', code: 4 },
          ],
        ],
      ] as const) {
        writeFileSync(join(bin, 'uname'), `#!/bin/sh\necho ${kernel}\n`, { mode: 0o755 })
        writeFileSync(join(bin, 'sh'), `#!/bin/sh\nexec ${sh} "$@"\n`, { mode: 0o755 })
        const local = $({ env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, quiet: true })
        const r = await probeGated(local, snippets, 'echo gate said this')
        expect(r, sh).toEqual({ said: 'gate said this\n', kernel, results: expected })
      }
      // A kernel with no branch: its name, and nothing probed.
      writeFileSync(join(bin, 'uname'), '#!/bin/sh\necho Darwin\n', { mode: 0o755 })
      expect(
        await probeGated($({ env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, quiet: true }), snippets),
      ).toEqual({ said: '', kernel: 'Darwin' })
    }
  })

  it('fails loudly when the output was cut short', () => {
    expect(() => parseProbes('ferry-probe-t:begin:0\nhalf', 1, 'ferry-probe-t')).toThrow(/cut short/)
  })
})

describe('a dry run transport', () => {
  it('runs probes and refuses every other command before it reaches the host', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'ferry-ro-')), 'written')
    const t = new LocalTransport('dry', undefined, undefined, true)
    expect((await t.probe$`echo probed`).stdout).toBe('probed\n')
    await expect(t.$`touch ${marker}`).rejects.toThrow(/dry run: refusing to run a command that is not a probe/)
    expect(existsSync(marker)).toBe(false)
    expect(t.stats.channels).toBe(1)
  })
})

describe('re-probe dependencies', () => {
  const f = (p: string) => file(p, { path: p, content: '' })
  it('a step affects later steps that read what it touches, and anything touches everything', () => {
    expect(affects(f('/etc/a'), f('/etc/a'))).toBe(true)
    expect(affects(f('/etc/a/x'), f('/usr/b/y'))).toBe(false)
    // A file step may make the directories above it, which another one's probe saw missing.
    expect(affects(f('/etc/a/x'), f('/etc/a/y'))).toBe(true)
    expect(
      affects(
        command('x', async () => {}),
        f('/etc/b'),
      ),
    ).toBe(true)
    expect(affects(f('/etc/a'), verify('v', { command: 'true' }))).toBe(true)
    expect(affects(verify('v', { command: 'true' }), f('/etc/a'))).toBe(false)
  })
})

describe('params', () => {
  const schema = z.object({
    jail: z.string().describe('the jail to move'),
    to: z.enum(['server1', 'server2']),
    downtime: z.number().default(30),
    dry: z.boolean().optional(),
  })

  it('reads field kinds, requiredness, descriptions and defaults from the zod schema', () => {
    expect(paramFields(schema)).toEqual([
      {
        name: 'jail',
        kind: 'string',
        required: true,
        description: 'the jail to move',
        options: undefined,
        default: undefined,
      },
      {
        name: 'to',
        kind: 'enum',
        required: true,
        description: undefined,
        options: ['server1', 'server2'],
        default: undefined,
      },
      { name: 'downtime', kind: 'number', required: false, description: undefined, options: undefined, default: 30 },
      { name: 'dry', kind: 'boolean', required: false, description: undefined, options: undefined, default: undefined },
    ])
  })

  it('types --param values and rejects unknown keys and bad values', async () => {
    expect(parseParamFlags(paramFields(schema), ['jail=web', 'downtime=5', 'dry=yes'])).toEqual({
      jail: 'web',
      downtime: 5,
      dry: true,
    })
    expect(() => parseParamFlags(paramFields(schema), ['jial=web'])).toThrow(/no such param.*jail, to, downtime, dry/)
    expect(() => parseParamFlags(paramFields(schema), ['jail'])).toThrow(/key=value/)
    await expect(resolveParams(schema, ['jail=web', 'to=server3'], false)).rejects.toThrow(/--param to: /)
  })

  it('without a terminal, names every missing flag instead of asking', async () => {
    await expect(resolveParams(schema, [], false)).rejects.toThrow(
      new ParamError('missing params: --param jail=<string> --param to=server1|server2 (no terminal to ask on)'),
    )
  })

  it('asks with the right inquirer prompt (@inquirer/testing)', async () => {
    const [jail, to] = paramFields(schema)
    const text = await promptFor(jail!)
    const asked = await render(text.prompt, text.config)
    expect(asked.getScreen()).toContain('jail (the jail to move)')
    asked.events.type('web')
    asked.events.keypress('enter')
    await expect(asked.answer).resolves.toBe('web')

    const choice = await promptFor(to!)
    const picked = await render(choice.prompt, choice.config)
    expect(picked.getScreen()).toContain('server2')
    picked.events.keypress('down')
    picked.events.keypress('enter')
    await expect(picked.answer).resolves.toBe('server2')
  })
})

describe('ferry run on a local host, with a runbook outside the repository', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-run-'))
  const target = join(dir, 'target')
  writeFileSync(join(dir, 'inv.yaml'), `hosts:\n  me: { connection: local, os: linux, vars: { colour: blue } }\n`)
  writeFileSync(join(dir, 'bad-vars.yaml'), `hosts:\n  me:\n    connection: local\n    vars: { colour: 7 }\n`)
  // It imports ferry and zx by name, with no node_modules of its own: the loader aliases both.
  writeFileSync(
    join(dir, 'outside.ts'),
    `import { defineRunbook, file, command, quote, z } from 'ferry'
import { path } from 'zx'
export default defineRunbook({
  name: 'outside',
  description: 'written outside the repo',
  params: z.object({ greeting: z.string().describe('what to write') }),
  vars: z.object({ colour: z.string() }),
  steps: ({ vars, params }) => [
    command('target dir', async ({ $ }) => { await $\`mkdir -p ${target}\` }, { creates: ${JSON.stringify(target)}, undo: async ({ $ }) => { await $\`rmdir ${target}\` } }),
    file('note', { path: ${JSON.stringify(`${target}/note`)}, content: params.greeting + ' ' + vars.colour + ' ' + quote('x y') + ' ' + path.basename('/a/b.c') + '\\n', mode: 0o600 }),
  ],
})
`,
  )
  const ferry = (args: string[], state = join(dir, 'state')) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(
        process.execPath,
        [join(ROOT, 'bin/ferry.mjs'), ...args, '--state-dir', state],
        { cwd: dir, env: { ...process.env, NO_COLOR: '1' } },
        (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
      ),
    )

  it('applies, is idempotent, plans with exit 2, and shows the runbook in --help', { timeout: 20_000 }, async () => {
    const first = await ferry(['run', './outside.ts', '-i', 'inv.yaml', '--param', 'greeting=hello'])
    expect(first.code, first.stderr).toBe(0)
    expect(readFileSync(join(target, 'note'), 'utf8')).toBe("hello blue 'x y' b.c\n")
    expect(statSync(join(target, 'note')).mode & 0o777).toBe(0o600)
    const again = await ferry([
      'run',
      './outside.ts',
      '-i',
      'inv.yaml',
      '--param',
      'greeting=hello',
      '--format',
      'json',
    ])
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout).summary).toMatchObject({ ok: 1, changed: 0 })
    const dry = await ferry(['run', './outside.ts', '-i', 'inv.yaml', '--param', 'greeting=bye', '--dry-run'])
    expect(dry.code).toBe(2)
    expect(dry.stdout).toContain("me:       -hello blue 'x y' b.c\nme:       +bye blue 'x y' b.c")
    expect(readFileSync(join(target, 'note'), 'utf8')).toBe("hello blue 'x y' b.c\n")
    const help = await ferry(['run', './outside.ts', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('written outside the repo')
    expect(help.stdout).toMatch(/--param greeting=<string> +required; what to write/)
  })

  it('without a terminal, a missing param is exit 64 naming the flag; nothing is contacted', async () => {
    const r = await ferry(['run', './outside.ts', '-i', 'inv.yaml'])
    expect(r.code).toBe(64)
    expect(r.stderr).toContain('--param greeting=<string>')
  })

  it("vars the runbook's schema rejects are exit 64 at the inventory's file:line:col", async () => {
    const r = await ferry(
      ['run', './outside.ts', '-i', 'bad-vars.yaml', '--param', 'greeting=x'],
      join(dir, 'fresh-state'),
    )
    expect(r.code).toBe(64)
    expect(r.stderr).toMatch(/bad-vars\.yaml:4:\d+: me: var colour: .*string/)
    expect(existsSync(join(dir, 'fresh-state', 'journal.db'))).toBe(false)
  })

  it('a dry run lists the commands built-in steps would send, and sends none of them', async () => {
    const now = execFileSync('sysctl', ['-n', 'net.ipv4.ip_forward']).toString().trim()
    const want = now === '1' ? '0' : '1'
    writeFileSync(
      join(dir, 'fwd.ts'),
      `import { defineRunbook, sysctl } from 'ferry'
export default defineRunbook({ name: 'fwd', description: 'flip forwarding', steps: () => [sysctl('forwarding', { key: 'net.ipv4.ip_forward', value: '${want}', persist: false })] })
`,
    )
    const r = await ferry(['run', './fwd.ts', '-i', 'inv.yaml', '--dry-run', '--format', 'json'])
    expect(r.code).toBe(2)
    const [step] = JSON.parse(r.stdout).hosts[0].steps
    expect(step.diff).toBe(`net.ipv4.ip_forward: ${now} → ${want}`)
    expect(step.commands).toEqual([`sysctl -w net.ipv4.ip_forward=${want}`])
    expect(execFileSync('sysctl', ['-n', 'net.ipv4.ip_forward']).toString().trim()).toBe(now)
  })

  it(
    'a risky step that cannot write revert commands is refused before anything on the host changes',
    { timeout: 20_000 },
    async () => {
      writeFileSync(
        join(dir, 'norevert.ts'),
        `import { defineRunbook, file, command } from 'ferry'
export default defineRunbook({ name: 'norevert', description: 'a risky command with no revert', steps: () => [
  file('first', { path: ${JSON.stringify(`${dir}/first`)}, content: 'x\\n' }),
  command('risky thing', async ({ $ }) => void (await $\`true\`), { risky: true }),
] })
`,
      )
      const r = await ferry(['run', './norevert.ts', '-i', 'inv.yaml', '--format', 'json'])
      expect(r.code).toBe(1)
      expect(JSON.parse(r.stdout).hosts[0].error).toBe(
        'risky thing: it is risky, but a command step has no revert commands for the commit-confirmed job (give it `revert:`)',
      )
      expect(existsSync(join(dir, 'first')), 'nothing applied').toBe(false)
    },
  )

  it(
    "without os: in the inventory, the host's uname -s picks the probes; a step with nothing to say on that OS fails there only",
    { timeout: 20_000 },
    async () => {
      writeFileSync(join(dir, 'noos.yaml'), 'hosts:\n  me: { connection: local }\n')
      // A step that can only be probed on one OS: probing it for another throws at plan time.
      const runbook = (os: string) => `import { defineRunbook, StepError, type Step } from 'ferry'
const only: Step = {
  kind: 'custom', name: 'only ${os}', notify: [], touches: [], reads: [],
  probe: (p) => { if (p.os !== '${os}') throw new StepError('only ${os} can say'); return 'echo ' + p.os },
  check: (probe) => (probe.stdout === '${os}\\n' ? [] : [{ summary: 'probed as ' + probe.stdout }]),
  record: () => undefined, apply: async () => {}, undo: async () => {},
}
export default defineRunbook({ name: 'only', description: 'one OS only', steps: () => [only] })
`
      writeFileSync(join(dir, 'only.ts'), runbook('linux'))
      const here = await ferry(['run', './only.ts', '-i', 'noos.yaml', '--format', 'json'])
      expect(here.code, here.stdout + here.stderr).toBe(0)
      expect(JSON.parse(here.stdout).hosts[0].steps).toMatchObject([{ name: 'only linux', status: 'ok' }])
      writeFileSync(join(dir, 'only.ts'), runbook('freebsd'))
      const there = await ferry(['run', './only.ts', '-i', 'noos.yaml', '--format', 'json'])
      expect(there.code).toBe(1)
      expect(JSON.parse(there.stdout).hosts[0].error).toBe('only freebsd can say')
    },
  )

  it(
    "a change that notifies a risky handler is armed as a risky one, with the handler's revert in the job; a risky handler without one is refused",
    { timeout: 30_000 },
    async () => {
      // Neither the file nor the failing verify is risky: only the handler makes this run arm a job.
      const conf = join(dir, 'daemon.conf')
      writeFileSync(conf, 'good\n')
      const runbook = (revert: string) => `import { defineRunbook, file, command, verify } from 'ferry'
export default defineRunbook({
  name: 'riskyhandler', description: 'a plain file whose daemon restart can cut the host off',
  steps: () => [file('daemon.conf', { path: ${JSON.stringify(conf)}, content: 'bad\\n', notify: 'restart daemon', risky: false }), verify('never', { command: 'false', timeout: 1 })],
  handlers: { 'restart daemon': command('restart daemon', async ({ $ }) => void (await $\`true\`), { risky: true${revert} }) },
})
`
      writeFileSync(join(dir, 'riskyhandler.ts'), runbook(''))
      const refused = await ferry(['run', './riskyhandler.ts', '-i', 'inv.yaml', '--format', 'json'])
      expect(refused.code).toBe(1)
      expect(JSON.parse(refused.stdout).hosts[0].error).toBe(
        'restart daemon: it is risky, but a command step has no revert commands for the commit-confirmed job (give it `revert:`)',
      )
      expect(readFileSync(conf, 'utf8'), 'nothing applied').toBe('good\n')

      writeFileSync(
        join(dir, 'riskyhandler.ts'),
        runbook(`, revert: ${JSON.stringify(`cat ${conf} > ${dir}/restarted-with`)}`),
      )
      const failed = await ferry(['run', './riskyhandler.ts', '-i', 'inv.yaml', '--format', 'json'])
      expect(failed.code, failed.stdout + failed.stderr).toBe(1)
      expect(JSON.parse(failed.stdout).hosts[0]).toMatchObject({
        status: 'rolled-back',
        error: 'never: not satisfied after 1 s: `false` exited 1',
      })
      // The job put the file back first, then ran the handler's revert against it.
      expect(readFileSync(conf, 'utf8')).toBe('good\n')
      expect(readFileSync(join(dir, 'restarted-with'), 'utf8')).toBe('good\n')
    },
  )

  it(
    'risky: true on a runbook puts every step under commit-confirmed: a failed run fires the job, a good one disarms it',
    { timeout: 30_000 },
    async () => {
      // The command has no undo, so only the revert job can have written the marker.
      writeFileSync(
        join(dir, 'unconfirmed.ts'),
        `import { defineRunbook, command, verify } from 'ferry'
export default defineRunbook({ name: 'unconfirmed', description: 'every step risky', risky: true, steps: () => [
  command('mark', async ({ $ }) => void (await $\`true\`), { revert: ${JSON.stringify(`echo reverted > ${dir}/marker`)} }),
  verify('never', { command: 'false', timeout: 1 }),
] })
`,
      )
      const failed = await ferry(['run', './unconfirmed.ts', '-i', 'inv.yaml', '--format', 'json'])
      expect(failed.code).toBe(1)
      expect(JSON.parse(failed.stdout).hosts[0]).toMatchObject({
        status: 'rolled-back',
        error: 'never: not satisfied after 1 s: `false` exited 1',
        steps: [{ name: 'mark', status: 'rolled-back' }, { name: 'never' }],
      })
      expect(readFileSync(join(dir, 'marker'), 'utf8')).toBe('reverted\n')

      writeFileSync(
        join(dir, 'allrisky.ts'),
        `import { defineRunbook, file } from 'ferry'
export default defineRunbook({ name: 'allrisky', description: 'every step risky', risky: true, steps: () => [
  file('flag', { path: ${JSON.stringify(`${dir}/flag`)}, content: 'on\\n' }),
] })
`,
      )
      const r = await ferry(['run', './allrisky.ts', '-i', 'inv.yaml', '--format', 'json', '--confirm-timeout', '2'])
      expect(r.code, r.stderr).toBe(0)
      const { runId } = JSON.parse(r.stdout)
      expect(existsSync(`/var/run/ferry-revert/${runId}`), 'the job was disarmed and its directory removed').toBe(false)
      await new Promise((done) => setTimeout(done, 2_500))
      expect(readFileSync(join(dir, 'flag'), 'utf8'), 'nothing reverted after the timeout').toBe('on\n')
    },
  )

  it(
    "verify steps that may wait longer than the confirm window are refused before anything is armed or applied; a runbook's confirmTimeout is the default",
    { timeout: 30_000 },
    async () => {
      const runbook = (confirm: string) => `import { defineRunbook, file, verify } from 'ferry'
export default defineRunbook({ name: 'slow', description: 'waits', risky: true,${confirm} steps: () => [
  file('flag', { path: ${JSON.stringify(`${dir}/slow-flag`)}, content: 'on\\n' }),
  verify('settled', { command: 'true', timeout: 200, hold: 1 }),
] })
`
      writeFileSync(join(dir, 'slow.ts'), runbook(''))
      const refused = await ferry(['run', './slow.ts', '-i', 'inv.yaml', '--format', 'json'])
      expect(refused.code).toBe(1)
      expect(JSON.parse(refused.stdout).hosts[0]).toMatchObject({
        status: 'failed',
        error:
          '--confirm-timeout 120 s is too short: the risky changes are confirmed after the verify steps, and settled alone may wait 201 s; give --confirm-timeout 300 or more',
      })
      expect(existsSync(`${dir}/slow-flag`), 'nothing applied').toBe(false)
      // The runbook's own window, and the operator's over it.
      writeFileSync(join(dir, 'slow.ts'), runbook(' confirmTimeout: 300,'))
      const ok = await ferry(['run', './slow.ts', '-i', 'inv.yaml', '--format', 'json'])
      expect(ok.code, ok.stderr).toBe(0)
      expect(readFileSync(`${dir}/slow-flag`, 'utf8')).toBe('on\n')
      rmSync(`${dir}/slow-flag`)
      const short = await ferry(['run', './slow.ts', '-i', 'inv.yaml', '--format', 'json', '--confirm-timeout', '60'])
      expect(JSON.parse(short.stdout).hosts[0].error).toMatch(
        /^--confirm-timeout 60 s is too short: .* settled alone may wait 201 s/,
      )
    },
  )

  it('on a terminal, many hosts get one line of counts instead of a task list', { timeout: 30_000 }, () => {
    const hosts = Array.from({ length: 41 }, (_, i) => `  h${i}: { connection: local, os: linux }`).join('\n')
    writeFileSync(join(dir, 'many.yaml'), `hosts:\n${hosts}\n`)
    writeFileSync(
      join(dir, 'look.ts'),
      `import { defineRunbook, verify } from 'ferry'
export default defineRunbook({ name: 'look', description: 'reads only', steps: () => [verify('up', { command: 'true' })] })
`,
    )
    // script(1) gives the run a terminal.
    const cmd = `${process.execPath} ${join(ROOT, 'bin/ferry.mjs')} run ./look.ts -i many.yaml --dry-run --state-dir ${join(dir, 'state')}`
    const out = execFileSync('script', ['-qfec', cmd, '/dev/null'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    })
    expect(out).toContain('ferry: 41/41 hosts done (41 ok), 0 running')
    expect(out).not.toMatch(/✔ h\d+/)
  })

  it("a runbook's step errors are the engine's own (one copy of ferry), named after their step", async () => {
    writeFileSync(
      join(dir, 'missing.ts'),
      `import { defineRunbook, service } from 'ferry'
export default defineRunbook({ name: 'missing', description: 'a service nothing installs', steps: () => [service('start it', { name: 'ferry-no-such-service', enabled: true })] })
`,
    )
    const r = await ferry(['run', './missing.ts', '-i', 'inv.yaml', '--dry-run', '--format', 'json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).hosts[0].error).toBe(
      'start it: service ferry-no-such-service does not exist (install its package first)',
    )
  })

  it('a secret that a failing step quotes back is redacted everywhere in the text output, progress lines included', async () => {
    const secret = `s3cret-${process.pid}-value`
    writeFileSync(
      join(dir, 'quotes.yaml'),
      'hosts:\n  me: { connection: local, os: linux }\nsecrets:\n  pw: env:FERRY_TEST_PW\n',
    )
    // As FRR's frr-reload.py did with a refused `password` line: the error repeats the secret.
    writeFileSync(
      join(dir, 'quotes.ts'),
      `import { defineRunbook, command } from 'ferry'
export default defineRunbook({ name: 'quotes', description: 'fails quoting a secret', steps: async ({ secret }) => {
  const pw = await secret('pw')
  return [command('refused', async () => { throw new Error('line 1: Failure to communicate[13] to zebra, line: password ' + pw) }, { undo: async () => {} })]
} })
`,
    )
    const r = await new Promise<{ code: number; out: string }>((done) =>
      execFile(
        process.execPath,
        [join(ROOT, 'bin/ferry.mjs'), 'run', './quotes.ts', '-i', 'quotes.yaml', '--state-dir', join(dir, 'state')],
        { cwd: dir, env: { ...process.env, NO_COLOR: '1', FERRY_TEST_PW: secret } },
        (err, stdout, stderr) =>
          done({ code: err ? Number((err as { code?: number }).code) : 0, out: stdout + stderr }),
      ),
    )
    expect(r.code).toBe(1)
    // listr2's line for the host (off a terminal, one per update) and the report both say why.
    expect(r.out).toMatch(
      /me: rolled-back \(refused: line 1: Failure to communicate\[13\] to zebra, line: password <secret>\)/,
    )
    expect(r.out).not.toContain(secret)
  })
  it('an unknown runbook is exit 64 and lists what runbooks/ has', async () => {
    const r = await ferry(['run', 'no-such-runbook', '-i', 'inv.yaml'])
    expect(r.code).toBe(64)
    expect(r.stderr).toContain('no runbook at')
  })
})
