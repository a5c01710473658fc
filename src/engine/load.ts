// Runbooks are TypeScript, loaded with jiti. `ferry` and `zx` are aliased to this installation,
// so a runbook anywhere on disk can `import { defineRunbook } from 'ferry'` without its own
// node_modules.

import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Runbook } from '../runbook.ts'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)

export class RunbookError extends Error {
  override name = 'RunbookError'
}

// What a runbook's `import … from 'ferry'` loads: the sources, or the bundle when ferry runs from it.
let api = join(SRC, 'index.ts')

/** Called by the bundle (src/bundle.ts), which exports the API itself. */
export function useBundledApi(url: string): void {
  api = fileURLToPath(url)
}

/** `deploy-mesh` → `runbooks/deploy-mesh.ts` under cwd; anything with a slash or extension is a path. */
export function runbookPath(nameOrPath: string, cwd = process.cwd()): string {
  if (/[/\\]|\.[cm]?[jt]s$/.test(nameOrPath)) return resolve(cwd, nameOrPath)
  return join(cwd, 'runbooks', `${nameOrPath}.ts`)
}

export async function loadRunbook(
  nameOrPath: string,
  cwd = process.cwd(),
): Promise<{ runbook: Runbook; path: string }> {
  const path = runbookPath(nameOrPath, cwd)
  if (!existsSync(path)) {
    const dir = join(cwd, 'runbooks')
    const known = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.ts'))
          .map((f) => f.slice(0, -3))
      : []
    throw new RunbookError(`no runbook at ${path}${known.length ? ` (runbooks/ has: ${known.join(', ')})` : ''}`)
  }
  // Node's module cache is shared, so `ferry` in a runbook is the very modules the engine runs:
  // one StepError class for instanceof. From the sources, zx is shared too; the bundle has its own
  // copy, and a runbook importing zx gets the package's, which can only run local commands anyway.
  // Required here, not imported: only commands that load a runbook pay for jiti.
  const { createJiti } = require('jiti') as typeof import('jiti')
  const jiti = createJiti(import.meta.url, {
    fsCache: true,
    moduleCache: true,
    // An alias also rewrites its subpaths, so zx/core (which ferry's own modules use) is named
    // exactly, as the file Node's require resolves it to: the same module instance either way.
    alias: { ferry: api, 'zx/core': require.resolve('zx/core'), zx: dirname(require.resolve('zx/package.json')) },
  })
  let mod: { default?: unknown }
  try {
    mod = await jiti.import(path)
  } catch (err) {
    throw new RunbookError(`cannot load runbook ${path}: ${(err as Error).message}`)
  }
  const runbook = mod.default as Runbook | undefined
  if (runbook?.kind !== 'ferry-runbook') throw new RunbookError(`${path} must \`export default defineRunbook({ … })\``)
  return { runbook, path }
}
