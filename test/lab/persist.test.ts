// --persist end to end: the keeper holds the connections between commands, so the hosts accept
// no new SSH connection; runs, dry runs, rollbacks and large outputs through it behave as direct
// ones; a kept connection that stops answering makes its host unreachable, not hung; the keeper's
// socket is private, no secret reaches its argv or environment, and it goes away when told to or
// when idle.
import { afterEach, describe, expect } from 'vitest'
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { loadInventory } from '../../src/inventory/index.ts'
import { Connector } from '../../src/transport/connect.ts'
import { KeptConnection } from '../../src/transport/keeper.ts'
import { persistFor } from '../../src/cli/options.ts'
import { resetShellStarts, shellStarts } from '../../lab/lab.ts'
import { accepted, ferry, labIt as it, labYaml, sh, tempDir, waitFor, writeInventory, type Run } from './helpers.ts'

const THIRTY = 'test/fixtures/runbooks/thirty.ts'
const ROOT_DIR = '/etc/ferry-persist'
const TOKEN = `tok-${process.pid}-persist-s3cr3t`
const env = { FERRY_E2E_TOKEN: TOKEN }
const inventory = (hosts: string[], connectTimeout = 5) =>
  writeInventory(
    labYaml(hosts, { defaults: '  os: linux', tail: 'secrets:\n  token: env:FERRY_E2E_TOKEN\n' }).replace(
      /connect_timeout: \d+/,
      `connect_timeout: ${connectTimeout}`,
    ),
  )
