// SSH transport and remote $, end to end against lab hosts: real sshd, real dash/bash/mksh.
import { afterAll, describe, expect } from 'vitest'
import { createServer, connect, type Server } from 'node:net'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { loadInventory } from '../../src/inventory/index.ts'
import { SshPool, MAX_CHANNELS } from '../../src/transport/ssh.ts'
import { control, createShell, type Executor } from '../../src/shell/remote.ts'
import { SessionShell } from '../../src/shell/session.ts'
import { corpus, MARKER_DIR } from '../fixtures/injection-corpus.ts'
import {
  ADDRESSES,
  LAB_KEY,
  ferry,
  labIt as it,
  labKnownHostsLine,
  labYaml,
  tempDir,
  writeInventory,
} from './helpers.ts'

const pools: SshPool[] = []
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()))
})

async function connectTo(yaml: string, host: string, opts = {}) {
  const inv = await loadInventory(writeInventory(yaml))
  const pool = new SshPool(inv, opts)
  pools.push(pool)
  return { inv, conn: await pool.connect(inv.hosts.find((h) => h.name === host)!) }
}

describe('ferry exec', () => {
  it('reaches the 5 lab hosts and names each one in its output', async () => {
    const r = await ferry(['exec', '-i', 'lab', '--limit', 'mesh', '--', 'uname', '-n'])
    expect(r.code).toBe(0)
    for (const h of ['lab1', 'lab2', 'lab3', 'lab4', 'lab5']) {
      expect(r.stdout).toContain(`${h} | ok | rc=0`)
      expect(r.stdout).toContain(`${h} | ${h}\n`)
    }
    expect(r.stdout).not.toContain('far1')
  })

  it('reaches a host behind the jump host, which the controller cannot reach itself', async () => {
    const direct = await new Promise<string>((resolve) => {
      const s = connect({ host: ADDRESSES.far1!, port: 22, timeout: 1000 })
      s.once('connect', () => (s.destroy(), resolve('connected')))
      s.once('timeout', () => (s.destroy(), resolve('timeout')))
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
    })
    expect(direct).not.toBe('connected')
    const r = await ferry([
      'exec',
      '-i',
      'lab',
      '--limit',
      'far1',
      '--format',
      'json',
      '--',
      'hostname; ip -4 -o addr show eth0',
    ])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.hosts[0].stdout).toMatch(/^far1\n.*198\.18\.1\.21/s)
  })

  it('exits 1 when the command fails on a host, and reports its exit code', async () => {
    const r = await ferry([
      'exec',
      '-i',
      'lab',
      '--limit',
      'lab1,lab2',
      '--format',
      'json',
      '--',
      'test "$(hostname)" = lab1',
    ])
    expect(r.code).toBe(1)
    const byName = Object.fromEntries(JSON.parse(r.stdout).hosts.map((h: { name: string }) => [h.name, h]))
    expect(byName.lab1).toMatchObject({ status: 'ok', exitCode: 0 })
    expect(byName.lab2).toMatchObject({ status: 'failed', exitCode: 1 })
  })
})

/** lab1 as the ferry user, become sudo with this password (a file secret). */
function sudoYaml(password: string): string {
  const dir = tempDir()
  writeFileSync(join(dir, 'pw'), `${password}\n`)
  return writeInventory(
    labYaml(['lab1'], {
      defaults: '  user: ferry\n  become: sudo\n  become_password: pw',
      tail: 'secrets:\n  pw: file:pw\n',
    }),
    dir,
  )
}
const labPassword = () => readFileSync('/run/ferry-lab/become_password', 'utf8').trim()

