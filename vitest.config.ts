import { defineConfig } from 'vitest/config'

// Unit tests run first, so `npm test` stops before touching the lab when they fail. The unit
// files that run ferry for real on this machine (`connection: local` hosts) share its one host
// lock, /var/run/ferry.lock, as two runs on one host must: they run one file at a time, beside
// the rest. Lab files share one set of namespaces, so they run one file at a time too.
const LOCAL = ['cli', 'drift', 'durations', 'engine', 'handlers', 'launcher', 'terminal'].map(
  (f) => `test/unit/${f}.test.ts`,
)

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], exclude: LOCAL } },
      { test: { name: 'unit-local', include: LOCAL, fileParallelism: false } },
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
