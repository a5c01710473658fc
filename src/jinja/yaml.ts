// Ansible's to_nice_yaml: PyYAML's yaml.dump(value, indent=4, default_flow_style=False,
// allow_unicode=True), whose layout the yaml package cannot be configured into: keys sorted, a
// list under a key not indented, a collection in a list item starting on the dash's line at the
// next indent (`-   name: x`). The layout is written here; the yaml package decides how a
// string is quoted, told only what PyYAML's own resolvers would read as something else.
import YAML from 'yaml'
import { byCodePoint, isDict } from './python.ts'

// PyYAML's implicit resolvers (yaml/resolver.py, YAML 1.1): a plain string matching one would
// read back as a bool, number, null, date, merge key or value key, so PyYAML quotes it. The yaml
// package's YAML 1.1 schema differs in small ways (it takes y and n for booleans, 1e3 for a float).
const RESOLVED = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^(?:~|null|Null|NULL|)$/,
  /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/,
  /^(?:<<|=)$/,
]

// Failsafe: every scalar a string, so the yaml package quotes only for YAML's syntax (`a: b`, `#x`).
const SYNTAX_ONLY = { schema: 'failsafe', singleQuote: true, lineWidth: 0 } as const

/** `yaml.dump(value, indent=indent, default_flow_style=False, allow_unicode=True)`. */
export function toNiceYaml(value: unknown, indent = 4): string {
  if (isCollection(value)) return block(value, 0, indent)
  const s = scalar(value)
  // PyYAML ends a document that is one plain scalar with `...`, so a reader knows it is whole.
  return /^['"]/.test(s) ? `${s}\n` : `${s}\n...\n`
}

function isCollection(v: unknown): v is unknown[] | Record<string, unknown> {
  return Array.isArray(v) ? v.length > 0 : isDict(v) && Object.keys(v).length > 0
}

/** A non-empty collection whose first line starts at the cursor, already at column `col`. */
function block(v: unknown[] | Record<string, unknown>, col: number, step: number): string {
  const pad = (n: number) => ' '.repeat(n)
  if (Array.isArray(v))
    return v
      .map((item, i) => {
        const head = `${i ? pad(col) : ''}-`
        return isCollection(item) ? head + pad(step - 1) + block(item, col + step, step) : `${head} ${scalar(item)}\n`
      })
      .join('')
  return Object.keys(v)
    .sort(byCodePoint)
    .map((k, i) => {
      const head = `${i ? pad(col) : ''}${scalar(k)}:`
      const item = v[k]
      if (!isCollection(item)) return `${head} ${scalar(item)}\n`
      // A list under a key is not indented: its dashes stand at the key's column.
      return Array.isArray(item)
        ? `${head}\n${pad(col)}${block(item, col, step)}`
        : `${head}\n${pad(col + step)}${block(item, col + step, step)}`
    })
    .join('')
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  if (Array.isArray(v)) return '[]'
  if (isDict(v)) return '{}'
  if (typeof v !== 'string') return String(v)
  if (/[\x00-\x1f\x7f]/.test(v))
    // PyYAML writes these as folded quoted scalars or with escapes; nothing here does yet.
    throw new Error(
      `to_nice_yaml: ${JSON.stringify(v)} holds a line break or control character, which ferry cannot yet write as PyYAML does`,
    )
  if (RESOLVED.some((re) => re.test(v))) return `'${v}'`
  const s = YAML.stringify(v, SYNTAX_ONLY).slice(0, -1)
  // PyYAML prefers single quotes even for a string holding one (doubled); the yaml package double-quotes it.
  return s.startsWith('"') ? `'${v.replace(/'/g, "''")}'` : s
}
