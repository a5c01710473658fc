// Fuzzing `ferry inventory -i FILE`: the shipped inventories and fixtures, mutated, go through the
// CLI's own main() in this process (a few milliseconds a case). Every outcome must be exit 0,
// or exit 64 with every line `FILE:LINE:COL: reason`, within 2 s and without a library warning.
// `npm run fuzz -- --runs 20000 [--seed N]` runs this file for a longer run and prints the counts.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import fc from 'fast-check'
import { main } from '../../src/cli/main.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const FIXTURES = path.join(ROOT, 'test/fixtures/inventory')
const MAX_MS = 2000

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort()

// inventory/*.yaml and everything under test/fixtures/inventory: valid ones, broken ones, and the
// secret files beside them, which are no inventories at all.
const read = (files: string[]) => files.map((f) => readFileSync(f, 'utf8'))
const VALID = read(
  [...filesUnder(path.join(ROOT, 'inventory')), ...readdirSync(FIXTURES).map((f) => path.join(FIXTURES, f))].filter(
    (f) => f.endsWith('.yaml'),
  ),
)
const OTHERS = read([...filesUnder(path.join(FIXTURES, 'broken')), ...filesUnder(path.join(FIXTURES, 'secrets'))])

// Values, keys and text that have broken YAML loaders, or names built from keys.
const VALUES = [
  '',
  '~',
  'null',
  '0',
  '1',
  '-1',
  '0x10',
  '1e3',
  '1.5',
  '.inf',
  '.nan',
  'true',
  'no',
  '[]',
  '{}',
  '[a, b]',
  '{ a: 1 }',
  '"1"',
  "'q'",
  '|\n  x\n',
  '>-\n  y\n',
  '!!binary aGk=',
  '!custom x',
  '2001-01-01',
  '"\\u0000"',
  '"\\e[31mred"',
  '*nope',
  '&a x',
  '"a\\nb"',
  'x'.repeat(5000),
  '"é\u0301 \u202e \u{1f600}"',
  '[*a, *a]',
  '? x\n: y',
]
const KEYS = [
  '1',
  '"1"',
  "'1'",
  'true',
  '"true"',
  'null',
  '~',
  '""',
  '[a]',
  '{a: 1}',
  '__proto__',
  'constructor',
  'toString',
  'hosts',
  'host',
  'vars',
  'r1',
  '"r1"',
  '"a\\nb"',
  '"\\e]0;x\\a"',
  '"\u202eevil"',
  '*a',
  '&a k',
  '!!str 1',
  '? [x]',
  '<<',
]
const CHARS = [
  '\u0000',
  '\ufeff',
  '\u2028',
  '\u202e',
  '\t',
  '\r',
  '\n',
  '\\',
  '"',
  "'",
  ':',
  '#',
  '-',
  '[',
  '{',
  '&',
  '*',
  '!',
  '|',
  '>',
  '%',
  '@',
  '`',
  '\u{1f600}',
  '\u0301',
  '\ud800',
  'ß',
  '\u00a0',
]

/** depth levels of `[`, `{ k:` or indented `k:` around a value. */
function nested(depth: number, style: number): string {
  if (style === 0) return `${'['.repeat(depth)}x${']'.repeat(depth)}`
  if (style === 1) return `${'{ k: '.repeat(depth)}x${' }'.repeat(depth)}`
  return `\n${Array.from({ length: depth }, (_, i) => `${' '.repeat(6 + i)}k:`).join('\n')} x\n`
}

// Nine anchors, each a list of ten aliases of the one before: 10^9 values once loaded.
const BOMB = `&b0 [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
  { length: 9 },
  (_, i) => `b${i + 1}: &b${i + 1} [${Array(10).fill(`*b${i}`).join(', ')}]`,
).join('\n')}\nboom: *b9`

