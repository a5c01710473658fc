// The inventory's JSON Schema for editors (src/inventory/json-schema.ts): it is what the zod schema
// says, the shipped inventories point at it, and a JSON Schema validator (ajv, as the YAML language
// server's own) accepts what ferry accepts and flags, at the same key, the shape errors ferry reports.
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { jsonSchemaText } from '../../src/inventory/json-schema.ts'
import { ROOT } from '../fixtures/seeds/inventories.ts'

const SCHEMA = path.join(ROOT, 'schema', 'inventory.schema.json')
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'inventory')
const shipped = readdirSync(path.join(ROOT, 'inventory'))
  .filter((f) => f.endsWith('.yaml') && !f.startsWith('lab'))
  .map((f) => path.join(ROOT, 'inventory', f))
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(SCHEMA, 'utf8')))
const errors = (file: string) => {
  validate(parse(readFileSync(file, 'utf8')))
  return (validate.errors ?? []).map(
    (e) =>
      `${e.instancePath} ${e.message}${e.params && 'additionalProperty' in e.params ? ` ${e.params.additionalProperty}` : ''}`,
  )
}

describe('the inventory JSON Schema', () => {
  it('is the zod schema as JSON Schema (run `npm run schema` after changing src/inventory/schema.ts)', () => {
    expect(readFileSync(SCHEMA, 'utf8')).toBe(jsonSchemaText())
  })

  it('is named on the first line of every shipped inventory, for the YAML language server', () => {
    expect(shipped.length).toBeGreaterThan(5)
    for (const f of shipped)
      expect(readFileSync(f, 'utf8').split('\n')[0], f).toBe(
        '# yaml-language-server: $schema=../schema/inventory.schema.json',
      )
  })

  it('accepts every shipped inventory and the valid fixtures', () => {
    for (const f of [...shipped, ...['full', 'local', 'minimal'].map((n) => path.join(FIXTURES, `${n}.yaml`))])
      expect(errors(f), f).toEqual([])
  })

  it.each([
    ['unknown-top-key.yaml', ' must NOT have additional properties host'],
    ['unknown-host-key.yaml', '/hosts/r1 must NOT have additional properties adress'],
    ['bad-port.yaml', '/hosts/r1/port must be <= 65535'],
    ['bad-os.yaml', '/hosts/r1/os must be equal to one of the allowed values'],
    ['bad-become.yaml', '/defaults/become must be equal to one of the allowed values'],
    ['bad-host-name.yaml', '/hosts must match pattern "^[A-Za-z0-9][A-Za-z0-9_.-]*$"'],
  ])('flags %s where ferry does', (fixture, error) => {
    expect(errors(path.join(FIXTURES, 'broken', fixture))).toContain(error)
  })
})