describe('remote $ quoting', () => {
  // root's login shell on the lab is bash, ferry's is dash; the interpreter under `sh -c` is
  // varied separately, so both the outer and the inner parse see every string.
  const cases = [
    { user: 'root', shell: '/bin/sh' },
    { user: 'root', shell: '/bin/bash' },
    { user: 'root', shell: '/bin/mksh' },
    { user: 'ferry', shell: '/bin/sh' },
  ]
  it.each(cases)(
    '$user@lab2 with $shell: every corpus string arrives byte-identical and nothing is injected',
    async ({ user, shell }) => {
      expect(corpus.length).toBeGreaterThanOrEqual(40)
      const { conn } = await connectTo(labYaml(['lab2'], { defaults: `  user: ${user}` }), 'lab2')
      const $ = createShell((c) => conn.execute(c), { host: 'lab2', shell })
      await $`rm -rf ${MARKER_DIR} && mkdir -p ${MARKER_DIR}`
      for (const s of corpus) {
        const out = await $`printf %s ${s}`
        expect(out.buffer().equals(Buffer.from(s)), `string ${JSON.stringify(s.slice(0, 40))}`).toBe(true)
      }
      expect((await $`ls -A ${MARKER_DIR}`).stdout).toBe('')
      await $`rm -rf ${MARKER_DIR}` // /tmp is sticky: the next user could not replace it
      // And the login shell really was the one we meant.
      expect((await $`ps -o comm= -p $PPID`.nothrow()).stdout.trim()).toMatch(user === 'root' ? /bash|sshd/ : /sh|sshd/)
    },
  )

  it('with mksh as the login shell too', async () => {
    const { conn: root } = await connectTo(labYaml(['lab3']), 'lab3')
    await root.$`usermod -s /bin/mksh ferry`
    try {
      const { conn } = await connectTo(labYaml(['lab3'], { defaults: '  user: ferry' }), 'lab3')
      expect((await conn.$`getent passwd ferry`).stdout.trim()).toMatch(/:\/bin\/mksh$/)
      await conn.$`rm -rf ${MARKER_DIR} && mkdir -p ${MARKER_DIR}`
      for (const s of corpus) expect((await conn.$`printf %s ${s}`).buffer().equals(Buffer.from(s))).toBe(true)
      expect((await conn.$`ls -A ${MARKER_DIR}`).stdout).toBe('')
      await conn.$`rm -rf ${MARKER_DIR}`
    } finally {
      await root.$`usermod -s /bin/sh ferry`
    }
  })
})

