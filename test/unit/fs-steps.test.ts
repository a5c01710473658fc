// file's parents and `absent`, directory and link, run for real on this machine in a scratch
// directory: each step's probe through sh, its check and record, then its apply and undo through
// a $ that runs what the step sends (a recording shell that answers by running it). Root only,
// as the owners and the "where nobody else can write" rule need it. The lab runs them end to end
// (test/lab/fs.test.ts); the golden cases pin the exact commands per OS.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { file } from '../../src/steps/file.ts'
import { directory } from '../../src/steps/directory.ts'
import { link } from '../../src/steps/link.ts'
import { line } from '../../src/steps/line.ts'
import { affects } from '../../src/engine/apply.ts'
import { makeParents } from '../../src/platform/common.ts'
import { linux } from '../../src/platform/linux.ts'
import { recordingShell } from '../../src/shell/recording.ts'
import type { Change, CheckContext, ProbeResult, Step, StepContext } from '../../src/steps/step.ts'

const NOBODY = 65534
const asRoot = process.getuid?.() === 0

const sh = (cmd: string, input = ''): ProbeResult & { stderr: string } => {
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', input })
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? 1 }
}

const ctxOf = (pending: string[] = []): CheckContext => ({
  host: {} as CheckContext['host'],
  platform: linux,
  pending: new Set(pending),
})

/** A $ that runs each command for real; what it sent, in order. */
function liveShell(): { ctx: StepContext; sent: string[] } {
  const sent: string[] = []
  const $ = recordingShell(
    (cmd, input) => sh(cmd, input),
    (cmd) => void sent.push(cmd),
  )
  return { ctx: { $, platform: linux } as unknown as StepContext, sent }
}

let root = ''
let backups = ''
let taken = 0

/** The step as the engine runs it: probe, check, record (its backups kept in the scratch area), apply. */
async function apply<R>(step: Step<R>, pending: string[] = []) {
  const probe = sh(step.probe(linux))
  const changes: Change[] = step.check(probe, ctxOf(pending))
  const record = step.record(probe, ctxOf()) as R & { backup?: string }
  // A directory per backup, as on a host: the last restore out removes it.
  if (typeof record.backup === 'string')
    record.backup = join(backups, `${++taken}`, record.backup.endsWith('.tar') ? 'b.tar' : 'b')
  const { ctx } = liveShell()
  if (changes.length) await step.apply(ctx, changes, record)
  return {
    changes: changes.map((c) => c.summary),
    record,
    undo: () => step.undo(ctx, record),
    again: () => step.check(sh(step.probe(linux)), ctxOf()).map((c) => c.summary),
  }
}

const plan =
  (step: Step, pending: string[] = []) =>
  () =>
    step.check(sh(step.probe(linux)), ctxOf(pending))
const modeOwner = (p: string) => [statSync(p).mode & 0o7777, statSync(p).uid, statSync(p).gid]

