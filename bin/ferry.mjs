#!/usr/bin/env node
// ferry runs from dist/ferry.cjs, which `npm run build` bundles (scripts/install.sh runs it), with
// V8's compiled code cached beside it; or else from its TypeScript sources through jiti. A clone
// works without a build, and a bundle older than any source, or than the last `npm install` (it
// holds copies of dependencies), is never used. FERRY_FROM_SOURCE=1 forces the sources. Runbooks
// (also .ts) load through jiti either way.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { Module, createRequire } from 'node:module'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'

const root = fileURLToPath(new URL('..', import.meta.url))
const bundle = `${root}dist/ferry.cjs`

function newest(path) {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(path).map((name) => newest(`${path}/${name}`)))
}

/** Node's require(), plus the compiled code cache that Node 20's own loader cannot use. */
function loadBundle() {
  const source = readFileSync(bundle, 'utf8')
  // Named after the build (its first line), since V8 accepts a cache made for any source of the
  // same length. A bundle without the line (built by hand) runs uncached.
  const build = /^\/\/ ferry build (\w+)\n/.exec(source)?.[1]
  const cache = build && `${bundle}.${build}.cache`
  const cachedData = cache && existsSync(cache) ? readFileSync(cache) : undefined
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData })
  const mod = new Module(bundle)
  mod.filename = bundle
  const require = createRequire(bundle)
  script.runInThisContext()(mod.exports, require, mod, bundle, dirname(bundle))
  mod.loaded = true
  // Runbooks import 'ferry' through jiti, which finds this very instance here.
  require.cache[bundle] = mod
  // Written after the command, so that it holds the functions the command compiled too.
  const saveCache = () => {
    if (!cache || (cachedData && !script.cachedDataRejected)) return
    const temporary = `${cache}.${process.pid}`
    try {
      writeFileSync(temporary, script.createCachedData())
      renameSync(temporary, cache)
    } catch {
      // A read-only installation runs without the cache.
      rmSync(temporary, { force: true })
    }
  }
  return { main: mod.exports.main, saveCache }
}

async function loadSources() {
  const { createJiti } = await import('jiti')
  const { main } = await createJiti(import.meta.url, { fsCache: true, moduleCache: true }).import('../src/cli/main.ts')
  return { main, saveCache: () => {} }
}

const fromBundle =
  process.env.FERRY_FROM_SOURCE !== '1' &&
  newest(bundle) >= Math.max(newest(`${root}src`), newest(`${root}node_modules/.package-lock.json`))
const { main, saveCache } = fromBundle ? loadBundle() : await loadSources()
process.exitCode = await main(process.argv)
saveCache()
