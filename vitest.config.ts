import { defineConfig } from 'vitest/config'

// Two projects so `npm test` can run the fast unit suite first and stop before touching the lab
// when it fails. Lab files share one set of namespaces, so they run one file at a time.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
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
