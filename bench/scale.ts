// Scale: how a run grows with the host count. A 10-step no-op runbook (bench/scale-runbook.ts) on
// the first 50, 200 and 500 hosts of the scale lab (lab/scale.ts: sshd-only hosts), each count
// first converged (not timed), then its no-op run timed three times: the whole command as an
// operator runs it (`ferry run … --forks 100 --format json`), its wall time, and the peak RSS of
// the ferry process. The lab hosts run on this same machine, so every host's sshd and shells
// share its cores with the controller: the notes split the CPU between the two, and say what a
// controller with its hosts elsewhere would need.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { REPO } from '../lab/lab.ts'
import { SCALE_INVENTORY, loadScaleState, scaleDown, scaleHostNames, scaleUp } from '../lab/scale.ts'
import { quoteArgv } from '../src/shell/quote.ts'
import { HZ, cpuFields, hostsJiffies, median, type Row, type Section } from './run.ts'

const COUNTS = [50, 200, 500] as const
const ROUNDS = 3
const FORKS = 100
/** Also timed on a terminal, where past 40 hosts ferry shows one line of counts. */
const TTY_COUNTS = [50, 500] as const
const GOAL_SECONDS = 15
const GOAL_MB = 500
const RUNBOOK = join(REPO, 'bench/scale-runbook.ts')
const FERRY = join(REPO, 'bin/ferry.mjs')
const TIME = '/usr/bin/time' // GNU time: peak RSS from wait4's rusage, exact

interface Measured {
  seconds: number
  /** Peak RSS of the ferry (node) process. */
  rssMb: number
  /** user + sys of the ferry process. */
  controllerCpu: number
  /** user + sys of the selected hosts' sshd and everything they ran. */
  hostsCpu: number
  /** Busy CPU time of the whole machine (every core: user, nice, system, irq, softirq, steal). */
  busyCpu: number
  code: number
  stdout: string
  stderr: string
}

interface RunJson {
  summary: { ok: number; changed: number; failed: number; unreachable: number }
  hosts: { name: string; status: string; error?: string }[]
  stats?: Record<string, { roundTrips: number }>
}

const log = (line: string) => console.error(`bench: scale: ${line}`)
const tmp = (prefix: string, base = tmpdir()) => fs.mkdtempSync(join(base, prefix))

/** Busy jiffies of the whole machine, from /proc/stat's first line. */
function machineBusy(): number {
  const [, user, nice, system, , , irq, softirq, steal] = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .map(Number)
  return user! + nice! + system! + irq! + softirq! + steal!
}

/**
 * Runs ferry with these arguments and measures it. Under GNU time when there is one; otherwise
 * VmHWM and the CPU times are polled from /proc while it runs. With `tty`, it runs on a terminal
 * (script(1)), as an operator sees it.
 */
async function measure(
  args: string[],
  hostPids: number[],
  opts: { tty?: boolean; nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<Measured> {
  const argv = [process.execPath, ...(opts.nodeArgs ?? []), FERRY, ...args]
  const timeFile = join(tmp('ferry-bench-time-'), 'time')
  const gnuTime = fs.existsSync(TIME)
  const timed = gnuTime ? [TIME, '-f', '%e %M %U %S', '-o', timeFile, ...argv] : argv
  const command = opts.tty ? ['script', '-qfec', quoteArgv(timed), '/dev/null'] : timed
  const [busy0, hosts0] = [machineBusy(), hostsJiffies(hostPids)]
  const t0 = process.hrtime.bigint()
  const child = spawn(command[0]!, command.slice(1), {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    stdout += c
  })
  child.stderr.on('data', (c: Buffer) => {
    stderr += c
  })
  // Without GNU time: the last VmHWM and CPU times seen (VmHWM only grows).
  let polled = { rssKb: 0, cpu: 0 }
  const poll =
    gnuTime || opts.tty
      ? undefined
      : setInterval(() => {
          try {
            const rss = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))
            const [user, system] = cpuFields(child.pid!)
            polled = { rssKb: Number(rss?.[1] ?? 0), cpu: (user + system) / HZ }
          } catch {
            /* exiting */
          }
        }, 20)
  const code = await new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? -1)))
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  if (poll) clearInterval(poll)
  // The hosts' sshd reap each connection's process a moment after it closes.
  await sleep(300)
  const [busy1, hosts1] = [machineBusy(), hostsJiffies(hostPids)]
  let rssKb = polled.rssKb
  let controllerCpu = polled.cpu
  if (gnuTime) {
    // GNU time writes "Command exited with non-zero status N" first when it did.
    const last = fs.readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number)
    rssKb = last[1]!
    controllerCpu = last[2]! + last[3]!
  }
  fs.rmSync(join(timeFile, '..'), { recursive: true, force: true })
  return {
    seconds,
    rssMb: rssKb / 1024,
    controllerCpu,
    hostsCpu: (hosts1 - hosts0) / HZ,
    busyCpu: (busy1 - busy0) / HZ,
    code,
    stdout,
    stderr,
  }
}

