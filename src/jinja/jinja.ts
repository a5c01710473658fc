// jinja(path, vars): an Ansible-style Jinja2 template (`ospfd.conf.j2`) rendered to the bytes
// ansible-core 2.14's template module writes from it, so operators keep the templates they have.
// The environment is Ansible's: trim_blocks on, lstrip_blocks off, autoescape off, newlines in the
// template read as \n, and as many trailing newlines out as the file has (Jinja2 drops one; Ansible
// puts them back). Nunjucks parses and generates the code; compile.ts makes it mean what Jinja2
// means; filters.ts holds the filters and tests a template may use.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Environment } from 'nunjucks'
import { Carried, compile, nunjucks, type Compiled } from './compile.ts'
import { TemplateError } from './errors.ts'
import { FILTERS, TESTS } from './filters.ts'

export { TemplateError }

const KNOWN = { filters: new Set(Object.keys(FILTERS)), tests: new Set(Object.keys(TESTS)) }

/**
 * Renders the template at `path` (relative to the working directory, the project root under
 * `ferry run`; or a URL: `new URL('./ospfd.conf.j2', import.meta.url)`) with `vars`. A missing
 * variable, an unknown filter or a syntax error is a TemplateError naming the file and line.
 */
export function jinja(path: string | URL, vars: Record<string, unknown>): string {
  const file = path instanceof URL ? fileURLToPath(path) : resolve(path)
  if (!existsSync(file)) throw new Error(`jinja: no template at ${file}`)
  let out: string
  try {
    out = environmentFor(dirname(file)).render(file, vars)
  } catch (err) {
    throw err instanceof Carried ? err.error : err
  }
  // Ansible's do_template: the output gets back the trailing newlines Jinja2 dropped.
  const missing = trailingNewlines(compiled.get(file)!.source) - trailingNewlines(out)
  return missing > 0 ? out + '\n'.repeat(missing) : out
}

// Each template compiled once, again only if its file changes (a long `ferry drift --every`).
const compiled = new Map<string, { mtimeMs: number; source: string; code: Compiled }>()

function compiledFile(file: string): Compiled {
  const { mtimeMs } = statSync(file)
  let entry = compiled.get(file)
  if (entry?.mtimeMs !== mtimeMs) {
    const source = readFileSync(file, 'utf8')
    entry = { mtimeMs, source, code: compile(jinjaNewlines(source), file, KNOWN) }
    compiled.set(file, entry)
  }
  return entry.code
}

// One environment per directory: Ansible finds an included template beside the one including it,
// or in a templates/ directory there.
const environments = new Map<string, Environment>()

function environmentFor(dir: string) {
  let env = environments.get(dir)
  if (env) return env
  const searchPath = [join(dir, 'templates'), dir]
  const loader = {
    getSource(name: string) {
      const file = isAbsolute(name) ? name : searchPath.map((d) => join(d, name)).find((f) => existsSync(f))
      if (!file) return null as never // nunjucks: "template not found"
      // Precompiled code, which nunjucks' Template takes in place of source; compiledFile caches.
      return { src: { type: 'code', obj: compiledFile(file) } as never, path: file, noCache: true }
    },
  }
  // dev: errors pass through nunjucks as thrown (see Carried); autoescape off, as Ansible has it.
  env = new (nunjucks().Environment)(loader, { autoescape: false, dev: true })
  for (const [name, fn] of Object.entries(FILTERS)) env.addFilter(name, fn)
  // addTest is nunjucks' (environment.js), missing from @types/nunjucks.
  const tests = env as unknown as { addTest(name: string, fn: (...args: any[]) => unknown): void }
  for (const [name, fn] of Object.entries(TESTS)) tests.addTest(name, fn)
  // Jinja2's spellings of the constants, which nunjucks would read as variable names.
  for (const [name, value] of Object.entries({ True: true, False: false, None: null })) env.addGlobal(name, value)
  environments.set(dir, env)
  return env
}

/** Jinja2's lexer: every \r\n, \r and \n read as \n, and one trailing newline dropped. */
function jinjaNewlines(source: string): string {
  const lines = source.split(/\r\n|\r|\n/)
  if (lines.at(-1) === '') lines.pop()
  return lines.join('\n')
}

/** Ansible's _count_newlines_from_end: \n only. */
function trailingNewlines(s: string): number {
  return s.length - s.replace(/\n+$/, '').length
}
