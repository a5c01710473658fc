import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineConfig } from 'vitest/config'

// Unit tests run first, so `npm test` stops before touching the lab when they fail. The unit
// files that run ferry for real on this machine (`connection: local` hosts) share its one host
// lock, /var/run/ferry.lock, as two runs on one host must: they run one file at a time, beside
// the rest. Lab files share one set of namespaces, so they run one file at a time too.
const LOCAL = ['cli', 'drift', 'durations', 'engine', 'handlers', 'launcher', 'terminal'].map(
  (f) => `test/unit/${f}.test.ts`,
)

// Unit tests start shells, bash among them, and bash reads ~/.bashrc even for `bash -c` when its
// stdin is a socket (Node's stdio pipes are socketpairs) and SHLVL is unset, as under CI. This
// machine's root .bashrc (pyenv's set-up) takes 0.7 s each time and can wait on pyenv's rehash
// lock: a corpus through bash then took past any limit. Unit tests get a HOME of their own with
// no dotfiles, so they run what they test and not the developer's shell set-up.
const UNIT_ENV = { HOME: mkdtempSync(join(tmpdir(), 'ferry-unit-home-')) }

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], exclude: LOCAL, env: UNIT_ENV } },
      { test: { name: 'unit-local', include: LOCAL, fileParallelism: false, env: UNIT_ENV } },
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
