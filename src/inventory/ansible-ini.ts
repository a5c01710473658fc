// Ansible's INI inventory format, read as its `ini` plugin reads it: `[group]` lists hosts, each
// with `key=value` words split as POSIX shlex splits them; `[group:vars]` has one `key = value`
// per line; `[group:children]` names groups. A value is a Python literal if it parses as one
// (`514`, `True`, `[1, 2]`, `"quoted"`) and is the text as written otherwise, comments included:
// `tunnel=gre  # note` is the string "gre  # note" in a :vars section, as in Ansible.
import { expandHostPattern, fail, InventoryBuilder, type AnsibleInventory } from './ansible-read.ts'
import { quoted } from './errors.ts'
import type { Location } from './types.ts'

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/
const GROUP_LINE = /^([^:\]\s]+)\s*(?:#.*)?$/

export function readIniInventory(file: string, text: string): AnsibleInventory {
  const b = new InventoryBuilder(file)
  // Sections naming a group declared later: `[g:vars]` and `[parent:children]` may come first.
  const pending = new Map<string, { at: Location; message: string; parents: string[] }>()
  let group = 'ungrouped'
  let state = 'hosts'

  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (!line || line.startsWith('#') || line.startsWith(';')) return
    const at = { file, line: i + 1, col: raw.indexOf(line) + 1 }

    if (line.startsWith('[')) {
      const m = SECTION.exec(line)
      if (!m) {
        if (!line.includes(']')) fail(at, `section ${quoted(line)} has no closing "]"`)
        fail(at, `invalid section ${quoted(line)}: a group name has no spaces and no ":"`)
      }
      group = m[1]!
      state = m[2] ?? 'hosts'
      if (!['hosts', 'vars', 'children'].includes(state))
        fail(at, `section [${group}:${state}] has an unknown type: expected :vars or :children`)
      const declared = b.hasGroup(group)
      b.group(group, at)
      const waiting = pending.get(group)
      if (state !== 'vars') {
        if (waiting) {
          pending.delete(group)
          for (const parent of waiting.parents) b.child(parent, group, waiting.at)
        }
      } else if (!declared && !waiting) {
        pending.set(group, { at, message: `section [${group}:vars] is for a group declared nowhere`, parents: [] })
      }
      return
    }

    if (state === 'hosts') {
      const [pattern, ...assignments] = shlexSplit(line, at)
      if (!pattern) return
      const { names, port } = expandHostPattern(pattern.text, pattern.at)
      const hosts = names.map((name) => b.host(name, group, pattern.at))
      if (port !== undefined) hosts.forEach((h) => b.set(h, 'ansible_port', port, pattern.at))
      for (const word of assignments) {
        const eq = word.text.indexOf('=')
        if (eq < 0) fail(word.at, `expected key=value after the host, not ${quoted(word.text)}`)
        const value = pythonValue(word.text.slice(eq + 1))
        hosts.forEach((h) => b.set(h, word.text.slice(0, eq), value, word.at))
      }
    } else if (state === 'vars') {
      const eq = line.indexOf('=')
      if (eq < 0) fail(at, `expected key=value in [${group}:vars], not ${quoted(line)}`)
      b.set(b.group(group, at), line.slice(0, eq).trim(), pythonValue(line.slice(eq + 1).trim()), at)
    } else {
      const child = GROUP_LINE.exec(line)?.[1]
      if (!child) fail(at, `expected a group name in [${group}:children], not ${quoted(line)}`)
      if (b.hasGroup(child) && !pending.has(child)) b.child(group, child, at)
      else {
        const waiting = pending.get(child)
        if (waiting) waiting.parents.push(group)
        else
          pending.set(child, {
            at,
            message: `[${group}:children] names ${quoted(child)}, a group declared nowhere`,
            parents: [group],
          })
      }
    }
  })
  const [undeclared] = pending.values()
  if (undeclared) fail(undeclared.at, undeclared.message)
  return b.finish()
}

interface Word {
  text: string
  at: Location
}

/** Python's shlex.split(line, comments=True): quotes, backslashes, and `#` starting a comment. */
function shlexSplit(line: string, at: Location): Word[] {
  const words: Word[] = []
  let word: Word | undefined
  const add = (c: string, i: number) => {
    word ??= { text: '', at: { ...at, col: at.col + i } }
    word.text += c
  }
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (/\s/.test(c)) {
      if (word) words.push(word)
      word = undefined
    } else if (c === '#') {
      break
    } else if (c === '\\') {
      add(line[++i] ?? '', i - 1)
    } else if (c === "'" || c === '"') {
      const start = i
      add('', i)
      for (i++; line[i] !== c; i++) {
        if (i >= line.length) fail({ ...at, col: at.col + start }, 'no closing quotation mark')
        // Inside double quotes a backslash escapes only `"` and `\`.
        if (c === '"' && line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++
        add(line[i]!, i)
      }
    } else {
      add(c, i)
    }
  }
  if (word) words.push(word)
  return words
}

