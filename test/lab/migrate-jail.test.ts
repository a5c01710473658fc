// migrate-jail on the lab: the jail `web` (a dataset served over HTTP on 172.16.3.17/32, see
// lab/lab.ts makeJail) moves between the deployed mesh's hosts. Watched from outside the run:
// a client on a third host, checksums, routes, datasets, and the lab host's own processes.
import { afterAll, beforeAll, expect } from 'vitest'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { LAB_JAIL, makeJail, netnsPids, removeJail, setRcCost } from '../../lab/lab.ts'
import { quote } from '../../src/shell/quote.ts'
import {
  ferry,
  labIt as it,
  screenShows,
  sh,
  tempDir,
  tmux,
  waitFor,
  ADDRESSES,
  LAB_KEY,
  LAB_KNOWN_HOSTS,
  ROOT,
  type Run,
} from './helpers.ts'

const MESH = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5']
const ADDRESS = LAB_JAIL.address.replace(/\/32$/, '')
const LOCK = `/var/run/ferry-migrate-${LAB_JAIL.name}.lock`
let mesh: { runId: string; state: string } | undefined

/** Whether `host` can open a TCP connection to the jail's web server. */
const reaches = (host: string) =>
  sh(host, `timeout 1 bash --norc -c 'exec 3<>/dev/tcp/${ADDRESS}/80' 2>/dev/null && echo yes || true`) === 'yes\n'
/** Where the jail's process runs, by the driver's pidfile. */
const runningOn = () =>
  MESH.filter(
    (h) =>
      sh(
        h,
        `pid=$(cat /run/ferry-jail-${LAB_JAIL.name}.pid 2>/dev/null) && kill -0 "$pid" 2>/dev/null && echo yes || true`,
      ) === 'yes\n',
  )
/** Every dataset and snapshot of the jail on a host, kept copies included. */
const datasets = (host: string) =>
  sh(host, `zfs list -H -o name -t filesystem,snapshot 2>/dev/null | grep '^${LAB_JAIL.dataset}' || true`).trim()
const checksum = (host: string, dataset: string = LAB_JAIL.dataset) =>
  sh(host, `sha256sum "$(zfs get -H -o value mountpoint ${dataset})/www/data.bin" | cut -d' ' -f1`).trim()
/** `ip route get`, reduced to how: `via X dev Y`. */
const nextHop = (host: string, address: string) =>
  /(?:via \S+ )?dev \S+/.exec(sh(host, `ip -4 route get ${address}`))?.[0]
/** `ferry run migrate-jail` on the lab with these params and flags, and a journal (`state`) of its own. */
const migrateJail = (params: string[], flags: string[] = [], state = tempDir()) =>
  ferry(
    ['run', 'migrate-jail', '-i', 'lab', ...params.flatMap((p) => ['--param', p]), ...flags, '--state-dir', state],
    {
      timeout: 150_000,
    },
  )
const migrate = (to: string, ...extra: string[]) =>
  migrateJail([`jail=${LAB_JAIL.name}`, `to=${to}`, 'yes=true'], ['--format', 'json', ...extra])
const hostResult = (run: Run) =>
  (
    JSON.parse(run.stdout) as {
      hosts: { name: string; status: string; error?: string; steps: { name: string; status: string }[] }[]
    }
  ).hosts[0]!

/** The pid of a command running in a lab host, by the kernel's list of the netns's processes and their argv. */
function pidIn(host: string, argv: string[]): number | undefined {
  return netnsPids(`ferry-${host}`).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, argv.length).join(' ') === argv.join(' ')
    } catch {
      return false
    }
  })
}

/**
 * A client on `host` trying a TCP connection to the jail every 100 ms, as `NANOSECONDS ok|fail`
 * lines; stop() ends it by its pid and returns the longest outage it saw, in ms.
 */
