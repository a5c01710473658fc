// A template compiled by nunjucks' own parser and code generator, with the code changed where
// Jinja2 under Ansible means something else:
//
// - a missing variable or attribute fails where it is used (Ansible's StrictUndefined), naming it
//   and its line, except as the operand of `is defined`, `is undefined`, `is none` and `default`;
// - an unknown filter or test fails when the template compiles, as Jinja2's do;
// - `if`, `not`, `and`, `or` and `==` follow Python (an empty list is false; `'1' != 1`);
// - values print as Python's str() does (`True`, `['a', 'b']`), None as nothing;
// - a dict iterates over its keys and has items(), keys(), values() and get();
// - a comment, like a block tag, swallows the newline after it (Jinja2's trim_blocks);
// - a string literal's escapes are Python's: `'\.'` keeps its backslash, as regexes need.
//
// nunjucks' internals are CommonJS modules without types: they are required, and typed below as
// far as this file uses them.
import { createRequire } from 'node:module'
import { TemplateError } from './errors.ts'
import { Undefined, TAKES_UNDEFINED } from './filters.ts'
import { equals, isDict, str, truthy, unescape } from './python.ts'

const require = createRequire(import.meta.url)

interface Node {
  typename: string
  lineno: number
  colno: number
  [field: string]: any
}
interface Frame {
  lookup(name: string): string | undefined
}
interface Tokenizer {
  nextToken(): { type: string } | null
  current(): string
  forward(): void
  isFinished(): boolean
  _parseString(delimiter: string): string
}
interface CompilerBase {
  _emit(code: string): void
  compile(node: Node, frame: Frame): void
  getCode(): string
  compileIf(node: Node, frame: Frame, async?: boolean): void
}
type Runtime = Record<string, any>
/**
 * nunjucks, and the internals this file builds on: loaded on the first template, since loading
 * them takes about 130 ms, which every ferry command would otherwise pay.
 */
function nunjucksParts() {
  if (!parts) {
    const { Compiler } = require('nunjucks/src/compiler.js') as { Compiler: new (name: string) => CompilerBase }
    parts = {
      nunjucks: require('nunjucks') as typeof import('nunjucks'),
      lexer: require('nunjucks/src/lexer.js') as { lex(src: string, opts: object): Tokenizer },
      Parser: (require('nunjucks/src/parser.js') as { Parser: new (t: Tokenizer) => { parseAsRoot(): Node } }).Parser,
      transformer: require('nunjucks/src/transformer.js') as { transform(ast: Node, async: string[]): Node },
      runtime: require('nunjucks/src/runtime.js') as Runtime,
      StrictCompiler: strictCompiler(Compiler),
    }
  }
  return parts
}
let parts:
  | {
      nunjucks: typeof import('nunjucks')
      lexer: { lex(src: string, opts: object): Tokenizer }
      Parser: new (t: Tokenizer) => { parseAsRoot(): Node }
      transformer: { transform(ast: Node, async: string[]): Node }
      runtime: Runtime
      StrictCompiler: ReturnType<typeof strictCompiler>
    }
  | undefined

/** nunjucks itself, for its Environment. */
export const nunjucks = () => nunjucksParts().nunjucks

