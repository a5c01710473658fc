// The user and group steps on a Linux lab host, through the real CLI, with
// test/fixtures/runbooks/users-linux.ts. The host's state is read from outside (nsenter):
//
//   create: a group and a user in it with a password hash from the inventory's secrets: apply,
//           no-op, drift by hand found by --dry-run, repaired, and both runs rolled back leave the
//           password and group files byte for byte as they were. Meanwhile the hash never shows
//           in output, in the journal or in any argv on the host (its process list is watched).
//   remove: a user removed keeps its hash in a 0600 backup on the host; rollback puts the user
//           back with it.
//
// Each test puts the host back in `finally`, whatever failed.
import { spawn } from 'node:child_process'
import { describe, expect } from 'vitest'
import { loadState } from '../../lab/lab.ts'
import {
  ferry,
  journalBytes,
  labIt as it,
  labYaml,
  sh,
  tempDir,
  withReport,
  writeInventory,
  type Report,
  type Run,
  type RunOut,
} from './helpers.ts'

const RUNBOOK = 'test/fixtures/runbooks/users-linux.ts'
const H = 'lab2'
// `openssl passwd -6`: the one the inventory gives, one set by hand (drift), and bob's own.
const HASH = '$6$ferrylab$rVeLCXq.TLEFM7zcWzan214W0F34se8vfxbrLUL1ANsJ2kq7ngh4s43uBigIf/oLYkyJDdTOAIF1LasLvh/X.1'
const DRIFT = '$6$ferrydrift$TNMrM8rHjLiQd1le.a1NurtMMl7QNhdn8s8CHGmQyfRpRVhYvN2jtGg/HW6oDeDGXKjMSzqZnm8Pg/Kla4nhu.'
const BOB = '$6$ferrygolden$sFUI72ltxpTa6/5YQFdJ0iSTD6HZeSpeVjPlOamz8xwHJcGh2KUSHhZGDWhKqbT5s5pW62/BpDKOXB1fj8N2g0'
const HASHES = [HASH, DRIFT, BOB]

/**
 * helpers.ts's runbookRunner, but keeping every run's and rollback's output in `runs` for the
 * scan that the hash never shows (and its rollback asks only for exit 0).
 */
function runner(only: 'create' | 'remove') {
  const inv = writeInventory(
    labYaml([H], { defaults: '  os: linux', tail: 'secrets:\n  alice_hash: env:FERRY_ALICE_HASH\n' }),
  )
  const state = tempDir()
  const env = { FERRY_ALICE_HASH: HASH }
  const runs: Run[] = []
  return {
    state,
    runs,
    async run(...flags: string[]): Promise<RunOut> {
      const args = ['run', RUNBOOK, '-i', inv, '--param', `only=${only}`, '--format', 'json', '--state-dir', state]
      const r = await ferry([...args, ...flags], { env })
      runs.push(r)
      return withReport(r)
    },
    async rollback(runId: string): Promise<void> {
      const r = await ferry(['rollback', runId, '--state-dir', state], { env })
      runs.push(r)
      expect(r.code, r.stdout + r.stderr).toBe(0)
    },
  }
}

/** Each step's name, status and diff, as the JSON report gives them. */
const steps = (r: { report: Report }) =>
  r.report.hosts[0]!.steps.map(({ name, status, diff }) => ({ name, status, diff }))

/** The files useradd and its kin edit (checksums: byte for byte), the test's accounts, homes and hash backups. */
function snapshot(): string {
  return sh(
    H,
    [
      'md5sum /etc/passwd /etc/shadow /etc/group /etc/gshadow /etc/subuid /etc/subgid',
      'getent passwd ferryalice ferrybob; getent group ferryops ferrylab ferrybob; true',
      'ls -a /home/ferryalice /home/ferrybob 2>&1; true',
      'find /var/backups/ferry -path "*user*" 2>/dev/null | sort; true',
    ].join('; '),
  )
}

/** The password field of a user, read on the host. */
const shadowOf = (name: string) => sh(H, `getent shadow ${name} | cut -d: -f2`).trim()