describe.skipIf(!asRoot)('file, directory and link for real', () => {
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ferry-fs-'))
    chmodSync(root, 0o755)
    backups = mkdtempSync(join(tmpdir(), 'ferry-fs-backups-'))
  })
  afterEach(() => {
    rmSync(root, { recursive: true, force: true })
    rmSync(backups, { recursive: true, force: true })
  })

  describe('file', () => {
    it('makes missing parents 0755 and says so in its plan; undo removes the file, then the parents it made', async () => {
      const path = join(root, 'ceo/conf.d/a.conf')
      const r = await apply(file('a', { path, content: 'x\n' }))
      expect(r.changes).toEqual([
        `create directory ${root}/ceo (mode 0755)`,
        `create directory ${root}/ceo/conf.d (mode 0755)`,
        `create ${path} (mode 0644)`,
      ])
      expect(r.record).toMatchObject({ existed: false, created: [`${root}/ceo`, `${root}/ceo/conf.d`] })
      expect(readFileSync(path, 'utf8')).toBe('x\n')
      expect(modeOwner(`${root}/ceo`)).toEqual([0o755, 0, 0])
      expect(modeOwner(`${root}/ceo/conf.d`)).toEqual([0o755, 0, 0])
      expect(r.again()).toEqual([])
      await r.undo()
      expect(readdirSync(root)).toEqual([])
    })

    it('leaves a parent it made that holds something else now, and parents that were there', async () => {
      mkdirSync(join(root, 'etc'))
      const path = join(root, 'etc/ceo/a.conf')
      const r = await apply(file('a', { path, content: 'x\n' }))
      writeFileSync(join(root, 'etc/ceo/other'), 'mine\n')
      await r.undo()
      expect(existsSync(path)).toBe(false)
      expect(readdirSync(join(root, 'etc/ceo'))).toEqual(['other'])
    })

    it('dirMode and dirOwner for the one level that may belong to someone else', async () => {
      const path = join(root, 'app/a.conf')
      const r = await apply(file('a', { path, content: 'x\n', dirMode: 0o750, dirOwner: 'nobody:nogroup' }))
      expect(r.changes[0]).toBe(`create directory ${root}/app (mode 0750, owner nobody:nogroup)`)
      expect(modeOwner(`${root}/app`)).toEqual([0o750, NOBODY, NOBODY])
      expect(r.again()).toEqual([])
    })

    it('refuses to make parents under a directory someone else owns, or may write, and ones that would be', () => {
      const theirs = join(root, 'home')
      mkdirSync(theirs)
      chownSync(theirs, NOBODY, NOBODY)
      expect(plan(file('a', { path: `${theirs}/new/a.conf`, content: '' }))).toThrow(
        `ferry makes directories only where no other user can write, and ${theirs} belongs to uid ${NOBODY}: they could put a link in place of ${theirs}/new and steer what ferry writes below it (make ${theirs}/new yourself)`,
      )
      const shared = join(root, 'shared')
      mkdirSync(shared)
      chmodSync(shared, 0o1777)
      expect(plan(file('a', { path: `${shared}/new/a.conf`, content: '' }))).toThrow(/may be written by others/)
      // Two levels, the upper one nobody's: nobody could swap the lower one.
      expect(plan(file('a', { path: `${root}/a/b/c.conf`, content: '', dirOwner: 'nobody' }))).toThrow(
        `${root}/a would be made writable by another user (dirOwner nobody, dirMode 0755)`,
      )
      expect(plan(file('a', { path: `${root}/a/b/c.conf`, content: '', dirMode: 0o775 }))).toThrow(
        /would be made writable by another user/,
      )
      expect(
        plan(file('a', { path: `${root}/a/b/c.conf`, content: '', dirOwner: 'root:nogroup', dirMode: 0o750 }))(),
      ).toHaveLength(3)
      writeFileSync(join(root, 'plain'), '')
      expect(plan(file('a', { path: `${root}/plain/x/a.conf`, content: '' }))).toThrow(
        `${root}/plain is in the way of a directory ferry would make: it is not a directory`,
      )
    })

    it('a user or group the host lacks fails the plan, unless an earlier step makes it', () => {
      const path = join(root, 'a.conf')
      expect(plan(file('a', { path, content: '', owner: 'ferry-no-such-user' }))).toThrow(
        'there is no user ferry-no-such-user on this host',
      )
      expect(plan(file('a', { path, content: '', owner: 'nobody:ferry-no-such-group' }))).toThrow(
        'there is no group ferry-no-such-group on this host',
      )
      expect(plan(file('a', { path: `${root}/d/a.conf`, content: '', dirOwner: 'ferry-no-such-user' }))).toThrow(
        'there is no user ferry-no-such-user on this host',
      )
      expect(
        plan(file('a', { path, content: '', owner: 'ferry-no-such-user' }), ['user:ferry-no-such-user'])(),
      ).toHaveLength(1)
      expect(plan(file('a', { path, content: '', owner: '4242:4242' }))()).toHaveLength(1)
    })

    it('absent: removes the file, kept for undo, which puts it back with its mode and owner', async () => {
      const path = join(root, 'old.conf')
      writeFileSync(path, 'secret=1\n', { mode: 0o640 })
      chownSync(path, NOBODY, NOBODY)
      const step = file('old', { path, state: 'absent' })
      // No diff: what goes may be a secret that no mask names.
      expect(plan(step)()).toEqual([{ summary: `remove ${path} (1 line; kept in /var/backups/ferry)` }])
      const r = await apply(step)
      expect(existsSync(path)).toBe(false)
      expect(readFileSync(r.record.backup, 'utf8')).toBe('secret=1\n')
      expect(r.again()).toEqual([])
      await r.undo()
      expect(readFileSync(path, 'utf8')).toBe('secret=1\n')
      expect(modeOwner(path)).toEqual([0o640, NOBODY, NOBODY])
    })

    it('a directory where the file should be fails the plan', () => {
      mkdirSync(join(root, 'd'))
      expect(plan(file('d', { path: join(root, 'd'), content: '' }))).toThrow(`${root}/d is a directory`)
    })

    it('two files in one new directory: the second plans no directory, and undoing both leaves nothing', async () => {
      const a = file('a', { path: `${root}/n/a.conf`, content: 'a\n' })
      const b = file('b', { path: `${root}/n/b.conf`, content: 'b\n' })
      // Planned together: b sees that a makes the directory.
      expect(plan(b, a.touches)().map((c) => c.summary)).toEqual([`create ${root}/n/b.conf (mode 0644)`])
      // Applied in order, each on the probe taken before a ran (b is not stale for a).
      const pa = sh(a.probe(linux))
      const pb = sh(b.probe(linux))
      const { ctx } = liveShell()
      const [ra, rb] = [a.record(pa, ctxOf()), b.record(pb, ctxOf())]
      await a.apply(ctx, a.check(pa, ctxOf()), ra)
      await b.apply(ctx, b.check(pb, ctxOf()), rb)
      expect(readdirSync(`${root}/n`).sort()).toEqual(['a.conf', 'b.conf'])
      await b.undo(ctx, rb)
      await a.undo(ctx, ra)
      expect(readdirSync(root)).toEqual([])
    })

    it('a parent made since the plan by someone else (an earlier step, another owner): nothing made inside it', async () => {
      const step = file('a', { path: `${root}/x/y/a.conf`, content: 'x\n' })
      const probe = sh(step.probe(linux))
      const changes = step.check(probe, ctxOf())
      expect(changes).toHaveLength(3)
      // Planned with x and y missing; x then made, but another user's.
      mkdirSync(join(root, 'x'))
      chownSync(join(root, 'x'), NOBODY, NOBODY)
      const { ctx } = liveShell()
      await expect(step.apply(ctx, changes, step.record(probe, ctxOf()))).rejects.toThrow()
      expect(readdirSync(join(root, 'x'))).toEqual([])
      // Root's again, but open to its group: refused as well.
      chownSync(join(root, 'x'), 0, 0)
      chmodSync(join(root, 'x'), 0o775)
      await expect(step.apply(ctx, changes, step.record(probe, ctxOf()))).rejects.toThrow()
      expect(readdirSync(join(root, 'x'))).toEqual([])
      chmodSync(join(root, 'x'), 0o755)
      await step.apply(ctx, changes, step.record(probe, ctxOf()))
      expect(readFileSync(`${root}/x/y/a.conf`, 'utf8')).toBe('x\n')
    })
  })

  describe('parents, owners and set-id bits', () => {
    it("a parent an earlier step makes (a home's .ssh) is left to it: planned, made once, not undone twice", async () => {
      const home = join(root, 'home')
      mkdirSync(home)
      chownSync(home, NOBODY, NOBODY)
      const ssh = directory('ssh', { path: `${home}/.ssh`, owner: 'nobody', mode: 0o700 })
      const keys = file('keys', { path: `${home}/.ssh/authorized_keys`, content: 'k\n' })
      // The home is nobody's, but ferry makes no directory in it: the directory step does, safely.
      expect(plan(keys, ssh.touches)().map((c) => c.summary)).toEqual([
        `create ${home}/.ssh/authorized_keys (mode 0644)`,
      ])
      // So the engine probes each of them again once the directory step has run.
      for (const later of [
        keys,
        link('l', { path: `${home}/.ssh/l`, target: '/etc/passwd' }),
        line('l', { path: `${home}/.ssh/config`, line: 'x' }),
      ])
        expect(affects(ssh, later), later.kind).toBe(true)
      const made = await apply(ssh)
      const r = await apply(keys)
      expect(r.record.created).toBeUndefined()
      await r.undo()
      expect(readdirSync(`${home}/.ssh`)).toEqual([])
      await made.undo()
      expect(readdirSync(home)).toEqual([])
    })

    it('an owner given as :group or by numbers is in sync when it matches, and set when not', async () => {
      const path = join(root, 'a.conf')
      writeFileSync(path, 'x\n', { mode: 0o644 })
      chownSync(path, NOBODY, NOBODY)
      for (const owner of [':nogroup', `${NOBODY}`, `:${NOBODY}`, `${NOBODY}:${NOBODY}`, 'nobody', 'nobody:nogroup'])
        expect(plan(file('a', { path, content: 'x\n', owner }))(), owner).toEqual([])
      const r = await apply(file('a', { path, content: 'x\n', owner: ':0' }))
      expect(r.changes).toEqual([`owner of ${path}: nobody:nogroup → :0`])
      expect(modeOwner(path)).toEqual([0o644, NOBODY, 0])
      expect(r.again()).toEqual([])
    })

    it('setgid directories (GNU chmod keeps the bit under a four-digit mode): one made in one, and one set back, settle', async () => {
      const sg = join(root, 'sg')
      mkdirSync(sg)
      chmodSync(sg, 0o2755)
      // Made in a setgid directory, which gives the private directory and the new one the bit.
      await apply(file('b', { path: `${sg}/b.conf`, content: 'b\n' }))
      expect(readFileSync(`${sg}/b.conf`, 'utf8')).toBe('b\n')
      const sub = await apply(directory('sub', { path: `${sg}/sub`, mode: 0o750 }))
      expect(modeOwner(`${sg}/sub`)[0]).toBe(0o750)
      expect(sub.again()).toEqual([])
      const parents = await apply(file('a', { path: `${sg}/new/a.conf`, content: 'x\n' }))
      expect(modeOwner(`${sg}/new`)[0]).toBe(0o755)
      expect(readFileSync(`${sg}/new/a.conf`, 'utf8')).toBe('x\n')
      expect(parents.again()).toEqual([])
      // An existing one set back to a mode without it.
      const r = await apply(directory('sg', { path: sg, mode: 0o755 }))
      expect(r.changes).toEqual([`mode of ${sg}: 02755 → 0755`])
      expect(modeOwner(sg)[0]).toBe(0o755)
      expect(r.again()).toEqual([])
      await r.undo()
      expect(modeOwner(sg)[0]).toBe(0o2755)
    })

    it('a parent that cannot be made is the one the failure names', () => {
      // Planned with a and a/b missing; then root's scratch directory is opened to its group.
      chmodSync(root, 0o775)
      const out = sh(makeParents([`${root}/a`, `${root}/a/b`], { mode: 0o755 }))
      expect(out.code).toBe(1)
      expect(out.stderr).toBe(`ferry: ${root}/a was not made: a directory above it may be written by another user\n`)
    })
  })

  describe('directory', () => {
    it('made with its parents, its owner and mode; a mode drift set back; undo as it was', async () => {
      const path = join(root, 'srv/data')
      const step = directory('data', { path, owner: 'nobody', group: 'nogroup', mode: 0o2750 })
      const r = await apply(step)
      expect(r.changes).toEqual([
        `create directory ${root}/srv (mode 0755)`,
        `create directory ${path} (mode 02750, owner nobody:nogroup)`,
      ])
      expect(modeOwner(path)).toEqual([0o2750, NOBODY, NOBODY])
      expect(r.again()).toEqual([])
      chmodSync(path, 0o2777)
      const fix = await apply(step)
      expect(fix.changes).toEqual([`mode of ${path}: 02777 → 02750`])
      expect(modeOwner(path)).toEqual([0o2750, NOBODY, NOBODY])
      await fix.undo()
      expect(modeOwner(path)).toEqual([0o2777, NOBODY, NOBODY])
      await r.undo()
      expect(readdirSync(root)).toEqual([])
    })

    it("in a directory another user owns (a home's .ssh): made safely, by name and numbers alike", async () => {
      const home = join(root, 'home')
      mkdirSync(home)
      chownSync(home, NOBODY, NOBODY)
      const r = await apply(directory('ssh', { path: `${home}/.ssh`, owner: `${NOBODY}:${NOBODY}`, mode: 0o700 }))
      expect(modeOwner(`${home}/.ssh`)).toEqual([0o700, NOBODY, NOBODY])
      expect(r.again()).toEqual([])
      expect(readdirSync(home)).toEqual(['.ssh'])
      await r.undo()
      expect(readdirSync(home)).toEqual([])
    })

    it('absent: an empty one goes and comes back; one with content only with recurse, and comes back whole', async () => {
      const path = join(root, 'old')
      mkdirSync(path, { mode: 0o750 })
      chownSync(path, NOBODY, 0)
      const empty = await apply(directory('old', { path, state: 'absent' }))
      expect(empty.changes).toEqual([`remove directory ${path}`])
      expect(existsSync(path)).toBe(false)
      await empty.undo()
      expect(modeOwner(path)).toEqual([0o750, NOBODY, 0])

      writeFileSync(join(path, 'f'), 'data\n', { mode: 0o600 })
      chownSync(join(path, 'f'), NOBODY, NOBODY)
      mkdirSync(join(path, 'sub'))
      symlinkSync('/etc/passwd', join(path, 'sub/l'))
      expect(plan(directory('old', { path, state: 'absent' }))).toThrow(
        `${path} is not empty: ferry removes it with what it holds only with recurse: true (after a tar of it in /var/backups/ferry)`,
      )
      const full = await apply(directory('old', { path, state: 'absent', recurse: true }))
      expect(full.changes).toEqual([`remove directory ${path} and all it holds (kept in /var/backups/ferry for undo)`])
      expect(existsSync(path)).toBe(false)
      expect(statSync(full.record.backup!).mode & 0o777).toBe(0o600)
      expect(readdirSync(root)).toEqual([])
      await full.undo()
      expect(modeOwner(path)).toEqual([0o750, NOBODY, 0])
      expect([readFileSync(join(path, 'f'), 'utf8'), ...modeOwner(join(path, 'f'))]).toEqual([
        'data\n',
        0o600,
        NOBODY,
        NOBODY,
      ])
      expect(readlinkSync(join(path, 'sub/l'))).toBe('/etc/passwd')
      expect(existsSync(full.record.backup!)).toBe(false)
    })

    it('absent with recurse: undo replaces an empty directory made since, keeps the tar when one with content is there', async () => {
      const path = join(root, 'old')
      mkdirSync(path)
      writeFileSync(join(path, 'f'), 'data\n')
      const step = directory('old', { path, state: 'absent', recurse: true })
      const r = await apply(step)
      // An empty one made since (as undoing a later run that removed it would): replaced.
      mkdirSync(path)
      await r.undo()
      expect(readFileSync(join(path, 'f'), 'utf8')).toBe('data\n')
      expect(existsSync(r.record.backup!)).toBe(false)

      const again = await apply(step)
      mkdirSync(path)
      writeFileSync(join(path, 'new'), '')
      // (This $ carries no stderr: mv's "Directory not empty" reaches only a real run.)
      await expect(again.undo()).rejects.toThrow()
      expect(readdirSync(path)).toEqual(['new'])
      expect(existsSync(again.record.backup!)).toBe(true)
    })

    it('absent with recurse: an apply that failed leaves no tar, and its undo does nothing', async () => {
      const path = join(root, 'old')
      mkdirSync(path)
      writeFileSync(join(path, 'f'), 'data\n')
      const step = directory('old', { path, state: 'absent', recurse: true })
      const probe = sh(step.probe(linux))
      // The tar cannot be written: its directory is a file.
      writeFileSync(join(backups, 'x'), '')
      const record = { ...step.record(probe, ctxOf()), backup: join(backups, 'x', 'b.tar') }
      const { ctx } = liveShell()
      await expect(step.apply(ctx, step.check(probe, ctxOf()), record)).rejects.toThrow()
      expect(readFileSync(join(path, 'f'), 'utf8')).toBe('data\n')
      await step.undo(ctx, record)
      expect(readdirSync(path)).toEqual(['f'])
      expect(readdirSync(root)).toEqual(['old'])
    })

    it('absent with recurse: undo after the tar was pruned says so, rather than doing nothing', async () => {
      const path = join(root, 'old')
      mkdirSync(path)
      writeFileSync(join(path, 'f'), 'data\n')
      const r = await apply(directory('old', { path, state: 'absent', recurse: true }))
      // A later run's kept pruned it: gone, with a newer one beside it.
      rmSync(r.record.backup!)
      writeFileSync(join(r.record.backup!, '../c.tar'), '')
      await expect(r.undo()).rejects.toThrow(
        `${path} was not restored: its backup from this run was pruned, since later runs changed it (the host keeps the newest 3)`,
      )
    })

    it('a link or a file at its path fails the plan', () => {
      symlinkSync(root, join(root, 'l'))
      writeFileSync(join(root, 'f'), '')
      expect(plan(directory('l', { path: join(root, 'l') }))).toThrow(/is a symbolic link/)
      expect(plan(directory('f', { path: join(root, 'f') }))).toThrow(`${root}/f exists and is not a directory`)
    })
  })

  describe('link', () => {
    it('made with its parents; retargeted; each undo puts back what was', async () => {
      mkdirSync(join(root, 'avail'))
      writeFileSync(join(root, 'avail/site'), '')
      writeFileSync(join(root, 'avail/other'), '')
      const path = join(root, 'enabled/site')
      const r = await apply(link('site', { path, target: '../avail/site' }))
      expect(r.changes).toEqual([`create directory ${root}/enabled (mode 0755)`, `create link ${path} → ../avail/site`])
      expect(readlinkSync(path)).toBe('../avail/site')
      expect(r.again()).toEqual([])
      const re = await apply(link('site', { path, target: '../avail/other' }))
      expect(re.changes).toEqual([`link ${path}: → ../avail/site becomes → ../avail/other`])
      expect(readlinkSync(path)).toBe('../avail/other')
      await re.undo()
      expect(readlinkSync(path)).toBe('../avail/site')
      await r.undo()
      expect(readdirSync(root)).toEqual(['avail'])
    })

    it('a file in the way: refused without force; with it kept, and put back by undo with its mode and owner', async () => {
      const path = join(root, 'localtime')
      writeFileSync(path, 'TZif\n', { mode: 0o640 })
      chownSync(path, NOBODY, NOBODY)
      const step = (force?: boolean) => link('tz', { path, target: '/etc/passwd', force })
      expect(plan(step())).toThrow(
        `${path} is a regular file: ferry replaces it by a link only with force: true (and keeps it for undo)`,
      )
      const r = await apply(step(true))
      expect(lstatSync(path).isSymbolicLink()).toBe(true)
      expect(readFileSync(r.record.backup, 'utf8')).toBe('TZif\n')
      await r.undo()
      expect(lstatSync(path).isSymbolicLink()).toBe(false)
      expect([readFileSync(path, 'utf8'), ...modeOwner(path)]).toEqual(['TZif\n', 0o640, NOBODY, NOBODY])
    })

    it('a file it replaced whose backup was pruned: undo says so and leaves the link, rather than leave nothing', async () => {
      const path = join(root, 'localtime')
      writeFileSync(path, 'TZif\n')
      const r = await apply(link('tz', { path, target: '/etc/passwd', force: true }))
      rmSync(r.record.backup)
      writeFileSync(join(r.record.backup, '../c'), '')
      await expect(r.undo()).rejects.toThrow(`${path} was not restored: its backup from this run was pruned`)
      expect(readlinkSync(path)).toBe('/etc/passwd')
    })

    it('a target that does not exist: refused, unless forced or an earlier step makes it; a directory in the way always', async () => {
      const path = join(root, 'l')
      const missing = join(root, 'nowhere')
      expect(plan(link('l', { path, target: missing }))).toThrow(
        `${path} would point to ${missing}, which does not exist (force: true makes a link that dangles until it does)`,
      )
      expect(plan(link('l', { path, target: 'nowhere' }), [`file:${missing}`])()).toHaveLength(1)
      const r = await apply(link('l', { path, target: missing, force: true }))
      expect(readlinkSync(path)).toBe(missing)
      await r.undo()
      expect(readdirSync(root)).toEqual([])
      mkdirSync(path)
      expect(plan(link('l', { path, target: '/etc', force: true }))).toThrow(
        `${path} is a directory: ferry does not replace a directory by a link`,
      )
    })
  })
})
