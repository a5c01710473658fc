// The text-editing steps on Linux lab hosts, through the real CLI, on one step of
// test/fixtures/runbooks/text-linux.ts at a time (the moves of steps.test.ts):
//
//   block: a managed block holding an inventory secret, in an ini file under /etc whose comments
//   are `;`: apply, a no-op, drift made by hand inside the block found by --dry-run with exactly
//   that diff (the secrets masked, old and new), rollback leaving no trace;
//   line with `validate: 'sshd -t -f %s'` on the host's own /etc/ssh/sshd_config (its
//   copy-on-write copy of this machine's; the lab's sshd reads /etc/ferry-lab/sshd_config): a bad
//   line refused by sshd -t before it lands, the file untouched; a good one lands, and goes again
//   on rollback.
//
// The host is read from outside (nsenter, not ssh or a probe), and put back in `finally`.
import { expect } from 'vitest'
import { journalBytes, labIt as it, runbookRunner, sh, type RunOut, type StepReport } from './helpers.ts'

const RUNBOOK = 'test/fixtures/runbooks/text-linux.ts'
const PASSWORD = 'lab-app-pw-4711'
const BY_HAND = 'typed-by-hand-0815'

/** `ferry run` of the one step `--param only=…` picks, on one host, with the app password in its inventory's secrets. */
const runner = (host: string, only: 'block' | 'sshd') =>
  runbookRunner(RUNBOOK, host, {
    only,
    tail: 'secrets:\n  app_password: env:FERRY_TEXT_APP_PW\n',
    env: { FERRY_TEXT_APP_PW: PASSWORD },
  })

/** The run exited `code` and its one step reported exactly `step` (the dry run's commands aside). */
function expectStep(r: RunOut, code: number, step: StepReport): void {
  const host = r.report.hosts[0]
  expect(r.code, `${host?.error ?? ''}\n${r.stderr}`).toBe(code)
  expect(host?.steps).toHaveLength(1)
  const { commands: _, ...reported } = host!.steps[0]!
  expect(reported).toEqual(step)
}

it('block: a `;` block with a masked secret in /etc/ferry-text/app.ini: apply, no-op, exact drift diff, rollback', async () => {
  const h = 'lab1'
  const dir = '/etc/ferry-text'
  const ini = `${dir}/app.ini`
  const backups = '/var/backups/ferry/%2Fetc%2Fferry-text%2Fapp.ini'
  const { run, rollback, state } = runner(h, 'block')
  sh(
    h,
    `rm -rf ${dir} && mkdir ${dir} && printf '; app.ini\\n[main]\\nlisten = 8080\\n\\n[db]\\nhost = 127.0.0.1\\n' > ${ini} && chmod 640 ${ini}`,
  )
  // The directory (nothing of ferry's left in it), the file's mode and text, its backups on the host.
  const snapshot = () =>
    sh(h, `ls -A ${dir}; stat -c '%n %a %U:%G' ${ini}; cat ${ini}; ls ${backups} 2>/dev/null | wc -l`)
  const before = snapshot()
  expect(before).toBe(`app.ini\n${ini} 640 root:root\n; app.ini\n[main]\nlisten = 8080\n\n[db]\nhost = 127.0.0.1\n0\n`)
  try {
    const first = await run()
    expectStep(first, 0, {
      name: 'app db',
      status: 'changed',
      diff: `--- ${ini}\n+++ ${ini}\n@@ -3,4 +3,8 @@\n listen = 8080\n \n [db]\n+; BEGIN FERRY app db\n+user = app\n+password = ********\n+; END FERRY app db\n host = 127.0.0.1\n`,
    })
    const block = `; BEGIN FERRY app db\nuser = app\npassword = ${PASSWORD}\n; END FERRY app db\n`
    const applied = `app.ini\n${ini} 640 root:root\n; app.ini\n[main]\nlisten = 8080\n\n[db]\n${block}host = 127.0.0.1\n1\n`
    expect(snapshot()).toBe(applied) // after [db], the mode kept, one backup for undo

    const noop = await run()
    expectStep(noop, 0, { name: 'app db', status: 'ok' })
    expect(snapshot()).toBe(applied)

    // By hand, inside the block: another user, and a password nobody told ferry about.
    sh(h, `sed -i 's/^user = app$/user = root/; s/^password = .*/password = ${BY_HAND}/' ${ini}`)
    const drifted = snapshot()
    expect(drifted).toBe(applied.replace('user = app', 'user = root').replace(PASSWORD, BY_HAND))
    const plan = `--- ${ini}\n+++ ${ini}\n@@ -4,7 +4,7 @@\n \n [db]\n ; BEGIN FERRY app db\n-user = root\n+user = app\n password = ********\n ; END FERRY app db\n host = 127.0.0.1\n`
    const dry = await run('--dry-run')
    expectStep(dry, 2, { name: 'app db', status: 'changed', diff: plan })
    expect(snapshot()).toBe(drifted)

    const repair = await run()
    expectStep(repair, 0, { name: 'app db', status: 'changed', diff: plan })
    expect(sh(h, `cat ${ini}`)).toBe(`; app.ini\n[main]\nlisten = 8080\n\n[db]\n${block}host = 127.0.0.1\n`)
    // Neither password reached the journal: the diffs were masked, the content went on stdin.
    const journal = journalBytes(state, repair.report.runId)
    for (const secret of [PASSWORD, BY_HAND]) expect(journal.includes(secret), secret).toBe(false)
    for (const r of [first, noop, dry, repair])
      expect(r.stdout + r.stderr).not.toMatch(new RegExp(`${PASSWORD}|${BY_HAND}`))

    await rollback(repair.report.runId)
    expect(snapshot()).toBe(drifted)
    await rollback(first.report.runId)
    expect(snapshot()).toBe(before)
  } finally {
    sh(h, `rm -rf ${dir} ${backups}; rmdir /var/backups/ferry 2>/dev/null; true`)
  }
})

