// file's parents and `absent`, directory and link on Linux lab hosts, through the real CLI
// (issue 18). First the report behind the issue, as its acceptance test: a runbook outside the
// repository that writes /etc/newdir/a.conf on bare hosts. Then one step of
// test/fixtures/runbooks/fs-linux.ts per test, each making the moves of test/lab/steps.test.ts:
//
//   1. snapshot what the step may touch, read from outside (nsenter, not ssh or a probe);
//   2. `ferry run` changes the host, reporting exactly those changes;
//   3. a second run changes nothing;
//   4. drift by hand, then `--dry-run` exits 2 with exactly that drift and changes nothing;
//   5. a run repairs it, and `ferry rollback`, newest run first, puts back the snapshot exactly.
//
// Each test puts its host back in `finally`, whatever failed.
import { expect } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { labIt as it, runbookRunner, sh, tempDir, type RunOut, type StepReport } from './helpers.ts'

const RUNBOOK = 'test/fixtures/runbooks/fs-linux.ts'

/** The run exited `code` and each host's one step reported exactly `step`; a dry run's commands hold each of `sends`. */
function expectStep(r: RunOut, code: number, step: StepReport, sends: string[] = []): void {
  expect(r.code, `${r.report.hosts.map((h) => h.error ?? '').join('\n')}\n${r.stderr}`).toBe(code)
  for (const host of r.report.hosts) {
    expect(host.steps).toHaveLength(1)
    const [{ commands, ...reported }] = host.steps as [StepReport]
    expect(reported).toEqual(step)
    expect(commands === undefined).toBe(sends.length === 0)
    for (const part of sends) expect(commands!.join('\n')).toContain(part)
  }
}

/** A second run: exit 0, nothing changed. */
function expectNoop(r: RunOut, name: string): void {
  expectStep(r, 0, { name, status: 'ok' })
  expect(r.report.summary).toMatchObject({ changed: 0, failed: 0 })
}

/** How many backups of PATH the host keeps in /var/backups/ferry. */
const backupsOf = (path: string) =>
  `ls /var/backups/ferry/${path.replaceAll('/', '%2F')} 2>/dev/null | wc -l | tr -d ' '`

it('a runbook outside the repository writes /etc/newdir/a.conf on bare hosts: the dry run lists the directory, the run makes it, a second run changes nothing, rollback removes both', async () => {
  const hosts = ['lab1', 'lab2']
  const dir = tempDir()
  const runbook = join(dir, 'newdir.ts')
  writeFileSync(
    runbook,
    `import { defineRunbook, file } from 'ferry'
export default defineRunbook({
  name: 'newdir',
  description: 'a.conf in a directory the hosts do not have',
  steps: () => [file('a.conf', { path: '/etc/newdir/a.conf', content: 'level=1\\n' })],
})
`,
  )
  const { run, rollback } = runbookRunner(runbook, hosts)
  const snapshot = (h: string) =>
    sh(h, "stat -c '%n %a %U:%G' /etc/newdir /etc/newdir/a.conf 2>&1; cat /etc/newdir/a.conf 2>/dev/null; true")
  const bare =
    "stat: cannot statx '/etc/newdir': No such file or directory\nstat: cannot statx '/etc/newdir/a.conf': No such file or directory\n"
  for (const h of hosts) expect(snapshot(h)).toBe(bare)
  try {
    const plan = [
      'create directory /etc/newdir (mode 0755)',
      '--- /dev/null\n+++ /etc/newdir/a.conf\n@@ -0,0 +1,1 @@\n+level=1\n',
    ].join('\n')
    expectStep(await run('--dry-run'), 2, { name: 'a.conf', status: 'changed', diff: plan })
    for (const h of hosts) expect(snapshot(h)).toBe(bare)

    const first = await run()
    expectStep(first, 0, { name: 'a.conf', status: 'changed', diff: plan })
    for (const h of hosts)
      expect(snapshot(h)).toBe('/etc/newdir 755 root:root\n/etc/newdir/a.conf 644 root:root\nlevel=1\n')

    expectNoop(await run(), 'a.conf')

    await rollback(first.report.runId)
    for (const h of hosts) expect(snapshot(h)).toBe(bare)
  } finally {
    for (const h of hosts) sh(h, 'rm -rf /etc/newdir')
  }
})

