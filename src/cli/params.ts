// Runbook params: `--param k=v` first; what is still missing is asked for on a terminal, and is an
// error listing the flags to pass everywhere else (cron, CI), because a job must never hang on a
// prompt nobody sees.

import { z } from 'zod'
import { input, select, confirm } from '@inquirer/prompts'
import { Listr } from 'listr2'
import { ListrInquirerPromptAdapter } from '@listr2/prompt-adapter-inquirer'

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
    const kind = inner instanceof z.ZodEnum ? 'enum' : inner instanceof z.ZodNumber ? 'number' : inner instanceof z.ZodBoolean ? 'boolean' : 'string'
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
    if (!field) throw new ParamError(`--param ${key}: this runbook has no such param${fields.length ? ` (it takes: ${fields.map((f) => f.name).join(', ')})` : ''}`)
    values[key] = convert(field, flag.slice(eq + 1))
  }
  return values
}

export function convert(field: ParamField, raw: string): unknown {
  if (field.kind === 'number') return raw.trim() === '' ? NaN : Number(raw)
  if (field.kind === 'boolean') return /^(true|yes|1)$/i.test(raw) ? true : /^(false|no|0)$/i.test(raw) ? false : raw
  return raw
}

export class ParamError extends Error {}

/** The inquirer prompt and config that ask for one field. */
export function promptFor(field: ParamField) {
  const message = field.description ? `${field.name} (${field.description})` : field.name
  if (field.kind === 'enum') return { prompt: select, config: { message, choices: field.options!.map((o) => ({ value: o, name: o })) } } as const
  if (field.kind === 'boolean') return { prompt: confirm, config: { message } } as const
  return { prompt: input, config: { message, required: true } } as const
}

/**
 * Completes and validates params. Missing required ones are prompted for when `interactive`,
 * through listr2's inquirer adapter so the prompt and the task tree share the terminal.
 */
export async function resolveParams(schema: z.ZodType | undefined, flags: string[], interactive: boolean): Promise<unknown> {
  const fields = paramFields(schema)
  const values = parseParamFlags(fields, flags)
  const missing = fields.filter((f) => f.required && !(f.name in values))
  if (missing.length && !interactive) {
    throw new ParamError(`missing params: ${missing.map((f) => `--param ${f.name}=${f.kind === 'enum' ? f.options!.join('|') : `<${f.kind}>`}`).join(' ')} (no terminal to ask on)`)
  }
  if (missing.length) {
    await new Listr(
      missing.map((field) => ({
        title: `param ${field.name}`,
        task: async (_ctx: unknown, task: { prompt: (a: typeof ListrInquirerPromptAdapter) => ListrInquirerPromptAdapter; title: string }) => {
          const { prompt, config } = promptFor(field)
          const adapter = task.prompt(ListrInquirerPromptAdapter)
          // The adapter's generic signature cannot follow our union of prompts; each pair matches.
          const answer: unknown = await (adapter.run as (p: unknown, c: unknown) => Promise<unknown>).call(adapter, prompt, config)
          values[field.name] = typeof answer === 'string' ? convert(field, answer) : answer
          task.title = `param ${field.name} = ${String(values[field.name])}`
        },
      })),
      { concurrent: false, exitOnError: true },
    ).run()
  }
  if (!schema) return values
  const parsed = schema.safeParse(values)
  if (!parsed.success) throw new ParamError(parsed.error.issues.map((i) => `--param ${i.path.join('.')}: ${i.message}`).join('; '))
  return parsed.data
}
