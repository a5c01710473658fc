// block: what it refuses when a runbook is built, and that what its apply writes is what its
// check then finds in sync, wherever the block went and whatever the file looked like.
import { describe, expect, it } from 'vitest'
import { block, type BlockOptions } from '../../src/steps/block.ts'
import { StepError, type CheckContext } from '../../src/steps/step.ts'
import { platformFor } from '../../src/platform/platform.ts'
import { runCase } from '../golden/harness.ts'
import { lsProbe } from '../golden/scripts.ts'

const ctx: CheckContext = { host: {} as CheckContext['host'], platform: platformFor('linux'), pending: new Set() }
const opts = (more: Partial<BlockOptions> = {}): BlockOptions => ({ path: '/etc/x.conf', content: 'a = 1\n', ...more })

describe('refused at build time', () => {
  it.each([
    ['a relative path', opts({ path: 'etc/x.conf' }), /path must be absolute/],
    ['after and before', opts({ after: /^x/, before: /^y/ }), /give after or before, not both/],
    ['a marker on two lines', opts({ marker: 'a\nb' }), /marker must be one line, not blank/],
    ['a blank comment', opts({ comment: ' ' }), /comment must be one line, not blank/],
    [
      'content holding its own END marker',
      opts({ content: 'a = 1\n# END FERRY b\n' }),
      /must not hold the block's own marker lines/,
    ],
  ])('%s', (_what, o, message) => {
    expect(() => block('b', o)).toThrow(StepError)
    expect(() => block('b', o)).toThrow(message)
  })
})

describe('what apply writes, check finds in sync', () => {
  // The block is the step's; the rest of each file is someone else's and must come back as it was.
  it.each([
    ['no file', undefined, opts()],
    ['an empty file', '', opts()],
    ['no final newline', 'x = 0', opts({ after: /^x/ })],
    ['before the first of two matches', '[s]\n[s]\n', opts({ before: /^\[s\]/ })],
    [
      'an old block mid-file, `;` comments',
      '[s]\n; BEGIN FERRY b\nold\n; END FERRY b\ny = 2\n',
      opts({ comment: ';' }),
    ],
    ['absent, an old block at the end', 'x = 0\n# BEGIN FERRY b\nold\n# END FERRY b\n', opts({ state: 'absent' })],
  ])('%s', async (_what, before, o) => {
    const step = block('b', o)
    const probe = before === undefined ? { stdout: '', code: 1 } : lsProbe('-rw-r--r--', 'root', 'root', before)
    const r = await runCase({ name: 'b', os: 'linux', step, probe, expect: {} })
    expect(r.changes.length).toBeGreaterThan(0)
    const written = r.apply.find((s) => typeof s !== 'string')
    if (typeof written !== 'object') throw new Error('no file written')
    expect(step.check({ stdout: lsProbe('-rw-r--r--', 'root', 'root', written.input), code: 0 }, ctx)).toEqual([])
    const others = (text: string) => text.replace(/^[#;] BEGIN FERRY b\n[^]*?^[#;] END FERRY b\n/m, '')
    expect(others(written.input)).toBe(others(before ?? '').replace(/([^\n])$/, '$1\n'))
  })
})