it('file absent: removes a file, kept for undo; the file made again by hand is found; rollback puts it back with its mode and owner', async () => {
  const h = 'lab1'
  const path = '/etc/ferry-fs-old.conf'
  const { run, rollback } = runbookRunner(RUNBOOK, h, { only: 'file-absent' })
  sh(h, `printf 'secret=1\\n' > ${path} && chmod 640 ${path} && chown nobody:nogroup ${path}`)
  const snapshot = () => sh(h, `stat -c '%a %U:%G' ${path} 2>/dev/null; cat ${path} 2>/dev/null; ${backupsOf(path)}`)
  const before = snapshot()
  expect(before).toBe('640 nobody:nogroup\nsecret=1\n0\n')
  try {
    // No diff of what goes: it may be a secret.
    const removal = `remove ${path} (1 line; kept in /var/backups/ferry)`
    const first = await run()
    expectStep(first, 0, { name: 'old conf', status: 'changed', diff: removal })
    expect(snapshot()).toBe('1\n') // gone, one backup kept
    expect(sh(h, `stat -c '%a %U' /var/backups/ferry/${path.replaceAll('/', '%2F')}/*`)).toBe('600 root\n')

    expectNoop(await run(), 'old conf')

    sh(h, `printf 'secret=2\\n' > ${path}`)
    const drifted = snapshot()
    expectStep(await run('--dry-run'), 2, { name: 'old conf', status: 'changed', diff: removal })
    expect(snapshot()).toBe(drifted)

    const repair = await run()
    expectStep(repair, 0, { name: 'old conf', status: 'changed', diff: removal })
    await rollback(repair.report.runId)
    expect(sh(h, `cat ${path}`)).toBe('secret=2\n')
    await rollback(first.report.runId)
    expect(snapshot()).toBe(before)
  } finally {
    sh(
      h,
      `rm -rf ${path} /var/backups/ferry/${path.replaceAll('/', '%2F')}; rmdir /var/backups/ferry 2>/dev/null; true`,
    )
  }
})

it('a file owned by a user the host lacks: the dry run fails on the host, naming the user, and so does a run, changing nothing', async () => {
  const h = 'lab2'
  const { run } = runbookRunner(RUNBOOK, h, { only: 'owner' })
  const snapshot = () => sh(h, 'ls -d /etc/ferry-fs 2>&1; true')
  const before = snapshot()
  expect(before).toBe("ls: cannot access '/etc/ferry-fs': No such file or directory\n")
  try {
    const dry = await run('--dry-run')
    expect(dry.code).toBe(1)
    expect(dry.report.hosts[0]).toMatchObject({
      status: 'failed',
      error: 'x.conf: there is no user ferry-no-such-user on this host',
    })
    const real = await run()
    expect(real.code).toBe(1)
    expect(real.report.hosts[0]).toMatchObject({
      status: 'failed',
      error: 'x.conf: there is no user ferry-no-such-user on this host',
    })
    expect(snapshot()).toBe(before)
  } finally {
    sh(h, 'rm -rf /etc/ferry-fs')
  }
})

