#!/usr/bin/env node
// `npm run schema`: writes schema/inventory.schema.json from the inventory's zod schema
// (src/inventory/json-schema.ts says why). test/unit/json-schema.test.ts fails until it is rerun
// after a change to the schema.
import { mkdirSync, writeFileSync } from 'node:fs'
import { createJiti } from 'jiti'

const jiti = createJiti(import.meta.url)
const { jsonSchemaText } = await jiti.import('../src/inventory/json-schema.ts')
const file = new URL('../schema/inventory.schema.json', import.meta.url)
mkdirSync(new URL('.', file), { recursive: true })
writeFileSync(file, jsonSchemaText())
console.log(`wrote ${file.pathname}`)
