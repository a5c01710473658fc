#!/usr/bin/env node
// `npm run bench [-- SECTION...]`: runs bench/run.ts through jiti, like bin/ferry.mjs: no build step.
import { createJiti } from 'jiti'

const jiti = createJiti(import.meta.url, { fsCache: true, moduleCache: true })
const { main } = await jiti.import('./run.ts')
process.exitCode = await main(process.argv.slice(2))
