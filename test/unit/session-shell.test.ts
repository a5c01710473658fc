// The session shell (src/shell/session.ts) run locally: the same loop a host runs, under each
// POSIX shell a platform may give it, through an executor shaped like an SSH exec (a login
// `/bin/sh -c LINE`, its own process group, and a channel whose close only drops the pipes).

import { describe, expect, it } from 'vitest'
import { spawn, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { Readable } from 'node:stream'
import { createShell, control, type ExecOptions, type Execution, type Executor } from '../../src/shell/remote.ts'
import { commandFrame, SESSION_SCRIPT, SessionShell, treeKill } from '../../src/shell/session.ts'
import { corpus, MARKER_DIR } from '../fixtures/injection-corpus.ts'

interface Lab {
  execute: Executor
  /** Exec lines opened, and which of them were session starts. */
  lines: { line: string; opts: ExecOptions }[]
}

/** An exec channel made of a local process: `prefix` plays a login shell's rc files. */
function localExec(prefix = ''): Lab {
  const lines: Lab['lines'] = []
  const execute: Executor = async (line, opts = {}) => {
    lines.push({ line, opts })
    const child = spawn('/bin/sh', ['-c', prefix + line], { stdio: 'pipe', detached: true })
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('close', (code, signal) => resolve({ code, signal })),
    )
    const execution: Execution = {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exited,
      // sshd closing a channel closes its pipes; it does not kill the session's process group.
      abort: () => {
        child.stdin.destroy()
        child.stdout.destroy()
        child.stderr.destroy()
      },
    }
    return execution
  }
  return { execute, lines }
}

function sessionFor(shell: string, lab = localExec(), maxOutput?: number) {
  const session = new SessionShell(lab.execute, {
    host: 'local',
    shell,
    control: (line) => control(lab.execute, line, '/bin/sh', undefined),
    maxOutput,
  })
  const $ = createShell(lab.execute, { host: 'local', shell, session })
  return { $, session, lab }
}

const sessionsOf = (lab: Lab) => lab.lines.filter((l) => l.opts.session).length
const channelsOf = (lab: Lab) => lab.lines.filter((l) => !l.opts.session && !l.opts.control).length

