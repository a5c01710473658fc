// The user and group steps: their probes run for real on this machine (Debian, as root: root's
// account, its shadow entry, the groups it is in), what they refuse before anything is contacted,
// and where the password hash may and may not go.

import { describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { linux } from '../../src/platform/linux.ts'
import { openbsd } from '../../src/platform/openbsd.ts'
import { recordingShell } from '../../src/shell/recording.ts'
import { group } from '../../src/steps/group.ts'
import { user } from '../../src/steps/user.ts'
import type { CheckContext, ProbeResult, StepContext } from '../../src/steps/step.ts'
import { HASH } from '../golden/users.ts'

const shells = ['/bin/sh', '/bin/dash'].filter((s) => existsSync(s))
const sh = (shell: string, script: string): ProbeResult => {
  const r = spawnSync(shell, ['-c', script], { encoding: 'utf8' })
  return { stdout: r.stdout, code: r.status ?? 1 }
}
const ctx = (platform: CheckContext['platform'] = linux, pending: string[] = []): CheckContext => ({
  host: {} as CheckContext['host'],
  platform,
  pending: new Set(pending),
})
const root = process.getuid?.() === 0

describe.each(shells)('probes on this machine through %s', (shell) => {
  it('user: root is seen as getent shows it, its groups asked about are found, a made-up one is not', () => {
    const step = user('root', { name: 'root', uid: 0, groups: ['root', 'ferry-no-such-group'] })
    const out = sh(shell, step.probe(linux))
    const [, , uid, gid, comment, home, sh_] = execFileSync('getent', ['passwd', 'root'], { encoding: 'utf8' })
      .trim()
      .split(':')
    expect(out.stdout).toContain(`exists=1\nuid=${uid}\ngid=${gid}\ncomment=${comment}\nhome=${home}\nshell=${sh_}\n`)
    expect(out.stdout).toContain('uid_user=root\n')
    expect(out.stdout).toContain('group=root\n')
    expect(out.stdout).toContain('has=root\n')
    expect(out.stdout).not.toContain('has=ferry-no-such-group')
    expect(() => step.check(out, ctx())).toThrow(/^group ferry-no-such-group does not exist/)
  })

  it('user: a made-up user does not exist, and would be made; its home is looked at', () => {
    const step = user('nobody here', { name: 'ferry-no-such-user', home: '/tmp' })
    const out = sh(shell, step.probe(linux))
    expect(out.stdout).toBe('home_dir=1\n')
    expect(step.record(out, ctx())).toEqual({ existed: false, madeHome: false })
    expect(step.check(out, ctx()).map((c) => c.summary)).toEqual(['create user ferry-no-such-user: home /tmp'])
  })

  it.skipIf(!root)("user: the hash's SHA-256 is what the probe prints, and the hash itself is not", () => {
    const step = user('root', { name: 'root', passwordHash: HASH })
    const out = sh(shell, step.probe(linux))
    const current = execFileSync('getent', ['shadow', 'root'], { encoding: 'utf8' }).split(':')[1]!
    expect(out.stdout).toContain(`hash=${createHash('sha256').update(current).digest('hex')}  -\n`)
    if (current.length > 2) expect(out.stdout).not.toContain(current)
  })

  it.skipIf(!root)(
    'user: asked, the probe says whether the hash is a locked one (* or !), and prints nothing of it',
    () => {
      const out = sh(shell, linux.users.probeUser('root', { home: '/root', groups: [], hash: false, locked: true }))
      const current = execFileSync('getent', ['shadow', 'root'], { encoding: 'utf8' }).split(':')[1]!
      expect(out.stdout.includes('locked=1\n')).toBe(/^[*!]/.test(current))
      expect(out.stdout).not.toContain('hash=')
    },
  )

  it("group: root exists with gid 0, and is root's primary group", () => {
    const out = sh(shell, group('g', { name: 'root', state: 'absent' }).probe(linux))
    expect(out.stdout).toMatch(/^exists=1\ngid=0\n/)
    expect(out.stdout).toContain('primary=root\n')
    expect(() => group('g', { name: 'root', state: 'absent' }).check(out, ctx())).toThrow(
      /^group root is the primary group of root/,
    )
  })

  it('group: gid 0 is taken by root, so another group may not have it', () => {
    const step = group('g', { name: 'ferry-no-such-group', gid: 0 })
    const out = sh(shell, step.probe(linux))
    expect(out.stdout).toBe('gid_group=root\n')
    expect(() => step.check(out, ctx())).toThrow(/^gid 0 belongs to group root$/)
  })
})

describe('refused before anything is contacted', () => {
  it.each([
    [{ name: 'bad name' }, /not a user name/],
    [{ name: '1abc' }, /not a user name/],
    [{ name: 'a', uid: -1 }, /uid must be a whole number/],
    [{ name: 'a', groups: ['x;y'] }, /not a group name: "x;y"/],
    [{ name: 'a', comment: 'a:b' }, /no colon/],
    [{ name: 'a', shell: 'bash' }, /shell must be an absolute path/],
    [{ name: 'a', append: true }, /append needs groups/],
    [{ name: 'a', state: 'absent' as const, shell: '/bin/sh' }, /to be absent takes no shell/],
  ])('user %o', (opts, error) => {
    expect(() => user('u', opts)).toThrow(error)
  })

  it('a password in the clear, where a hash belongs, is refused without being shown', () => {
    let message = ''
    try {
      user('u', { name: 'a', passwordHash: 'hunter2 secret' })
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toMatch(/passwordHash is not a crypt\(3\) hash/)
    expect(message).not.toContain('hunter2')
  })

  it.each([
    [{ name: 'a b' }, /not a group name/],
    [{ name: 'a', gid: 1.5 }, /gid must be a whole number/],
    [{ name: 'a', gid: 5, state: 'absent' as const }, /to be absent has no gid/],
  ])('group %o', (opts, error) => {
    expect(() => group('g', opts)).toThrow(error)
  })
})

describe('the password hash', () => {
  const probe = { stdout: 'has=alice\n', code: 0 }
  const existing = {
    stdout: `exists=1\nuid=5\ngid=5\ngroup=alice\nhome=/home/alice\nshell=/bin/sh\nhas=alice\nhash=${'0'.repeat(64)}  -\n`,
    code: 0,
  }

  async function applied(p: ProbeResult) {
    const step = user('alice', { name: 'alice', group: 'alice', passwordHash: HASH })
    const sent: { cmd: string; input: string }[] = []
    const $ = recordingShell(
      () => ({ stdout: '', code: 0 }),
      (cmd, input) => sent.push({ cmd, input }),
    )
    const changes = step.check(p, ctx())
    const record = step.record(p, ctx())
    await step.apply({ $, platform: linux } as unknown as StepContext, changes, record)
    return { changes, record, sent, revert: step.revert!(record, linux), kept: step.kept!(record) }
  }

  it.each([
    ['a new user', probe],
    ['a user with another password', existing],
  ])('%s: it goes on stdin only, never in a command, a change or the undo record', async (_, p) => {
    const { changes, record, sent, revert, kept } = await applied(p)
    expect(sent.filter((s) => s.input.includes(HASH)).map((s) => s.cmd)).toEqual([
      "{ printf '%s:' alice && cat; } | chpasswd -e",
    ])
    const everything = JSON.stringify({ changes, record, commands: sent.map((s) => s.cmd), revert, kept })
    expect(everything).not.toContain(HASH)
    expect(everything).not.toContain(HASH.split('$')[3]) // not even the digest part alone
  })

  it('a change shows no part of it, only that it changes', async () => {
    const { changes } = await applied(existing)
    expect(changes.map((c) => c.summary)).toEqual(['password of alice: changed'])
    expect(changes.every((c) => c.diff === undefined)).toBe(true)
  })

  it('OpenBSD: refused where it would change (usermod -p takes it in argv), compared where it is already right', () => {
    const step = user('alice', { name: 'alice', passwordHash: HASH })
    expect(() => step.check(existing, ctx(openbsd))).toThrow(/only as an argument \(usermod -p\)/)
    const same = {
      ...existing,
      stdout: existing.stdout.replace('0'.repeat(64), createHash('sha256').update(HASH).digest('hex')),
    }
    expect(step.check(same, ctx(openbsd))).toEqual([])
  })

  it('a group made by an earlier step may be joined; one nothing makes may not', () => {
    const step = user('alice', { name: 'alice', groups: ['ops'] })
    const bare = { stdout: '', code: 0 }
    expect(() => step.check(bare, ctx())).toThrow(/^group ops does not exist/)
    expect(step.check(bare, ctx(linux, ['group:ops'])).map((c) => c.summary)).toEqual([
      'create user alice: groups ops, home /home/alice (created)',
    ])
  })
})