describe('SSH connection', () => {
  it(`multiplexes many commands over one connection, never more than ${MAX_CHANNELS} channels at once`, async () => {
    const { conn } = await connectTo(labYaml(['lab1']), 'lab1')
    const before = conn.stats.channels
    let open = 0
    let peak = 0
    const execute = conn.execute.bind(conn)
    const $ = createShell(
      async (c) => {
        const ex = await execute(c)
        peak = Math.max(peak, ++open)
        void ex.exited.then(() => open--)
        return ex
      },
      { host: 'lab1' },
    )
    const outs = await Promise.all(Array.from({ length: 24 }, (_, i) => $`sleep 0.2; echo ${i}`))
    expect(outs.map((o) => o.stdout.trim())).toEqual(Array.from({ length: 24 }, (_, i) => String(i)))
    expect(peak).toBe(MAX_CHANNELS - 1) // the last one is kept for kills
    expect(conn.stats.channels - before).toBe(24)
  })

  it('shares one connection per host, and dials afresh once it has closed (a pool that outlives a check)', async () => {
    const inv = await loadInventory(writeInventory(labYaml(['lab1'])))
    const pool = new SshPool(inv)
    pools.push(pool)
    const lab1 = inv.hosts[0]!
    const first = await pool.connect(lab1)
    expect(await pool.connect(lab1)).toBe(first)
    await new Promise<void>((resolve) => {
      first.client.once('close', () => resolve())
      first.client.end()
    })
    const second = await pool.connect(lab1)
    expect(second).not.toBe(first)
    expect((await second.$`hostname`).stdout.trim()).toBe('lab1')
  })

  it('reconnecting a jump host (commit-confirmed) leaves the connections through it working', async () => {
    const inv = await loadInventory(writeInventory(labYaml(['lab1', 'far1'])))
    const pool = new SshPool(inv)
    pools.push(pool)
    const [lab1, far1] = inv.hosts
    const behind = await pool.connect(far1!)
    const fresh = await pool.reconnect(lab1!)
    expect((await fresh.$`hostname`).stdout.trim()).toBe('lab1')
    expect((await behind.$`hostname`).stdout.trim(), 'far1, through the old lab1 connection').toBe('far1')
    const again = await pool.reconnect(lab1!)
    expect(again).not.toBe(fresh)
  })

  it("a host that is no one's jump is dropped and dialled again on reconnect", async () => {
    const inv = await loadInventory(writeInventory(labYaml(['lab2'])))
    const pool = new SshPool(inv)
    pools.push(pool)
    const old = await pool.connect(inv.hosts[0]!)
    const fresh = await pool.reconnect(inv.hosts[0]!)
    expect(fresh).not.toBe(old)
    await expect(old.$`true`, 'nothing more goes over the dropped connection').rejects.toThrow()
    expect(await pool.connect(inv.hosts[0]!), "the new one is the pool's now").toBe(fresh)
  })

  it('can still kill commands when every command channel is busy', async () => {
    const { conn } = await connectTo(labYaml(['lab1']), 'lab1')
    // An hour: only the kills can end them within the test's timeout. Lab hosts share the
    // machine's pid space, so the sleeps carry a duration nothing else uses.
    const seconds = `3600.${process.pid}`
    const outs = await Promise.all(Array.from({ length: 12 }, () => conn.$`sleep ${seconds}`.timeout(500).nothrow()))
    // Every one ended by the timeout's SIGTERM. A result with neither signal nor exit code is a
    // channel dropped without the kill: its command may still start later on the host, after the
    // pgrep below has looked.
    expect(outs.map((o) => [o.signal, o.exitCode])).toEqual(outs.map(() => ['SIGTERM', null]))
    expect((await conn.$`pgrep -f ${`[s]leep ${seconds}`} || true`).stdout.trim()).toBe('')
  })

  it('never loses an exit code, even where sshd closes the channel before sending exit-status', async () => {
    // Without ferry's own exit-code trailer, about 1 in 300 of these came back with no code.
    const { conn } = await connectTo(labYaml(['lab2'], { defaults: '  user: ferry' }), 'lab2')
    const codes = Array.from({ length: 400 }, (_, i) => i % 4)
    const outs = await Promise.all(codes.map((c) => conn.$`printf x; printf 'é日' >&2; exit ${c}`.nothrow()))
    expect(outs.map((o) => o.exitCode)).toEqual(codes)
    expect(outs.every((o) => o.stdout === 'x' && o.stderr === 'é日')).toBe(true)
  })

  it('passes stdin, reports exit codes, and kills a command at its timeout', async () => {
    const { conn } = await connectTo(labYaml(['lab1']), 'lab1')
    expect((await conn.$({ input: 'a\nb\n' })`wc -l`).stdout.trim()).toBe('2')
    await expect(conn.$`echo bad >&2; exit 7`).rejects.toMatchObject({ exitCode: 7, stderr: 'bad\n' })
    const started = Date.now()
    const out = await conn.$`sleep 30`.timeout(300).nothrow()
    expect(out.ok).toBe(false)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('honours ~/.ssh/config through ssh -G (HostName aliases)', async () => {
    const dir = tempDir()
    const config = join(dir, 'ssh_config')
    writeFileSync(config, `Host lab3-alias\n  HostName ${ADDRESSES.lab3}\n`)
    const inv = writeInventory(labYaml([]) + '  viaalias: { address: lab3-alias }\n', dir)
    const r = await ferry(['exec', '-i', inv, '--', 'hostname'], { env: { FERRY_SSH_CONFIG: config } })
    expect(r.stdout).toContain('viaalias | lab3')
    expect(r.code).toBe(0)
  })
})

describe('auth and jumps', () => {
  it('authenticates with keys from ssh-agent (SSH_AUTH_SOCK) when no identity file is given', async () => {
    const dir = tempDir()
    const sock = join(dir, 'agent.sock')
    const agent = execFileSync('ssh-agent', ['-a', sock, '-s']).toString()
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent)![1])
    try {
      execFileSync('ssh-add', ['-q', LAB_KEY], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' })
      const inv = writeInventory(labYaml(['lab2']).replace(/ {2}identity: .*\n/, ''), dir)
      const r = await ferry(['exec', '-i', inv, '--', 'hostname'], { env: { SSH_AUTH_SOCK: sock, HOME: dir } })
      expect(r.stdout).toContain('lab2 | lab2')
      expect(r.code).toBe(0)
      const without = await ferry(['exec', '-i', inv, '--', 'hostname'], { env: { SSH_AUTH_SOCK: '', HOME: dir } })
      expect(without.code).toBe(4)
      expect(without.stdout).toContain('(auth)')
    } finally {
      process.kill(pid)
    }
  })

  it('follows a ProxyJump chain from ~/.ssh/config, verifying the hop', async () => {
    const dir = tempDir()
    const config = join(dir, 'ssh_config')
    writeFileSync(config, `Host far-alias\n  HostName ${ADDRESSES.far1}\n  ProxyJump root@${ADDRESSES.lab1}:22\n`)
    const inv = writeInventory(labYaml([]) + '  far: { address: far-alias }\n', dir)
    const r = await ferry(['exec', '-i', inv, '--', 'hostname'], { env: { FERRY_SSH_CONFIG: config } })
    expect(r.stdout).toContain('far | far1')
    expect(r.code).toBe(0)
  })

  it('jumps through an external user@host:port hop named in the inventory', async () => {
    const inv = writeInventory(labYaml([]) + `  far: { address: ${ADDRESSES.far1}, jump: root@${ADDRESSES.lab1}:22 }\n`)
    const r = await ferry(['exec', '-i', inv, '--', 'hostname'])
    expect(r.stdout).toContain('far | far1')
    expect(r.code).toBe(0)
  })
})

describe('host keys', () => {
  it('refuses a host whose key differs from known_hosts: exit 4, both fingerprints, nothing runs', async () => {
    const dir = tempDir()
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'impostor')])
    const impostor = readFileSync(join(dir, 'impostor.pub'), 'utf8').split(' ').slice(0, 2).join(' ')
    writeFileSync(join(dir, 'known_hosts'), `${ADDRESSES.lab4} ${impostor}\n`)
    const marker = `/tmp/ferry-mismatch-${process.pid}`
    const inv = writeInventory(labYaml(['lab4']).replace(/known_hosts: .*/, 'known_hosts: known_hosts'), dir)
    const r = await ferry(['exec', '-i', inv, '--', `touch ${marker}`])
    expect(r.code).toBe(4)
    const real = execFileSync('ssh-keygen', ['-lf', '-'], { input: labKnownHostsLine('lab4') })
      .toString()
      .split(' ')[1]
    const fake = execFileSync('ssh-keygen', ['-lf', join(dir, 'impostor.pub')])
      .toString()
      .split(' ')[1]
    expect(r.stdout).toContain('HOST KEY MISMATCH')
    expect(r.stdout).toContain(real)
    expect(r.stdout).toContain(fake)
    const check = await ferry(['exec', '-i', 'lab', '--limit', 'lab4', '--', `test ! -e ${marker}`])
    expect(check.code).toBe(0)
  })

  it('refuses an unknown key, and records it with --accept-new', async () => {
    const dir = tempDir()
    const kh = join(dir, 'known_hosts')
    writeFileSync(kh, '')
    const inv = writeInventory(labYaml(['lab5']).replace(/known_hosts: .*/, 'known_hosts: known_hosts'), dir)
    const refused = await ferry(['exec', '-i', inv, '--', 'hostname'])
    expect(refused.code).toBe(4)
    expect(refused.stdout).toMatch(/hostkey-unknown[\s\S]*not in known_hosts[\s\S]*--accept-new/)
    expect(readFileSync(kh, 'utf8')).toBe('')

    const accepted = await ferry(['exec', '-i', inv, '--accept-new', '--', 'hostname'])
    expect(accepted.code).toBe(0)
    expect(readFileSync(kh, 'utf8').trim()).toBe(labKnownHostsLine('lab5').trim())

    const strict = await ferry(['exec', '-i', inv, '--', 'hostname'])
    expect(strict.code).toBe(0)
    expect(strict.stdout).toContain('lab5 | lab5')
  })

  it('matches hashed known_hosts entries written by ssh-keygen -H', async () => {
    const dir = tempDir()
    const kh = join(dir, 'known_hosts')
    writeFileSync(kh, `${labKnownHostsLine('lab1')}\n${labKnownHostsLine('lab2')}\n`)
    execFileSync('ssh-keygen', ['-q', '-H', '-f', kh])
    expect(readFileSync(kh, 'utf8')).not.toContain(ADDRESSES.lab1)
    const inv = writeInventory(labYaml(['lab1', 'lab2']).replace(/known_hosts: .*/, 'known_hosts: known_hosts'), dir)
    const r = await ferry(['exec', '-i', inv, '--', 'hostname'])
    expect(r.code).toBe(0)
  })
})

