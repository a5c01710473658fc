// The cron step on Linux lab hosts, through the real CLI and Debian's crontab(1) (the lab
// installs the cron package; no cron daemon runs). Each test makes the moves of steps.test.ts:
// snapshot from outside (nsenter, not ssh), apply, a second run that changes nothing, drift by
// hand found by --dry-run and changing nothing, a repair, then `ferry rollback` of both runs,
// newest first, puts back the snapshot exactly. The last test is a plan refused for a user the
// host lacks. Each puts its host back in `finally`.
import { describe, expect } from 'vitest'
import { journalBytes, labIt as it, runbookRunner, sh, type RunOut, type StepReport } from './helpers.ts'

const RUNBOOK = 'test/fixtures/runbooks/cron-linux.ts'
const BACKUPS = '/var/backups/ferry'

/** The run exited `code` and its one step reported exactly `step`. */
function expectStep(r: RunOut, code: number, step: StepReport): void {
  const host = r.report.hosts[0]
  expect(r.code, `${host?.error ?? ''}\n${r.stderr}`).toBe(code)
  expect(host?.steps.map(({ name, status, diff }) => ({ name, status, ...(diff ? { diff } : {}) }))).toEqual([step])
}

describe('cron', () => {
  it("an entry in root's crontab among other lines and a secret: apply, no-op, drift found, rollback byte for byte", async () => {
    const h = 'lab1'
    const spool = '/var/spool/cron/crontabs/root'
    const backups = `${BACKUPS}/%2Fvar%2Fspool%2Fcron%2Fcrontabs%2Froot`
    const secret = 'hunter2-lab-secret'
    const theirs = `SHELL=/bin/sh\nAPI_TOKEN=${secret}\n17 * * * * /usr/local/bin/report\n`
    const entry = '#ferry: nightly backup\nMAILTO=ops@example.com\n30 3 * * * /usr/local/sbin/backup --all\n'
    const { run, rollback, state } = runbookRunner(RUNBOOK, h, { only: 'crontab' })
    expect(sh(h, 'command -v crontab')).toBe('/usr/bin/crontab\n')
    const had = sh(h, `if [ -f ${spool} ]; then crontab -u root -l; else echo none; fi`)
    // Its crontab as someone else wrote it: every line of it must come through untouched.
    sh(h, 'crontab -u root -', theirs)
    // The crontab as crontab(1) lists it, its spool file's mode and owner, and ferry's backups of it.
    const snapshot = () => sh(h, `crontab -u root -l; stat -c '%a %U:%G' ${spool}; ls ${backups} 2>/dev/null | wc -l`)
    const before = snapshot()
    expect(before).toBe(`${theirs}600 root:crontab\n0\n`)
    const tab = "root's crontab"
    try {
      const first = await run()
      expectStep(first, 0, {
        name: 'nightly backup',
        status: 'changed',
        diff: `--- ${tab}\n+++ ${tab}\n@@ -0,0 +1,3 @@\n+#ferry: nightly backup\n+MAILTO=********\n+30 3 * * * /usr/local/sbin/backup --all\n`,
      })
      const applied = `${theirs}${entry}600 root:crontab\n1\n`
      expect(snapshot()).toBe(applied)
      // The old crontab, secret and all, is on the host alone, readable by root alone.
      expect(sh(h, `cat ${backups}/*; stat -c '%a %U' ${backups}/* ${backups}`)).toBe(`${theirs}600 root\n700 root\n`)

      expectStep(await run(), 0, { name: 'nightly backup', status: 'ok' })

      // Someone moves the job an hour by hand.
      sh(h, "crontab -u root -l | sed 's/^30 3 /30 4 /' | crontab -u root -")
      const drifted = snapshot()
      expect(drifted).toBe(`${theirs}${entry.replace('30 3', '30 4')}600 root:crontab\n1\n`)
      const plan = `--- ${tab}\n+++ ${tab}\n@@ -1,3 +1,3 @@\n #ferry: nightly backup\n MAILTO=********\n-30 4 * * * /usr/local/sbin/backup --all\n+30 3 * * * /usr/local/sbin/backup --all\n`
      expectStep(await run('--dry-run'), 2, { name: 'nightly backup', status: 'changed', diff: plan })
      expect(snapshot()).toBe(drifted)

      const repair = await run()
      expectStep(repair, 0, { name: 'nightly backup', status: 'changed', diff: plan })
      expect(snapshot()).toBe(`${theirs}${entry}600 root:crontab\n2\n`)

      await rollback(repair.report.runId)
      expect(snapshot()).toBe(drifted)
      await rollback(first.report.runId)
      expect(snapshot()).toBe(before)
      expect(sh(h, `ls -d ${backups} 2>&1; true`)).toMatch(/No such file or directory/)

      // The secret never left the host: not in the reports, not in the journal.
      for (const r of [first, repair]) expect(r.stdout).not.toContain(secret)
      expect(journalBytes(state, first.report.runId).includes(secret)).toBe(false)
    } finally {
      sh(
        h,
        had === 'none\n' ? 'crontab -u root -r 2>/dev/null; true' : 'crontab -u root -',
        had === 'none\n' ? undefined : had,
      )
      sh(h, `rm -rf ${backups}; rmdir ${BACKUPS} 2>/dev/null; true`)
    }
  })

  it('an entry in /etc/cron.d/ferry-test run as nobody: created 0644 root, no-op, disabled by hand found, rollback removes it', async () => {
    const h = 'lab2'
    const path = '/etc/cron.d/ferry-test'
    const backups = `${BACKUPS}/%2Fetc%2Fcron.d%2Fferry-test`
    const { run, rollback } = runbookRunner(RUNBOOK, h, { only: 'crond' })
    const content = '#ferry: ferry test\nMAILTO=""\n*/15 * * * * nobody /bin/true\n'
    const snapshot = () =>
      sh(h, `stat -c '%a %U:%G' ${path} 2>&1; cat ${path} 2>/dev/null; ls ${backups} 2>/dev/null | wc -l`)
    const before = snapshot()
    expect(before).toBe(`stat: cannot statx '${path}': No such file or directory\n0\n`)
    try {
      const first = await run()
      expectStep(first, 0, {
        name: 'ferry test',
        status: 'changed',
        diff: `--- ${path}\n+++ ${path}\n@@ -0,0 +1,3 @@\n+#ferry: ferry test\n+MAILTO=********\n+*/15 * * * * nobody /bin/true\n`,
      })
      // Debian's cron reads only files owned by root and writable by no one else.
      expect(snapshot()).toBe(`644 root:root\n${content}0\n`)

      expectStep(await run(), 0, { name: 'ferry test', status: 'ok' })

      sh(h, `sed -i 's|^\\*/15|#*/15|' ${path}`)
      const drifted = snapshot()
      expect(drifted).toBe(`644 root:root\n${content.replace('*/15', '#*/15')}0\n`)
      const plan = `--- ${path}\n+++ ${path}\n@@ -1,3 +1,3 @@\n #ferry: ferry test\n MAILTO=********\n-#*/15 * * * * nobody /bin/true\n+*/15 * * * * nobody /bin/true\n`
      expectStep(await run('--dry-run'), 2, { name: 'ferry test', status: 'changed', diff: plan })
      expect(snapshot()).toBe(drifted)

      const repair = await run()
      expectStep(repair, 0, { name: 'ferry test', status: 'changed', diff: plan })
      expect(snapshot()).toBe(`644 root:root\n${content}1\n`)

      await rollback(repair.report.runId)
      expect(snapshot()).toBe(drifted)
      await rollback(first.report.runId)
      expect(snapshot()).toBe(before)
    } finally {
      sh(h, `rm -f ${path}; rm -rf ${backups}; rmdir ${BACKUPS} 2>/dev/null; true`)
    }
  })

  it('a user the host lacks: the dry run and the run both refuse the plan, and nothing changes', async () => {
    const h = 'lab2'
    const { run } = runbookRunner(RUNBOOK, h, { only: 'nouser' })
    const snapshot = () => sh(h, 'ls /var/spool/cron/crontabs; ls /etc/cron.d')
    const before = snapshot()
    for (const flags of [['--dry-run'], []]) {
      const r = await run(...flags)
      expect(r.code).toBe(1)
      expect(r.report.hosts[0]!.error).toBe('report: there is no user ferry-nobody')
      expect(snapshot()).toBe(before)
    }
  })
})
