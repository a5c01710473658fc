// The benchmarks: each section measures ferry against what an operator would otherwise use, on
// the same lab hosts in the same run, and reports ratios, because this machine is too noisy for
// absolute figures to mean much. The table goes to stdout and to bench/results.md, with a
// description of the machine; a run of some sections keeps the others' last figures there.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO } from '../lab/lab.ts'
import { carpBench } from './carp.ts'
import { haBench } from './ha.ts'
import { migrateBench } from './migrate.ts'
import { driftBench } from './drift.ts'
import { meshBench } from './mesh.ts'
import { scaleBench } from './scale.ts'

export interface Row {
  what: string
  ferry: string
  other: string
  ratio: string
  goal: string
  met: boolean
}

export interface Section {
  title: string
  rows: Row[]
  /** What the figures mean and where the time goes. */
  notes: string[]
}

/** The middle of the measurements (the upper middle of an even count). */
export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
}

export interface Timed {
  seconds: number
  code: number
  stdout: string
  out: string
  /** CPU seconds, user and system. */ cpu: number
}

/** Runs a command from the repository: its wall time in seconds, CPU time, exit code and output. */
export function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Timed {
  const [t0, cpu0] = [process.hrtime.bigint(), reapedJiffies()]
  const r = spawnSync(cmd, args, {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '1', ...env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
  return {
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    cpu: (reapedJiffies() - cpu0) / HZ,
    code: r.status ?? -1,
    stdout: r.stdout,
    out: `${r.stdout}${r.stderr}`,
  }
}

/** USER_HZ: the clock ticks /proc counts CPU time in. */
export const HZ = 100

/** utime, stime, cutime and cstime of /proc/PID/stat: its CPU and that of every child it reaped. */
export function cpuFields(pid: number | 'self'): [number, number, number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return [Number(f[11]), Number(f[12]), Number(f[13]), Number(f[14])]
}

/** What this process's finished children used: a spawnSync child's CPU, once it is reaped. */
const reapedJiffies = () =>
  cpuFields('self')
    .slice(2)
    .reduce((a, b) => a + b)

/** CPU jiffies of these sshd PIDs and of every child they reaped (a host's whole work). */
export function hostsJiffies(pids: number[]): number {
  let sum = 0
  for (const pid of pids) {
    try {
      sum += cpuFields(pid).reduce((a, b) => a + b)
    } catch {
      /* gone */
    }
  }
  return sum
}

export function ensureAnsible(): void {
  if (spawnSync('ansible-playbook', ['--version']).status === 0) return
  console.error('bench: installing ansible-core (Debian)')
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'ansible-core'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
}

const SECTIONS: Record<string, () => Promise<Section>> = {
  mesh: meshBench,
  drift: driftBench,
  migrate: migrateBench,
  scale: scaleBench,
  ha: haBench,
  carp: carpBench,
}

export async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) => !(a in SECTIONS))
  if (unknown.length) {
    console.error(`bench: no section ${unknown.join(', ')} (sections: ${Object.keys(SECTIONS).join(', ')})`)
    return 64
  }
  const names = args.length ? args : Object.keys(SECTIONS)
  const sections: Section[] = []
  for (const name of names) {
    console.error(`bench: ${name}…`)
    sections.push(await SECTIONS[name]!())
  }
  const text = render(sections)
  process.stdout.write(text)
  // A run of some sections replaces those in results.md and keeps the others' last figures.
  const file = join(import.meta.dirname, 'results.md')
  writeFileSync(file, merge(existsSync(file) ? readFileSync(file, 'utf8') : '', text))
  return sections.every((s) => s.rows.every((r) => r.met)) ? 0 : 1
}

/** The sections of `fresh` in place of their namesakes in `old` (same title), the others kept. */
function merge(old: string, fresh: string): string {
  const split = (text: string) =>
    text
      .split(/^(?=## )/m)
      .slice(1)
      .map((s) => [s.split('\n')[0]!, s.trimEnd()] as const)
  const all = new Map(split(old))
  for (const [title, section] of split(fresh)) all.set(title, section)
  return `# ferry benchmarks\n\n${[...all.values()].join('\n\n')}\n`
}

function machine(): string {
  const cpu = cpus()
  const kernel = execFileSync('uname', ['-srm']).toString().trim()
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${kernel}, Node ${process.version}`
}

function render(sections: Section[]): string {
  const out = [`# ferry benchmarks`, '']
  const measured = `Measured ${new Date().toISOString()} on ${machine()}.`
  for (const s of sections) {
    out.push(
      `## ${s.title}`,
      '',
      measured,
      '',
      '| what | ferry | other | ratio | goal | met |',
      '|---|---|---|---|---|---|',
    )
    for (const r of s.rows)
      out.push(
        `| ${r.what} | ${r.ferry} | ${r.other} | ${r.ratio} | ${r.goal} | ${r.goal === '—' ? '—' : r.met ? 'yes' : '**no**'} |`,
      )
    out.push('', ...s.notes.map((n) => `- ${n}`), '')
  }
  return out.join('\n')
}