describe('unreachable hosts get distinct reasons', () => {
  let silent: Server
  afterAll(() => silent?.close())

  it('auth failed, refused, handshake timeout and DNS each say what happened (exit 4)', async () => {
    const dir = tempDir()
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')])
    // A listener on loopback that accepts and never speaks SSH: the handshake must time out.
    silent = createServer(() => {}).listen(0, '127.0.0.1')
    await new Promise((r) => silent.once('listening', r))
    const port = (silent.address() as { port: number }).port
    const inv = writeInventory(
      [
        'defaults:',
        `  known_hosts: ${join(dir, 'none')}`,
        '  connect_timeout: 2',
        'hosts:',
        `  badauth: { address: ${ADDRESSES.lab1}, identity: ${join(dir, 'stranger')}, known_hosts: ${join(dir, 'kh')} }`,
        `  refused: { address: ${ADDRESSES.lab2}, port: 2222 }`,
        `  silent: { address: 127.0.0.1, port: ${port} }`,
      ].join('\n') + '\n',
      dir,
    )
    writeFileSync(join(dir, 'kh'), `${labKnownHostsLine('lab1')}\n`)
    const r = await ferry(['exec', '-i', inv, '--format', 'json', '--', 'true'], { env: { SSH_AUTH_SOCK: '' } })
    expect(r.code).toBe(4)
    const reasons = Object.fromEntries(
      JSON.parse(r.stdout).hosts.map((h: { name: string; reason: string; error: string }) => [h.name, h]),
    )
    expect(reasons.badauth).toMatchObject({ status: 'unreachable', reason: 'auth' })
    expect(reasons.badauth.error).toContain(join(dir, 'stranger'))
    expect(reasons.refused).toMatchObject({ status: 'unreachable', reason: 'refused' })
    expect(reasons.silent).toMatchObject({ status: 'unreachable', reason: 'timeout' })
  })

  it('a name that does not resolve is a DNS error', async () => {
    // In a fresh, empty network namespace the lookup fails locally: no query leaves the machine.
    const inv = writeInventory(`hosts:\n  ghost: { address: ghost.invalid }\n`)
    const r = await ferry(['exec', '-i', inv, '--format', 'json', '--', 'true'], { wrap: ['unshare', '--net'] })
    expect(r.code).toBe(4)
    expect(JSON.parse(r.stdout).hosts[0]).toMatchObject({ reason: 'dns' })
    expect(JSON.parse(r.stdout).hosts[0].error).toContain('ghost.invalid')
  })
})

