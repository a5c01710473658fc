// Human output for a run: per host, what changed (or would change), with diffs.

import { bold, colorDiff, green, red, yellow } from './diff.ts'
import type { HostOutcome } from '../engine/host.ts'

// Only steps that did something are listed: ok and skipped ones are left out.
const MARK: Record<string, string> = { changed: '~', failed: '✗', 'rolled-back': '↺' }

export function renderHosts(hosts: HostOutcome[], opts: { dryRun: boolean; color: boolean; redact: (s: string) => string }): string {
  const out: string[] = []
  const paint = (f: (s: string) => string, s: string) => (opts.color ? f(s) : s)
  for (const h of hosts) {
    const head = `${h.name}: ${h.status}${opts.dryRun && h.status === 'changed' ? ' (changes pending)' : ''}${h.confirmed ? ' (risky changes confirmed over a new connection)' : ''}`
    out.push(paint((s) => bold((h.status === 'ok' ? green : h.status === 'changed' ? yellow : red)(s)), head))
    if (h.error) out.push(`${h.name}:   ${paint(red, opts.redact(h.error))}`)
    if (h.rollbackError) out.push(`${h.name}:   ${paint(red, `ROLLBACK FAILED: ${opts.redact(h.rollbackError)}`)}`)
    for (const s of h.steps) {
      if (s.status === 'ok' || s.status === 'skipped') continue
      out.push(`${h.name}:   ${MARK[s.status] ?? '?'} ${opts.redact(s.name)}${s.status === 'changed' ? '' : ` (${s.status})`}`)
      for (const c of s.changes) {
        out.push(`${h.name}:       ${opts.redact(c.summary)}`)
        if (c.diff) out.push(...(opts.color ? colorDiff : (s: string) => s)(opts.redact(c.diff).trimEnd()).split('\n').map((l) => `${h.name}:       ${l}`))
      }
      for (const cmd of s.commands ?? []) out.push(...opts.redact(cmd).split('\n').map((l, i) => `${h.name}:       ${i ? '  ' : '$ '}${l}`))
      if (s.error) out.push(`${h.name}:       ${paint(red, opts.redact(s.error))}`)
    }
  }
  return `${out.join('\n')}\n`
}
