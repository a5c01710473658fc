// The inventory fuzzer (inventory-fuzz.ts) with a fixed seed, so a failure here is reproducible.
import { expect, it } from 'vitest'
import { fuzz } from './inventory-fuzz.ts'

it('mutated inventories load (exit 0) or are refused (exit 64) naming file:line:col, each within 2 s', async () => {
  const counts = await fuzz(3000, 16)
  expect(counts.failures).toBe(0)
  // Both outcomes are exercised, not only refusals.
  expect(counts.loaded).toBeGreaterThan(100)
  expect(counts.refused).toBeGreaterThan(1000)
}, 120_000)
