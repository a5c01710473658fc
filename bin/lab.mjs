#!/usr/bin/env node
// Runs the test lab (lab/lab.ts) through jiti, like bin/ferry.mjs: no build step.
// `npm run lab -- up [N] [--zfs] [--uml] [--ha] | down | status [--json] | --help`
import { createJiti } from 'jiti'

const jiti = createJiti(import.meta.url, { fsCache: true, moduleCache: true })
const { main } = await jiti.import('../lab/lab.ts')
process.exitCode = await main(process.argv)
