// Old copies of a file (issue 16, finding 10): superseded keys and PSKs must not stay on a router
// forever. Each write keeps the old file in /var/backups/ferry/PATH/ (mode 0600); once a run is
// over and kept, only the newest `backups` copies stay. A run that fails and rolls back prunes
// nothing, and rolling back a run whose copy was pruned says so instead of doing nothing.
import { afterAll, expect } from 'vitest'
import { ferry, labIt as it, labYaml, sh, tempDir, writeInventory } from './helpers.ts'

const HOST = 'lab2'
const CONF = '/etc/ferry-backups.conf'
const DIR = '/var/backups/ferry/%2Fetc%2Fferry-backups.conf'
const inv = writeInventory(labYaml([HOST], { defaults: '  os: linux' }))
const state = tempDir()

afterAll(() => sh(HOST, `rm -rf ${CONF} ${DIR}; rmdir /var/backups/ferry 2>/dev/null; true`))

const run = async (content: string, ...extra: string[]) => {
  const r = await ferry([
    'run',
    'test/fixtures/runbooks/backed-up.ts',
    '-i',
    inv,
    '--state-dir',
    state,
    '--format',
    'json',
    '--param',
    `content=${content}`,
    ...extra,
  ])
  return { code: r.code, runId: (JSON.parse(r.stdout) as { runId: string }).runId, stderr: r.stderr }
}
/** Each backup: its mode and content, oldest first (their names sort by time). */
const backups = () =>
  sh(
    HOST,
    `cd ${DIR} 2>/dev/null || exit 0; for b in $(ls | sort); do printf '%s ' "$(stat -c %a "$b")"; cat "$b"; done`,
  )

it('keeps the newest two copies, 0600, pruned after each kept run; a failed run prunes nothing; an undo whose copy was pruned says so', async () => {
  sh(HOST, `rm -rf ${DIR}; printf 'v0\\n' > ${CONF}`)
  const runs = []
  for (const v of ['v1', 'v2', 'v3', 'v4']) {
    const r = await run(v)
    expect(r.code, r.stderr).toBe(0)
    runs.push(r.runId)
  }
  // v0..v3 were replaced; the two newest old copies stay.
  expect(backups()).toBe('600 v2\n600 v3\n')

  // A failing run writes v5, rolls it back (consuming its own copy) and prunes nothing.
  expect((await run('v5', '--param', 'fail=true')).code).toBe(1)
  expect(sh(HOST, `cat ${CONF}`)).toBe('v4\n')
  expect(backups()).toBe('600 v2\n600 v3\n')

  // The newest run rolls back from its copy; the oldest run's copy is gone, and it says so.
  const newest = await ferry(['rollback', runs[3]!, '--state-dir', state])
  expect(newest.code, newest.stdout + newest.stderr).toBe(0)
  expect(sh(HOST, `cat ${CONF}`)).toBe('v3\n')
  const oldest = await ferry(['rollback', runs[0]!, '--state-dir', state])
  expect(oldest.code).toBe(3)
  expect(oldest.stdout + oldest.stderr).toContain(
    `${CONF} was not restored: its backup from this run was pruned, since later runs changed it (the host keeps the newest 2)`,
  )
  expect(sh(HOST, `cat ${CONF}`)).toBe('v3\n')
}, 120_000)
