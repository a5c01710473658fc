// --limit patterns that are empty, malformed or built to be slow (issue 16, finding 6). The
// ordinary selections are tested in inventory.test.ts against a real inventory.
import { describe, expect, it } from 'vitest'
import { SelectionError, selectHosts } from '../../src/inventory/select.ts'
import type { Inventory } from '../../src/inventory/types.ts'

const inv = {
  hosts: [
    { name: 'r1', groups: ['all', 'mesh'] },
    { name: 'r2', groups: ['all', 'mesh'] },
    { name: 'server-a', groups: ['all'] },
    { name: 'backbone-router-17', groups: ['all'] },
  ],
  groups: { mesh: {} },
} as unknown as Inventory
const names = (limit: string) => selectHosts(inv, limit).map((h) => h.name)
const refusal = (limit: string) => {
  try {
    selectHosts(inv, limit)
  } catch (err) {
    return err
  }
  throw new Error(`--limit ${JSON.stringify(limit)} was accepted`)
}

describe('--limit patterns', () => {
  it.each(['', ',', ' ', 'r1,', 'r1,,r2', '!', '&', 'r1, !'])(
    'refuses %j: an empty pattern selects nothing, not every host',
    (limit) => {
      const err = refusal(limit)
      expect(err).toBeInstanceOf(SelectionError)
      expect((err as SelectionError).message).toBe(
        `--limit "${limit}": an empty pattern; give host names, group names or globs, comma-separated`,
      )
    },
  )

  it.each([
    ['[z-a]', 'the range z-a is reversed'],
    ['r[2-1]', 'the range 2-1 is reversed'],
    ['r[', '"[" without its "]"'],
    ['r[]', 'an empty [] set'],
    ['r[!]', 'an empty [] set'],
    // Malformed is refused even where another pattern would have failed first, or matched nothing.
    ['nosuchhost,[z-a]', 'the range z-a is reversed'],
  ])('refuses the malformed %j with one line, as a SelectionError (exit 64)', (limit, why) => {
    const err = refusal(limit) as SelectionError
    expect(err).toBeInstanceOf(SelectionError)
    expect(err.exitCode).toBe(64)
    expect(err.message).toBe(`--limit "${limit}": ${why}`)
  })

  it('matches sets, ranges, negated sets, a literal "-" and runs of *', () => {
    expect(names('r[12]')).toEqual(['r1', 'r2'])
    expect(names('r[0-1]')).toEqual(['r1'])
    expect(names('r[!1]')).toEqual(['r2'])
    expect(names('server[-]a')).toEqual(['server-a'])
    expect(names('server[a-]a')).toEqual(['server-a'])
    expect(names('***')).toEqual(['r1', 'r2', 'server-a', 'backbone-router-17'])
    expect(names('*r*-?')).toEqual(['server-a'])
    expect(names('s*r?e*a')).toEqual(['server-a'])
    expect(names('m?sh')).toEqual(['r1', 'r2'])
  })

  it('takes no time over a run of *, matched or not (as a RegExp, 15 took seconds and 30 hung)', () => {
    const started = performance.now()
    expect(() => selectHosts(inv, `${'*'.repeat(15)}x`)).toThrow(SelectionError)
    expect(names(`${'*'.repeat(15)}17`)).toEqual(['backbone-router-17'])
    expect(performance.now() - started).toBeLessThan(500)
  })
})
