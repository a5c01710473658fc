// The filters and tests jinja() templates may use, each as ansible-core 2.14 (Jinja2 3.1) means
// it: Python's str(), case-insensitive sorting, regexes with Python's replacement syntax. Any other
// name is refused when the template compiles, as Jinja2 refuses an unknown filter.
import { equals, isDict, jsonDumps, str, truthy, byCodePoint } from './python.ts'
import { toNiceYaml } from './yaml.ts'

/** What a lookup gives where Jinja2 lets a missing value through: `is defined`, `| default`. */
export class Undefined {
  constructor(readonly hint: string) {}
}

/** The filters and tests that see a missing value as such rather than failing on it. */
export const TAKES_UNDEFINED = { filters: new Set(['default', 'd']), tests: new Set(['defined', 'undefined', 'none']) }

type Fn = (value: any, ...args: any[]) => unknown

/**
 * A filter or test called with Jinja's keyword arguments (`sort(attribute='name')`), which
 * nunjucks passes as a last object marked `__keywords`, put in place by the Python names.
 */
function define(name: string, params: string[], fn: Fn): Fn {
  return (value, ...args) => {
    const last = args.at(-1)
    if (isDict(last) && last.__keywords === true) {
      args.pop()
      for (const [k, v] of Object.entries(last)) {
        if (k === '__keywords') continue
        const i = params.indexOf(k)
        if (i < 0) throw new Error(`${name}() got an unexpected keyword argument '${k}'`)
        args[i] = v
      }
    }
    return fn(value, ...args)
  }
}

/** Jinja's attribute getter: `a.b.0`, each part a key or an index. */
function attributeOf(item: unknown, attribute: string | number | null | undefined): unknown {
  if (attribute === null || attribute === undefined) return item
  return String(attribute)
    .split('.')
    .reduce<any>((v, part) => (Array.isArray(v) && /^\d+$/.test(part) ? v[Number(part)] : v?.[part]), item)
}

function sequence(name: string, v: unknown): unknown[] {
  if (Array.isArray(v)) return v
  if (typeof v === 'string') return [...v]
  if (isDict(v)) return Object.keys(v)
  throw new Error(`${name}: ${str(v)} is not a list`)
}

/** Python's sorted() key order: numbers by value, strings by code point. */
function compare(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return byCodePoint(a, b)
  if (typeof a === typeof b && typeof a !== 'object') return (a as number) < (b as number) ? -1 : a === b ? 0 : 1
  throw new Error(`'<' not supported between ${typeof a} and ${typeof b}`)
}

// Python's re, as far as JavaScript's RegExp goes: named groups and \A, \Z, $ translated, inline
// flags at the start. Not translated: \w, \d and \s match ASCII only, as JavaScript's do.
function pythonRegex(name: string, pattern: string, ignorecase: unknown, multiline: unknown, global = true): RegExp {
  let flags = (global ? 'g' : '') + (truthy(ignorecase) ? 'i' : '') + (truthy(multiline) ? 'm' : '')
  const inline = /^\(\?([aiLmsux]+)\)/.exec(pattern)
  if (inline) {
    for (const f of inline[1]!) {
      if (!'ims'.includes(f)) throw new Error(`${name}: the inline flag (?${f}) has no JavaScript equivalent`)
      if (!flags.includes(f)) flags += f
    }
    pattern = pattern.slice(inline[0].length)
  }
  const m = flags.includes('m')
  // Escapes and character classes pass through whole, so a $ or group inside them is left alone.
  const source = pattern.replace(
    /\\.|\[(?:\\.|[^\]\\])*\]|\(\?P<|\(\?P=(\w+)\)|\$/g,
    (tok, ref: string | undefined) => {
      if (tok === '(?P<') return '(?<'
      if (ref) return `\\k<${ref}>`
      if (tok === '\\A') return '(?<![\\s\\S])'
      if (tok === '\\Z') return '(?![\\s\\S])'
      // Without re.M, Python's $ also matches before a newline that ends the string.
      if (tok === '$' && !m) return '(?=\\n?(?![\\s\\S]))'
      return tok
    },
  )
  return new RegExp(source, flags)
}

// Python's replacement template: \1, \g<1>, \g<name>, and escapes; a group that did not match is ''.
function pythonReplacement(template: string): (...match: any[]) => string {
  const parts = template.split(/(\\g<\w+>|\\\d{1,2}|\\.)/)
  return (...match) => {
    const groups = typeof match.at(-1) === 'object' ? match.at(-1) : {}
    return parts
      .map((p, i) => {
        if (i % 2 === 0) return p
        const ref = /^\\(?:g<(\w+)>|(\d+))$/.exec(p)
        if (ref) {
          const key = ref[1] ?? ref[2]!
          return (/^\d+$/.test(key) ? match[Number(key)] : groups[key]) ?? ''
        }
        const escaped = ESCAPES[p[1]!]
        if (escaped !== undefined) return escaped
        if (/[a-zA-Z]/.test(p[1]!)) throw new Error(`regex_replace: bad escape ${p} in the replacement`)
        return p // Python keeps other escapes (\&) as written
      })
      .join('')
  }
}
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' }