/** nunjucks' compiler, with what Jinja2 under Ansible means instead (see the top). */
function strictCompiler(Compiler: new (name: string) => CompilerBase) {
  return class StrictCompiler extends Compiler {
    // Expressions whose value is used as true or false, so compiled through Python's truthiness.
    private readonly conditions = new Set<Node>()

    constructor(
      private readonly file: string,
      private readonly known: { filters: Set<string>; tests: Set<string> },
    ) {
      super(file)
    }

    override compile(node: Node, frame: Frame): void {
      if (!this.conditions.has(node)) return super.compile(node, frame)
      this._emit('runtime.truthy(')
      super.compile(node, frame)
      this._emit(')')
    }

    override compileIf(node: Node, frame: Frame, async?: boolean): void {
      this.conditions.add(node.cond)
      super.compileIf(node, frame, async)
    }

    compileInlineIf(node: Node, frame: Frame): void {
      this.conditions.add(node.cond)
      this._emit('(')
      this.compile(node.cond, frame)
      this._emit(' ? ')
      this.compile(node.body, frame)
      this._emit(' : ')
      // Jinja's `a if c` without else gives Undefined, which prints as nothing.
      if (node.else_) this.compile(node.else_, frame)
      else this._emit('""')
      this._emit(')')
    }

    compileNot(node: Node, frame: Frame): void {
      this.conditions.add(node.target)
      this._emit('!')
      this.compile(node.target, frame)
    }

    // Python's `a or b` is a if a is true, else b: by Python's truth, with b evaluated only if needed.
    compileOr(node: Node, frame: Frame): void {
      this.logical('or', node, frame)
    }

    compileAnd(node: Node, frame: Frame): void {
      this.logical('and', node, frame)
    }

    private logical(op: string, node: Node, frame: Frame): void {
      this._emit(`runtime.${op}(`)
      this.compile(node.left, frame)
      this._emit(', () => (')
      this.compile(node.right, frame)
      this._emit('))')
    }

    compileCompare(node: Node, frame: Frame): void {
      this._emit('runtime.compare(')
      this.compile(node.expr, frame)
      for (const op of node.ops) {
        this._emit(`, ${JSON.stringify(op.type)}, `)
        this.compile(op.expr, frame)
      }
      this._emit(')')
    }

    compileSymbol(node: Node, frame: Frame): void {
      this.lookup(node, frame, true)
    }

    compileLookupVal(node: Node, frame: Frame): void {
      this.lookup(node, frame, true)
    }

    /** A name or `a.b` / `a[b]`: `strict` fails if it is missing; otherwise it gives an Undefined. */
    private lookup(node: Node, frame: Frame, strict: boolean): void {
      // `a.b` fails at b, which is what is missing.
      const at = node.typename === 'LookupVal' ? node.val : node
      const where = `${strict}, ${at.lineno}, ${at.colno}`
      if (node.typename === 'Symbol') {
        // A loop variable, macro argument or {% set %} is a JS local, known to be set.
        const local = frame.lookup(node.value)
        this._emit(local ?? `runtime.lookup(context, frame, ${JSON.stringify(node.value)}, ${where})`)
      } else if (node.typename === 'LookupVal') {
        this._emit('runtime.member(')
        this.lookup(node.target, frame, strict)
        this._emit(', ')
        this.compile(node.val, frame)
        this._emit(`, ${where})`)
      } else this.compile(node, frame)
    }

    compileFilter(node: Node, frame: Frame): void {
      const name: string = node.name.value
      if (!this.known.filters.has(name))
        throw new TemplateError(this.file, node.name.lineno + 1, node.name.colno + 1, `no filter named '${name}'`)
      // lineno and colno are what the template's catch reports, as nunjucks does for calls.
      this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, env.getFilter(${JSON.stringify(name)}).call(context`)
      node.args.children.forEach((arg: Node, i: number) => {
        this._emit(', ')
        if (i === 0 && TAKES_UNDEFINED.filters.has(name)) this.lookup(arg, frame, false)
        else this.compile(arg, frame)
      })
      this._emit('))')
    }

    compileIs(node: Node, frame: Frame): void {
      const test: Node = node.right.name ?? node.right // `is sameas(x)` is a call, `is defined` a name
      // nunjucks reads `none`, `true` and `false` as constants even where a test is named.
      const name = test.value === null ? 'none' : String(test.value)
      if (!this.known.tests.has(name))
        throw new TemplateError(this.file, test.lineno + 1, test.colno + 1, `no test named '${name}'`)
      this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, env.getTest(${JSON.stringify(name)}).call(context, `)
      this.lookup(node.left, frame, !TAKES_UNDEFINED.tests.has(name))
      for (const arg of node.right.args?.children ?? []) {
        this._emit(', ')
        this.compile(arg, frame)
      }
      this._emit(') === true)')
    }
  }
}

