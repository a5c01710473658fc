// Runbook params: `--param k=v` first; what is still missing is asked for on a terminal, and is an
// error listing the flags to pass everywhere else (cron, CI), because a job must never hang on a
// prompt nobody sees.

import { createRequire } from 'node:module'
import { z } from 'zod'
import type { ListrInquirerPromptAdapter } from '@listr2/prompt-adapter-inquirer'
import { ParamError, type Ask, type Choice } from '../runbook.ts'
import { printable } from '../report/printable.ts'

export { ParamError }

export interface ParamField {
  name: string
  kind: 'string' | 'number' | 'boolean' | 'enum'
  required: boolean
  description?: string
  options?: string[]
  default?: unknown
}

/** What a params schema asks for, read from the zod object's shape. */
export function paramFields(schema: z.ZodType | undefined): ParamField[] {
  if (!(schema instanceof z.ZodObject)) return []
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    let inner: z.ZodType = field
    let dflt: unknown
    while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault || inner instanceof z.ZodNullable) {
      if (inner instanceof z.ZodDefault) dflt = inner.def.defaultValue
      inner = inner.unwrap() as z.ZodType
    }
    const kind =
      inner instanceof z.ZodEnum
        ? 'enum'
        : inner instanceof z.ZodNumber
          ? 'number'
          : inner instanceof z.ZodBoolean
            ? 'boolean'
            : 'string'
    return {
      name,
      kind,
      required: !field.safeParse(undefined).success,
      description: field.description ?? inner.description,
      options: inner instanceof z.ZodEnum ? (inner.options as string[]) : undefined,
      default: dflt,
    }
  })
}

/** `k=v` strings → typed values for the schema's fields. Unknown keys are an error. */
export function parseParamFlags(fields: ParamField[], flags: string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const flag of flags) {
    const eq = flag.indexOf('=')
    if (eq < 1) throw new ParamError(`--param ${flag}: expected key=value`)
    const key = flag.slice(0, eq)
    const field = fields.find((f) => f.name === key)
    if (!field)
      throw new ParamError(
        `--param ${key}: this runbook has no such param${fields.length ? ` (it takes: ${fields.map((f) => f.name).join(', ')})` : ''}`,
      )
    values[key] = convert(field, flag.slice(eq + 1))
  }
  return values
}

export function convert(field: ParamField, raw: string): unknown {
  if (field.kind === 'number') return raw.trim() === '' ? NaN : Number(raw)
  if (field.kind === 'boolean') return /^(true|yes|1)$/i.test(raw) ? true : /^(false|no|0)$/i.test(raw) ? false : raw
  return raw
}

// The prompt and task-list libraries load only when something is asked or a task list drawn
// (run.ts): most commands do neither, and they cost a tenth of a second at startup. Required,
// not import()ed: the bundle runs from V8's code cache, where Node 20 loses the callback that
// import() needs (see bin/ferry.mjs).
const require = createRequire(import.meta.url)
const prompts = () => require('@inquirer/prompts') as typeof import('@inquirer/prompts')
export const listr = () => require('listr2') as typeof import('listr2')

/** The inquirer prompt and config that ask for one field. */
export async function promptFor(field: ParamField) {
  const { input, select, confirm } = prompts()
  const message = field.description ? `${field.name} (${field.description})` : field.name
  if (field.kind === 'enum')
    return { prompt: select, config: { message, choices: field.options!.map((o) => ({ value: o, name: o })) } } as const
  if (field.kind === 'boolean') return { prompt: confirm, config: { message } } as const
  return { prompt: input, config: { message, required: true } } as const
}

/**
 * Completes and validates params. Missing required ones are prompted for when `interactive`,
 * through listr2's inquirer adapter so the prompt and the task tree share the terminal.
 */
