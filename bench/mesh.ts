// deploy-mesh against its Ansible equivalent (bench/ansible/deploy-mesh.yml: Debian's
// ansible-core, pipelining on, forks 10) on the same five lab hosts, alternately, each the whole
// command as an operator would run it: a first run on bare hosts (rebuilt before each), a no-op
// run, and a dry run (ferry --dry-run, ansible --check --diff). The no-op run twice: with the
// connections kept from the run before (Ansible's default ControlPersist; ferry's --persist), and
// with new ones. Also ferry's SSH round trips per host for the no-op run, from --stats, and the
// login shells each no-op run started on the hosts, counted there. Then the same rounds (but the dry
// run) on hosts whose root rc file costs 200 ms, as real servers' do (`npm run lab -- rc`).
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO, rebuild, resetShellStarts, setRcCost, shellStarts, up } from '../lab/lab.ts'
import { writeAnsibleInventory } from './ansible/inventory.ts'
import { ensureAnsible, median, timed, type Row, type Section, type Timed } from './run.ts'

const ROUNDS = 3
const MESH = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5']
/** The realistic hosts' rc cost: a developer's dotfiles (pyenv, cargo) cost 2 s; a lean server's less. */
const RC_MS = 200

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
  const ferry = (...args: string[]) =>
    timed(process.execPath, [
      join(REPO, 'bin/ferry.mjs'),
      'run',
      'deploy-mesh',
      '-i',
      'lab',
      '--format',
      'json',
      '--state-dir',
      state,
      ...args,
    ])
  const ansible = (...args: string[]) =>
    timed('ansible-playbook', ['-i', join(dir, 'hosts.yml'), 'bench/ansible/deploy-mesh.yml', ...args], {
      ANSIBLE_CONFIG: join(REPO, 'bench/ansible/ansible.cfg'),
    })
  // Without Ansible's default ssh_args (-C -o ControlMaster=auto -o ControlPersist=60s).
  const ansibleFresh = () =>
    timed('ansible-playbook', ['-i', join(dir, 'hosts.yml'), 'bench/ansible/deploy-mesh.yml'], {
      ANSIBLE_CONFIG: join(REPO, 'bench/ansible/ansible.cfg'),
      ANSIBLE_SSH_ARGS: '',
    })
  const every = (status: string) => (r: Timed) =>
    r.code === 0 && (JSON.parse(r.stdout) as Report).hosts.every((h) => h.status === status)
  const unchanged = (r: Timed) => r.code === 0 && /changed=0/.test(r.out) && !/changed=[1-9]/.test(r.out)

  const roundTrips = new Map<string, number>() // per host, the most any no-op run took
  // Login shells per host, the most any no-op run started: ferry with new and with kept connections, Ansible's.
  const shells = {
    fresh: new Map<string, number>(),
    kept: new Map<string, number>(),
    ansible: new Map<string, number>(),
  }
  /** Runs `run` and counts the login shells it started on each host into `most`. */
  const counted = async (most: Map<string, number>, run: () => Timed): Promise<Timed> => {
    await resetShellStarts(MESH)
    const r = run()
    for (const h of MESH) most.set(h, Math.max(await shellStarts(h), most.get(h) ?? 0))
    return r
  }
  let tasks = 0
  /** ROUNDS rounds of each tool's runs, alternately, on the hosts as they are (their rc cost); dry runs if `check`. */
  const rounds = async (label: string, check: boolean) => {
    const t = {
      ferry: { first: [] as number[], noop: [] as number[], kept: [] as number[], check: [] as number[] },
      ansible: { first: [] as number[], noop: [] as number[], fresh: [] as number[], check: [] as number[] },
    }
    for (let i = 0; i < ROUNDS; i++) {
      console.error(`bench: mesh${label} round ${i + 1}/${ROUNDS}`)
      await rebuild(MESH)
      t.ferry.first.push(must('ferry first run', ferry(), every('changed')).seconds)
      const noop = must('ferry no-op run', await counted(shells.fresh, () => ferry('--stats')), every('ok'))
      t.ferry.noop.push(noop.seconds)
      for (const [host, s] of Object.entries((JSON.parse(noop.stdout) as Report).stats ?? {}))
        roundTrips.set(host, Math.max(s.roundTrips, roundTrips.get(host) ?? 0))
      // The keeper takes the connections from an untimed run; the timed one uses them.
      must('ferry no-op run, starting the keeper', ferry('--persist', '10m'), every('ok'))
      const kept = must(
        'ferry no-op run, connections kept',
        await counted(shells.kept, () => ferry('--persist', '10m', '--stats')),
        every('ok'),
      )
      const stats = Object.values((JSON.parse(kept.stdout) as Report).stats ?? {}) as {
        roundTrips: number
        kept?: boolean
      }[]
      if (stats.length !== MESH.length || !stats.every((s) => s.kept && s.roundTrips <= 3))
        throw new Error(`the no-op run with --persist did not use kept connections: ${JSON.stringify(stats)}`)
      t.ferry.kept.push(kept.seconds)
      if (check) t.ferry.check.push(must('ferry dry run', ferry('--dry-run'), every('ok')).seconds)

      await rebuild(MESH)
      t.ansible.first.push(must('ansible-playbook first run', ansible()).seconds)
      const again = must('ansible-playbook no-op run', await counted(shells.ansible, ansible), unchanged)
      t.ansible.noop.push(again.seconds)
      t.ansible.fresh.push(must('ansible-playbook no-op run without ControlPersist', ansibleFresh(), unchanged).seconds)
      // Tasks that ran on a host (the recap's ok + changed): each one its own SSH command there.
      const recap = /^lab1\s+:\s+ok=(\d+)\s+changed=(\d+)/m.exec(again.out)
      tasks = recap ? Number(recap[1]) + Number(recap[2]) : 0
      if (check)
        t.ansible.check.push(must('ansible-playbook --check --diff', ansible('--check', '--diff'), unchanged).seconds)
    }
    return t
  }
  // Clean hosts first, whatever rc cost an interrupted run or an operator left.
  setRcCost(0)
  const t = await rounds('', true)
  setRcCost(RC_MS)
  const rc = await rounds(`, ${RC_MS} ms rc hosts,`, false).finally(() => setRcCost(0))
  // The lab's hosts are left with a converged mesh, as a deploy leaves them.
  timed(process.execPath, [join(REPO, 'bin/ferry.mjs'), 'connections', '--close', '--state-dir', state])

  const row = (what: string, f: number[], a: number[], goal?: number): Row => {
    const ratio = median(a) / median(f)
    return {
      what: `${what}, median of ${ROUNDS}`,
      ferry: `${median(f).toFixed(2)} s`,
      other: `${median(a).toFixed(2)} s`,
      ratio: `${ratio.toFixed(1)}×`,
      goal: goal ? `≥ ${goal}×` : '—',
      met: goal ? ratio >= goal : true,
    }
  }
  const list = (xs: number[]) => xs.map((s) => `${s.toFixed(2)} s`).join(', ')
  const perHost = (most: Map<string, number>) => MESH.map((h) => most.get(h) ?? 'none').join(', ')
  const costly = `${RC_MS} ms rc hosts`
  return {
    title: 'deploy-mesh on 5 lab hosts (ferry run vs ansible-playbook)',
    rows: [
      row('first run on bare hosts (tunnels, FRR, OSPF converged and verified)', t.ferry.first, t.ansible.first),
      row(
        "no-op run, connections kept from the run before (ferry --persist 10m; Ansible's default ControlPersist)",
        t.ferry.kept,
        t.ansible.noop,
        30,
      ),
      row(
        'no-op run with new connections (ferry without --persist; Ansible with ANSIBLE_SSH_ARGS empty)',
        t.ferry.noop,
        t.ansible.fresh,
      ),
      row('dry run (ferry --dry-run, ansible --check --diff)', t.ferry.check, t.ansible.check),
      {
        what: `SSH round trips per host, no-op run (\`--stats\`, the most of ${2 * ROUNDS} rounds, with and without the rc cost)`,
        ferry: perHost(roundTrips),
        other: `${tasks} tasks ran on each host, each its own SSH command`,
        ratio: '—',
        goal: '≤ 3',
        met: MESH.every((h) => (roundTrips.get(h) ?? Infinity) <= 3),
      },
      row(`${costly}: first run on bare hosts`, rc.ferry.first, rc.ansible.first),
      row(
        `${costly}: no-op run, connections kept from the run before (ferry --persist 10m; Ansible's default ControlPersist)`,
        rc.ferry.kept,
        rc.ansible.noop,
        50,
      ),
      row(
        `${costly}: no-op run with new connections (ferry without --persist; Ansible with ANSIBLE_SSH_ARGS empty)`,
        rc.ferry.noop,
        rc.ansible.fresh,
      ),
      {
        what: `login shells started per host, no-op run (counted on the hosts, the most of ${2 * ROUNDS} rounds, with and without the rc cost)`,
        ferry: `new connections ${perHost(shells.fresh)}; kept ${perHost(shells.kept)}`,
        other: `Ansible (ControlPersist) ${perHost(shells.ansible)}`,
        ratio: '—',
        goal: '1 (new) / 0 (kept)',
        met: MESH.every((h) => shells.fresh.get(h) === 1 && shells.kept.get(h) === 0),
      },
    ],
    notes: [
      `ferry: first ${list(t.ferry.first)}; no-op with kept connections ${list(t.ferry.kept)}, with new ones ${list(t.ferry.noop)}; dry run ${list(t.ferry.check)}.`,
      `Ansible: first ${list(t.ansible.first)}; no-op with ControlPersist ${list(t.ansible.noop)}, without ${list(t.ansible.fresh)}; check ${list(t.ansible.check)}.`,
      `On the ${costly}, ferry: first ${list(rc.ferry.first)}; no-op with kept connections ${list(rc.ferry.kept)}, with new ones ${list(rc.ferry.noop)}. Ansible: first ${list(rc.ansible.first)}; no-op with ControlPersist ${list(rc.ansible.noop)}, without ${list(rc.ansible.fresh)}.`,
      `The ${costly} (\`npm run lab -- rc ${RC_MS}ms\`): root's ~/.bashrc waits ${RC_MS} ms, above its "not interactive" guard, in every shell sshd starts there, as a real server's rc file costs (a developer's pyenv and cargo set-up: 2 s). A sleep, not CPU work, so it adds wait and not load. Each login shell pays it: every SSH command is one (sshd starts root's login shell, bash, for it), so ferry pays it per command it sends a host, Ansible per task. The same file counts those shells, which is where the login-shell row comes from.`,
      'Each first run starts from hosts rebuilt from a bare root. Both wait for every OSPF neighbour to be Full and to stay so (the hold), which is most of a first run.',
      `ferry's no-op run is three round trips per host (connect, or with --persist a check that the kept connection answers; the host lock and every probe in one script; the unlock). Its time is the process start (node and ferry's bundle: \`ferry --version\`), the five handshakes (with new connections), and the five hosts' probes (dpkg-query, vtysh, the frr init script: about 0.1 s of CPU each) on a machine whose ${availableParallelism()} cores the hosts share with the controller.`,
      `${execFileSync('ansible-playbook', ['--version']).toString().split('\n')[0]}, pipelining on, forks 10, no fact gathering; ControlPersist (its default) keeps its SSH connections warm between runs, except in the row without it.`,
    ],
  }
}