it("directory: made with its parent, nobody's 0750; chmod and chown by hand found; rollback leaves no trace", async () => {
  const h = 'lab1'
  const { run, rollback } = runbookRunner(RUNBOOK, h, { only: 'directory' })
  const snapshot = () => sh(h, "stat -c '%n %a %U:%G' /srv /srv/ferry-fs /srv/ferry-fs/data 2>&1; true")
  const before = snapshot()
  expect(before).toBe(
    "/srv 755 root:root\nstat: cannot statx '/srv/ferry-fs': No such file or directory\nstat: cannot statx '/srv/ferry-fs/data': No such file or directory\n",
  )
  try {
    const made =
      'create directory /srv/ferry-fs (mode 0755)\ncreate directory /srv/ferry-fs/data (mode 0750, owner nobody:nogroup)'
    const first = await run()
    expectStep(first, 0, { name: 'data', status: 'changed', diff: made })
    const applied = '/srv 755 root:root\n/srv/ferry-fs 755 root:root\n/srv/ferry-fs/data 750 nobody:nogroup\n'
    expect(snapshot()).toBe(applied)
    expect(sh(h, 'ls -A /srv/ferry-fs')).toBe('data\n') // no private directory left beside it

    expectNoop(await run(), 'data')

    sh(h, 'chmod 777 /srv/ferry-fs/data && chown root /srv/ferry-fs/data')
    const drifted = snapshot()
    const plan = 'mode of /srv/ferry-fs/data: 0777 → 0750\nowner of /srv/ferry-fs/data: root:nogroup → nobody:nogroup'
    expectStep(await run('--dry-run'), 2, { name: 'data', status: 'changed', diff: plan }, [
      'chown nobody:nogroup . && chmod 00750 .',
    ])
    expect(snapshot()).toBe(drifted)

    const repair = await run()
    expectStep(repair, 0, { name: 'data', status: 'changed', diff: plan })
    expect(snapshot()).toBe(applied)

    await rollback(repair.report.runId)
    expect(snapshot()).toBe(drifted)
    await rollback(first.report.runId)
    expect(snapshot()).toBe(before)
  } finally {
    sh(h, 'rm -rf /srv/ferry-fs')
  }
})

it('directory absent with recurse: the tree goes into a 0600 tar; made again by hand, found; rollback restores it whole', async () => {
  const h = 'lab2'
  const path = '/etc/ferry-fs-tree'
  const { run, rollback } = runbookRunner(RUNBOOK, h, { only: 'directory-absent' })
  sh(
    h,
    [
      `mkdir -p ${path}/sub && chmod 750 ${path} && chgrp nogroup ${path} && chmod 700 ${path}/sub`,
      `printf 'a\\n' > ${path}/a && chmod 600 ${path}/a && chown nobody:nogroup ${path}/a`,
      `printf 'b\\n' > ${path}/sub/b && ln -s /etc/hostname ${path}/sub/l`,
    ].join(' && '),
  )
  // Every entry with its mode, owner and link target, each file's content, and the tars kept.
  const snapshot = () =>
    sh(
      h,
      `find ${path} -printf '%p %m %u:%g %l\\n' 2>/dev/null | sort; cat ${path}/a ${path}/sub/b 2>/dev/null; ${backupsOf(path)}`,
    )
  const before = snapshot()
  expect(before).toBe(
    `${path} 750 root:nogroup \n${path}/a 600 nobody:nogroup \n${path}/sub 700 root:root \n${path}/sub/b 644 root:root \n${path}/sub/l 777 root:root /etc/hostname\na\nb\n0\n`,
  )
  try {
    const first = await run()
    expectStep(first, 0, {
      name: 'old tree',
      status: 'changed',
      diff: `remove directory ${path} and all it holds (kept in /var/backups/ferry for undo)`,
    })
    expect(snapshot()).toBe('1\n')
    expect(sh(h, `stat -c '%a %U' /var/backups/ferry/${path.replaceAll('/', '%2F')}/*.tar`)).toBe('600 root\n')
    expect(sh(h, `ls -a /etc | grep -c '^\\.ferry\\.' || true`)).toBe('0\n') // no private directory left

    expectNoop(await run(), 'old tree')

    sh(h, `mkdir ${path}`)
    const drifted = snapshot()
    expectStep(await run('--dry-run'), 2, { name: 'old tree', status: 'changed', diff: `remove directory ${path}` }, [
      `rmdir ${path}`,
    ])
    expect(snapshot()).toBe(drifted)

    const repair = await run()
    expectStep(repair, 0, { name: 'old tree', status: 'changed', diff: `remove directory ${path}` })
    await rollback(repair.report.runId)
    expect(snapshot()).toBe(drifted) // the empty one made by hand
    // ...which the first run's undo replaces by the tree it removed.
    await rollback(first.report.runId)
    expect(snapshot()).toBe(before)
  } finally {
    sh(
      h,
      `rm -rf ${path} /var/backups/ferry/${path.replaceAll('/', '%2F')}; rmdir /var/backups/ferry 2>/dev/null; true`,
    )
  }
})

