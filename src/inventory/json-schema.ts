// The inventory's JSON Schema, made from the zod schema that ferry itself loads inventories with,
// for editors: with `# yaml-language-server: $schema=…` at the top of an inventory, VS Code (the
// YAML extension) and other editors that speak the YAML language server complete its keys and
// flag a wrong key or value as they are typed. What a JSON Schema cannot say (an address that
// parses, a group that exists, a link's hosts, a secret's source) only ferry checks, with its
// file:line:col. schema/inventory.schema.json is this, written by `npm run schema`; a test keeps
// the two the same.
import { z } from 'zod'
import { inventorySchema } from './schema.ts'

export const JSON_SCHEMA_ID = 'https://ferry.invalid/schema/inventory.schema.json'

export function inventoryJsonSchema(): Record<string, unknown> {
  // io 'input': the file as written (defaults not yet applied); refinements have no JSON Schema
  // form and are left to ferry.
  const schema = z.toJSONSchema(inventorySchema, { io: 'input', unrepresentable: 'any' })
  return {
    ...schema,
    $id: JSON_SCHEMA_ID,
    title: 'ferry inventory',
    description:
      'Hosts, groups, links and secrets for ferry (see inventory/README.md). `ferry inventory -i FILE` checks what this schema cannot.',
  }
}

/** The file's text: two-space JSON and a final newline. */
export const jsonSchemaText = () => `${JSON.stringify(inventoryJsonSchema(), null, 2)}\n`
