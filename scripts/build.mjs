// Bundles ferry (src/bundle.ts) into dist/ferry.cjs, which bin/ferry.mjs runs with a V8 code
// cache. Every command pays for loading ferry: through jiti, the sources and the hundreds of files
// of their dependencies take several times as long as one bundled, cached file. bin/ferry.mjs
// falls back to the sources when the bundle is missing or older than any of them, so a build can
// be skipped but never goes stale.
import { build } from 'esbuild'
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
// CommonJS, because Node 20 can cache the compiled code of a vm.Script but not of an ES module.
await build({
  absWorkingDir: root,
  entryPoints: ['src/bundle.ts'],
  outfile: 'dist/ferry.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Native addons and what loads only on demand (jiti for runbooks, the task and prompt UIs).
  external: ['ssh2', 'better-sqlite3', 'jiti', 'listr2', '@inquirer/prompts', '@listr2/prompt-adapter-inquirer'],
  define: { 'import.meta.url': '__ferryModuleUrl' },
  banner: { js: "const __ferryModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
})
// The code cache of the bundle before.
rmSync(`${root}dist/ferry.cjs.cache`, { force: true })