it('link: a site enabled into a directory made for it; pointed elsewhere by hand, found; rollback leaves no trace', async () => {
  const h = 'lab1'
  const top = '/etc/ferry-fs-sites'
  const path = `${top}/enabled/site`
  const { run, rollback } = runbookRunner(RUNBOOK, h, { only: 'link' })
  sh(
    h,
    `mkdir -p ${top}/available && printf 'site\\n' > ${top}/available/site && printf 'other\\n' > ${top}/available/other`,
  )
  const snapshot = () => sh(h, `find ${top} -printf '%p %m %u:%g %l\\n' | sort`)
  const before = snapshot()
  try {
    const first = await run()
    expectStep(first, 0, {
      name: 'site',
      status: 'changed',
      diff: `create directory ${top}/enabled (mode 0755)\ncreate link ${path} → ../available/site`,
    })
    expect(sh(h, `stat -c '%a %U:%G' ${top}/enabled; readlink ${path}; cat ${path}`)).toBe(
      '755 root:root\n../available/site\nsite\n',
    )

    expectNoop(await run(), 'site')

    sh(h, `ln -sfn ../available/other ${path}`)
    const drifted = snapshot()
    const plan = `link ${path}: → ../available/other becomes → ../available/site`
    expectStep(await run('--dry-run'), 2, { name: 'site', status: 'changed', diff: plan }, [
      `ln -s ../available/site "./$n" && mv -f "./$n" ..`,
    ])
    expect(snapshot()).toBe(drifted)

    const repair = await run()
    expectStep(repair, 0, { name: 'site', status: 'changed', diff: plan })
    expect(sh(h, `readlink ${path}`)).toBe('../available/site\n')

    await rollback(repair.report.runId)
    expect(snapshot()).toBe(drifted)
    await rollback(first.report.runId)
    expect(snapshot()).toBe(before)
  } finally {
    sh(h, `rm -rf ${top}`)
  }
})

it('link with force: a regular file replaced, kept for undo; a file put back by hand, found; rollback restores the file with its mode and owner', async () => {
  const h = 'lab2'
  const path = '/etc/ferry-fs-tz'
  const { run, rollback } = runbookRunner(RUNBOOK, h, { only: 'link-force' })
  sh(h, `printf 'TZif\\n' > ${path} && chmod 640 ${path} && chown nobody:nogroup ${path}`)
  const snapshot = () => sh(h, `stat -c '%F %a %U:%G' ${path}; cat ${path}; ${backupsOf(path)}`)
  const before = snapshot()
  expect(before).toBe('regular file 640 nobody:nogroup\nTZif\n0\n')
  try {
    const replace = `replace the file ${path} by a link → /usr/share/zoneinfo/UTC (the file is kept for undo)`
    const first = await run()
    expectStep(first, 0, { name: 'tz', status: 'changed', diff: replace })
    expect(sh(h, `readlink ${path}; ${backupsOf(path)}`)).toBe('/usr/share/zoneinfo/UTC\n1\n')

    expectNoop(await run(), 'tz')

    sh(h, `rm ${path} && printf 'other\\n' > ${path}`)
    const drifted = snapshot()
    expectStep(await run('--dry-run'), 2, { name: 'tz', status: 'changed', diff: replace }, [
      'ln -s /usr/share/zoneinfo/UTC "./$n"',
    ])
    expect(snapshot()).toBe(drifted)

    const repair = await run()
    expectStep(repair, 0, { name: 'tz', status: 'changed', diff: replace })
    await rollback(repair.report.runId)
    expect(snapshot()).toBe(drifted)
    await rollback(first.report.runId)
    expect(snapshot()).toBe(before)
  } finally {
    sh(
      h,
      `rm -rf ${path} /var/backups/ferry/${path.replaceAll('/', '%2F')}; rmdir /var/backups/ferry 2>/dev/null; true`,
    )
  }
})