describe('become', () => {
  it('sudo with the password on stdin: root, and the password in no process argv', async () => {
    const inv = await loadInventory(sudoYaml(labPassword()))
    const pool = new SshPool(inv)
    pools.push(pool)
    const conn = await pool.connect(inv.hosts[0]!)
    expect((await conn.$`id -u`).stdout.trim()).toBe('0')
    expect((await conn.$({ input: 'piped through\n' })`cat`).stdout).toBe('piped through\n')
    const sleeper = conn.$`sleep 3`
    await new Promise((r) => setTimeout(r, 800))
    const { conn: root } = await connectTo(labYaml(['lab1']), 'lab1')
    const ps = (await root.$`ps -eo args`).stdout
    expect(ps).toContain('sleep 3')
    expect(ps).not.toContain(labPassword())
    await sleeper
  })

  it('a wrong sudo password fails clearly instead of hanging', async () => {
    const r = await ferry(['exec', '-i', sudoYaml('not-the-password'), '--timeout', '20', '--', 'id -u'])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('password was rejected')
    expect(r.stdout).not.toContain('not-the-password')
  })

  it('doas with a password: answered on a pty (doas reads no stdin), root, exit codes kept', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'pw'), `${labPassword()}\n`)
    const inv = await loadInventory(
      writeInventory(
        labYaml(['lab1'], {
          defaults: '  user: ferry\n  become: doas\n  become_password: pw',
          tail: 'secrets:\n  pw: file:pw\n',
        }),
        dir,
      ),
    )
    const pool = new SshPool(inv)
    pools.push(pool)
    const conn = await pool.connect(inv.hosts[0]!)
    const out = await conn.$`id -u; echo merged >&2; exit 3`.nothrow()
    expect(out.exitCode).toBe(3)
    // A terminal has one output stream: stderr arrives in stdout, and nothing of the exchange shows.
    expect(out.stdout).toBe('0\nmerged\n')
    expect(out.stdout + out.stderr).not.toContain(labPassword())

    writeFileSync(join(dir, 'pw'), 'wrong-password\n')
    const r = await ferry(['exec', '-i', inv.file, '--timeout', '20', '--', 'id -u'])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/Authentication failed|password was rejected/)
  })

  it('sudo without a configured password fails fast (sudo -n) rather than prompting', async () => {
    const inv = writeInventory(labYaml(['lab1'], { defaults: '  user: ferry\n  become: sudo' }))
    const r = await ferry(['exec', '-i', inv, '--timeout', '20', '--', 'id -u'])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/password is required/)
  })
})

