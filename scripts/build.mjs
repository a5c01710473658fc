// Bundles ferry (src/bundle.ts) into dist/ferry.cjs, which bin/ferry.mjs runs with a V8 code
// cache. Every command pays for loading ferry: through jiti, the sources and the hundreds of files
// of their dependencies take several times as long as one bundled, cached file. bin/ferry.mjs
// falls back to the sources when the bundle is missing or older than any of them, so a build can
// be skipped but never goes stale.
import { build } from 'esbuild'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = `${root}dist`

// A native addon stays where npm built it, and the bundle requires it by its path in node_modules
// (ssh2's crypto binding, say), not by the relative path its package uses, which from dist/ would
// point nowhere: ssh2 would quietly fall back to slower JavaScript crypto.
const nativeAddons = {
  name: 'native-addons',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, ({ importer, path }) => ({
      path: createRequire(importer)
        .resolve(path)
        .replace(/^.*\/node_modules\//, ''),
      external: true,
    }))
  },
}
// CommonJS, because Node 20 can cache the compiled code of a vm.Script but not of an ES module.
const { outputFiles, metafile } = await build({
  absWorkingDir: root,
  entryPoints: ['src/bundle.ts'],
  outfile: 'dist/ferry.cjs',
  write: false,
  metafile: true,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  plugins: [nativeAddons],
  // Packages that load native addons themselves, and what loads only on demand (jiti for
  // runbooks, the task and prompt UIs, Graphviz's 1 MB of WebAssembly and resvg for ferry graph).
  external: [
    'cpu-features',
    '@resvg/resvg-js',
    '@viz-js/viz',
    'better-sqlite3',
    'jiti',
    'listr2',
    '@inquirer/prompts',
    '@listr2/prompt-adapter-inquirer',
  ],
  define: { 'import.meta.url': '__ferryModuleUrl' },
  banner: { js: "const __ferryModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
})
// Node 20 loses import()'s loader in code run from a code cache, so the bundle must not use it.
const dynamic = Object.values(metafile.outputs)
  .flatMap((o) => o.imports)
  .filter((i) => i.kind === 'dynamic-import')
if (dynamic.length)
  throw new Error(`the bundle would import() ${dynamic.map((i) => i.path).join(', ')}: require() it instead`)

// The first line names the bundle by its content, and bin/ferry.mjs names its code cache after
// it: V8 checks only that a cache was made for a source of the same length.
const code = outputFiles[0].contents
const id = createHash('sha256').update(code).digest('hex').slice(0, 16)
mkdirSync(dist, { recursive: true })
writeFileSync(`${dist}/ferry.cjs.${process.pid}`, Buffer.concat([Buffer.from(`// ferry build ${id}\n`), code]))
renameSync(`${dist}/ferry.cjs.${process.pid}`, `${dist}/ferry.cjs`)
// Caches of earlier bundles.
for (const name of readdirSync(dist)) if (name.endsWith('.cache')) rmSync(`${dist}/${name}`, { force: true })
