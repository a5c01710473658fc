// One round trip for every probe of a host: the snippets go to `sh -s` on stdin as one script
// (no argv length limit, nothing in the process list), each in a subshell so an `exit` or
// `set -e` stays inside it, framed by markers with a random token that no output can forge.

import { randomBytes } from 'node:crypto'
import type { Shell } from 'zx/core'
import type { ProbeResult } from '../steps/step.ts'

/**
 * One list of snippets, or one per kernel (what `uname -s` prints) for a host whose OS the
 * inventory does not give: the script then picks its branch on the host, so finding out the OS
 * costs no round trip of its own.
 */
export type Snippets = string[] | Record<string, string[]>

export function probeScript(snippets: Snippets, token: string, gate?: string): string {
  // The gate (a host lock) runs first, in the same round trip; if it fails, nothing is probed.
  const head = gate === undefined ? [] : [`( ${gate}\n) || { printf '%s\\n' '${token}:refused'; exit 0; }`]
  const parts = (list: string[]) =>
    list.map(
      (s, i) =>
        `printf '%s\\n' '${token}:begin:${i}'\n( ${s}\n) </dev/null 2>/dev/null\nprintf '\\n%s:%s\\n' '${token}:end:${i}' "$?"`,
    )
  const body = Array.isArray(snippets)
    ? parts(snippets)
    : [
        // Kernel names are plain words (Linux, FreeBSD): safe as case patterns and in quotes.
        'case "$(uname -s)" in',
        ...Object.entries(snippets).map(([kernel, list]) =>
          [`${kernel}) printf '%s\\n' '${token}:kernel:${kernel}'`, ...parts(list), ';;'].join('\n'),
        ),
        `*) printf '%s:%s\\n' '${token}:kernel' "$(uname -s)" ;;`,
        'esac',
      ]
  // `exit` ends the script without needing EOF on stdin, which a terminal (doas) cannot send.
  return `${[...head, ...body].join('\n')}\nexit 0\n`
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
    results.push({
      stdout: output.slice(start + begin.length, end),
      code: Number(output.slice(end + endMark.length, codeEnd)),
    })
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

export interface Probed {
  results?: ProbeResult[]
  /** What the gate printed: why it refused, or what it did before letting the probes run. */
  said: string
  refused?: boolean
  /** `uname -s` on the host, when the snippets were given per kernel. */
  kernel?: string
}

/**
 * The same, behind a gate that runs first. Per-kernel snippets that have no branch for the host's
 * kernel come back with `kernel` and no results.
 */
export async function probeGated($: Shell, snippets: Snippets, gate?: string): Promise<Probed> {
  const token = `ferry-probe-${randomBytes(8).toString('hex')}`
  const out = await $({ input: probeScript(snippets, token, gate) })`sh -s`.nothrow()
  // No exit status at all: the connection closed under the probe.
  if (out.exitCode === null) throw new Error('probing failed: the connection closed before the probe finished')
  if (out.exitCode !== 0) throw new Error(`probing failed (exit ${out.exitCode}): ${out.stderr.trim()}`)
  const text = out.stdout
  // Everything before the first line of ours is the gate's.
  const ours = text.indexOf(`${token}:`)
  const said = ours >= 0 ? text.slice(0, ours) : text
  if (text.startsWith(`${token}:refused\n`, ours)) return { said, refused: true }
  if (Array.isArray(snippets)) return { said, results: parseProbes(text, snippets.length, token) }
  const mark = `${token}:kernel:`
  if (!text.startsWith(mark, ours)) throw new Error('probing failed: the host did not say its kernel (uname -s)')
  const kernel = text.slice(ours + mark.length, text.indexOf('\n', ours))
  if (!(kernel in snippets)) return { said, kernel }
  return { said, kernel, results: parseProbes(text, snippets[kernel]!.length, token) }
}
