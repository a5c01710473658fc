// How steps run what a platform spells out: its lines as one script (or one line with content on
// its stdin), and a probe again for undo.
// The platform only writes shell; running it, and failing with StepError, is the steps' part.

import type { Shell } from 'zx/core'
import { runLine } from '../shell/remote.ts'
import { StepError, type ProbeResult } from './step.ts'

/** Runs platform lines as one script, one round trip, stopping at the first that fails. */
export async function run($: Shell, lines: readonly string[]): Promise<void> {
  if (!lines.length) return
  const out = await runLine($, lines.length > 1 ? ['set -e', ...lines].join('\n') : lines[0]!).nothrow()
  if (out.exitCode !== 0) throw new StepError(out.stderr.trim() || `exit ${out.exitCode}`)
}

/** Runs one line (a script) with `input` on its stdin: content and secrets go there, never into argv. */
export async function runWithInput($: Shell, line: string, input: string): Promise<void> {
  const out = await runLine($({ input }), line).nothrow()
  if (out.exitCode !== 0) throw new StepError(out.stderr.trim() || `exit ${out.exitCode}`)
}

/** Runs a probe snippet again (undo has to see what the host looks like now, not at plan time). */
export async function probeNow($: Shell, snippet: string): Promise<ProbeResult> {
  const out = await runLine($, snippet).nothrow()
  return { stdout: out.stdout, code: out.exitCode ?? 1 }
}