/** ast.literal_eval's answer, or the text itself when it is not a Python literal. */
function pythonValue(text: string): unknown {
  const p = new PythonLiteral(text)
  try {
    const value = p.value()
    p.end()
    return value
  } catch (e) {
    if (e instanceof NotLiteral) return text
    throw e
  }
}

class NotLiteral extends Error {}

/** Enough of Python's literal syntax for inventory values: numbers, strings, bools, None, lists, dicts. */
class PythonLiteral {
  private i = 0
  constructor(private readonly s: string) {}

  value(): unknown {
    this.space()
    const c = this.s[this.i]
    if (c === '[' || c === '(') return this.list(c === '[' ? ']' : ')')
    if (c === '{') return this.dict()
    const str = /^[rRuUbB]{0,2}['"]/.exec(this.s.slice(this.i))
    if (str) {
      let out = ''
      // Adjacent strings concatenate: "a" 'b' is "ab".
      while (/^[rRuUbB]{0,2}['"]/.test(this.s.slice(this.i))) {
        out += this.string()
        this.space()
      }
      return out
    }
    const m =
      /^[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?\.?)(?![\w.])/.exec(
        this.s.slice(this.i),
      )
    if (m) {
      this.i += m[0].length
      return number(m[0])
    }
    const word = /^(True|False|None)\b/.exec(this.s.slice(this.i))?.[1]
    if (!word) throw new NotLiteral()
    this.i += word.length
    return { True: true, False: false, None: null }[word as 'True']
  }

  end(): void {
    this.space()
    if (this.i < this.s.length) throw new NotLiteral()
  }

  private space(): void {
    for (;;) {
      while (/\s/.test(this.s[this.i] ?? '')) this.i++
      if (this.s[this.i] !== '#') return
      while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++
    }
  }

  private list(close: string): unknown[] {
    this.i++
    const out: unknown[] = []
    for (;;) {
      this.space()
      if (this.s[this.i] === close) break
      out.push(this.value())
      this.space()
      if (this.s[this.i] === ',') this.i++
      else if (this.s[this.i] !== close) throw new NotLiteral()
    }
    this.i++
    return out
  }

  private dict(): Record<string, unknown> {
    this.i++
    const out: Record<string, unknown> = {}
    for (;;) {
      this.space()
      if (this.s[this.i] === '}') break
      const key = this.value()
      this.space()
      if (this.s[this.i++] !== ':') throw new NotLiteral()
      out[String(key)] = this.value()
      this.space()
      if (this.s[this.i] === ',') this.i++
      else if (this.s[this.i] !== '}') throw new NotLiteral()
    }
    this.i++
    return out
  }

  private string(): string {
    const prefix = /^[rRuUbB]*/.exec(this.s.slice(this.i))![0]
    const raw = /r/i.test(prefix)
    this.i += prefix.length
    const quote = this.s.startsWith(this.s[this.i]!.repeat(3), this.i) ? this.s[this.i]!.repeat(3) : this.s[this.i]!
    this.i += quote.length
    let out = ''
    for (;;) {
      if (this.i >= this.s.length) throw new NotLiteral()
      if (this.s.startsWith(quote, this.i)) break
      const c = this.s[this.i++]!
      if (c !== '\\') out += c
      else if (raw) out += c + (this.s[this.i++] ?? '')
      else out += this.escape()
    }
    this.i += quote.length
    return out
  }

  private escape(): string {
    const c = this.s[this.i++] ?? ''
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      '0': '\0',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
      '\\': '\\',
      "'": "'",
      '"': '"',
      '\n': '',
    }
    if (c in simple) return simple[c]!
    const hex = { x: 2, u: 4, U: 8 }[c]
    if (hex) {
      const digits = this.s.slice(this.i, this.i + hex)
      if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) throw new NotLiteral()
      this.i += hex
      return String.fromCodePoint(parseInt(digits, 16))
    }
    return `\\${c}`
  }
}

function number(text: string): number {
  const t = text.replace(/_/g, '')
  const sign = t.startsWith('-') ? -1 : 1
  const body = t.replace(/^[+-]/, '')
  const radix = { x: 16, o: 8, b: 2 }[body[1]?.toLowerCase() ?? '']
  if (radix && body.startsWith('0')) return sign * parseInt(body.slice(2), radix)
  // Python refuses an integer with a leading zero ("0755"): it is then text.
  if (/^0\d/.test(body) && /^\d+$/.test(body) && /[1-9]/.test(body)) throw new NotLiteral()
  return sign * Number(body)
}