it('line with validate: sshd -t -f refuses a bad PermitRootLogin before it lands; a good one lands, rollback puts it back', async () => {
  const h = 'lab2'
  const conf = '/etc/ssh/sshd_config'
  const backups = '/var/backups/ferry/%2Fetc%2Fssh%2Fsshd_config'
  const { run, rollback } = runner(h, 'sshd')
  // /etc/ssh (no temp directory of ferry's left), the file's mode and text, its backups, and the
  // commit-confirmed jobs' directories (sshd_config is risky): none left.
  const snapshot = () =>
    sh(
      h,
      `ls -A /etc/ssh; stat -c '%n %a %U:%G' ${conf}; cat ${conf}; ls ${backups} 2>/dev/null | wc -l; ls -A /var/run/ferry-revert 2>/dev/null; true`,
    )
  const shipped = sh(h, `cat ${conf}`)
  const at = shipped.split('\n').indexOf('#PermitRootLogin prohibit-password')
  expect(at, "Debian's sshd_config has its commented-out default").toBeGreaterThan(3)
  const before = snapshot()
  expect(before).toContain(`${conf} 644 root:root\n`)
  expect(before).toMatch(/\n0\n$/)
  try {
    // `maybe` is no value of PermitRootLogin: sshd -t says so, and the file stays as it was.
    const bad = await run('--param', 'line=PermitRootLogin maybe')
    expect(bad.code, bad.stderr).toBe(1)
    // A failed host is rolled back (--rollback host): nothing had landed, the revert job is disarmed.
    expect(bad.report.hosts[0]).toMatchObject({ status: 'rolled-back', steps: [{ status: 'rolled-back' }] })
    expect(bad.report.hosts[0]!.steps[0]!.error).toBe(
      `validation failed: sshd -t -f %s\n./sshd_config line ${at + 1}: unsupported option "maybe".`,
    )
    expect(snapshot()).toBe(before)

    const good = await run('--param', 'line=PermitRootLogin no')
    const lines = shipped.split('\n')
    const hunk = (l: string[]) => l.map((x) => ` ${x}\n`).join('')
    expectStep(good, 0, {
      name: 'root login',
      status: 'changed',
      diff: `--- ${conf}\n+++ ${conf}\n@@ -${at - 2},7 +${at - 2},7 @@\n${hunk(lines.slice(at - 3, at))}-#PermitRootLogin prohibit-password\n+PermitRootLogin no\n${hunk(lines.slice(at + 1, at + 4))}`,
    })
    expect(sh(h, `cat ${conf}`)).toBe(shipped.replace('#PermitRootLogin prohibit-password', 'PermitRootLogin no'))
    expect(sh(h, `sshd -t -f ${conf} && echo valid`)).toBe('valid\n')
    expectStep(await run('--param', 'line=PermitRootLogin no'), 0, { name: 'root login', status: 'ok' })

    await rollback(good.report.runId)
    expect(snapshot()).toBe(before)
  } finally {
    sh(h, `cat > ${conf}; rm -rf ${backups}; rmdir /var/backups/ferry /var/run/ferry-revert 2>/dev/null; true`, shipped)
  }
})