function parseRun(m: Measured, what: string): RunJson {
  try {
    return JSON.parse(m.stdout) as RunJson
  } catch {
    throw new Error(`${what}: no JSON report (exit ${m.code}):\n${m.stderr.slice(-3000)}`)
  }
}

/** Fails unless the run did what it should: every host converged, or every host ok (a no-op). */
function check(m: Measured, n: number, what: string, noop: boolean): RunJson {
  const r = parseRun(m, what)
  const bad = r.hosts.filter((h) => (noop ? h.status !== 'ok' : h.status !== 'ok' && h.status !== 'changed'))
  if (m.code !== 0 || r.hosts.length !== n || bad.length) {
    throw new Error(
      `${what}: exit ${m.code}, ${r.hosts.length} of ${n} hosts reported; not ${noop ? 'ok' : 'converged'}: ` +
        `${bad
          .slice(0, 5)
          .map((h) => `${h.name} ${h.status}${h.error ? ` (${h.error.split('\n')[0]})` : ''}`)
          .join('; ')}${bad.length > 5 ? `; and ${bad.length - 5} more` : ''}`,
    )
  }
  return r
}

/** Where the controller's samples went, from a V8 CPU profile: shares by area, most first. */
function profileShares(dir: string): string {
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (!file) return 'no profile written'
  const p = JSON.parse(fs.readFileSync(join(dir, file), 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string } }[]
    samples: number[]
    timeDeltas: number[]
  }
  const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]))
  const areas: [string, (fn: string, url: string) => boolean][] = [
    ['idle', (fn) => fn === '(idle)'],
    [
      'socket writes (each write runs the kernel path through veth and bridge into the host and wakes its sshd, which then holds the core)',
      (fn) => /^(writeBuffer|writev|writeUtf8String|writeLatin1String)$/.test(fn),
    ],
    [
      'SSH protocol and crypto (ssh2, node:crypto)',
      (fn, url) => /ssh2\/lib|node:internal\/crypto|asn1/.test(url) || /OneShot|diffieHellman|randomFill/.test(fn),
    ],
    [
      'journal (SQLite: a transaction with an fsync per step of every host, ~11 per host)',
      (fn, url) => /better-sqlite3|src\/journal/.test(url) || fn === 'sqliteTransaction',
    ],
    ['known_hosts', (_, url) => url.includes('known-hosts')],
    ['garbage collection', (fn) => fn === '(garbage collector)'],
    [
      'progress output (listr2)',
      (_, url) => /listr2|log-update|wrap-ansi|string-width|slice-ansi|eventemitter3/.test(url),
    ],
    [
      'loading modules (the bundle, jiti for the runbook, V8 compile)',
      (fn, url) => /jiti|node:internal\/modules|node:vm/.test(url) || /compile/i.test(fn),
    ],
    ['streams, events and promises (node)', (_, url) => /^node:/.test(url)],
    ['ferry (engine, shell, steps)', (_, url) => url.includes('/src/')],
  ]
  const totals = new Map<string, number>()
  let all = 0
  p.samples.forEach((id, i) => {
    const f = frames.get(id)!
    const dt = p.timeDeltas[i] ?? 0
    const area = areas.find(([, test]) => test(f.functionName, f.url))?.[0] ?? 'other'
    totals.set(area, (totals.get(area) ?? 0) + dt)
    all += dt
  })
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .filter(([, t]) => t / all >= 0.01)
    .map(([area, t]) => `${area} ${Math.round((100 * t) / all)}%`)
    .join(', ')
}