function prober(host: string) {
  const log = `/tmp/ferry-probe-${process.pid}.log`
  const loop = `while :; do if timeout 0.3 bash --norc -c 'exec 3<>/dev/tcp/${ADDRESS}/80' 2>/dev/null; then s=ok; else s=fail; fi; echo "$(date +%s%N) $s"; sleep 0.1; done`
  const pid = sh(host, `setsid sh -c ${quote(loop)} > ${log} 2>&1 < /dev/null & echo $!`).trim()
  return {
    stop(): { probes: number; failed: number; outageMs: number; gapMs: number } {
      sh(host, `kill -- -${pid}`) // setsid made it a group leader: its children go too
      const rows = sh(host, `cat ${log}; rm -f ${log}`)
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .map(([t, s]) => ({ t: Number(t) / 1e6, ok: s === 'ok' }))
      // An outage runs from its first failed probe to the next probe that succeeds.
      let longest = 0
      let since: number | undefined
      for (const r of rows) {
        if (!r.ok) since ??= r.t
        else if (since !== undefined) {
          longest = Math.max(longest, r.t - since)
          since = undefined
        }
      }
      if (since !== undefined) longest = Infinity // it never came back
      // The widest spacing of probes: how finely an outage was timed.
      const gapMs = Math.max(...rows.slice(1).map((r, i) => r.t - rows[i]!.t))
      return { probes: rows.length, failed: rows.filter((r) => !r.ok).length, outageMs: longest, gapMs }
    },
  }
}

beforeAll(async () => {
  if (process.env.FERRY_LAB_SKIP === '1') return
  const state = tempDir()
  const deployed = await ferry(['run', 'deploy-mesh', '-i', 'lab', '--format', 'json', '--state-dir', state])
  expect(deployed.code, deployed.stderr).toBe(0)
  mesh = { runId: JSON.parse(deployed.stdout).runId, state }
}, 300_000)

afterAll(async () => {
  if (!mesh) return
  for (const h of MESH) removeJail(h)
  const undo = await ferry(['rollback', mesh.runId, '--state-dir', mesh.state])
  expect(undo.code, undo.stdout).toBe(0)
}, 120_000)

/** The jail, fresh, on lab2 only, and routed: what every test starts from. */
async function jailOnLab2(mb: number): Promise<void> {
  makeJail('lab2', mb)
  expect(await waitFor(20_000, () => reaches('lab3')), 'lab3 reaches the new jail on lab2').toBeDefined()
}

it('asks for what is missing, and without a terminal names the flags instead (exit 64)', async () => {
  await jailOnLab2(1)
  const none = await migrateJail([])
  expect(none.code, none.stderr).toBe(64)
  expect(none.stderr).toContain('missing params: --param jail=<string> --param to=<string> (no terminal to ask on)')
  // The plan is shown, but a move needs a yes.
  const unconfirmed = await migrateJail(['jail=web', 'to=lab4'])
  expect(unconfirmed.code, unconfirmed.stderr).toBe(64)
  expect(unconfirmed.stderr).toContain('missing params: --param yes=true (no terminal to confirm on)')
  expect(unconfirmed.stderr).toMatch(/Move jail web \(172\.16\.3\.17\/32, tank\/jails\/web\) from lab2 to lab4/)
  const bad = await migrateJail(['jail=web', 'to=lab2', 'yes=true'])
  expect(bad.code).toBe(64)
  expect(bad.stderr).toContain('--param to=lab2: cannot take jail web: it is the source')
  // A dry run needs no yes: it shows the six phases and changes nothing.
  const dry = await migrateJail(['jail=web', 'to=lab4'], ['--dry-run'])
  expect(dry.code, dry.stderr).toBe(2)
  expect(dry.stdout.match(/^lab2: {3}~ \S.*$/gm)).toEqual(
    ['preflight', 'seed', 'catch-up 1', 'cut-over', 'verify', 'clean-up'].map((s) => `lab2:   ~ ${s}`),
  )
  expect(dry.stdout).toMatch(
    /send tank\/jails\/web@ferry-\d{14}-[0-9a-f]{4}-seed in full \([\d.]+ MB\) from lab2 to lab4 while the jail runs/,
  )
  expect(runningOn()).toEqual(['lab2'])
  expect(datasets('lab2')).toBe(LAB_JAIL.dataset)
  expect(datasets('lab4')).toBe('')
  expect(sh('lab2', `test -e ${LOCK} && echo locked || true`)).toBe('')
}, 120_000)

