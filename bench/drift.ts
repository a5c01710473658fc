// Drift check speed: `ferry drift -i lab deploy-mesh` against the same check in Ansible,
// `ansible-playbook --check --diff` of bench/ansible/deploy-mesh.yml (Debian's ansible-core,
// pipelining on, forks 10), both on the same converged 5-host lab mesh, alternately, each the
// whole command as an operator would run it (process start included). Twice: with connections
// kept between commands (Ansible's default ControlPersist; ferry's --persist), and without.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO, loadState, up } from '../lab/lab.ts'
import { writeAnsibleInventory } from './ansible/inventory.ts'
import { HZ, ensureAnsible, hostsJiffies, median, timed, type Section } from './run.ts'

const ROUNDS = 5
// What a systemd unit (`ferry drift --install-timer`) or cron runs the check with: no environment
// but a PATH. This machine's own environment also has NODE_EXTRA_CA_CERTS, which makes every node
// process read a CA bundle as it starts.
const TIMER_ENV = ['env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']

export async function driftBench(): Promise<Section> {
  ensureAnsible()
  await up({ n: 5, log: (l) => console.error(`lab: ${l}`) })
  const state = mkdtempSync(join(tmpdir(), 'ferry-bench-'))
  const ferry = (...args: string[]) =>
    timed(process.execPath, [join(REPO, 'bin/ferry.mjs'), ...args, '--state-dir', state])
  const deployed = ferry('run', 'deploy-mesh', '-i', 'lab')
  if (deployed.code !== 0) throw new Error(`deploy-mesh failed:\n${deployed.out}`)
  const dir = mkdtempSync(join(tmpdir(), 'ferry-ansible-'))
  await writeAnsibleInventory(dir)
  const playbook = ['-i', join(dir, 'hosts.yml'), 'bench/ansible/deploy-mesh.yml', '--check', '--diff']
  const ansibleConfig = { ANSIBLE_CONFIG: join(REPO, 'bench/ansible/ansible.cfg') }
  const ansible = () => timed('ansible-playbook', playbook, ansibleConfig)
  // Without Ansible's default ssh_args (-C -o ControlMaster=auto -o ControlPersist=60s): a new
  // SSH connection for every task, as ferry without --persist connects afresh for every command.
  const ansibleFresh = () => timed('ansible-playbook', playbook, { ...ansibleConfig, ANSIBLE_SSH_ARGS: '' })
  const kept = (...args: string[]) => ferry(...args, '--persist', '10m')

  const hostPids = Object.values(loadState().hosts)
    .filter((h) => /^lab[1-5]$/.test(h.name))
    .map((h) => h.pid)
  const ferryRuns: number[] = []
  const cpuRuns: { ferry: number; hosts: number }[] = [] // CPU seconds each whole command cost
  const timerRuns: number[] = []
  const checkRuns: number[] = [] // the check alone, as ferry measures it: connect, probe, journal
  const startRuns: number[] = [] // node and ferry's bundle: `ferry --version`
  const nodeRuns: number[] = [] // node alone
  const bareNodeRuns: number[] = [] // node alone, without the CA bundle this machine makes it read
  const ansibleRuns: number[] = []
  const keptRuns: number[] = []
  const ansibleFreshRuns: number[] = []
  let ansibleOut = ''
  // Both keep their connections from a first run that is not timed.
  if (kept('drift', '-i', 'lab', 'deploy-mesh', '--format', 'json').code !== 0)
    throw new Error('ferry drift --persist found the mesh out of sync')
  if (ansible().code !== 0) throw new Error('ansible-playbook --check failed')
  for (let i = 0; i < ROUNDS; i++) {
    const k = kept('drift', '-i', 'lab', 'deploy-mesh', '--format', 'json')
    if (k.code !== 0) throw new Error(`ferry drift --persist failed (exit ${k.code}):\n${k.out.slice(0, 4000)}`)
    keptRuns.push(k.seconds)
    const hosts0 = hostsJiffies(hostPids)
    const f = ferry('drift', '-i', 'lab', 'deploy-mesh', '--format', 'json')
    // The hosts' sshd reaps a connection's processes as it closes, just after ferry exits.
    await new Promise((r) => setTimeout(r, 300))
    cpuRuns.push({ ferry: f.cpu, hosts: (hostsJiffies(hostPids) - hosts0) / HZ })
    if (f.code !== 0)
      throw new Error(`ferry drift found drift on the freshly deployed mesh (exit ${f.code}):\n${f.out.slice(0, 4000)}`)
    ferryRuns.push(f.seconds)
    checkRuns.push((JSON.parse(f.stdout) as { duration: number }).duration)
    const t = timed(TIMER_ENV[0]!, [
      ...TIMER_ENV.slice(1),
      process.execPath,
      join(REPO, 'bin/ferry.mjs'),
      'drift',
      '-i',
      'lab',
      'deploy-mesh',
      '--format',
      'json',
      '--state-dir',
      state,
    ])
    if (t.code !== 0)
      throw new Error(`ferry drift in a timer's environment failed (exit ${t.code}):\n${t.out.slice(0, 4000)}`)
    timerRuns.push(t.seconds)
    startRuns.push(timed(process.execPath, [join(REPO, 'bin/ferry.mjs'), '--version']).seconds)
    nodeRuns.push(timed(process.execPath, ['-e', '0']).seconds)
    bareNodeRuns.push(timed(process.execPath, ['-e', '0'], { NODE_EXTRA_CA_CERTS: undefined }).seconds)
    const a = ansible()
    if (a.code !== 0) throw new Error(`ansible-playbook --check failed (exit ${a.code}):\n${a.out.slice(-4000)}`)
    ansibleOut = a.out
    ansibleRuns.push(a.seconds)
    const af = ansibleFresh()
    if (af.code !== 0)
      throw new Error(
        `ansible-playbook --check without ControlPersist failed (exit ${af.code}):\n${af.out.slice(-4000)}`,
      )
    ansibleFreshRuns.push(af.seconds)
  }
  timed(process.execPath, [join(REPO, 'bin/ferry.mjs'), 'connections', '--close', '--state-dir', state])
  const warmRuns = await scheduledChecks(state, ROUNDS)
  const keptRatio = median(ansibleRuns) / median(keptRuns)
  const ratio = median(ansibleFreshRuns) / median(ferryRuns)
  const warmRatio = median(ansibleRuns) / median(warmRuns)
  const timerRatio = median(ansibleFreshRuns) / median(timerRuns)
  const [ferryCpu, hostsCpu] = [median(cpuRuns.map((c) => c.ferry)), median(cpuRuns.map((c) => c.hosts))]
  const cpuFloor = (ferryCpu + hostsCpu) / availableParallelism()
  const recap = ansibleOut
    .split('\n')
    .filter((l) => /^lab\d\s+:/.test(l))
    .map((l) => l.replace(/\s+/g, ' ').trim())
  const tasks = (ansibleOut.match(/^TASK \[/gm) ?? []).length
  return {
    title: 'Drift check of deploy-mesh on 5 lab hosts (ferry drift vs ansible-playbook --check --diff)',
    rows: [
      {
        what: `converged mesh, median of ${ROUNDS}, whole command, connections kept from the command before (ferry --persist 10m; Ansible's default ControlPersist)`,
        ferry: `${median(keptRuns).toFixed(2)} s`,
        other: `${median(ansibleRuns).toFixed(2)} s`,
        ratio: `${keptRatio.toFixed(1)}×`,
        goal: '≥ 30×',
        met: keptRatio >= 30,
      },
      {
        what: `the same with new connections (ferry without --persist; Ansible with ANSIBLE_SSH_ARGS empty, so no ControlPersist), median of ${ROUNDS}`,
        ferry: `${median(ferryRuns).toFixed(2)} s`,
        other: `${median(ansibleFreshRuns).toFixed(2)} s`,
        ratio: `${ratio.toFixed(1)}×`,
        goal: '—',
        met: true,
      },
      {
        what: `new connections, as the \`--install-timer\` unit or cron runs it (an environment of just PATH), median of ${ROUNDS}`,
        ferry: `${median(timerRuns).toFixed(2)} s`,
        other: `${median(ansibleFreshRuns).toFixed(2)} s`,
        ratio: `${timerRatio.toFixed(1)}×`,
        goal: '—',
        met: true,
      },
      {
        what: `the same check on a schedule (\`--every 1s\`, connections kept), median of ${ROUNDS}`,
        ferry: `${median(warmRuns).toFixed(2)} s`,
        other: `${median(ansibleRuns).toFixed(2)} s`,
        ratio: `${warmRatio.toFixed(1)}×`,
        goal: '≥ 30×',
        met: warmRatio >= 30,
      },
    ],
    notes: [
      `ferry runs: kept connections ${keptRuns.map((s) => `${s.toFixed(2)} s`).join(', ')}; new ones ${ferryRuns.map((s) => `${s.toFixed(2)} s`).join(', ')}; as a timer runs it ${timerRuns.map((s) => `${s.toFixed(2)} s`).join(', ')}. Ansible runs: ControlPersist ${ansibleRuns.map((s) => `${s.toFixed(2)} s`).join(', ')}; without ${ansibleFreshRuns.map((s) => `${s.toFixed(2)} s`).join(', ')}.`,
      "With --persist, a background process of ferry's (the keeper) holds each host's SSH connection after a command, and the next command runs its channels through it over a Unix socket: no TCP or SSH handshake, and the host's sshd forks no new connection process. That is what OpenSSH's ControlPersist does for Ansible, which turns it on by default (ssh_args -C -o ControlMaster=auto -o ControlPersist=60s); the untimed first run of each left the connections for the timed ones.",
      `Where the whole command's time goes (medians): ${median(startRuns).toFixed(2)} s starting the process (\`ferry --version\`: node and ferry's bundle), of which node alone takes ${median(nodeRuns).toFixed(2)} s${process.env.NODE_EXTRA_CA_CERTS ? ` (${median(bareNodeRuns).toFixed(2)} s without NODE_EXTRA_CA_CERTS, which this machine sets: node reads that CA bundle at every start)` : ''}; ${median(checkRuns).toFixed(2)} s the check itself with new connections (the inventory, the plans, 5 SSH handshakes in parallel, one batched probe per host, the journal); the rest is loading the runbook through jiti. The scheduled row is the check alone, with the process and its connections already up: what \`ferry drift --every\` costs per check. Its floor on this machine is the probes: each runs the host's own dpkg-query, frr init script and vtysh (~0.1 s of CPU), and the 5 hosts share ${availableParallelism()} cores with the controller.`,
      `What limits the whole command with new connections is CPU: each one took ${ferryCpu.toFixed(2)} s of CPU in ferry and ${hostsCpu.toFixed(2)} s in the five hosts (their sshd, shells, dpkg-query, init script and vtysh), medians, and all of it shares this machine's ${availableParallelism()} cores. Even packed perfectly onto them that is ${cpuFloor.toFixed(2)} s, ${(median(ansibleRuns) / cpuFloor).toFixed(1)}× Ansible's time; ferry's start cannot overlap the hosts' work, which begins only once ferry has connected.`,
      `Ansible ran ${tasks} tasks; its recap: ${recap.join('; ')}.`,
      `${execFileSync('ansible-playbook', ['--version']).toString().split('\n')[0]}, pipelining on, forks 10, no fact gathering.`,
      'Both leave the mesh as it is: the ferry rollback of the deployment is not part of the timing.',
    ],
  }
}

/** `ferry drift --every 1s` in one process: the duration of each check after the first (which connects). */
async function scheduledChecks(state: string, count: number): Promise<number[]> {
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'bin/ferry.mjs'),
      'drift',
      '-i',
      'lab',
      'deploy-mesh',
      '--every',
      '1s',
      '--format',
      'json',
      '--state-dir',
      state,
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  const durations: number[] = []
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) =>
        reject(new Error(`ferry drift --every exited (${code}) after ${durations.length} checks`)),
      )
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk
        // Each report is one pretty-printed JSON object, closed by a brace at the start of a line.
        for (let end = out.indexOf('\n}\n'); end >= 0; end = out.indexOf('\n}\n')) {
          const report = JSON.parse(out.slice(0, end + 2)) as { duration: number; hosts: { status: string }[] }
          out = out.slice(end + 3)
          if (report.hosts.some((h) => h.status !== 'in-sync'))
            return reject(new Error('ferry drift --every found the mesh out of sync'))
          durations.push(report.duration)
          if (durations.length > count) resolve()
        }
      })
    })
  } finally {
    child.kill('SIGTERM')
  }
  return durations.slice(1)
}