/** Starts watching the host's process list: every command line seen, until stop(). */
function watchArgv(): { stop(): string } {
  const pid = loadState().hosts[H]!.pid
  const watcher = spawn(
    'nsenter',
    ['-t', String(pid), '--net', '--mount', '--root', '--', 'sh', '-c', 'while :; do ps -eo args; sleep 0.05; done'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  )
  let seen = ''
  watcher.stdout.on('data', (d) => (seen += d))
  return {
    stop() {
      watcher.kill()
      return seen
    },
  }
}

/** Removes whatever the tests made, whatever state a failure left. */
function clean(): void {
  sh(
    H,
    [
      'for u in ferryalice ferrybob; do userdel -r $u >/dev/null 2>&1; done',
      'for g in ferryops ferrylab ferrybob; do groupdel $g >/dev/null 2>&1; done',
      'rm -rf /home/ferryalice /home/ferrybob /var/backups/ferry',
      'true',
    ].join('; '),
  )
}

describe('user and group', () => {
  it('a group and a user with a hash: apply, no-op, drift found, repair, rollback leaves no trace; the hash never shows', async () => {
    const { run, rollback, runs, state } = runner('create')
    clean()
    sh(H, 'groupadd -g 4702 ferrylab')
    const before = snapshot()
    const watch = watchArgv()
    let seen = ''
    try {
      const first = await run()
      expect(first.code, first.stderr).toBe(0)
      expect(steps(first)).toEqual([
        { name: 'operators', status: 'changed', diff: 'create group ferryops (gid 4700)' },
        {
          name: 'alice',
          status: 'changed',
          diff: 'create user ferryalice: uid 4701, group ferryops, groups ferrylab, comment "Alice Liddell", home /home/ferryalice (created), shell /bin/sh\npassword of ferryalice: set',
        },
      ])
      // The host, from outside: the account as asked, the home from /etc/skel, the hash set.
      expect(sh(H, 'getent passwd ferryalice; getent group ferryops ferrylab; id -Gn ferryalice')).toBe(
        'ferryalice:x:4701:4700:Alice Liddell:/home/ferryalice:/bin/sh\nferryops:x:4700:\nferrylab:x:4702:ferryalice\nferryops ferrylab\n',
      )
      expect(sh(H, 'stat -c "%U:%G %a" /home/ferryalice; ls -A /home/ferryalice')).toBe(
        'ferryalice:ferryops 755\n.bash_logout\n.bashrc\n.mkshrc\n.profile\n',
      )
      expect(shadowOf('ferryalice')).toBe(HASH)

      const again = await run()
      expect(again.code, again.stderr).toBe(0)
      expect(steps(again).map((s) => s.status)).toEqual(['ok', 'ok'])

      // By hand: another shell, out of ferrylab, another password (on stdin, as chpasswd takes it).
      sh(H, 'usermod -s /bin/bash ferryalice && gpasswd -d ferryalice ferrylab >/dev/null')
      sh(H, 'chpasswd -e', `ferryalice:${DRIFT}\n`)
      const drifted = snapshot()
      const plan =
        'groups of ferryalice: (none) → ferrylab\nshell of ferryalice: /bin/bash → /bin/sh\npassword of ferryalice: changed'
      const dry = await run('--dry-run')
      expect(dry.code, dry.stderr).toBe(2)
      expect(steps(dry)).toEqual([
        { name: 'operators', status: 'ok', diff: undefined },
        { name: 'alice', status: 'changed', diff: plan },
      ])
      expect(snapshot()).toBe(drifted)

      const repair = await run()
      expect(repair.code, repair.stderr).toBe(0)
      expect(steps(repair)[1]).toEqual({ name: 'alice', status: 'changed', diff: plan })
      expect(shadowOf('ferryalice')).toBe(HASH)
      // The hand-set hash, kept for undo: root's alone, on the host only.
      expect(sh(H, 'for f in /var/backups/ferry/user%3Aferryalice/*; do stat -c "%U %a" "$f"; cat "$f"; done')).toBe(
        `root 600\n${DRIFT}\n`,
      )

      await rollback(repair.report.runId)
      expect(snapshot()).toBe(drifted)
      expect(shadowOf('ferryalice')).toBe(DRIFT)
      await rollback(first.report.runId)
      expect(snapshot()).toBe(before)
    } finally {
      seen = watch.stop()
      clean()
    }
    // What the runs printed, what the host's process list showed, what the journal holds.
    expect(seen).toContain('ps -eo args') // the watcher saw command lines
    for (const h of HASHES) {
      for (const r of runs) expect(r.stdout + r.stderr).not.toContain(h)
      expect(seen).not.toContain(h)
    }
    const journal = journalBytes(state, JSON.parse(runs[0]!.stdout).runId)
    for (const h of HASHES) expect(journal.includes(h)).toBe(false)
    // Not even redacted: nothing ferry journalled held the hash for the redaction to catch.
    expect(journal.includes('<secret>')).toBe(false)
  }, 120_000)

  it('a user removed: its hash kept in a 0600 backup; no-op; rollback puts it back, hash and all', async () => {
    const { run, rollback } = runner('remove')
    clean()
    sh(
      H,
      'groupadd -g 4702 ferrylab && groupadd -g 4710 ferrybob && useradd -u 4710 -g ferrybob -G ferrylab -c Bob -d /home/ferrybob -m -s /bin/bash ferrybob',
    )
    sh(H, 'chpasswd -e', `ferrybob:${BOB}\n`)
    const before = snapshot()
    try {
      const first = await run()
      expect(first.code, first.stderr).toBe(0)
      expect(steps(first)).toEqual([
        { name: 'bob gone', status: 'changed', diff: 'remove user ferrybob (uid 4710; its home /home/ferrybob stays)' },
      ])
      // Gone, with the group userdel takes along; the home stays; the hash is in the backup only.
      expect(
        sh(H, 'getent passwd ferrybob; getent group ferrybob; getent group ferrylab; ls -A /home/ferrybob; true'),
      ).toBe('ferrylab:x:4702:\n.bash_logout\n.bashrc\n.mkshrc\n.profile\n')
      expect(sh(H, 'for f in /var/backups/ferry/user%3Aferrybob/*; do stat -c "%U %a" "$f"; cat "$f"; done')).toBe(
        `root 600\n${BOB}\n`,
      )

      const again = await run()
      expect(again.code, again.stderr).toBe(0)
      expect(steps(again)).toEqual([{ name: 'bob gone', status: 'ok', diff: undefined }])

      await rollback(first.report.runId)
      expect(snapshot()).toBe(before)
      expect(shadowOf('ferrybob')).toBe(BOB)
    } finally {
      clean()
    }
  })
})
