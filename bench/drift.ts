// Drift check speed: `ferry drift -i lab deploy-mesh` against the same check in Ansible,
// `ansible-playbook --check --diff` of bench/ansible/deploy-mesh.yml (Debian's ansible-core,
// pipelining on, forks 10), both on the same converged 5-host lab mesh, alternately, each the
// whole command as an operator would run it (process start included).
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO, up } from '../lab/lab.ts'
import { writeAnsibleInventory } from './ansible/inventory.ts'
import { median, type Section } from './run.ts'

const ROUNDS = 3

/** Runs a command from the repository; its wall time in seconds and exit code. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { seconds: number; code: number; stdout: string; out: string } {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(cmd, args, { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8', maxBuffer: 64 << 20 })
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, code: r.status ?? -1, stdout: r.stdout, out: `${r.stdout}${r.stderr}` }
}

export async function driftBench(): Promise<Section> {
  ensureAnsible()
  await up({ n: 5, log: (l) => console.error(`lab: ${l}`) })
  const state = mkdtempSync(join(tmpdir(), 'ferry-bench-'))
  const ferry = (...args: string[]) => timed(process.execPath, [join(REPO, 'bin/ferry.mjs'), ...args, '--state-dir', state])
  const deployed = ferry('run', 'deploy-mesh', '-i', 'lab')
  if (deployed.code !== 0) throw new Error(`deploy-mesh failed:\n${deployed.out}`)
  const dir = mkdtempSync(join(tmpdir(), 'ferry-ansible-'))
  await writeAnsibleInventory(dir)
  const ansible = () => timed('ansible-playbook', ['-i', join(dir, 'hosts.yml'), 'bench/ansible/deploy-mesh.yml', '--check', '--diff'], { ANSIBLE_CONFIG: join(REPO, 'bench/ansible/ansible.cfg') })

  const ferryRuns: number[] = []
  const checkRuns: number[] = [] // the check alone, as ferry measures it: connect, probe, journal
  const startRuns: number[] = [] // node, jiti and ferry's modules: `ferry --version`
  const ansibleRuns: number[] = []
  let ansibleOut = ''
  for (let i = 0; i < ROUNDS; i++) {
    const f = ferry('drift', '-i', 'lab', 'deploy-mesh', '--format', 'json')
    if (f.code !== 0) throw new Error(`ferry drift found drift on the freshly deployed mesh (exit ${f.code}):\n${f.out.slice(0, 4000)}`)
    ferryRuns.push(f.seconds)
    checkRuns.push((JSON.parse(f.stdout) as { duration: number }).duration)
    startRuns.push(timed(process.execPath, [join(REPO, 'bin/ferry.mjs'), '--version']).seconds)
    const a = ansible()
    if (a.code !== 0) throw new Error(`ansible-playbook --check failed (exit ${a.code}):\n${a.out.slice(-4000)}`)
    ansibleOut = a.out
    ansibleRuns.push(a.seconds)
  }
  const ratio = median(ansibleRuns) / median(ferryRuns)
  const recap = ansibleOut.split('\n').filter((l) => /^lab\d\s+:/.test(l)).map((l) => l.replace(/\s+/g, ' ').trim())
  const tasks = (ansibleOut.match(/^TASK \[/gm) ?? []).length
  return {
    title: 'Drift check of deploy-mesh on 5 lab hosts (ferry drift vs ansible-playbook --check --diff)',
    rows: [{
      what: `converged mesh, median of ${ROUNDS}, whole command`,
      ferry: `${median(ferryRuns).toFixed(2)} s`,
      other: `${median(ansibleRuns).toFixed(2)} s`,
      ratio: `${ratio.toFixed(1)}×`,
      goal: '≥ 30×',
      met: ratio >= 30,
    }],
    notes: [
      `ferry runs: ${ferryRuns.map((s) => `${s.toFixed(2)} s`).join(', ')}; Ansible runs: ${ansibleRuns.map((s) => `${s.toFixed(2)} s`).join(', ')}.`,
      `Where ferry's time goes (medians): ${median(startRuns).toFixed(2)} s starting the process (node, jiti, ferry's modules: \`ferry --version\`), ${median(checkRuns).toFixed(2)} s the check itself (5 SSH handshakes in parallel, one batched probe per host including deploy-mesh's vtysh queries, the journal); the rest is loading the runbook and the inventory. The goal needs both halves cut: lazy-loading the CLI's modules and a warm connection (a long-running --every process keeps neither today).`,
      `Ansible ran ${tasks} tasks; its recap: ${recap.join('; ')}.`,
      `${execFileSync('ansible-playbook', ['--version']).toString().split('\n')[0]}, pipelining on, forks 10, no fact gathering; ControlPersist keeps its SSH connections warm between rounds, ferry connects afresh each time.`,
      'Both leave the mesh as it is: the ferry rollback of the deployment is not part of the timing.',
    ],
  }
}

function ensureAnsible(): void {
  if (spawnSync('ansible-playbook', ['--version']).status === 0) return
  console.error('bench: installing ansible-core (Debian)')
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'ansible-core'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
}
