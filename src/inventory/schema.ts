// zod schemas for the inventory YAML as written (see DESIGN.md "Inventory format").
// Only structure and single-value checks live here; cross-references (groups, links, jumps,
// secrets) are checked in load.ts, which also turns issue paths into file:line:col.
import { isIPv4, isIPv6 } from 'node:net'
import { z } from 'zod'

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

const name = z
  .string()
  .regex(NAME_RE, 'names must start with a letter or digit and contain only letters, digits, "_", "." and "-"')

/** RFC 1123 host name. The last label may not be all digits, so "10.0.0.300" is not a host name. */
const HOSTNAME_RE =
  /^(?=.{1,253}\.?$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*(?!\d+\.?$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/

export function isAddress(s: string): boolean {
  return isIPv4(s) || isIPv6(s) || HOSTNAME_RE.test(s)
}

const address = z.string().refine(isAddress, 'must be an IPv4 address, an IPv6 address or a DNS host name')
const PORT = 'must be an integer from 1 to 65535'
const port = z.number(PORT).int(PORT).min(1, PORT).max(65535, PORT)
const os = z.enum(['freebsd', 'openbsd', 'linux'], 'must be one of freebsd, openbsd, linux')
const become = z.enum(['none', 'sudo', 'doas'], 'must be one of none, sudo, doas')
const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1))], 'must be a path or a list of paths')
const vars = z.record(z.string(), z.unknown())

/** Settings a host can take from `defaults` or set itself. */
const settings = {
  user: z.string().min(1),
  port,
  os,
  become,
  become_password: name,
  identity: stringOrList,
  known_hosts: stringOrList,
  connect_timeout: z.number().positive('must be a positive number of seconds'),
  vars,
}

const defaults = z.strictObject(settings).partial()

const group = z.strictObject({ vars: vars.optional() }).nullable()

const jail = z.strictObject({
  address: z.cidrv4('must be an IPv4 address with a prefix length, e.g. 172.16.3.17/32'),
  dataset: z.string().min(1),
})

const host = z
  .strictObject({
    ...defaults.shape,
    connection: z.enum(['ssh', 'local'], 'must be ssh or local').optional(),
    address: address.optional(),
    groups: z.array(name).optional(),
    jump: z.string().min(1).optional(),
    jails: z.record(name, jail).optional(),
  })
  .superRefine((h, ctx) => {
    // Only a host run on the controller itself can do without an address.
    if (h.address === undefined && h.connection !== 'local')
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'required' })
  })

// Any other key is a per-link setting that overrides group vars (tunnel, cost, ...).
const link = z.looseObject({ a: z.string(), b: z.string() })

const secret = z.string().regex(/^(env|file|cmd):/, 'must start with env:, file: or cmd:')

export const inventorySchema = z.strictObject({
  defaults: defaults.nullish(),
  groups: z
    .record(
      name.refine((n) => n !== 'all', '"all" is the implicit group of every host and cannot be declared'),
      group,
    )
    .nullish(),
  hosts: z.record(name, host),
  links: z.array(link).nullish(),
  secrets: z.record(name, secret).nullish(),
})

export type RawInventory = z.infer<typeof inventorySchema>
export type RawHost = z.infer<typeof host>

/** The keys an object schema accepts at `path`, for "did you mean" hints on unknown keys. */
export function knownKeys(path: PropertyKey[]): string[] {
  let s: z.ZodType | undefined = inventorySchema
  for (const seg of [...path, null]) {
    while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType
    if (seg === null) break
    if (s instanceof z.ZodObject) s = s.shape[String(seg)] as z.ZodType | undefined
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType
    else return []
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : []
}