it('moves a 200 MB jail two hops away with ≤ 2 s downtime, intact, routed there; a concurrent move is locked out', async () => {
  await jailOnLab2(200)
  const before = checksum('lab2')
  const client = prober('lab3')
  let outcome
  try {
    const run = migrate('lab4')
    // While it runs, the same jail cannot be moved again, not even elsewhere: the run holds lab2
    // (the jail's own lock stands behind that, for a run that broke the host's).
    expect(
      await waitFor(60_000, () => sh('lab2', `test -d ${LOCK} && echo held || true`) === 'held\n'),
      'the lock appears on lab2',
    ).toBeDefined()
    const second = await migrate('lab5')
    expect(second.code, second.stderr).toBe(1)
    expect(hostResult(second).error).toMatch(/^lab2 is locked by run \S+ \(controller /)
    const first = await run
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0)
    expect(hostResult(first).steps.map((s) => `${s.name} ${s.status}`)).toEqual(
      ['preflight', 'seed', 'catch-up 1', 'cut-over', 'verify', 'clean-up'].map((s) => `${s} changed`),
    )
  } finally {
    outcome = client.stop()
  }
  console.log(
    `migrate-jail: 200 MB lab2 → lab4, downtime ${(outcome.outageMs / 1000).toFixed(2)} s seen by lab3 (${outcome.failed} of ${outcome.probes} probes failed, at most ${(outcome.gapMs / 1000).toFixed(2)} s apart)`,
  )
  // The prober ran through the whole move. An outage may start just after the last probe that
  // got through, so the real downtime is at most the measured one plus the widest spacing of
  // probes: that sum is what must stay within 2 s. (A fixed bound on the spacing alone failed CI
  // at 628 ms, with a 0.91 s outage, while zfs send and the relay had both cores.)
  expect(outcome.probes).toBeGreaterThanOrEqual(10)
  expect(outcome.outageMs + outcome.gapMs).toBeLessThanOrEqual(2000)

  expect(runningOn()).toEqual(['lab4'])
  expect(checksum('lab4')).toBe(before)
  // Routing followed the jail: lab3 sends it the way it sends lab4's loopback.
  expect(nextHop('lab3', ADDRESS)).toBe(nextHop('lab3', '10.0.0.4'))
  // The source keeps its copy, renamed, and nothing else of the jail; the lock is gone.
  const kept = datasets('lab2')
    .split('\n')
    .filter((d) => !d.includes('@'))
  expect(kept).toEqual([expect.stringMatching(/^tank\/jails\/web-moved-ferry-\d{14}-[0-9a-f]{4}$/)])
  sh('lab2', `zfs mount ${kept[0]}`) // kept unmounted
  expect(checksum('lab2', kept[0])).toBe(before)
  expect(sh('lab2', `ls /etc/ferry/jails/ ${LOCK} 2>&1 || true`)).not.toMatch(/web\.conf|web\.autostart|^tag/m)
  // The destination keeps the final snapshot only, and has the definition and autostart.
  expect(datasets('lab4')).toMatch(/^tank\/jails\/web\ntank\/jails\/web@ferry-\d{14}-[0-9a-f]{4}-final$/)
  expect(sh('lab4', 'ls /etc/ferry/jails/')).toBe('web.autostart\nweb.conf\n')
}, 240_000)

it('on hosts whose login costs 2 s, the cut-over waits for no login shell: still ≤ 2 s downtime', async () => {
  await jailOnLab2(20)
  const client = prober('lab3')
  let outcome
  // Every SSH command now pays 2 s of root's .bashrc. The session shells and the standby
  // channels for the transfers start before the jail stops, so the cut-over pays none of it.
  setRcCost(2000)
  try {
    const run = await migrate('lab4')
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0)
  } finally {
    setRcCost(0)
    outcome = client.stop()
  }
  console.log(
    `migrate-jail, 2 s logins: 20 MB lab2 → lab4, downtime ${(outcome.outageMs / 1000).toFixed(2)} s seen by lab3 (${outcome.failed} of ${outcome.probes} probes failed, at most ${(outcome.gapMs / 1000).toFixed(2)} s apart)`,
  )
  expect(outcome.probes).toBeGreaterThanOrEqual(10)
  expect(outcome.outageMs + outcome.gapMs).toBeLessThanOrEqual(2000)
  expect(runningOn()).toEqual(['lab4'])
}, 240_000)

