// The temp-file race of issue 16: a directory that belongs to a less-privileged user (Debian's
// /etc/frr is frr's) lets that user rename and replace any name in it while root writes there.
// Before replaceFile, root made `DIR/.ferry.XXXXXX` with mktemp, then chmod, chown and `cat >`
// on that name: swapped for a symbolic link in between, they followed it, and a root-only file
// became the attacker's (this test, run against that code, saw the victim file turn
// nobody:nogroup 0640 holding ferry's content, and the victim directory nobody's).
//
// Here the directory's owner (nobody) runs a loop that swaps every `.ferry.*` name for a link to
// a root-only file or a root-only directory, as fast as it can, while ferry writes: first 200
// writes and their 200 restores with the exact commands the file step sends (run back to back on
// the host, so the count does not depend on how often a run is refused), then a real `ferry run`.
import { afterAll, beforeAll, expect } from 'vitest'
import { file, type FileRecord } from '../../src/steps/file.ts'
import type { StepContext } from '../../src/steps/step.ts'
import { recordingShell } from '../../src/shell/recording.ts'
import { platformFor } from '../../src/platform/platform.ts'
import { quote } from '../../src/shell/quote.ts'
import { ferry, labIt as it, labYaml, sh, tempDir, writeInventory } from './helpers.ts'

const HOST = 'lab3'
const DIR = '/etc/ferry-race'
const VICTIM = '/root/ferry-victim'
const VDIR = '/root/ferry-vdir'
const N = 200
const REFUSED = /was not written: the private directory ferry made beside it was replaced/

// Alternates the link's target between the victim file and the victim directory: the old
// scheme's temp name was a file, the new one's is a directory, and each is attacked by both.
const ATTACK = `cd ${DIR} || exit 1; i=0; while :; do for t in .ferry.*; do case $t in *.gone*) continue ;; esac; [ -h "$t" ] && continue; [ -e "$t" ] || continue; i=$((i + 1)); if [ $((i % 2)) = 0 ]; then v=${VICTIM}; else v=${VDIR}; fi; mv "$t" "$t.gone$i" 2>/dev/null && ln -s "$v" "$t" 2>/dev/null && echo "$i" > /tmp/ferry-race-swaps; done; done`

/** What an attacker's win would change: the victims' mode, owner and content, and the directory's entries. */
const victims = () => sh(HOST, `stat -c '%a %U:%G' ${VICTIM} ${VDIR}; cat ${VICTIM}; ls -A ${VDIR}`)
const swaps = () => Number(sh(HOST, 'cat /tmp/ferry-race-swaps 2>/dev/null || echo 0'))
/** Each file: a regular file, still nobody's, holding what ferry wrote or the old content put back. */
const files = () =>
  sh(
    HOST,
    `cd ${DIR} && for f in f*.conf; do [ -h "$f" ] && echo "$f is a link"; printf '%s %s ' "$f" "$(stat -c '%U' "$f")"; cat "$f"; done`,
  )
    .trim()
    .split('\n')
const BEFORE = '600 root:root\n700 root:root\nvictim\n'

let attacker = 0

beforeAll(() => {
  sh(
    HOST,
    [
      `rm -rf ${DIR} ${VDIR} /tmp/ferry-race-swaps && mkdir ${DIR} ${VDIR} && chmod 700 ${VDIR}`,
      `printf 'victim\\n' > ${VICTIM} && chmod 600 ${VICTIM}`,
      // Every file exists first, as nobody's, so each write also backs up the old one.
      `i=0; while [ $i -lt ${N} ]; do printf 'old\\n' > ${DIR}/f$i.conf; i=$((i + 1)); done`,
      `chown -R nobody:nogroup ${DIR}`,
    ].join(' && '),
  )
  expect(victims()).toBe(BEFORE)
  // In the host's namespaces, as nobody, for ten minutes at most; stopped by its PID.
  attacker = Number(
    sh(
      HOST,
      `timeout 600 setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c ${quote(ATTACK)} </dev/null >/dev/null 2>&1 & echo $!`,
    ).trim(),
  )
  expect(attacker).toBeGreaterThan(1)
})