type Lines = string[]
const at = (lines: Lines, i: number) => i % Math.max(1, lines.length)
/** A copy of `lines` with line `i` (modulo their number) set to `line`. */
const put = (lines: Lines, i: number, line: string) => Object.assign([...lines], { [at(lines, i)]: line })
/** A copy of `lines` with `n` lines from `i` replaced by `added`. */
const splice = (lines: Lines, i: number, n: number, ...added: string[]) => {
  const copy = [...lines]
  copy.splice(i, n, ...added)
  return copy
}
const indentOf = (line = '') => /^ */.exec(line)![0]
/** A `  key: value` line in parts, if the line is one. */
const keyValue = (line = '') =>
  /^(?<lead>\s*(?:- )?)(?<key>[^\s#:][^:]*?)(?<sep>:[ \t]+|:(?=\r?\n?$))(?<value>.*?)(?<end>\r?\n?)$/.exec(line)
    ?.groups as { lead: string; key: string; sep: string; value: string; end: string } | undefined

/** One change to an inventory's text; each takes its positions modulo what is there. */
const mutation: fc.Arbitrary<(lines: Lines) => Lines> = fc.oneof(
  fc.record({ i: fc.nat(), n: fc.integer({ min: 1, max: 5 }) }).map(
    ({ i, n }) =>
      (l: Lines) =>
        splice(l, at(l, i), n),
  ),
  fc.record({ i: fc.nat(), n: fc.integer({ min: 1, max: 5 }), to: fc.nat() }).map(
    ({ i, n, to }) =>
      (l: Lines) =>
        splice(l, at(l, to), 0, ...l.slice(at(l, i), at(l, i) + n)),
  ),
  fc
    .nat()
    .map(
      (i) => (l: Lines) =>
        l.slice(0, at(l, i) + 1).map((s, j, a) => (j === a.length - 1 ? s.slice(0, i % (s.length + 1)) : s)),
    ),
  fc.record({ i: fc.nat(), v: fc.constantFrom(...VALUES) }).map(({ i, v }) => (l: Lines) => {
    const m = keyValue(l[at(l, i)])
    return m ? put(l, i, `${m.lead}${m.key}: ${v}${m.end}`) : l
  }),
  fc.record({ i: fc.nat(), k: fc.constantFrom(...KEYS) }).map(({ i, k }) => (l: Lines) => {
    const m = keyValue(l[at(l, i)])
    return m ? put(l, i, `${m.lead}${k}${m.sep}${m.value}${m.end}`) : l
  }),
  // The same key again, written so that YAML sees another key: r1 and "r1", 1 and '1'.
  fc.nat().map((i) => (l: Lines) => {
    const m = keyValue(l[at(l, i)])
    return m ? splice(l, at(l, i) + 1, 0, `${m.lead.replace('-', ' ')}"${m.key}"${m.sep}${m.value}${m.end || '\n'}`) : l
  }),
  fc.record({ i: fc.nat(), j: fc.nat(), kind: fc.nat(3) }).map(({ i, j, kind }) => (l: Lines) => {
    const m = keyValue(l[at(l, i)])
    if (!m) return l
    if (kind === 0)
      return splice(
        put(l, i, `${m.lead}${m.key}${m.sep}&a ${m.value}${m.end}`),
        at(l, j) + 1,
        0,
        `${indentOf(l[at(l, j)])}alias: *a\n`,
      )
    if (kind === 1) return put(l, i, `${m.lead}${m.key}: &r { self: *r }${m.end}`)
    if (kind === 2) return put(l, i, `${m.lead}${m.key}: *a${m.end}`)
    return put(l, i, `${m.lead}${m.key}: ${BOMB.replaceAll('\n', `\n${indentOf(m.lead)}  `)}${m.end || '\n'}`)
  }),
  fc
    .record({ i: fc.nat(), depth: fc.constantFrom(5, 99, 100, 101, 500, 3000, 20_000), style: fc.nat(2) })
    .map(({ i, depth, style }) => (l: Lines) => {
      const m = keyValue(l[at(l, i)])
      // Indented block nesting grows as depth squared: a thousand levels is plenty.
      return m
        ? put(l, i, `${m.lead}${m.key}: ${nested(style === 2 ? Math.min(depth, 1000) : depth, style)}${m.end}`)
        : l
    }),
  fc
    .record({
      i: fc.nat(),
      j: fc.nat(),
      s: fc.oneof(fc.constantFrom(...CHARS), fc.string({ unit: 'binary', maxLength: 8 })),
    })
    .map(({ i, j, s }) => (l: Lines) => {
      const line = l[at(l, i)] ?? ''
      return put(l, i, line.slice(0, j % (line.length + 1)) + s + line.slice(j % (line.length + 1)))
    }),
  fc.record({ i: fc.nat(), d: fc.integer({ min: -4, max: 4 }) }).map(({ i, d }) => (l: Lines) => {
    const line = l[at(l, i)] ?? ''
    return put(l, i, d > 0 ? ' '.repeat(d) + line : line.replace(new RegExp(`^ {0,${-d}}`), ''))
  }),
  fc.constant((l: Lines) => l.map((s) => s.replace(/\r?\n$/, '\r\n'))),
  fc.constant((l: Lines) => put(l, 0, `\ufeff${l[0] ?? ''}`)),
)

/** A shipped file, more often a valid one (so that more cases get past the parser), with one to four changes. */
const inventoryText = fc
  .record({
    base: fc.oneof(
      { arbitrary: fc.constantFrom(...VALID), weight: 3 },
      { arbitrary: fc.constantFrom(...OTHERS), weight: 1 },
    ),
    changes: fc.array(mutation, { minLength: 1, maxLength: 4 }),
  })
  .map(({ base, changes }) => changes.reduce((l, change) => change(l), base.split(/(?<=\n)/)).join(''))

type Outcome = { code: number; stdout: string; stderr: string; warnings: string[]; ms: number }

/** `ferry inventory -i FILE` through the CLI's main(), with its output and warnings captured. */
async function ferryInventory(file: string): Promise<Outcome> {
  const captured = { stdout: '', stderr: '', warnings: [] as string[] }
  const { stdout, stderr } = process
  const saved = { out: stdout.write, err: stderr.write, emitWarning: process.emitWarning }
  stdout.write = ((s: string | Uint8Array) => ((captured.stdout += String(s)), true)) as typeof stdout.write
  stderr.write = ((s: string | Uint8Array) => ((captured.stderr += String(s)), true)) as typeof stderr.write
  process.emitWarning = ((w: string | Error) => captured.warnings.push(String(w))) as typeof process.emitWarning
  const started = performance.now()
  try {
    const code = await main(['node', 'ferry', 'inventory', '-i', file])
    return { code, ...captured, ms: performance.now() - started }
  } finally {
    Object.assign(stdout, { write: saved.out })
    Object.assign(stderr, { write: saved.err })
    process.emitWarning = saved.emitWarning
    process.exitCode = undefined
  }
}

/** Why `outcome` breaks the contract, or undefined. */
function violation(file: string, outcome: Outcome): string | undefined {
  const { code, stderr, warnings, ms } = outcome
  if (ms > MAX_MS) return `took ${Math.round(ms)} ms`
  if (warnings.length) return `warned: ${warnings.join('; ')}`
  // Exit 0 may warn, one line each, of a secret's source that is not there (a mutated source).
  if (code === 0)
    return stderr
      .split('\n')
      .every((l) => l === '' || /^ferry: warning: \S+:\d+:\d+: secrets\.\S+: .* \(a run needs it\)$/.test(l))
      ? undefined
      : 'exit 0 with stderr other than warnings'
  if (code !== 64) return `exit ${code}`
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const bad = stderr
    .replace(/\n$/, '')
    .split('\n')
    .find((l, i) => !new RegExp(`^${i ? '' : 'ferry: '}${escaped}:\\d+:\\d+: \\S`).test(l))
  return bad === undefined
    ? undefined
    : `exit 64, but a line is not FILE:LINE:COL: reason: ${JSON.stringify(bad.slice(0, 200))}`
}

export interface Counts {
  cases: number
  loaded: number
  refused: number
  maxMs: number
  failures: number
}

/**
 * Runs `runs` cases from `seed`. A failure throws, naming the case (to replay it: fast-check's
 * `path`) and the file its text was left in, since a case may be megabytes.
 */
export async function fuzz(runs: number, seed: number): Promise<Counts> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry-fuzz-'))
  const file = path.join(dir, 'inventory.yaml')
  const undo = provideSecrets(dir)
  const counts: Counts = { cases: 0, loaded: 0, refused: 0, maxMs: 0, failures: 0 }
  const property = fc.asyncProperty(inventoryText, async (text) => {
    writeFileSync(file, text)
    const outcome = await ferryInventory(file)
    counts.cases++
    counts.maxMs = Math.max(counts.maxMs, outcome.ms)
    if (outcome.code === 0) counts.loaded++
    if (outcome.code === 64) counts.refused++
    const why = violation(file, outcome)
    if (why) {
      counts.failures++
      throw new Error(why)
    }
  })
  try {
    const run = await fc.check(property, { numRuns: runs, seed, endOnFailure: true })
    if (run.failed) {
      const kept = path.join(tmpdir(), `ferry-fuzz-${seed}-${run.counterexamplePath}.yaml`)
      writeFileSync(kept, String(run.counterexample?.[0]))
      throw new Error(
        `case ${run.numRuns} of seed ${seed} (path ${run.counterexamplePath}): ${(run.errorInstance as Error).message}; the file is ${kept}`,
      )
    }
    return counts
  } finally {
    undo()
    rmSync(dir, { recursive: true })
  }
}

/**
 * Provides the secrets the valid inventories name, so that more cases load: their environment
 * variables set, their files made (relative ones beside the case's file, `~/` ones in `dir` as
 * HOME). Returns what puts the environment back.
 */
function provideSecrets(dir: string): () => void {
  cpSync(path.join(FIXTURES, 'secrets'), path.join(dir, 'secrets'), { recursive: true })
  const saved = { ...process.env }
  process.env.HOME = dir
  for (const [, scheme, rest] of VALID.join('\n').matchAll(/\b(env|file):([\w./~-]+)/g)) {
    if (scheme === 'env') process.env[rest!] ??= 'fuzz'
    else if (rest!.startsWith('~/')) {
      mkdirSync(path.dirname(path.join(dir, rest!.slice(2))), { recursive: true })
      writeFileSync(path.join(dir, rest!.slice(2)), 'fuzz\n')
    }
  }
  return () => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
    Object.assign(process.env, saved)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(name)
    return i < 0 ? fallback : Number(process.argv[i + 1])
  }
  try {
    const counts = await fuzz(arg('--runs', 20_000), arg('--seed', 16))
    console.log(
      `${counts.cases} cases: ${counts.loaded} loaded (exit 0), ${counts.refused} refused (exit 64), ` +
        `${counts.failures} failures; slowest ${Math.round(counts.maxMs)} ms`,
    )
  } catch (e) {
    console.error((e as Error).message)
    process.exitCode = 1
  }
}