it('rolls back when the transfer is killed mid-stream: still serving at the source, nothing left at the destination', async () => {
  await jailOnLab2(200)
  const run = migrate('lab4')
  // zfs receive on lab4, found by the kernel's view of that host; once it is there, data flows.
  let pid: number | undefined
  expect(
    await waitFor(60_000, () => (pid = pidIn('lab4', ['zfs', 'receive'])) !== undefined, { every: 20 }),
    'zfs receive started on lab4',
  ).toBeDefined()
  await sleep(300)
  process.kill(pid!, 'SIGKILL')
  const result = await run
  expect(result.code).toBe(1)
  const host = hostResult(result)
  expect(host.status).toBe('rolled-back')
  expect(host.error).toMatch(
    /^seed: transfer failed after \d+ bytes: zfs receive on lab4 exited 137: Killed; zfs send on lab2 was stopped$/,
  )
  expect(runningOn()).toEqual(['lab2'])
  expect(reaches('lab3')).toBe(true)
  expect(datasets('lab4')).toBe('')
  expect(datasets('lab2')).toBe(LAB_JAIL.dataset) // no snapshot of this migration left either
  expect(sh('lab2', `test -e ${LOCK} && echo locked || true`)).toBe('')
}, 180_000)

it('a controller killed mid-stream leaves the jail serving; ferry rollback then clears its snapshot and lock', async () => {
  await jailOnLab2(200)
  const state = tempDir()
  const run = migrateJail(['jail=web', 'to=lab4', 'yes=true'], ['--format', 'json'], state)
  expect(
    await waitFor(60_000, () => pidIn('lab4', ['zfs', 'receive']) !== undefined, { every: 20 }),
    'zfs receive started on lab4',
  ).toBeDefined()
  process.kill(run.pid, 'SIGKILL')
  expect((await run).code).not.toBe(0)
  // Nothing was undone, but the jail never stopped; a truncated stream leaves nothing behind.
  expect(reaches('lab3')).toBe(true)
  expect(await waitFor(10_000, () => datasets('lab4') === ''), 'lab4 has nothing of the jail').toBeDefined()
  expect(datasets('lab2')).toMatch(/^tank\/jails\/web\ntank\/jails\/web@ferry-\d{14}-[0-9a-f]{4}-seed$/)
  expect(sh('lab2', `cat ${LOCK}/tag`)).toMatch(/^ferry-/)
  const runId = /^(\d{8}-\d{6}-[0-9a-f]+) /m.exec((await ferry(['history', '--state-dir', state])).stdout)![1]!
  const undo = await ferry(['rollback', runId, '--state-dir', state])
  expect(undo.code, undo.stdout).toBe(0)
  expect(undo.stdout).toBe('lab2: undid seed\nlab2: undid preflight\n')
  expect(datasets('lab2')).toBe(LAB_JAIL.dataset)
  expect(sh('lab2', `test -e ${LOCK} && echo locked || true`)).toBe('')
  expect(runningOn()).toEqual(['lab2'])
}, 180_000)

it('rolls back when the jail will not start at the destination: serving at the source again, autostart restored', async () => {
  await jailOnLab2(20)
  // Something already listens on port 80 of every address of lab4, so the jail cannot bind there.
  const squatter = sh(
    'lab4',
    'setsid python3 -m http.server 80 --bind 0.0.0.0 > /dev/null 2>&1 < /dev/null & echo $!',
  ).trim()
  try {
    expect(await waitFor(5_000, () => sh('lab4', 'ss -Hltn sport = :80') !== ''), 'the squatter listens').toBeDefined()
    const result = await migrate('lab4')
    expect(result.code).toBe(1)
    const host = hostResult(result)
    expect(host.status).toBe('rolled-back')
    expect(host.error).toMatch(/^cut-over: jail web exited while starting/)
    expect(host.steps.map((s) => `${s.name} ${s.status}`)).toEqual([
      'preflight rolled-back',
      'seed rolled-back',
      'catch-up 1 rolled-back',
      'cut-over rolled-back',
      'verify skipped',
      'clean-up skipped',
    ])
  } finally {
    sh('lab4', `kill ${squatter}`)
  }
  expect(runningOn()).toEqual(['lab2'])
  expect(await waitFor(20_000, () => reaches('lab3')), 'lab3 reaches the jail on lab2 again').toBeDefined()
  expect(sh('lab2', 'ls /etc/ferry/jails/')).toBe('web.autostart\nweb.conf\n')
  expect(datasets('lab2')).toBe(LAB_JAIL.dataset)
  expect(datasets('lab4')).toBe('')
  expect(sh('lab4', `ls /etc/ferry/jails/ 2>/dev/null; ip -o addr show dev lo | grep -c ${ADDRESS} || true`)).toBe(
    '0\n',
  )
}, 180_000)