/** The compiled template: the functions nunjucks' Template takes as precompiled code. */
export type Compiled = Record<string, (...args: any[]) => unknown>

/**
 * Compiles source (its newlines already Jinja's) into nunjucks' precompiled form, bound to a
 * runtime that reports failures by line and column.
 */
export function compile(source: string, file: string, known: { filters: Set<string>; tests: Set<string> }): Compiled {
  const { lexer, Parser, transformer, StrictCompiler } = nunjucksParts()
  const tokens = lexer.lex(source, { trimBlocks: true, lstripBlocks: false })
  // nunjucks' trimBlocks swallows the newline after a block tag only; Jinja2's, after a comment too.
  const next = tokens.nextToken.bind(tokens)
  tokens.nextToken = () => {
    const tok = next()
    if (tok?.type === 'comment' && tokens.current() === '\n') tokens.forward()
    return tok
  }
  // nunjucks drops the backslash of an escape it does not know; Jinja2 reads escapes as Python does.
  tokens._parseString = (delimiter) => {
    let raw = ''
    for (tokens.forward(); !tokens.isFinished() && tokens.current() !== delimiter; tokens.forward()) {
      if (tokens.current() === '\\') {
        raw += '\\'
        tokens.forward()
      }
      raw += tokens.current()
    }
    tokens.forward()
    return unescape(raw)
  }
  let code: string
  try {
    const ast = transformer.transform(new Parser(tokens).parseAsRoot(), [])
    const compiler = new StrictCompiler(file, known)
    compiler.compile(ast, undefined as unknown as Frame)
    code = compiler.getCode()
  } catch (err) {
    if (err instanceof TemplateError) throw err
    // nunjucks' parse errors carry 1-based lineno and colno.
    const e = err as { lineno?: number; colno?: number; message: string }
    throw new TemplateError(file, e.lineno ?? 1, e.colno ?? 1, e.message)
  }
  const functions = new Function(code)() as Compiled
  const runtime = runtimeFor(file)
  // The generated code calls `runtime.X` on the runtime it is handed: root and each block are
  // handed this one whoever calls them (an including or extended template hands its own).
  return Object.fromEntries(
    Object.entries(functions).map(([key, fn]) => [
      key,
      (env: unknown, context: unknown, frame: unknown, _runtime: unknown, cb: unknown) =>
        fn(env, context, frame, runtime, cb),
    ]),
  )
}

/**
 * What a render failure reaches the caller as. nunjucks passes an error on untouched only when
 * it has an `Update` method (lib._prettifyError, with opts.dev); anything else it rewraps in a
 * message of its own, losing the line the failure was found at.
 */
export class Carried {
  constructor(readonly error: TemplateError) {}
  Update(): this {
    return this
  }
}

function runtimeFor(file: string): Runtime {
  const missing = (hint: string, strict: boolean, line: number, col: number) => {
    if (strict) throw new TemplateError(file, line + 1, col + 1, hint)
    return new Undefined(hint)
  }
  return {
    ...nunjucksParts().runtime,
    lookup(context: unknown, frame: unknown, name: string, strict: boolean, line: number, col: number) {
      const v = nunjucksParts().runtime.contextOrFrameLookup(context, frame, name)
      return v !== undefined ? v : missing(`'${name}' is undefined`, strict, line, col)
    },
    member(obj: unknown, key: unknown, strict: boolean, line: number, col: number) {
      if (obj instanceof Undefined) return obj // Ansible's Undefined gives itself for any attribute
      const v = attribute(obj, key)
      return v !== undefined ? v : missing(describe(obj, key), strict, line, col)
    },
    truthy,
    or: (a: unknown, b: () => unknown) => (truthy(a) ? a : b()),
    and: (a: unknown, b: () => unknown) => (truthy(a) ? b() : a),
    compare(first: unknown, ...rest: unknown[]) {
      // Python chains comparisons: a < b < c is a < b and b < c.
      let left = first
      for (let i = 0; i < rest.length; i += 2) {
        const right = rest[i + 1]
        if (!COMPARE[rest[i] as string]!(left, right)) return false
        left = right
      }
      return true
    },
    // Ansible's finalize prints None as nothing; autoescape is off.
    suppressValue: (v: unknown) => (v === null || v === undefined ? '' : str(v)),
    fromIterator: (v: unknown) => (isDict(v) ? Object.keys(v) : nunjucksParts().runtime.fromIterator(v)),
    handleError(err: unknown, lineno: number, colno: number) {
      if (err instanceof Carried) return err
      if (err instanceof TemplateError) return new Carried(err)
      return new Carried(new TemplateError(file, lineno + 1, colno + 1, (err as Error).message))
    },
  }
}

