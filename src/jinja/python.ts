// Python's meaning of values, as Jinja2 under Ansible gives them: what is true, what a value
// prints as, what equals what, and json.dumps. JavaScript's own differ where router templates
// notice: an empty list is true in JS, `True` prints as `true`, `'1' == 1` holds.

/** Whether a value is a dict: a plain object, not a list, string or class instance. */
export function isDict(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** Python's bool(): empty strings, lists and dicts are false. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v) || typeof v === 'string') return v.length > 0
  if (isDict(v)) return Object.keys(v).length > 0
  return Boolean(v) && v !== 0
}

/** Python's str(). */
export function str(v: unknown): string {
  if (typeof v === 'string') return v
  if (v instanceof String) return v.toString() // nunjucks' SafeString: what a macro call returns
  return repr(v)
}

/** Python's repr() of the data a template holds: strings, numbers, booleans, None, lists, dicts. */
export function repr(v: unknown): string {
  if (v === null || v === undefined) return 'None'
  if (v === true) return 'True'
  if (v === false) return 'False'
  if (typeof v === 'string') return reprString(v)
  if (Array.isArray(v)) return `[${v.map(repr).join(', ')}]`
  if (isDict(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${reprString(k)}: ${repr(x)}`)
      .join(', ')}}`
  return String(v)
}

// Python quotes with ' unless the string holds a ' and no ".
function reprString(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'"
  const body = s.replace(/[\\\n\r\t]|[\x00-\x1f\x7f]/g, (c) => REPR_ESCAPES[c] ?? `\\x${hex(c, 2)}`)
  return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q
}
const REPR_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function hex(c: string, width: number): string {
  return c.charCodeAt(0).toString(16).padStart(width, '0')
}

/** Python's ==: by value for lists and dicts, and never between a string and a number. */
export function equals(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equals(x, b[i]))
  if (isDict(a) && isDict(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && equals(a[k], b[k]))
  }
  // True == 1 in Python, as bool is an int; undefined (a missing value) is None.
  const num = (x: unknown) => (typeof x === 'boolean' ? Number(x) : x === undefined ? null : x)
  return num(a) === num(b)
}

export interface JsonOptions {
  indent?: number
  sortKeys?: boolean
  /** Python's separators=(item, key); json.dumps's default is (', ', ': '), or (',', ': ') with an indent. */
  separators?: [string, string]
}

/** Python's json.dumps (ensure_ascii, as Ansible's to_json leaves it). */
export function jsonDumps(v: unknown, opts: JsonOptions = {}, depth = 0): string {
  const [item, key] = opts.separators ?? [opts.indent === undefined ? ', ' : ',', ': ']
  const open = (o: string, c: string, parts: string[]) => {
    if (!parts.length) return o + c
    if (opts.indent === undefined) return o + parts.join(item) + c
    const pad = (n: number) => '\n' + ' '.repeat(opts.indent! * n)
    return o + pad(depth + 1) + parts.join(item + pad(depth + 1)) + pad(depth) + c
  }
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'boolean') return String(v)
  if (typeof v === 'number')
    return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'
  if (typeof v === 'string' || v instanceof String) return jsonString(String(v))
  if (Array.isArray(v))
    return open(
      '[',
      ']',
      v.map((x) => jsonDumps(x, opts, depth + 1)),
    )
  if (isDict(v)) {
    const keys = Object.keys(v)
    if (opts.sortKeys) keys.sort(byCodePoint)
    return open(
      '{',
      '}',
      keys.map((k) => jsonString(k) + key + jsonDumps(v[k], opts, depth + 1)),
    )
  }
  throw new TypeError(`Object of type ${typeof v} is not JSON serializable`)
}

// Python escapes everything outside printable ASCII, as \uXXXX (UTF-16 units, as JS holds them).
function jsonString(s: string): string {
  return `"${s.replace(/[\\"]|[^\x20-\x7e]/g, (c) => JSON_ESCAPES[c] ?? `\\u${hex(c, 4)}`)}"`
}
const JSON_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
}

/** Python's order of strings: by code point (JS's < compares UTF-16 units, which differs past U+FFFF). */
export function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!)
  const y = [...b].map((c) => c.codePointAt(0)!)
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!
  return x.length - y.length
}

/**
 * A string literal's escapes read as Python's unicode-escape codec reads them, as Jinja2 does:
 * an escape Python does not know (`\.`, `\d`) keeps its backslash, which regexes rely on.
 */
export function unescape(raw: string): string {
  return raw.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|[\s\S])/g, (all, e: string) => {
    if (/^[xuU]./.test(e) || /^[0-7]/.test(e))
      return String.fromCodePoint(parseInt(e.replace(/^[xuU]/, ''), /^[0-7]/.test(e) ? 8 : 16))
    return UNESCAPES[e] ?? all
  })
}
const UNESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\n': '', // a backslash before a line break joins the lines
}