export async function resolveParams(
  schema: z.ZodType | undefined,
  flags: string[],
  interactive: boolean,
  /** The runbook's own discovery and prompts (its `prepare`), before the generic ones. */
  prepare?: (given: Record<string, unknown>) => Promise<Record<string, unknown>>,
): Promise<unknown> {
  const fields = paramFields(schema)
  let values = parseParamFlags(fields, flags)
  if (prepare) values = await prepare(values)
  const missing = fields.filter((f) => f.required && !(f.name in values))
  if (missing.length && !interactive) {
    throw new ParamError(
      `missing params: ${missing.map((f) => `--param ${f.name}=${f.kind === 'enum' ? f.options!.join('|') : `<${f.kind}>`}`).join(' ')} (no terminal to ask on)`,
    )
  }
  if (missing.length) {
    const { Listr } = listr()
    await new Listr(
      missing.map((field) => ({
        title: `param ${field.name}`,
        task: async (_ctx: unknown, task: PromptTask) => {
          const { prompt, config } = await promptFor(field)
          const answer = await runPrompt(task, prompt, config)
          values[field.name] = typeof answer === 'string' ? convert(field, answer) : answer
          task.title = `param ${field.name} = ${String(values[field.name])}`
        },
      })),
      { concurrent: false, exitOnError: true },
    ).run()
  }
  if (!schema) return values
  const parsed = schema.safeParse(values)
  if (!parsed.success)
    throw new ParamError(parsed.error.issues.map((i) => `--param ${i.path.join('.')}: ${i.message}`).join('; '))
  return parsed.data
}

type PromptTask = { prompt: (a: typeof ListrInquirerPromptAdapter) => ListrInquirerPromptAdapter; title: string }

async function runPrompt(task: PromptTask, prompt: unknown, config: unknown): Promise<unknown> {
  const { ListrInquirerPromptAdapter } =
    require('@listr2/prompt-adapter-inquirer') as typeof import('@listr2/prompt-adapter-inquirer')
  const adapter = task.prompt(ListrInquirerPromptAdapter)
  // The adapter's generic signature cannot follow our union of prompts; each pair matches.
  return (adapter.run as (p: unknown, c: unknown) => Promise<unknown>).call(adapter, prompt, config)
}

/** The prompts `prepare` may show, run by `show` (listr2 on a terminal; @inquirer/testing in tests). */
export function askWith(
  show: (prompt: unknown, config: unknown, message: string, shown: (answer: unknown) => string) => Promise<unknown>,
): Ask {
  // Messages and choices are mostly what hosts said (jail names, datasets): shown, not interpreted.
  const shownChoices = <T>(choices: Choice<T>[]) =>
    choices.map((c) => ({
      ...c,
      name: printable(c.name),
      ...(c.description === undefined ? {} : { description: printable(c.description) }),
    }))
  const nameOf = (choices: Choice<unknown>[]) => (answer: unknown) =>
    choices.find((c) => c.value === answer)?.name ?? printable(String(answer))
  return {
    select: async (c) => {
      const choices = shownChoices(c.choices)
      return show(
        prompts().select,
        { message: printable(c.message), choices, pageSize: 12 },
        printable(c.message),
        nameOf(choices),
      ) as never
    },
    search: async (c) => {
      const choices = shownChoices(c.choices)
      return show(
        prompts().search,
        {
          message: printable(c.message),
          source: (term: string | undefined) =>
            choices.filter(
              (ch) => !term || `${ch.name} ${ch.description ?? ''}`.toLowerCase().includes(term.toLowerCase()),
            ),
          pageSize: 12,
        },
        printable(c.message),
        nameOf(choices),
      ) as never
    },
    confirm: async (c) =>
      show(
        prompts().confirm,
        { message: printable(c.message), default: c.default ?? false },
        printable(c.message),
        (yes) => (yes ? 'yes' : 'no'),
      ) as never,
  }
}

/** On a terminal: each prompt as a one-task listr2 list, so prompts and the task tree share it. */
export const listrAsk: Ask = askWith(async (prompt, config, message, shown) => {
  let answer: unknown
  const { Listr } = listr()
  await new Listr(
    [
      {
        title: message,
        task: async (_ctx: unknown, task: PromptTask) => {
          answer = await runPrompt(task, prompt, config)
          task.title = `${message} ${shown(answer)}`
        },
      },
    ],
    { concurrent: false, exitOnError: true, registerSignalListeners: false },
  ).run()
  return answer
})