afterAll(() => {
  sh(
    HOST,
    `kill ${attacker} 2>/dev/null; rm -rf ${DIR} ${VDIR} ${VICTIM} /tmp/ferry-race-swaps /tmp/ferry-race-err /var/backups/ferry/%2Fetc%2Fferry-race%2Ff*; rmdir /var/backups/ferry 2>/dev/null; true`,
  )
})

/** The commands the file step sends to write `path` over an existing file, and to undo that. */
async function commands(path: string, content: string): Promise<{ write: string; restore: string }> {
  const step = file('race', { path, content, mode: 0o640 })
  const platform = platformFor('linux')
  const record = step.record(
    { stdout: '-rw-r--r-- nobody nogroup\nold\n', code: 0 },
    { host: {} as never, platform, pending: new Set() },
  ) as FileRecord
  const sent: string[] = []
  const $ = recordingShell(
    () => ({ stdout: '', code: 0 }),
    (cmd) => void sent.push(cmd),
  )
  const ctx = { $, platform } as unknown as StepContext
  await step.apply(ctx, [], record)
  await step.undo(ctx, record)
  expect(sent).toHaveLength(2)
  return { write: sent[0]!, restore: sent[1]! }
}

it(`a directory's owner racing ${N} writes and their ${N} restores with links to root's files wins nothing`, async () => {
  const todo = await Promise.all(Array.from({ length: N }, (_, i) => commands(`${DIR}/f${i}.conf`, `f${i} new\n`)))
  // Each command is a script of its own, as the transport runs one: `sh -c`.
  const count = (cmd: string) => `if ${cmd} 2>>/tmp/ferry-race-err; then ok=$((ok + 1)); else no=$((no + 1)); fi`
  const script = [
    'ok=0; no=0',
    ...todo.map(({ write }, i) => count(`printf 'f${i} new\\n' | sh -c ${quote(write)}`)),
    'echo "$ok $no"; ok=0; no=0',
    ...todo.map(({ restore }) => count(`sh -c ${quote(restore)} </dev/null`)),
    'echo "$ok $no"',
  ].join('\n')
  const swapsBefore = swaps()
  const [written, restored] = sh(HOST, 'sh -s', script)
    .trim()
    .split('\n')
    .map((l) => l.split(' ').map(Number)) as [number[], number[]]
  const errors = sh(HOST, 'cat /tmp/ferry-race-err 2>/dev/null; true').trim()
  const swapped = swaps() - swapsBefore
  console.log(
    `file race: ${N} writes (${written[0]} done, ${written[1]} refused), ${N} restores (${restored[0]} done, ${restored[1]} refused); the attacker swapped ${swapped} private names`,
  )

  // The attacker won nothing.
  expect(victims()).toBe(BEFORE)
  for (const line of files()) expect(line).toMatch(/^f(\d+)\.conf nobody (f\1 new|old)$/)
  // Whatever did not go through was refused for what it was, with nothing else going wrong.
  for (const e of errors ? errors.split('\n') : []) expect(e).toMatch(REFUSED)
  expect(written[0]! + written[1]!).toBe(N)
  expect(restored[0]! + restored[1]!).toBe(N)
  // And the attack was real: it got in between the commands of many writes.
  expect(swapped).toBeGreaterThan(N / 10)
}, 300_000)

it('a ferry run under the same attack is refused or written, never fooled, and says why', async () => {
  const inv = writeInventory(labYaml([HOST], { defaults: '  os: linux' }))
  const run = await ferry(
    [
      'run',
      'test/fixtures/runbooks/many-files.ts',
      '-i',
      inv,
      '--state-dir',
      tempDir(),
      '--format',
      'json',
      '--param',
      `dir=${DIR}`,
      '--param',
      'count=20',
      '--param',
      'tag=run',
    ],
    { timeout: 120_000 },
  )
  const host = (JSON.parse(run.stdout) as { hosts: { status: string; error?: string }[] }).hosts[0]!
  // A refused write rolls the run back, and a restore may be refused in turn (then it is failed).
  if (run.code !== 0)
    expect(host).toMatchObject({
      status: expect.stringMatching(/^(rolled-back|failed)$/),
      error: expect.stringMatching(REFUSED),
    })
  expect(victims()).toBe(BEFORE)
  for (const line of files()) expect(line).toMatch(/^f(\d+)\.conf nobody (f\1 (new|run)|old)$/)
}, 120_000)
