import { defineConfig } from 'vitest/config'

// Unit tests run first, so `npm test` stops before touching the lab when they fail. The unit
// files that run ferry for real on this machine (`connection: local` hosts) share its one host
// lock, /var/run/ferry.lock, as two runs on one host must: they run one file at a time, beside
// the rest. Lab files share one set of namespaces, so they run one file at a time too.
const LOCAL = ['cli', 'drift', 'durations', 'engine', 'handlers', 'launcher', 'terminal'].map(
  (f) => `test/unit/${f}.test.ts`,
)

// Unit tests that start many processes (a quoting corpus through four shells, probes in every
// sh) take under a second alone but were seen past vitest's default 5 s while the unit files ran
// side by side on this machine's 2 slow-forking cores. What they assert is never a duration, so
// a longer limit hides no failure; durations are the benchmark's business (npm run bench).
const UNIT_TIMEOUT = 30_000

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], exclude: LOCAL, testTimeout: UNIT_TIMEOUT } },
      { test: { name: 'unit-local', include: LOCAL, fileParallelism: false, testTimeout: UNIT_TIMEOUT } },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          fileParallelism: false,
          globalSetup: ['test/lab/setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
})
