// deploy-mesh against its Ansible equivalent (bench/ansible/deploy-mesh.yml: Debian's
// ansible-core, pipelining on, forks 10) on the same five lab hosts, alternately, each the whole
// command as an operator would run it: a first run on bare hosts (rebuilt before each), a no-op
// run, and a dry run (ferry --dry-run, ansible --check --diff). Also ferry's SSH round trips per
// host for the no-op run, from --stats.
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO, rebuild, up } from '../lab/lab.ts'
import { writeAnsibleInventory } from './ansible/inventory.ts'
import { ensureAnsible, median, timed, type Row, type Section, type Timed } from './run.ts'

const ROUNDS = 3
const MESH = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5']

function must(what: string, r: Timed, ok = (x: Timed) => x.code === 0): Timed {
  if (!ok(r)) throw new Error(`${what} failed (exit ${r.code}):\n${r.out.slice(-4000)}`)
  return r
}

type Report = { hosts: { name: string; status: string }[]; stats?: Record<string, { roundTrips: number }> }

export async function meshBench(): Promise<Section> {
  ensureAnsible()
  await up({ n: 5, log: (l) => console.error(`lab: ${l}`) })
  const state = mkdtempSync(join(tmpdir(), 'ferry-bench-'))
  const dir = mkdtempSync(join(tmpdir(), 'ferry-ansible-'))
  await writeAnsibleInventory(dir)
  const ferry = (...args: string[]) => timed(process.execPath, [join(REPO, 'bin/ferry.mjs'), 'run', 'deploy-mesh', '-i', 'lab', '--format', 'json', '--state-dir', state, ...args])
  const ansible = (...args: string[]) => timed('ansible-playbook', ['-i', join(dir, 'hosts.yml'), 'bench/ansible/deploy-mesh.yml', ...args], { ANSIBLE_CONFIG: join(REPO, 'bench/ansible/ansible.cfg') })
  const every = (status: string) => (r: Timed) => r.code === 0 && (JSON.parse(r.stdout) as Report).hosts.every((h) => h.status === status)
  const unchanged = (r: Timed) => r.code === 0 && /changed=0/.test(r.out) && !/changed=[1-9]/.test(r.out)

  const t = { ferry: { first: [] as number[], noop: [] as number[], check: [] as number[] }, ansible: { first: [] as number[], noop: [] as number[], check: [] as number[] } }
  const roundTrips = new Map<string, number>() // per host, the most any round's no-op run took
  let tasks = 0
  for (let i = 0; i < ROUNDS; i++) {
    console.error(`bench: mesh round ${i + 1}/${ROUNDS}`)
    await rebuild(MESH)
    t.ferry.first.push(must('ferry first run', ferry(), every('changed')).seconds)
    const noop = must('ferry no-op run', ferry('--stats'), every('ok'))
    t.ferry.noop.push(noop.seconds)
    for (const [host, s] of Object.entries((JSON.parse(noop.stdout) as Report).stats ?? {})) roundTrips.set(host, Math.max(s.roundTrips, roundTrips.get(host) ?? 0))
    t.ferry.check.push(must('ferry dry run', ferry('--dry-run'), every('ok')).seconds)

    await rebuild(MESH)
    t.ansible.first.push(must('ansible-playbook first run', ansible()).seconds)
    const again = must('ansible-playbook no-op run', ansible(), unchanged)
    t.ansible.noop.push(again.seconds)
    // Tasks that ran on a host (the recap's ok + changed): each one its own SSH command there.
    const recap = /^lab1\s+:\s+ok=(\d+)\s+changed=(\d+)/m.exec(again.out)
    tasks = recap ? Number(recap[1]) + Number(recap[2]) : 0
    t.ansible.check.push(must('ansible-playbook --check --diff', ansible('--check', '--diff'), unchanged).seconds)
  }
  // The lab's hosts are left with a converged mesh, as a deploy leaves them.

  const row = (what: string, f: number[], a: number[], goal?: number): Row => {
    const ratio = median(a) / median(f)
    return { what: `${what}, median of ${ROUNDS}`, ferry: `${median(f).toFixed(2)} s`, other: `${median(a).toFixed(2)} s`, ratio: `${ratio.toFixed(1)}×`, goal: goal ? `≥ ${goal}×` : '—', met: goal ? ratio >= goal : true }
  }
  const list = (xs: number[]) => xs.map((s) => `${s.toFixed(2)} s`).join(', ')
  return {
    title: 'deploy-mesh on 5 lab hosts (ferry run vs ansible-playbook)',
    rows: [
      row('first run on bare hosts (tunnels, FRR, OSPF converged and verified)', t.ferry.first, t.ansible.first),
      row('no-op run', t.ferry.noop, t.ansible.noop, 30),
      row('dry run (ferry --dry-run, ansible --check --diff)', t.ferry.check, t.ansible.check),
      {
        what: `SSH round trips per host, no-op run (\`--stats\`, the most of ${ROUNDS} rounds)`, ferry: MESH.map((h) => roundTrips.get(h) ?? 'none').join(', '), other: `${tasks} tasks ran on each host, each its own SSH command`,
        ratio: '—', goal: '≤ 3', met: MESH.every((h) => (roundTrips.get(h) ?? Infinity) <= 3),
      },
    ],
    notes: [
      `ferry: first ${list(t.ferry.first)}; no-op ${list(t.ferry.noop)}; dry run ${list(t.ferry.check)}.`,
      `Ansible: first ${list(t.ansible.first)}; no-op ${list(t.ansible.noop)}; check ${list(t.ansible.check)}.`,
      'Each first run starts from hosts rebuilt from a bare root. Both wait for every OSPF neighbour to be Full and to stay so (the hold), which is most of a first run.',
      `ferry's no-op run is three round trips per host (connect; the host lock and every probe in one script; the unlock). Its time is the process start (node and ferry's bundle: \`ferry --version\`), the five handshakes, and the five hosts' probes (dpkg-query, vtysh, the frr init script: about 0.1 s of CPU each) on a machine whose ${availableParallelism()} cores the hosts share with the controller.`,
      `${execFileSync('ansible-playbook', ['--version']).toString().split('\n')[0]}, pipelining on, forks 10, no fact gathering; ControlPersist keeps its SSH connections warm between runs.`,
    ],
  }
}