interface Ipv4 {
  address: number
  prefix: number
}

/** `a.b.c.d`, `a.b.c.d/len` or `a.b.c.d/netmask`; undefined for anything else. */
function parseIpv4(value: unknown): Ipv4 | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}|\d{1,3}(?:\.\d{1,3}){3}))?$/.exec(String(value))
  if (!m) return undefined
  const toInt = (dotted: string) => {
    const octets = dotted.split('.').map(Number)
    return octets.some((o) => o > 255) ? undefined : octets.reduce((n, o) => n * 256 + o, 0)
  }
  const address = toInt(m[1]!)
  let prefix = m[2] === undefined ? 32 : Number(m[2])
  if (m[2]?.includes('.')) {
    const mask = toInt(m[2])
    const bits = mask === undefined ? '' : mask.toString(2).padStart(32, '0')
    if (!/^1*0*$/.test(bits)) return undefined
    prefix = bits.indexOf('0') < 0 ? 32 : bits.indexOf('0')
  }
  return address === undefined || prefix > 32 ? undefined : { address, prefix }
}

function dotted(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.')
}

// ansible.utils' ipaddr for IPv4 (that collection is not in ansible-core): the queries router
// templates use. An IPv6 value is refused rather than answered wrongly.
function ipaddr(value: unknown, query: unknown = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => ipaddr(v, query)).filter(truthy)
  if (typeof value === 'string' && value.includes(':') && /^[0-9a-fA-F:.]+(\/\d+)?$/.test(value))
    throw new Error(`ipaddr: ${value} is IPv6, which ferry's ipaddr does not handle`)
  const ip = parseIpv4(value)
  if (!ip) return false
  const mask = ip.prefix ? 2 ** 32 - 2 ** (32 - ip.prefix) : 0
  const network = ip.address - (ip.address % 2 ** (32 - ip.prefix))
  switch (query) {
    case '':
      return value
    case 'address':
      // A network's own address is no host's, except in a /31 or /32 (ansible.utils answers None).
      return ip.prefix >= 31 || ip.address !== network ? dotted(ip.address) : null
    case 'netmask':
      return dotted(mask)
    case 'prefix':
      return ip.prefix
    case 'network':
      return dotted(network)
    default:
      throw new Error(`ipaddr: ferry does not answer '${str(query)}' (it has address, netmask, prefix, network)`)
  }
}

/** Ansible's to_bool. */
function bool(a: unknown): unknown {
  if (a === null || a === undefined || typeof a === 'boolean') return a ?? null
  const v = typeof a === 'string' ? a.toLowerCase() : a
  return ['yes', 'on', '1', 'true', 1].includes(v as string | number)
}

/** Jinja's int: Python's int(value, base), else int(float(value)), else the default. */
function int(value: unknown, fallback: unknown = 0, base: unknown = 10): unknown {
  if (typeof value === 'boolean') return Number(value)
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : fallback
  if (typeof value !== 'string') return fallback
  const b = Number(base)
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, b)
  const prefix = ({ 16: '0x', 8: '0o', 2: '0b' } as Record<number, string>)[b] ?? ''
  const m = new RegExp(`^\\s*([-+]?)(?:${prefix})?([${digits}]+(?:_[${digits}]+)*)\\s*$`, 'i').exec(value)
  if (m) return Number.parseInt(m[1]! + m[2]!.replace(/_/g, ''), b)
  // Python's float() syntax, nothing looser: JavaScript's Number('') would be 0.
  const f = /^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?\s*$/i.test(value) ? Number(value) : NaN
  return Number.isFinite(f) ? Math.trunc(f) : fallback
}

function replace(s: unknown, old: unknown, replacement: unknown, count: unknown = null): string {
  const parts = str(s).split(str(old))
  const n = count === null || Number(count) < 0 ? parts.length : Number(count) + 1
  return parts.slice(0, n).join(str(replacement)) + (parts.length > n ? str(old) + parts.slice(n).join(str(old)) : '')
}

