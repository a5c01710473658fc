// Human output for a run: per host, what changed (or would change), with diffs.

import { bold, colorDiff, green, red, yellow } from './diff.ts'
import { printable } from './printable.ts'
import type { HostOutcome } from '../engine/outcome.ts'

// Only steps that did something are listed: ok and skipped ones are left out.
const MARK: Record<string, string> = { changed: '~', failed: '✗', 'rolled-back': '↺' }

export function renderHosts(
  hosts: HostOutcome[],
  opts: { dryRun: boolean; color: boolean; redact: (s: string) => string },
): string {
  const out: string[] = []
  const paint = (f: (s: string) => string, s: string) => (opts.color ? f(s) : s)
  // Errors, diffs and commands hold what the host said.
  const show = (s: string) => printable(opts.redact(s))
  for (const h of hosts) {
    const head = `${h.name}: ${h.status}${opts.dryRun && h.status === 'changed' ? ' (changes pending)' : ''}${h.confirmed ? ' (risky changes confirmed over a new connection)' : ''}`
    out.push(paint((s) => bold((h.status === 'ok' ? green : h.status === 'changed' ? yellow : red)(s)), head))
    if (h.error) out.push(`${h.name}:   ${paint(red, show(h.error))}`)
    if (h.rollbackError) out.push(`${h.name}:   ${paint(red, `ROLLBACK FAILED: ${show(h.rollbackError)}`)}`)
    for (const s of h.steps) {
      if (s.status === 'ok' || s.status === 'skipped') continue
      out.push(`${h.name}:   ${MARK[s.status] ?? '?'} ${show(s.name)}${s.status === 'changed' ? '' : ` (${s.status})`}`)
      for (const c of s.changes) {
        out.push(`${h.name}:       ${show(c.summary)}`)
        if (c.diff)
          out.push(
            ...(opts.color ? colorDiff : (s: string) => s)(show(c.diff).trimEnd())
              .split('\n')
              .map((l) => `${h.name}:       ${l}`),
          )
      }
      for (const cmd of s.commands ?? [])
        out.push(
          ...show(cmd)
            .split('\n')
            .map((l, i) => `${h.name}:       ${i ? '  ' : '$ '}${l}`),
        )
      if (s.error) out.push(`${h.name}:       ${paint(red, show(s.error))}`)
    }
  }
  return `${out.join('\n')}\n`
}