it('direct=true has the source send over its own ssh, which must trust the destination', async () => {
  await jailOnLab2(20)
  const before = checksum('lab2')
  // Without a key for lab4, the source cannot send: the move fails and is rolled back.
  const untrusted = await migrate('lab4', '--param', 'direct=true')
  expect(untrusted.code).toBe(1)
  expect(hostResult(untrusted).error).toMatch(/^seed: [\s\S]*(Permission denied|Host key verification failed)/)
  expect(runningOn()).toEqual(['lab2'])
  expect(datasets('lab4')).toBe('')
  // lab2 now has the lab's key and lab4's host key, in its own copy-on-write /root.
  const known = readFileSync(LAB_KNOWN_HOSTS, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${ADDRESSES.lab4} `))
    .join('\n')
  try {
    sh(
      'lab2',
      'mkdir -p /root/.ssh && cat > /root/.ssh/ferry-direct && chmod 600 /root/.ssh/ferry-direct',
      readFileSync(LAB_KEY, 'utf8'),
    )
    sh(
      'lab2',
      `cat > /root/.ssh/known_hosts && printf 'Host ${ADDRESSES.lab4}\\n  IdentityFile /root/.ssh/ferry-direct\\n' > /root/.ssh/config`,
      `${known}\n`,
    )
    const trusted = await migrate('lab4', '--param', 'direct=true')
    expect(trusted.code, `${trusted.stdout}\n${trusted.stderr}`).toBe(0)
  } finally {
    sh('lab2', 'rm -f /root/.ssh/ferry-direct /root/.ssh/known_hosts /root/.ssh/config')
  }
  expect(runningOn()).toEqual(['lab4'])
  expect(checksum('lab4')).toBe(before)
}, 180_000)

it('on a terminal, asks which jail, where to and whether to go, then moves it showing progress', async () => {
  await jailOnLab2(300) // big enough to be seen streaming for a while
  const session = `ferry-migrate-${process.pid}`
  tmux(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    '200',
    '-y',
    '50',
    `cd ${ROOT} && node bin/ferry.mjs run migrate-jail -i lab --state-dir ${tempDir()}; echo "EXIT=$?"; sleep 120`,
  )
  try {
    // Which jail: a search list with host, address, dataset and size.
    // The search list fills in a moment after its title.
    const jails = await screenShows(session, 'web  on lab2')
    expect(jails).toMatch(/web {2}on lab2 {2}172\.16\.3\.17\/32 {2}tank\/jails\/web {2}\d+(\.\d)? MB/)
    tmux('send-keys', '-t', session, '-l', 'web')
    tmux('send-keys', '-t', session, 'Enter')
    // Where to: hosts with room, never the source, in order. The list fills in a moment after
    // its title, once every host has been asked.
    const targets = await screenShows(session, /lab1 {2}\d+ MB free in tank/)
    expect(targets).toContain('Move web from lab2 to')
    expect(targets).not.toMatch(/lab2 {2}\d+ MB free/)
    tmux('send-keys', '-t', session, 'Down')
    tmux('send-keys', '-t', session, 'Enter') // lab3
    const plan = await screenShows(session, 'Proceed?')
    expect(plan).toContain('Move jail web (172.16.3.17/32, tank/jails/web) from lab2 to lab3:')
    expect(plan).toMatch(/expected downtime about \d+ s/)
    tmux('send-keys', '-t', session, 'y')
    tmux('send-keys', '-t', session, 'Enter')
    // The host's line shows the stream going: bytes, of how many, rate, and time left.
    await screenShows(session, /lab2: seed: \d+ MB of \d+ MB at \d+ MB\/s, ETA \d+ s/, 60_000, 50)
    const done = await screenShows(session, 'EXIT=', 120_000)
    expect(done, done).toContain('EXIT=0')
  } finally {
    tmux('kill-session', '-t', session)
  }
  expect(runningOn()).toEqual(['lab3'])
  expect(reaches('lab1')).toBe(true)
}, 240_000)
