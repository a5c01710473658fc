import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import examples from '../fixtures/runbooks/readme-examples.ts'
import type { StepsContext } from '../../src/runbook.ts'

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8')
const FIXTURE = read('../fixtures/runbooks/readme-examples.ts')

// README's step table, a row per type: | `kind` | what it manages | `example` |. An example that
// holds a backtick is in double ones; action's points at a runbook instead (no example).
const table = read('../../README.md').split('| step | what it manages | example |\n')[1]!.split('\n\n')[0]!
const rows = table
  .split('\n')
  .slice(1)
  .map((row) => {
    const cells = row.slice(2, -2).split(' | ')
    return { kind: cells[0]!.replaceAll('`', ''), example: /^(`+) ?(.+?) ?\1$/.exec(cells.at(-1)!)?.[2] }
  })

describe("README's step table", () => {
  it('lists every step type the package exports, each example kept in the fixture that tsc checks', () => {
    const exported = [...read('../../src/index.ts').matchAll(/^export \{ ([a-z]\w*) \} from '\.\/steps\//gm)]
    expect(rows.map((r) => r.kind).sort()).toEqual(exported.map((m) => m[1]!).sort())
    for (const { kind, example } of rows) if (example) expect(FIXTURE, kind).toContain(`    ${example},\n`)
  })

  it('its examples build, each a step of its own kind', async () => {
    const ctx = { secret: async () => '$y$j9T$salt$hash' } as unknown as StepsContext<never, never>
    const steps = await examples.steps(ctx)
    expect(steps.map((s) => s.kind)).toEqual(rows.filter((r) => r.example).map((r) => r.kind))
  })
})