const s = (x: number) => `${x.toFixed(2)} s`
const mb = (x: number) => `${Math.round(x)} MB`
const list = (xs: number[], f: (x: number) => string) => xs.map(f).join(', ')

/** The resident memory of the keeper serving a state dir's socket (found by its argv in /proc). */
function keeperRssMb(stateDir: string): number {
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      if (!argv.includes('keeper') || !argv.some((a) => a.startsWith(`${stateDir}/keeper-`))) continue
      return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024
    } catch {
      /* gone meanwhile */
    }
  }
  return NaN
}

export async function scaleBench(): Promise<Section> {
  const max = Math.max(...COUNTS)
  const t0 = performance.now()
  const up = await scaleUp(max, log)
  const upSeconds = (performance.now() - t0) / 1000
  const { hosts } = loadScaleState()
  const pidsOf = (n: number) => scaleHostNames(n).map((name) => hosts[name]!.pid)
  const state = tmp('ferry-bench-scale-')
  const run = (n: number, extra: string[] = [], stateDir = state) => [
    'run',
    RUNBOOK,
    '-i',
    SCALE_INVENTORY,
    '--limit',
    scaleHostNames(n).join(','),
    '--forks',
    String(FORKS),
    '--state-dir',
    stateDir,
    ...extra,
  ]
  const results = new Map<number, Measured[]>()
  const converge = new Map<number, Measured>()
  const notes: string[] = []
  const startup: number[] = []
  const kept: Measured[] = []
  let keeperMb = NaN
  let extras = ''
  try {
    // One after another: three at once on two cores would measure the contention.
    for (let i = 0; i < 3; i++) startup.push((await measure(['--version'], [])).seconds)
    for (const n of COUNTS) {
      log(`${n} hosts: converging`)
      const c = await measure(run(n, ['--format', 'json']), pidsOf(n))
      check(c, n, `converging ${n} hosts`, false)
      converge.set(n, c)
      const rounds: Measured[] = []
      for (let i = 0; i < ROUNDS; i++) {
        log(`${n} hosts: no-op run ${i + 1} of ${ROUNDS}`)
        const m = await measure(run(n, ['--format', 'json', '--stats']), pidsOf(n))
        const r = check(m, n, `no-op run on ${n} hosts`, true)
        const trips = Object.values(r.stats ?? {}).map((t) => t.roundTrips)
        if (trips.length !== n || trips.some((t) => t !== 3))
          throw new Error(
            `no-op run on ${n} hosts: round trips per host ${[...new Set(trips)].join('/')} (want 3 each)`,
          )
        rounds.push(m)
      }
      results.set(n, rounds)
    }

    // Where the time goes at the largest count: one run each.
    log(`${max} hosts: text output, the journal on a tmpfs, a CPU profile`)
    const text = await measure(run(max, ['--format', 'text']), pidsOf(max))
    if (text.code !== 0) throw new Error(`text run on ${max} hosts: exit ${text.code}\n${text.stderr.slice(-2000)}`)
    const shmState = tmp('ferry-bench-scale-', '/dev/shm')
    const shm = await measure(run(max, ['--format', 'json'], shmState), pidsOf(max))
    check(shm, max, `no-op run on ${max} hosts, journal on /dev/shm`, true)
    fs.rmSync(shmState, { recursive: true, force: true })
    const profDir = tmp('ferry-bench-prof-')
    const prof = await measure(run(max, ['--format', 'json']), pidsOf(max), {
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
      env: { FERRY_FROM_SOURCE: '1' },
    })
    check(prof, max, `profiled no-op run on ${max} hosts`, true)
    const shares = profileShares(profDir)
    fs.rmSync(profDir, { recursive: true, force: true })
    const base = median(results.get(max)!.map((m) => m.seconds))
    extras =
      `At ${max} hosts, one run each: text output (not a terminal) ${s(text.seconds)}; the journal on a tmpfs (/dev/shm: no fsync cost) ${s(shm.seconds)} against ${s(base)} on disk. ` +
      `A V8 CPU profile of the controller, run from the sources so that samples name ferry's files (wall-clock samples of its main thread, so time spent waiting for a core on this busy machine is charged to whatever was running): ${shares}.`

    // The connections kept from the run before (--persist), as for a controller that runs often:
    // one untimed run hands them to the keeper, the timed ones use them.
    log(`${max} hosts: no-op runs with the connections kept (--persist)`)
    check(
      await measure(run(max, ['--format', 'json', '--persist', '10m']), pidsOf(max)),
      max,
      `no-op run on ${max} hosts starting the keeper`,
      true,
    )
    for (let i = 0; i < ROUNDS; i++) {
      const m = await measure(run(max, ['--format', 'json', '--stats', '--persist', '10m']), pidsOf(max))
      const r = check(m, max, `no-op run on ${max} hosts with kept connections`, true)
      const stats = Object.values(r.stats ?? {}) as { roundTrips: number; kept?: boolean }[]
      if (stats.length !== max || !stats.every((t) => t.kept && t.roundTrips === 3))
        throw new Error(
          `no-op run on ${max} hosts with --persist: not every host used a kept connection in 3 round trips`,
        )
      kept.push(m)
    }
    keeperMb = keeperRssMb(state)
    spawnSync(process.execPath, [FERRY, 'connections', '--close', '--state-dir', state])

    // On a terminal: past 40 hosts one line of counts, not listr2's task list.
    if (spawnSync('script', ['--version']).status === 0) {
      const tty: string[] = []
      for (const n of TTY_COUNTS) {
        log(`${n} hosts on a terminal`)
        const t = await measure(run(n), pidsOf(n), { tty: true })
        const json = median(results.get(n)?.map((m) => m.seconds) ?? [NaN])
        tty.push(
          `${n} hosts ${s(t.seconds)} (controller CPU ${s(t.controllerCpu)}, ${mb(t.rssMb)}, exit ${t.code})${Number.isNaN(json) ? '' : ` against ${s(json)} with --format json`}`,
        )
      }
      notes.push(
        `On a terminal (script(1) gives ferry a tty), where past 40 hosts ferry draws one line of counts at most five times a second: ${tty.join('; ')}. ` +
          "Before, listr2's task list redrew every host's line on every step event, which grows with the square of the host count: measured once at 500 hosts, 658 s, 488 s of controller CPU, 814 MB, and 200 hosts reported unreachable because rendering starved the event loop past the SSH handshake timeout.",
      )
    } else {
      notes.push('script(1) is missing, so the run on a terminal was not measured.')
    }
  } finally {
    log('bringing the scale hosts down')
    await scaleDown()
    fs.rmSync(state, { recursive: true, force: true })
  }

  const med = (n: number, f: (m: Measured) => number) => median(results.get(n)!.map(f))
  const [lo, hi] = [Math.min(...COUNTS), max]
  const t = (n: number) => med(n, (m) => m.seconds)
  const rows: Row[] = COUNTS.map((n) => ({
    what: `${n} hosts: 10-step no-op run (3 round trips per host), median of ${ROUNDS}, whole command`,
    ferry: `${s(t(n))} · ${mb(med(n, (m) => m.rssMb))} peak RSS`,
    other: `CPU: ferry ${s(med(n, (m) => m.controllerCpu))}, hosts' sshd and shells ${s(med(n, (m) => m.hostsCpu))}`,
    ratio: n === lo ? '1.0× (base)' : `${(t(n) / t(lo)).toFixed(1)}× the time for ${n / lo}× the hosts`,
    goal: n === hi ? `≤ ${GOAL_SECONDS} s` : '—',
    met: n === hi ? t(n) <= GOAL_SECONDS : true,
  }))
  const keptSeconds = median(kept.map((m) => m.seconds))
  rows.push({
    what: `${hi} hosts: the same no-op run with the connections kept from the run before (--persist 10m), median of ${ROUNDS}, whole command`,
    ferry: `${s(keptSeconds)} · ${mb(median(kept.map((m) => m.rssMb)))} peak RSS`,
    other: `CPU: ferry ${s(median(kept.map((m) => m.controllerCpu)))}; the keeper holding ${hi} connections: ${mb(keeperMb)} RSS`,
    ratio: `${(keptSeconds / t(hi)).toFixed(2)}× the time with new connections`,
    goal: `≤ ${GOAL_SECONDS} s`,
    met: keptSeconds <= GOAL_SECONDS,
  })
  const rss = Math.max(...results.get(hi)!.map((m) => m.rssMb))
  rows.push({
    what: `${hi} hosts: peak RSS of the ferry process, worst of ${ROUNDS}`,
    ferry: mb(rss),
    other: '—',
    ratio: `${(rss / Math.max(...results.get(lo)!.map((m) => m.rssMb))).toFixed(1)}× that at ${lo} hosts`,
    goal: `≤ ${GOAL_MB} MB`,
    met: rss <= GOAL_MB,
  })

  const slope = (t(hi) - t(lo)) / (hi - lo)
  const ctl = (n: number) => med(n, (m) => m.controllerCpu)
  const hostsCpu = (n: number) => med(n, (m) => m.hostsCpu)
  const busy = med(hi, (m) => m.busyCpu)
  const cores = cpus().length
  const memSlope = (med(hi, (m) => m.rssMb) - med(lo, (m) => m.rssMb)) / (hi - lo)
  return {
    title: `Scale: a 10-step no-op runbook on ${COUNTS.join(', ')} sshd-only lab hosts (--forks ${FORKS}, --format json)`,
    rows,
    notes: [
      `With kept connections (${hi} hosts): ${list(
        kept.map((m) => m.seconds),
        s,
      )}. Each host then costs no TCP or SSH handshake, and its sshd no fork and re-exec: see \`--persist\` in README's SSH section. The hosts' CPU is not measured for these runs, as the kept connections' sshd processes have not exited to be counted.`,
      `Runs (wall): ${COUNTS.map(
        (n) =>
          `${n} hosts ${list(
            results.get(n)!.map((m) => m.seconds),
            s,
          )}`,
      ).join(
        '; ',
      )}. Converging first (not timed): ${COUNTS.map((n) => `${n} hosts ${s(converge.get(n)!.seconds)}`).join(', ')}.`,
      `Growth: linear, ${(slope * 1000).toFixed(1)} ms of wall time per host (the slope from ${lo} to ${hi} hosts) on top of ~${s(Math.max(0, t(lo) - lo * slope))} fixed, which is about what starting the process costs (node and ferry's bundle: \`ferry --version\` takes ${s(median(startup))}); ${COUNTS.map((n) => `${((t(n) / n) * 1000).toFixed(0)} ms per host at ${n}`).join(', ')}. Memory: ${memSlope.toFixed(2)} MB more per host.`,
      `Where the time goes at ${hi} hosts: this machine's ${cores} cores were busy ${s(busy)} in all (${Math.round((100 * busy) / (cores * t(hi)))}% of ${cores} × the wall time): ferry ${s(ctl(hi))} (${((ctl(hi) / hi) * 1000).toFixed(1)} ms per host), the hosts' sshd and everything it ran ${s(hostsCpu(hi))} (${((hostsCpu(hi) / hi) * 1000).toFixed(0)} ms per host: an sshd fork and re-exec, key exchange, two sessions each starting bash, sh -c and sh -s, and the probe's ~15 commands: mkdir, ls and cat per file, sysctl, getent), and the rest (${s(Math.max(0, busy - ctl(hi) - hostsCpu(hi)))}) the kernel's network path and other processes. The run is CPU-bound, and the hosts, not ferry, take most of it: they share the controller's cores here, where in a real fleet each host spends its own.`,
      `So the wall-time goal with new connections is ${t(hi) <= GOAL_SECONDS ? 'met even with the hosts on the same machine' : `missed on this machine because of the hosts: ferry itself needs ${s(ctl(hi))} of CPU for ${hi} hosts, within the ${GOAL_SECONDS} s, which is what a controller with its hosts elsewhere would need (plus network latency: 3 round trips per host, ${FORKS} hosts at a time)`}; with kept connections it is ${keptSeconds <= GOAL_SECONDS ? 'met' : 'missed'} (${s(keptSeconds)}).`,
      extras,
      ...notes,
      `The scale lab: ${hi} hosts came up in ${s(upSeconds)} (${up.started} started, ${up.kept} already up), each a netns with its own mount and UTS namespaces, overlay root, host key and sshd (lab/scale.ts), 500 hosts on one bridge, no ARP (permanent neighbour entries) and no IPv6. Round trips per host checked in every timed run (\`--stats\`: 3 each).`,
    ],
  }
}