export const FILTERS: Record<string, Fn> = {
  default: define('default', ['default_value', 'boolean'], (value, fallback = '', boolean = false) =>
    value instanceof Undefined || (truthy(boolean) && !truthy(value)) ? fallback : value,
  ),
  join: define('join', ['d', 'attribute'], (value, d = '', attribute = null) =>
    sequence('join', value)
      .map((item) => str(attributeOf(item, attribute)))
      .join(str(d)),
  ),
  upper: (s) => str(s).toUpperCase(),
  lower: (s) => str(s).toLowerCase(),
  replace: define('replace', ['old', 'new', 'count'], replace),
  regex_replace: define(
    'regex_replace',
    ['pattern', 'replacement', 'ignorecase', 'multiline'],
    (value, pattern = '', replacement = '', ignorecase = false, multiline = false) =>
      str(value).replace(
        pythonRegex('regex_replace', str(pattern), ignorecase, multiline),
        pythonReplacement(str(replacement)),
      ),
  ),
  ipaddr: define('ipaddr', ['query'], ipaddr),
  ipv4: define('ipv4', ['query'], (value, query = '') =>
    Array.isArray(value)
      ? value.filter((v) => parseIpv4(v)).map((v) => ipaddr(v, query))
      : parseIpv4(value)
        ? ipaddr(value, query)
        : false,
  ),
  to_nice_yaml: define('to_nice_yaml', ['indent'], (value, indent = 4) => toNiceYaml(value, Number(indent))),
  to_json: (value) => jsonDumps(value),
  to_nice_json: define('to_nice_json', ['indent', 'sort_keys'], (value, indent = 4, sortKeys = true) =>
    jsonDumps(value, { indent: Number(indent), sortKeys: truthy(sortKeys), separators: [',', ': '] }),
  ),
  bool,
  int: define('int', ['default', 'base'], int),
  length: (value) => (typeof value === 'string' ? [...value].length : sequence('length', value).length),
  sort: define(
    'sort',
    ['reverse', 'case_sensitive', 'attribute'],
    (value, reverse = false, caseSensitive = false, attribute = null) => {
      const key = (item: unknown) => {
        const k = attributeOf(item, attribute)
        return typeof k === 'string' && !truthy(caseSensitive) ? k.toLowerCase() : k
      }
      const sorted = [...sequence('sort', value)].sort((a, b) => compare(key(a), key(b)))
      return truthy(reverse) ? sorted.reverse() : sorted
    },
  ),
  // Ansible passes case_sensitive=bool(None) to Jinja's unique: case-insensitive unless asked.
  unique: define('unique', ['case_sensitive', 'attribute'], (value, caseSensitive = false, attribute = null) => {
    const seen: unknown[] = []
    return sequence('unique', value).filter((item) => {
      const k = attributeOf(item, attribute)
      const key = typeof k === 'string' && !truthy(caseSensitive) ? k.toLowerCase() : k
      if (seen.some((s) => equals(s, key))) return false
      seen.push(key)
      return true
    })
  }),
  first: (value) => {
    const items = sequence('first', value)
    if (!items.length) throw new Error('No first item, sequence was empty.')
    return items[0]
  },
  last: (value) => {
    const items = sequence('last', value)
    if (!items.length) throw new Error('No last item, sequence was empty.')
    return items.at(-1)
  },
  dict2items: define('dict2items', ['key_name', 'value_name'], (value, keyName = 'key', valueName = 'value') => {
    if (!isDict(value)) throw new Error(`dict2items requires a dictionary, got ${str(value)} instead.`)
    return Object.entries(value).map(([k, v]) => ({ [keyName]: k, [valueName]: v }))
  }),
  items2dict: define('items2dict', ['key_name', 'value_name'], (value, keyName = 'key', valueName = 'value') => {
    if (!Array.isArray(value)) throw new Error(`items2dict requires a list, got ${str(value)} instead.`)
    return Object.fromEntries(value.map((item) => [item[keyName], item[valueName]]))
  }),
}
FILTERS.d = FILTERS.default!

export const TESTS: Record<string, Fn> = {
  defined: (v) => !(v instanceof Undefined),
  undefined: (v) => v instanceof Undefined,
  none: (v) => v === null,
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  mapping: (v) => isDict(v),
  sequence: (v) => Array.isArray(v) || typeof v === 'string' || isDict(v),
  // Ansible's regex tests: match anchors at the start (re.match), search does not.
  match: define(
    'match',
    ['pattern', 'ignorecase', 'multiline'],
    (v, pattern, ignorecase = false, multiline = false) => {
      const re = pythonRegex('match', str(pattern), ignorecase, multiline, false)
      return new RegExp(re.source, `${re.flags}y`).test(str(v)) // sticky: at the start, whatever re.M says
    },
  ),
  search: define(
    'search',
    ['pattern', 'ignorecase', 'multiline'],
    (v, pattern, ignorecase = false, multiline = false) =>
      pythonRegex('search', str(pattern), ignorecase, multiline, false).test(str(v)),
  ),
}
