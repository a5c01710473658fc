// One round trip for every probe of a host: the snippets go to `sh -s` on stdin as one script
// (no argv length limit, nothing in the process list), each in a subshell so an `exit` or
// `set -e` stays inside it, framed by markers with a random token that no output can forge.

import { randomBytes } from 'node:crypto'
import type { Shell } from 'zx/core'
import type { ProbeResult } from '../steps/step.ts'

export function probeScript(snippets: string[], token: string, gate?: string): string {
  // The gate (a host lock) runs first, in the same round trip; if it fails, nothing is probed.
  const head = gate === undefined ? [] : [`( ${gate}\n) || { printf '%s\\n' '${token}:refused'; exit 0; }`]
  const parts = snippets.map(
    (s, i) => `printf '%s\\n' '${token}:begin:${i}'\n( ${s}\n) </dev/null 2>/dev/null\nprintf '\\n%s:%s\\n' '${token}:end:${i}' "$?"`,
  )
  // `exit` ends the script without needing EOF on stdin, which a terminal (doas) cannot send.
  return `${[...head, ...parts].join('\n')}\nexit 0\n`
}

export function parseProbes(output: string, count: number, token: string): ProbeResult[] {
  const results: ProbeResult[] = []
  let at = 0
  for (let i = 0; i < count; i++) {
    const begin = `${token}:begin:${i}\n`
    const start = output.indexOf(begin, at)
    const endMark = `\n${token}:end:${i}:`
    const end = output.indexOf(endMark, start)
    if (start < 0 || end < 0) throw new Error(`probe ${i} produced no result; the probe script was cut short`)
    const codeEnd = output.indexOf('\n', end + endMark.length)
    results.push({ stdout: output.slice(start + begin.length, end), code: Number(output.slice(end + endMark.length, codeEnd)) })
    at = codeEnd
  }
  return results
}

/** Runs the snippets on the host in one command and returns each one's stdout and status. */
export async function probeAll($: Shell, snippets: string[]): Promise<ProbeResult[]> {
  if (!snippets.length) return []
  const gated = await probeGated($, snippets)
  return gated.results!
}

/**
 * The same, behind a gate that runs first: `refused` holds what a failing gate printed, `said`
 * what a passing one did.
 */
export async function probeGated($: Shell, snippets: string[], gate?: string): Promise<{ results?: ProbeResult[]; said: string; refused?: boolean }> {
  const token = `ferry-probe-${randomBytes(8).toString('hex')}`
  const out = await $({ input: probeScript(snippets, token, gate) })`sh -s`.nothrow()
  if (out.exitCode !== 0) throw new Error(`probing failed (exit ${out.exitCode}): ${out.stderr.trim()}`)
  const refused = out.stdout.indexOf(`${token}:refused\n`)
  if (refused >= 0) return { said: out.stdout.slice(0, refused), refused: true }
  const first = out.stdout.indexOf(`${token}:begin:0\n`)
  return { said: first >= 0 ? out.stdout.slice(0, first) : out.stdout, results: parseProbes(out.stdout, snippets.length, token) }
}
