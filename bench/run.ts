// The benchmarks: each section measures ferry against what an operator would otherwise use, on
// the same lab hosts in the same run, and reports ratios, because this machine is too noisy for
// absolute figures to mean much. The table goes to stdout and to bench/results.md, with a
// description of the machine.
import { execFileSync } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { migrateBench } from './migrate.ts'
import { driftBench } from './drift.ts'

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

const SECTIONS: Record<string, () => Promise<Section>> = { drift: driftBench, migrate: migrateBench }

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
  writeFileSync(join(import.meta.dirname, 'results.md'), text)
  return sections.every((s) => s.rows.every((r) => r.met)) ? 0 : 1
}

function machine(): string {
  const cpu = cpus()
  const kernel = execFileSync('uname', ['-srm']).toString().trim()
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${kernel}, Node ${process.version}`
}

function render(sections: Section[]): string {
  const out = [`# ferry benchmarks`, '', `Measured ${new Date().toISOString()} on ${machine()}.`, '']
  for (const s of sections) {
    out.push(`## ${s.title}`, '', '| what | ferry | other | ratio | goal | met |', '|---|---|---|---|---|---|')
    for (const r of s.rows) out.push(`| ${r.what} | ${r.ferry} | ${r.other} | ${r.ratio} | ${r.goal} | ${r.met ? 'yes' : '**no**'} |`)
    out.push('', ...s.notes.map((n) => `- ${n}`), '')
  }
  return out.join('\n')
}