/** Running, not a zombie waiting for a parent (this machine's init may be slow to reap). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

const shells = ['/bin/dash', '/bin/bash', '/bin/mksh'].filter((s) => existsSync(s))

describe('the session frame', () => {
  it('is a header line, the command text in counted lines, then the input as counted chunks', () => {
    expect(commandFrame('t0k', 7, 'cat', Buffer.from('a\nb')).toString()).toBe('t0k 7 c 1\ncat\nd 3\na\nbe\n')
    expect(commandFrame('t0k', 8, 'echo é\necho "\n"').toString()).toBe('t0k 8 n 3\necho é\necho "\n"\n')
    expect(commandFrame('t0k', 9, 'cat', 'streamed').toString()).toBe('t0k 9 c 1\ncat\n')
    expect(commandFrame('t0k', 10, 'cat', Buffer.alloc(0)).toString()).toBe('t0k 10 c 1\ncat\ne\n')
  })

  it('kills a tree by walking ppids from its root: the root with KILL, the rest with the signal', () => {
    const line = treeKill(42, 'SIGTERM')
    expect(line).toMatch(/^t=\$\(ps -A -o pid= -o ppid= \| awk -v r=42 /)
    expect(line).toMatch(/; kill -s KILL 42; kill -s TERM \$t 2>\/dev\/null$/)
  })
})

describe.each(shells)('the session shell under %s', (shell) => {
  it('runs the injection corpus as arguments, as stdin and as output, byte for byte, in one session', async () => {
    mkdirSync(MARKER_DIR, { recursive: true })
    const { $, lab, session } = sessionFor(shell)
    for (const s of corpus) {
      expect((await $`printf %s ${s}`).buffer().equals(Buffer.from(s))).toBe(true)
      expect((await $({ input: s })`cat`).buffer().equals(Buffer.from(s))).toBe(true)
    }
    expect(readdirSync(MARKER_DIR)).toEqual([])
    expect(sessionsOf(lab)).toBe(1)
    expect(channelsOf(lab)).toBe(0)
    session.close()
  }, 30_000)

  it('carries every byte value and 4 MiB of random bytes both ways', async () => {
    // zx decodes output as UTF-8, so bytes are checked on the streams the session gives zx.
    const { session } = sessionFor(shell)
    const roundTrip = async (input: Buffer | Readable) => {
      const started = await session.take('cat', input, {})!
      const out: Buffer[] = []
      started.stdout.on('data', (c: Buffer) => out.push(c))
      started.stderr.resume()
      expect(await started.exited).toEqual({ code: 0, signal: null })
      return Buffer.concat(out)
    }
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    expect((await roundTrip(all)).equals(all)).toBe(true)
    const big = randomBytes(4 * 2 ** 20)
    expect((await roundTrip(big)).equals(big)).toBe(true)
    // A stream is framed chunk by chunk as it comes.
    const chunks = Array.from({ length: 64 }, (_, i) => big.subarray(i * 65536, (i + 1) * 65536))
    expect((await roundTrip(Readable.from(chunks))).equals(big)).toBe(true)
    session.close()
  }, 60_000)

  it('keeps stdout, stderr and exit codes apart, and gives a command without input /dev/null', async () => {
    const { $, session } = sessionFor(shell)
    const r = await $`echo out; echo err >&2; exit 3`.nothrow()
    expect([r.stdout, r.stderr, r.exitCode]).toEqual(['out\n', 'err\n', 3])
    // Reading stdin without input ends at once instead of eating the session's frames.
    expect((await $`cat; echo after`).stdout).toBe('after\n')
    // A command that leaves the shell in any state cannot touch the next one.
    await $`cd /; exec 3>&-; exit 0`
    expect((await $`pwd`).stdout).not.toBe('')
    session.close()
  })

  it('survives commands that read all, some or none of 1 MiB of input', async () => {
    const { $, lab, session } = sessionFor(shell)
    const mib = Buffer.alloc(2 ** 20, 'x\n').toString()
    for (const reader of ['cat >/dev/null', 'read x', 'head -c1 >/dev/null', 'true']) {
      await $({ input: mib })`sh -c ${reader}`
      expect((await $`echo next`).stdout).toBe('next\n')
    }
    expect(sessionsOf(lab)).toBe(1)
    session.close()
  }, 30_000)

  it('is not fooled by a command that prints its own markers with the real token', async () => {
    const { $, lab, session } = sessionFor(shell)
    await $`true`
    // The token is in the loop's argv, which any command can read; hex output makes it harmless.
    const forged =
      await $`t=$(tr '\\0' '\\n' </proc/$PPID/cmdline | sed -n '/^ferry-session$/{n;p;}'); for f in "go 2" "end 2" "rc 2 0" "done 2" "go 3"; do echo "$t $f"; echo "$t $f" >&2; done; echo "[$t]"`
    const token = /^\[([0-9a-f]{16})\]$/m.exec(forged.stdout)?.[1]
    expect(token).toBeDefined()
    expect(forged.stdout).toContain(`${token} end 2\n`)
    expect(forged.stderr).toContain(`${token} done 2\n`)
    expect((await $`echo still`).stdout).toBe('still\n')
    expect(sessionsOf(lab)).toBe(1)
    session.close()
  })

  it('stops a command whose output passes the cap, and starts a new session for the next', async () => {
    const { $, lab, session } = sessionFor(shell, localExec(), 2 ** 20)
    const r = await $`dd if=/dev/zero bs=1048576 count=50 2>/dev/null`.nothrow()
    expect(r.exitCode).toBe(null)
    expect(r.stderr).toMatch(/more than 1 MiB of output/)
    expect((await $`echo fine`).stdout).toBe('fine\n')
    expect(sessionsOf(lab)).toBe(2)
    session.close()
  })

  it('reports a command that kills its own shell, its loop or its group, and carries on in a new session', async () => {
    const { $, lab, session } = sessionFor(shell)
    const wrapper = await $`kill -9 $PPID`.nothrow()
    expect(wrapper.exitCode).toBe(null)
    expect((await $`echo one`).stdout).toBe('one\n')
    const loop = await $`kill -9 $(ps -o pgid= -p $$)`.nothrow()
    expect(loop.exitCode).toBe(null)
    expect(loop.stderr).toMatch(/session shell on local ended before the command did/)
    expect((await $`echo two`).stdout).toBe('two\n')
    const group = await $`kill 0`.nothrow()
    expect(group.exitCode).toBe(null)
    expect((await $`echo three`).stdout).toBe('three\n')
    expect(sessionsOf(lab)).toBe(4)
    session.close()
  })

  it('kills a command at its timeout, leaves no process of it behind, and spares what an earlier command detached', async () => {
    const { $, lab, session } = sessionFor(shell)
    const detached = Number((await $`nohup sleep 30 >/dev/null 2>&1 & echo $!`).stdout.trim())
    // od writes a command's output when its buffer fills or the command ends, so the pid goes to a file.
    const file = `/tmp/ferry-session-test-${process.pid}-${shell.replace(/\W/g, '')}`
    const r = await $`sleep 31 & echo $! >${file}; wait`.timeout(300).nothrow()
    expect(r.signal).toBe('SIGTERM')
    const child = Number(readFileSync(file, 'utf8').trim())
    rmSync(file)
    await new Promise((done) => setTimeout(done, 100))
    expect(alive(child)).toBe(false)
    expect(alive(detached)).toBe(true)
    process.kill(detached)
    expect((await $`echo after`).stdout).toBe('after\n')
    expect(sessionsOf(lab)).toBe(2)
    session.close()
  })
})

describe('the session shell on an unusual host', () => {
  it('gives a login shell’s rc noise to the first command, as sshd would, and frames the rest', async () => {
    const { $, session } = sessionFor('/bin/sh', localExec('echo rc-out; echo rc-err >&2; '))
    const first = await $`echo first`
    expect(first.stdout).toBe('rc-out\nfirst\n')
    expect(first.stderr).toBe('rc-err\n')
    expect((await $`echo second`).stdout).toBe('second\n')
    session.close()
  })

  it('falls back to a channel per command where the loop cannot run (no od or dd)', async () => {
    const lab = localExec()
    const noTools: Executor = (line, opts) =>
      lab.execute(opts?.session ? `PATH=/nonexistent; export PATH; /bin/sh -c ${JSON.stringify(line)}` : line, opts)
    const { $ } = sessionFor('/bin/sh', { execute: noTools, lines: lab.lines })
    expect((await $`echo a`).stdout).toBe('a\n')
    expect((await $`echo b`).stdout).toBe('b\n')
    expect(sessionsOf(lab)).toBe(1)
    expect(channelsOf(lab)).toBe(2)
  })

  it('gives commands that find it busy channels of their own, never a queue', async () => {
    const { $, lab, session } = sessionFor('/bin/sh')
    const outs = await Promise.all(Array.from({ length: 20 }, (_, i) => $`echo ${i}`))
    expect(outs.map((o) => o.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`))
    expect(sessionsOf(lab)).toBe(1)
    expect(channelsOf(lab)).toBe(19)
    session.close()
  })

  it('never reads past its frame: two frames in one write both run', () => {
    const out = execFileSync('/bin/dash', ['-c', SESSION_SCRIPT, 'ferry-session', 'tok', '/bin/sh'], {
      input: Buffer.concat([commandFrame('tok', 1, 'echo one', Buffer.from('x')), commandFrame('tok', 2, 'echo two')]),
    }).toString()
    expect(out).toBe('tok go 1\n 6f 6e 65 0a\ntok end 1\ntok go 2\n 74 77 6f 0a\ntok end 2\n')
  })

  it('stops at a header that is not its own rather than run it', () => {
    const r = (() => {
      try {
        execFileSync('/bin/dash', ['-c', SESSION_SCRIPT, 'ferry-session', 'tok', '/bin/sh'], {
          input: 'other 1 n 4\necho',
          stdio: 'pipe',
        })
        return 0
      } catch (err) {
        return (err as { status: number }).status
      }
    })()
    expect(r).toBe(97)
  })
})