const COMPARE: Record<string, (a: any, b: any) => boolean> = {
  '==': equals,
  '!=': (a, b) => !equals(a, b),
  '<': (a, b) => a < b,
  '>': (a, b) => a > b,
  '<=': (a, b) => a <= b,
  '>=': (a, b) => a >= b,
}

// Python's methods on the dicts and strings a template holds, as far as templates call them.
const DICT_METHODS: Record<string, (d: Record<string, unknown>) => (...args: any[]) => unknown> = {
  items: (d) => () => Object.entries(d),
  keys: (d) => () => Object.keys(d),
  values: (d) => () => Object.values(d),
  get:
    (d) =>
    (key: string, fallback: unknown = null) =>
      Object.hasOwn(d, key) ? d[key] : fallback,
}
const STRING_METHODS: Record<string, (s: string) => (...args: any[]) => unknown> = {
  split:
    (s) =>
    (sep?: string | null, max: number = -1) => {
      const parts = sep == null ? s.trim().split(/\s+/).filter(Boolean) : s.split(sep)
      return max < 0 || parts.length <= max + 1 ? parts : [...parts.slice(0, max), parts.slice(max).join(sep ?? ' ')]
    },
  startswith: (s) => (prefix: string) => s.startsWith(prefix),
  endswith: (s) => (suffix: string) => s.endsWith(suffix),
  strip: (s) => () => s.trim(),
  upper: (s) => () => s.toUpperCase(),
  lower: (s) => () => s.toLowerCase(),
}

/** `obj.key` or `obj[key]` as Jinja2 finds it: a dict's key, a list's index (negative too), a method. */
function attribute(obj: unknown, key: unknown): unknown {
  if (isDict(obj)) {
    if (Object.hasOwn(obj, String(key))) return obj[String(key)]
    return Object.hasOwn(DICT_METHODS, String(key)) ? DICT_METHODS[String(key)]!(obj) : undefined
  }
  if (Array.isArray(obj) && Number.isInteger(key)) return obj.at(key as number)
  if (typeof obj === 'string') {
    if (Number.isInteger(key)) return obj.at(key as number)
    return Object.hasOwn(STRING_METHODS, String(key)) ? STRING_METHODS[String(key)]!(obj) : undefined
  }
  // Anything else (a loop's `loop`, a macro's `caller`, nunjucks' own objects) as nunjucks finds it.
  return nunjucksParts().runtime.memberLookup(obj, key)
}

// Jinja2's words: 'dict object' has no attribute 'x'.
function describe(obj: unknown, key: unknown): string {
  const kind =
    obj === null || obj === undefined
      ? 'None'
      : isDict(obj)
        ? 'dict object'
        : Array.isArray(obj)
          ? 'list object'
          : typeof obj === 'string'
            ? 'str object'
            : `${typeof obj} object`
  return typeof key === 'number' ? `'${kind}' has no element ${key}` : `'${kind}' has no attribute '${String(key)}'`
}