const json = (r: Run) => {
  try {
    return JSON.parse(r.stdout)
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`)
  }
}

/** State dirs whose keeper a test started: each is closed after the test, whatever happened. */
const started: string[] = []
afterEach(async () => {
  for (const state of started.splice(0)) await ferry(['connections', '--close', '--state-dir', state])
})
function stateDir(): string {
  const dir = tempDir()
  started.push(dir)
  return dir
}

/** The keeper serving a state dir's socket: its pid, from /proc (its argv names the socket). */
function keeperPid(state: string): number | undefined {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      if (argv.includes('keeper') && argv.some((a) => a.startsWith(`${state}/keeper-`))) return Number(pid)
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined
}
const socketIn = (state: string) => readdirSync(state).find((f) => /^keeper-\d+\.sock$/.test(f))

describe('ferry --persist', () => {
  it('keeps the connections for the next command: no new SSH connection on the hosts, and output and exit codes pass through intact', async () => {
    const state = stateDir()
    const inv = inventory(['lab1', 'lab2'])
    const exec = (line: string) =>
      ferry(['exec', '-i', inv, '--persist', '30s', '--format', 'json', '--', line], {
        env: { ...env, FERRY_STATE_DIR: state },
      })
    const before = { lab1: accepted('lab1'), lab2: accepted('lab2') }
    const first = await exec('hostname')
    expect(first.code, first.stderr).toBe(0)
    expect(
      json(first)
        .hosts.map((h: { stdout: string }) => h.stdout)
        .sort(),
    ).toEqual(['lab1\n', 'lab2\n'])
    expect({ lab1: accepted('lab1'), lab2: accepted('lab2') }).toEqual({ lab1: before.lab1 + 1, lab2: before.lab2 + 1 })

    // The socket is the user's alone; the keeper's argv and environment hold no secret.
    const socket = socketIn(state)!
    expect(socket).toBeDefined()
    expect(statSync(join(state, socket)).mode & 0o077).toBe(0)
    const pid = keeperPid(state)!
    expect(pid).toBeGreaterThan(0)
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).toContain('PATH=')
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain(TOKEN)
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(TOKEN)

    // 3 MB of output and an exit code of 7 through the kept connection, and no new connection.
    const second = await exec('head -c 3000000 /dev/zero | tr "\\0" x; exit 7')
    expect(second.code).toBe(1)
    for (const h of json(second).hosts) {
      expect(h.exitCode).toBe(7)
      expect(h.stdout.length).toBe(3_000_000)
      expect(h.stdout).toMatch(/^x+$/)
    }
    expect({ lab1: accepted('lab1'), lab2: accepted('lab2') }).toEqual({ lab1: before.lab1 + 1, lab2: before.lab2 + 1 })

    const listed = json(await ferry(['connections', '--json', '--state-dir', state]))
    expect(listed.map((k: { host: string }) => k.host).sort()).toEqual(['lab1', 'lab2'])
    for (const k of listed) expect(k.commands).toBe(2)
  })

  it('runs, dry runs and rollbacks through the keeper as through direct connections, in ≤ 3 round trips per no-op host', async () => {
    const hosts = ['lab3', 'lab4']
    const state = stateDir()
    const inv = inventory(hosts)
    for (const h of hosts) sh(h, `rm -rf ${ROOT_DIR}`)
    const run = (...args: string[]) =>
      ferry(
        [
          'run',
          THIRTY,
          '-i',
          inv,
          '--param',
          `root=${ROOT_DIR}`,
          '--persist',
          '30s',
          '--state-dir',
          state,
          '--format',
          'json',
          ...args,
        ],
        { env },
      )

    const first = await run()
    expect(first.code, first.stderr).toBe(0)
    expect(json(first).summary).toMatchObject({ changed: 2 })
    const connections = hosts.map(accepted)

    await resetShellStarts(hosts)
    const noop = json(await run('--stats'))
    expect(noop.summary).toMatchObject({ ok: 2, changed: 0 })
    // The session shell was kept too: the no-op run started no login shell at all.
    for (const h of hosts) expect(noop.stats[h]).toMatchObject({ kept: true, inSession: 2, loginShells: 0 })
    for (const h of hosts) expect(await shellStarts(h), h).toBe(0)
    for (const h of hosts) expect(noop.stats[h].roundTrips).toBeLessThanOrEqual(3)

    // A hand edit: the dry run shows it (and, read-only, changes nothing); a run puts it back.
    sh('lab3', `printf 'edited\\n' > ${ROOT_DIR}/d4/x.conf`)
    const dry = await run('--dry-run')
    expect(dry.code).toBe(2)
    const lab3 = json(dry).hosts.find((h: { name: string }) => h.name === 'lab3')
    expect(
      lab3.steps.filter((s: { status: string }) => s.status === 'changed').map((s: { name: string }) => s.name),
    ).toEqual(['file 4', 'check 4'])
    expect(sh('lab3', `cat ${ROOT_DIR}/d4/x.conf`)).toBe('edited\n')

    // Rolling back the first run removes what it made, through the same connections.
    const rollback = await ferry(['rollback', json(first).runId, '--persist', '30s', '--state-dir', state], { env })
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0)
    for (const h of hosts) expect(sh(h, `ls ${ROOT_DIR} 2>/dev/null | wc -l`)).toBe('0\n')
    expect(hosts.map(accepted)).toEqual(connections)
    for (const h of hosts) sh(h, `rm -rf ${ROOT_DIR}`)
  })

  it('streams 64 MB into a command through the keeper with backpressure, as migrate-jail relays a zfs send', async () => {
    const state = stateDir()
    process.env.FERRY_E2E_TOKEN = TOKEN
    const inv = await loadInventory(inventory(['lab4']))
    const connector = new Connector(inv, persistFor({ persist: 30, stateDir: state }))
    const t = await connector.connect(inv.hosts[0]!)
    expect(t).toBeInstanceOf(KeptConnection)
    const sink = await t.stream('sha256sum')
    let out = ''
    sink.stdout.on('data', (d: Buffer) => (out += d))
    const sent = createHash('sha256')
    const chunk = randomBytes(1 << 20)
    for (let i = 0; i < 64; i++) {
      sent.update(chunk)
      if (!sink.stdin.write(chunk)) await new Promise((r) => sink.stdin.once('drain', r))
    }
    sink.stdin.end()
    expect(await sink.exited).toMatchObject({ code: 0 })
    expect(out).toBe(`${sent.digest('hex')}  -\n`)
  })

  it('reports a host whose kept connection stopped answering as unreachable within the connect timeout, and reconnects once it answers', async () => {
    const state = stateDir()
    const inv = inventory(['lab2', 'lab5'], 3)
    const exec = () =>
      ferry(['exec', '-i', inv, '--persist', '60s', '--format', 'json', '--', 'hostname'], {
        env: { ...env, FERRY_STATE_DIR: state },
      })
    expect((await exec()).code).toBe(0)
    // lab5 drops every packet to its sshd (nft in its own network namespace): the kept
    // connection goes silent, as when the link between controller and router fails.
    sh('lab5', 'nft add table inet ferrytest')
    try {
      sh(
        'lab5',
        "nft add chain inet ferrytest input '{ type filter hook input priority 0; }' && nft add rule inet ferrytest input tcp dport 22 drop",
      )
      const started = Date.now()
      const cut = await exec()
      const took = Date.now() - started
      expect(cut.code).toBe(4)
      const byName = Object.fromEntries(json(cut).hosts.map((h: { name: string }) => [h.name, h]))
      expect(byName.lab2).toMatchObject({ status: 'ok', stdout: 'lab2\n' })
      expect(byName.lab5.status).toBe('unreachable')
      expect(byName.lab5.error).toMatch(/kept connection .* did not answer within 3 s/)
      // One connect timeout (3 s), not the keepalive's 45 s nor a hang.
      expect(took).toBeLessThan(10_000)
    } finally {
      sh('lab5', 'nft delete table inet ferrytest')
    }
    const back = await exec()
    expect(back.code, back.stdout).toBe(0)
    expect(
      json(back)
        .hosts.map((h: { stdout: string }) => h.stdout)
        .sort(),
    ).toEqual(['lab2\n', 'lab5\n'])
  })

  it('goes away: --close ends the keeper and removes its socket; idle, it exits by itself', async () => {
    const state = stateDir()
    const inv = inventory(['lab1'])
    const exec = (persist: string) =>
      ferry(['exec', '-i', inv, '--persist', persist, '--', 'true'], { env: { ...env, FERRY_STATE_DIR: state } })
    expect((await exec('60s')).code).toBe(0)
    const pid = keeperPid(state)!
    expect(pid).toBeGreaterThan(0)
    const closed = await ferry(['connections', '--close', '--state-dir', state])
    expect(closed.stdout).toContain('closed the kept connections')
    expect(await waitFor(5000, () => !existsSync(`/proc/${pid}`))).toBeDefined()
    expect(socketIn(state)).toBeUndefined()
    expect((await ferry(['connections', '--state-dir', state])).stdout).toContain('no kept connections')

    // --persist 1s: gone about a second after the command, having served it.
    expect((await exec('1s')).code).toBe(0)
    const idle = keeperPid(state)!
    expect(idle).toBeGreaterThan(0)
    expect(await waitFor(10_000, () => !existsSync(`/proc/${idle}`))).toBeDefined()
    expect(socketIn(state)).toBeUndefined()
  })

  it('refuses a state dir others can write to, before contacting any host', async () => {
    const state = tempDir()
    chmodSync(state, 0o777)
    const before = accepted('lab1')
    const r = await ferry(['exec', '-i', inventory(['lab1']), '--persist', '30s', '--', 'true'], {
      env: { ...env, FERRY_STATE_DIR: state },
    })
    expect(r.code).toBe(64)
    expect(r.stderr).toContain(`${state} is writable by others (mode 777)`)
    expect(accepted('lab1')).toBe(before)
    expect(keeperPid(state)).toBeUndefined()
    const bad = await ferry(['exec', '-i', inventory(['lab1']), '--persist', '5 minutes', '--', 'true'], { env })
    expect(bad.code).toBe(64)
    expect(bad.stderr).toContain('expected a duration such as 30s, 10m or 1h')
  })
})