describe('session shell', () => {
  // One exec of sh per connection runs every command: the corpus goes through it byte for byte
  // with each interpreter, under root's bash login, and under the ferry user escalated by sudo.
  it.each(['/bin/sh', '/bin/bash', '/bin/mksh'])(
    'root@lab2, %s as the loop and the commands: the corpus arrives byte-identical in one login shell',
    async (shell) => {
      const { conn } = await connectTo(labYaml(['lab2']), 'lab2')
      const execute: Executor = (line, opts) => conn.execute(line, opts)
      const session = new SessionShell(execute, {
        host: 'lab2',
        shell,
        control: (line) => control(execute, line, shell, undefined),
      })
      const $ = createShell(execute, { host: 'lab2', shell, session })
      const shells = conn.stats.shells
      await $`rm -rf ${MARKER_DIR} && mkdir -p ${MARKER_DIR}`
      for (const s of corpus) {
        expect((await $`printf %s ${s}`).buffer().equals(Buffer.from(s)), JSON.stringify(s.slice(0, 40))).toBe(true)
        expect((await $({ input: s })`cat`).buffer().equals(Buffer.from(s))).toBe(true)
      }
      expect((await $`ls -A ${MARKER_DIR}; rm -rf ${MARKER_DIR}`).stdout).toBe('')
      // The loop runs the interpreter asked for, and all of it took one exec.
      const exe = { '/bin/sh': 'dash', '/bin/bash': 'bash', '/bin/mksh': 'mksh' }[shell]!
      expect((await $`readlink /proc/$PPID/exe`).stdout.trim()).toBe(`/usr/bin/${exe}`)
      expect(conn.stats.shells - shells).toBe(1)
      await session.close()
    },
  )

  it('sudo with a password: one sudo for the whole connection, root, the password in no argv and no output', async () => {
    const password = labPassword()
    const inv = await loadInventory(sudoYaml(password))
    const pool = new SshPool(inv)
    pools.push(pool)
    const conn = await pool.connect(inv.hosts[0]!)
    const outs = []
    for (const s of corpus) outs.push([s, (await conn.$({ input: s })`id -u; cat`).stdout] as const)
    for (const [s, out] of outs) expect(out).toBe(`0\n${s}`)
    expect(conn.stats).toMatchObject({ shells: 1, session: corpus.length, channels: corpus.length })
    const ps = (await conn.$`ps -eo args`).stdout
    expect(ps).toContain('ferry-session')
    expect(ps).not.toContain(password)
  })

  it('doas with a password keeps a channel per command (doas answers on a pty); without one, a session', async () => {
    const { conn: root } = await connectTo(labYaml(['lab1']), 'lab1')
    const dir = tempDir()
    writeFileSync(join(dir, 'pw'), `${readFileSync('/run/ferry-lab/become_password', 'utf8').trim()}\n`)
    const doas = async (password: boolean) => {
      const inv = await loadInventory(
        writeInventory(
          labYaml(['lab1'], {
            defaults: `  user: ferry\n  become: doas${password ? '\n  become_password: pw' : ''}`,
            tail: password ? 'secrets:\n  pw: file:pw\n' : '',
          }),
          dir,
        ),
      )
      const pool = new SshPool(inv)
      pools.push(pool)
      const conn = await pool.connect(inv.hosts[0]!)
      for (let i = 0; i < 3; i++) expect((await conn.$`id -u`).stdout).toBe('0\n')
      return conn.stats
    }
    expect(await doas(true)).toMatchObject({ session: 0, shells: 3 })
    await root.$`cp /etc/doas.conf /etc/doas.conf.ferry-test && echo 'permit nopass ferry as root' > /etc/doas.conf`
    try {
      expect(await doas(false)).toMatchObject({ session: 3, shells: 1 })
    } finally {
      await root.$`mv /etc/doas.conf.ferry-test /etc/doas.conf`
    }
  })

  it('concurrent commands: one in the session, the rest on channels of their own, all right, and the split counted', async () => {
    const { conn } = await connectTo(labYaml(['lab2']), 'lab2')
    const outs = await Promise.all(Array.from({ length: 40 }, (_, i) => conn.$`echo ${i}; exit ${i % 3}`.nothrow()))
    expect(outs.map((o) => [o.stdout, o.exitCode])).toEqual(Array.from({ length: 40 }, (_, i) => [`${i}\n`, i % 3]))
    expect(conn.stats.channels).toBe(40)
    expect(conn.stats.session).toBeGreaterThanOrEqual(1)
    expect(conn.stats.shells).toBe(40 - conn.stats.session + 1)
  })

  it('a timeout kills the command and its children, spares what an earlier command detached, and the next command runs in a new session', async () => {
    const { conn } = await connectTo(labYaml(['lab3']), 'lab3')
    // Lab hosts share the machine's pid space: the sleeps carry durations nothing else uses.
    const [early, late] = [`600.${process.pid}`, `601.${process.pid}`]
    const detached = (await conn.$`nohup sleep ${early} >/dev/null 2>&1 & echo $!`).stdout.trim()
    const out = await conn.$`sleep ${late} & wait`.timeout(500).nothrow()
    expect([out.signal, out.exitCode]).toEqual(['SIGTERM', null])
    expect((await conn.$`pgrep -f ${`[s]leep ${late}`} || true`).stdout.trim()).toBe('')
    expect((await conn.$`pgrep -f ${`[s]leep ${early}`}`).stdout.trim()).toBe(detached)
    await conn.$`kill ${detached}`
    expect(conn.stats.shells).toBeGreaterThanOrEqual(2)
  })
})
