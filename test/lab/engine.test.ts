// The engine end to end on lab hosts: apply, idempotence, dry-run diffs, rollback after a failure
// at every step, rollback after the controller was killed, round trips, secrets, batches.
import { afterAll, describe, expect } from 'vitest'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadState } from '../../lab/lab.ts'
import {
  ferry,
  installDummyService,
  journalBytes,
  labIt as it,
  labYaml,
  removeDummyService,
  sh,
  tempDir,
  waitFor,
  writeInventory,
  ROOT,
  type Run,
} from './helpers.ts'

const TWELVE = 'test/fixtures/runbooks/twelve.ts'
const THIRTY = 'test/fixtures/runbooks/thirty.ts'
const TOKEN = `tok-${process.pid}-s3cr3t-value`

const inventory = (hosts: string[]) =>
  writeInventory(labYaml(hosts, { defaults: '  os: linux', tail: 'secrets:\n  token: env:FERRY_E2E_TOKEN\n' }))
const env = { FERRY_E2E_TOKEN: TOKEN }
const run = (args: string[], state: string) => ferry([...args, '--state-dir', state, '--format', 'json'], { env })
const json = (r: Run) => {
  try {
    return JSON.parse(r.stdout)
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`)
  }
}

/**
 * The state the twelve-step runbook starts from: two files it will change, forwarding off, no
 * lo1 address, and the stand-in service installed but neither enabled nor running.
 */
function prepare(host: string): void {
  removeDummyService(host)
  installDummyService(host)
  sh(
    host,
    [
      'rm -rf /etc/ferry-e2e /var/backups/ferry /etc/sysctl.d/60-ferry.conf',
      'mkdir -p /etc/ferry-e2e && printf "original\\n" > /etc/ferry-e2e/pre.conf && printf "same\\n" > /etc/ferry-e2e/mode.conf && chmod 644 /etc/ferry-e2e/mode.conf',
      'sysctl -qw net.ipv4.ip_forward=0',
      'ip addr del 10.255.9.1/32 dev lo 2>/dev/null; true',
    ].join(' && '),
  )
}

// Runs leave their changes on lab3–5 (the failing host is rolled back, lab4 completes): take
// them away, so later lab files (networkd's reads every lo address) find the hosts as the lab
// brought them up. Forwarding stays as it is: the lab does not promise a value for it.
afterAll(() => {
  for (const h of ['lab3', 'lab4', 'lab5']) {
    removeDummyService(h)
    sh(
      h,
      'rm -rf /etc/ferry-e2e /var/backups/ferry /etc/sysctl.d/60-ferry.conf; ip addr del 10.255.9.1/32 dev lo 2>/dev/null; true',
    )
  }
})

/** Files (names, modes, owners, checksums), the sysctl live and saved, lo's addresses, the service. */
function snapshot(host: string): string {
  return sh(
    host,
    [
      'for f in $(find /etc/ferry-e2e /var/backups/ferry /etc/sysctl.d/60-ferry.conf 2>/dev/null | sort); do stat -c "%n %a %U:%G %F" "$f"; [ -f "$f" ] && md5sum < "$f"; done',
      'sysctl net.ipv4.ip_forward',
      "ip -o -4 addr show dev lo | awk '{ print $4, $NF }'",
      "find /etc/rc?.d -name '[SK][0-9][0-9]ferry-dummy' | sort",
      'service ferry-dummy status; echo "status $?"',
    ].join('; '),
  )
}

describe('a runbook on one host', () => {
  it('first run changes, second changes nothing in ≤ 3 round trips, dry run shows the exact diff, rollback restores', async () => {
    const state = tempDir()
    const inv = inventory(['lab3'])
    prepare('lab3')
    const before = snapshot('lab3')

    const first = await run(['run', TWELVE, '-i', inv], state)
    expect(first.code, first.stderr).toBe(0)
    const applied = json(first)
    expect(applied.hosts[0].status).toBe('changed')
    expect(
      applied.hosts[0].steps
        .filter((s: { status: string }) => s.status === 'changed')
        .map((s: { name: string }) => s.name),
    ).toEqual([
      'a.conf',
      'b.conf',
      'make d',
      'pre.conf',
      'slow marker',
      'mode.conf',
      'e.conf',
      'forwarding',
      'router id',
      'dummy',
      'f.conf',
      'handled (handler)',
    ])
    expect(sh('lab3', 'stat -c "%a %U" /etc/ferry-e2e/a.conf /etc/ferry-e2e/b.conf /etc/ferry-e2e/mode.conf')).toBe(
      '644 ferry\n600 root\n600 root\n',
    )
    expect(
      sh(
        'lab3',
        'sysctl -n net.ipv4.ip_forward; ip -o -4 addr show dev lo | grep -c 10.255.9.1/32; service ferry-dummy status',
      ),
    ).toBe('1\n1\nferry-dummy is running\n')
    expect(sh('lab3', 'cat /etc/ferry-e2e/pre.conf; ls /etc/ferry-e2e/handled')).toBe(
      'changed by ferry\n/etc/ferry-e2e/handled\n',
    )

    const second = await run(['run', TWELVE, '-i', inv, '--stats'], state)
    expect(second.code).toBe(0)
    const noop = json(second)
    expect(noop.summary).toMatchObject({ ok: 1, changed: 0 })
    expect(noop.hosts[0].steps.every((s: { status: string }) => s.status === 'ok')).toBe(true)
    expect(noop.stats.lab3.roundTrips).toBeLessThanOrEqual(3)

    // Someone edits a managed file by hand: the dry run shows exactly that, and changes nothing.
    sh('lab3', 'printf "edited\\n" > /etc/ferry-e2e/pre.conf')
    const dry = await run(['run', TWELVE, '-i', inv, '--dry-run'], state)
    expect(dry.code).toBe(2)
    const planned = json(dry).hosts[0].steps.filter((s: { status: string }) => s.status === 'changed')
    expect(planned.map((s: { name: string }) => s.name)).toEqual(['pre.conf'])
    expect(planned[0].diff).toBe(
      '--- /etc/ferry-e2e/pre.conf\n+++ /etc/ferry-e2e/pre.conf\n@@ -1,1 +1,1 @@\n-edited\n+changed by ferry\n',
    )
    expect(sh('lab3', 'cat /etc/ferry-e2e/pre.conf')).toBe('edited\n')

    const undo = await ferry(['rollback', applied.runId, '--state-dir', state], { env })
    expect(undo.code, undo.stdout).toBe(0)
    expect(snapshot('lab3')).toBe(before)
  })
})

describe('failure at every step', () => {
  for (let k = 1; k <= 12; k++) {
    it(`step ${k} of 12 fails on lab3: lab3 is back to its snapshot, lab4 completes, exit 1, journal shows the rollback`, async () => {
      const state = tempDir()
      for (const h of ['lab3', 'lab4']) prepare(h)
      const before = snapshot('lab3')
      const r = await run(
        ['run', TWELVE, '-i', inventory(['lab3', 'lab4']), '--param', `failAt=${k}`, '--param', 'failOn=lab3'],
        state,
      )
      expect(r.code, r.stderr).toBe(1)
      const out = json(r)
      const byName = Object.fromEntries(out.hosts.map((h: { name: string }) => [h.name, h]))
      expect(byName.lab3.status).toBe('rolled-back')
      expect(byName.lab3.error).toContain('injected failure')
      expect(byName.lab4.status).toBe('changed')
      expect(snapshot('lab3')).toBe(before)
      const shown = JSON.parse((await ferry(['history', 'show', out.runId, '--json', '--state-dir', state])).stdout)
      const undo = shown.undo.filter((u: { host: string }) => u.host === 'lab3')
      expect(undo.length).toBe(k === 12 ? 13 : k) // the handler runs before the verify steps
      expect(undo.every((u: { undone: boolean }) => u.undone)).toBe(true)
    })
  }
})

describe('dry run', () => {
  it('plans 30 dependent steps on 5 bare hosts, exits 2, and leaves every file under /etc, /usr/local and /var untouched', async () => {
    const hosts = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5']
    // Every file's path, size, mode, owner, mtime and ctime: ctime moves on any write, chmod or
    // chown, even one that leaves the content as it was, which a content checksum would miss.
    // Content checksums too for /etc (/var holds gigabytes of apt cache, too slow to hash here).
    // /var/lib/ferry-lab is the controller's zfs-fuse pool showing through the overlay's lower
    // layer: zfs-fuse rewrites it every 30 s whatever the hosts do, so it is not theirs to check.
    const sums = () =>
      hosts.map((h) =>
        sh(
          h,
          "find /etc /usr/local /var -xdev -path /var/lib/ferry-lab -prune -o -printf '%p %s %m %U:%G %T@ %C@\\n' | sort; find /etc -xdev -type f -exec md5sum {} + | sort",
        ),
      )
    for (const h of hosts) sh(h, 'rm -rf /etc/ferry-thirty')
    const before = sums()
    const r = await run(['run', THIRTY, '-i', inventory(hosts), '--dry-run'], tempDir())
    expect(r.code, r.stderr).toBe(2)
    const out = json(r)
    expect(out.hosts).toHaveLength(5)
    for (const h of out.hosts) {
      expect(h.status).toBe('changed')
      expect(h.steps).toHaveLength(30)
      expect(h.steps.every((s: { status: string }) => s.status === 'changed')).toBe(true)
      expect(h.error).toBeUndefined()
    }
    expect(sums()).toEqual(before)
  })

  it('a no-op run of 30 steps costs at most 3 round trips per host, with os: in the inventory or without', async () => {
    const hosts = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5']
    const state = tempDir()
    const inv = inventory(hosts)
    expect((await run(['run', THIRTY, '-i', inv], state)).code).toBe(0)
    const again = json(await run(['run', THIRTY, '-i', inv, '--stats'], state))
    expect(again.summary).toMatchObject({ ok: 5, changed: 0 })
    for (const h of hosts) expect(again.stats[h].roundTrips).toBeLessThanOrEqual(3)
    // Without os:, the first probe carries every OS's snippets and the host's uname -s picks.
    const bare = writeInventory(labYaml(hosts, { tail: 'secrets:\n  token: env:FERRY_E2E_TOKEN\n' }))
    expect(readFileSync(bare, 'utf8')).not.toMatch(/\bos:/)
    const unnamed = json(await run(['run', THIRTY, '-i', bare, '--stats'], state))
    expect(unnamed.summary).toMatchObject({ ok: 5, changed: 0 })
    for (const h of hosts) expect(unnamed.stats[h].roundTrips).toBeLessThanOrEqual(3)
    for (const h of hosts) sh(h, 'rm -rf /etc/ferry-thirty')
  })
})

describe('rollout control', () => {
  it('--serial 2 --max-fail 20% stops after the first batch with a failure', async () => {
    const hosts = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5']
    for (const h of hosts) sh(h, 'rm -rf /etc/ferry-thirty')
    const r = await run(
      ['run', THIRTY, '-i', inventory(hosts), '--serial', '2', '--max-fail', '20%', '--param', 'failOn=lab2,lab4'],
      tempDir(),
    )
    expect(r.code).toBe(1)
    const out = json(r)
    expect(out.hosts.map((h: { name: string; status: string }) => `${h.name}:${h.status}`)).toEqual([
      'lab1:changed',
      'lab2:rolled-back',
    ])
    expect(out.notRun).toEqual(['lab3', 'lab4', 'lab5'])
    expect(sh('lab2', 'ls /etc/ferry-thirty 2>/dev/null | wc -l').trim()).toBe('0')
    expect(sh('lab3', 'ls -d /etc/ferry-thirty 2>/dev/null || echo absent').trim()).toBe('absent')
    for (const h of hosts) sh(h, 'rm -rf /etc/ferry-thirty')
  })
})

describe('interruptions', () => {
  /** Starts a slow run and resolves once the journal holds the undo record of its slow step. */
  async function startSlow(state: string, host: string) {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/ferry.mjs'),
        'run',
        TWELVE,
        '-i',
        inventory([host]),
        '--param',
        'slow=8',
        '--state-dir',
        state,
        '--format',
        'json',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, ...env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))),
    )
    let runId = ''
    const reached = await waitFor(
      30_000,
      async () => {
        const runs = JSON.parse((await ferry(['history', '--json', '--state-dir', state])).stdout).runs
        if (!runs[0]) return false
        const shown = JSON.parse((await ferry(['history', 'show', runs[0].id, '--json', '--state-dir', state])).stdout)
        runId = runs[0].id as string
        return shown.undo.some((u: { step: string }) => u.step === 'slow marker')
      },
      { every: 200, throws: true },
    )
    if (reached === undefined) throw new Error('the run never reached its slow step')
    return { child, exited, runId, stdout: () => stdout }
  }

  it('SIGKILL mid-apply: ferry rollback RUN_ID restores the host', async () => {
    const state = tempDir()
    prepare('lab4')
    const before = snapshot('lab4')
    const { child, exited, runId } = await startSlow(state, 'lab4')
    child.kill('SIGKILL')
    await exited
    expect(snapshot('lab4')).not.toBe(before)
    // sshd does not stop a session's command when its client vanishes: if the killed run had sent
    // its slow step (`sleep 8; touch marker`), it finishes on its own. The undo record is written
    // before the command is sent, so the kill may also have come first. Give it the time either
    // way, then roll back. (Not pgrep: lab hosts share the machine's pid space.)
    sh('lab4', 'for i in $(seq 120); do [ -e /etc/ferry-e2e/marker ] && exit 0; sleep 0.1; done; exit 0')
    const undo = await ferry(['rollback', runId, '--state-dir', state], { env })
    expect(undo.code, undo.stdout).toBe(0)
    expect(undo.stdout).toContain('lab4: undid slow marker')
    expect(snapshot('lab4')).toBe(before)
  })

  it('ferry rollback holds the host lock: a host another run holds is refused untouched, and --break-lock takes it over', async () => {
    const state = tempDir()
    prepare('lab4')
    const before = snapshot('lab4')
    const applied = await run(['run', TWELVE, '-i', inventory(['lab4'])], state)
    expect(applied.code, applied.stderr).toBe(0)
    const after = snapshot('lab4')
    expect(after).not.toBe(before)
    sh(
      'lab4',
      "mkdir /var/run/ferry.lock && printf 'run=someone-else\\ncontroller=elsewhere\\npid=1\\nsince=now\\n' > /var/run/ferry.lock/owner",
    )
    try {
      const refused = await ferry(['rollback', json(applied).runId, '--state-dir', state], { env })
      expect(refused.code, refused.stdout).toBe(3)
      expect(refused.stdout).toContain(
        'lab4: ROLLBACK FAILED: lab4 is locked by run someone-else (controller elsewhere, pid 1, since now)',
      )
      expect(snapshot('lab4'), 'nothing undone').toBe(after)
      expect(sh('lab4', 'cat /var/run/ferry.lock/owner')).toContain('run=someone-else')
      const taken = await ferry(['rollback', json(applied).runId, '--break-lock', '--state-dir', state], { env })
      expect(taken.code, taken.stdout).toBe(0)
      expect(taken.stdout).toContain('lab4: broke the lock of run someone-else')
      expect(snapshot('lab4')).toBe(before)
      expect(sh('lab4', 'ls -d /var/run/ferry.lock 2>/dev/null || echo free').trim(), 'released after the undo').toBe(
        'free',
      )
    } finally {
      sh('lab4', 'rm -rf /var/run/ferry.lock')
    }
  })

  it('SIGINT mid-apply: the in-flight host is rolled back and ferry exits 130', async () => {
    const state = tempDir()
    prepare('lab5')
    const before = snapshot('lab5')
    const { child, exited } = await startSlow(state, 'lab5')
    child.kill('SIGINT')
    expect(await exited).toBe(130)
    expect(snapshot('lab5')).toBe(before)
  })
})

describe('secrets', () => {
  it('a secret reaches the host file but never stdout/stderr, the journal or any remote argv', async () => {
    const state = tempDir()
    const inv = inventory(['lab5'])
    prepare('lab5')
    const h = loadState().hosts.lab5!
    // Watch lab5's process list for the whole time the runs take.
    const watcher = spawn(
      'nsenter',
      [
        '-t',
        String(h.pid),
        '--net',
        '--mount',
        '--root',
        '--',
        'sh',
        '-c',
        'while :; do ps -eo args; sleep 0.05; done',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    )
    let seen = ''
    watcher.stdout.on('data', (d) => (seen += d))
    const outputs: Run[] = []
    try {
      outputs.push(await run(['run', TWELVE, '-i', inv, '--param', 'secretFile=true', '--dry-run'], state))
      outputs.push(await run(['run', TWELVE, '-i', inv, '--param', 'secretFile=true'], state))
      sh('lab5', 'printf "key old\\n" > /etc/ferry-e2e/b.conf')
      outputs.push(await ferry(['run', TWELVE, '-i', inv, '--param', 'secretFile=true', '--state-dir', state], { env }))
      outputs.push(await run(['run', TWELVE, '-i', inv, '--param', 'secretFile=true', '--param', 'failAt=2'], state))
    } finally {
      watcher.kill()
    }
    expect(outputs.map((o) => o.code)).toEqual([2, 0, 0, 1])
    expect(sh('lab5', 'cat /etc/ferry-e2e/b.conf')).toBe(`key ${TOKEN}\n`) // the positive control
    expect(outputs.some((o) => o.stdout.includes('<secret>'))).toBe(true)
    for (const o of outputs) expect(o.stdout + o.stderr).not.toContain(TOKEN)
    expect(seen.length).toBeGreaterThan(1000)
    expect(seen).not.toContain(TOKEN)
    // Scanned only once it is known to hold the run that first wrote the secret into b.conf.
    expect(journalBytes(state, json(outputs[1]!).runId).includes(TOKEN)).toBe(false)
  })
})
