#!/usr/bin/env node
// ferry ships TypeScript sources and runs them through jiti, so a clone works without a build step
// and user runbooks (also .ts) load through the same loader.
import { createJiti } from 'jiti'

const jiti = createJiti(import.meta.url, { fsCache: true, moduleCache: true })
const { main } = await jiti.import('../src/cli/main.ts')
process.exitCode = await main(process.argv)
