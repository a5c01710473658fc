// The output formats of `ferry drift`: text for a person, json for scripts, nagios for a check
// plugin, prometheus for node_exporter's textfile collector, junit for CI dashboards.

import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { bold, colorDiff, green, red, yellow } from '../report/diff.ts'
import { printable } from '../report/printable.ts'
import {
  exitCode,
  summarize,
  type DriftHost,
  type DriftHostStatus,
  type DriftReport,
  type DriftStep,
} from './report.ts'

const drifted = (h: DriftHost) => h.steps.filter((s) => s.status === 'drifted')
const errored = (h: DriftHost) => h.steps.filter((s) => s.status === 'error')
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
const where = (s: DriftStep) => `${s.runbook} › ${s.step}`
// Plain code-unit order, not localeCompare: the same input sorts the same on every machine.
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** The oldest firstSeen among the steps, by time rather than by string. */
function oldest(steps: DriftStep[]): number | undefined {
  const times = steps.map((s) => Date.parse(s.firstSeen ?? '')).filter((t) => !Number.isNaN(t))
  return times.length ? Math.min(...times) : undefined
}

/** Seconds without exponent notation, which neither Nagios perfdata nor JUnit's time accept. */
function seconds(n: number): string {
  return String(Number(n.toFixed(3)))
}

// ---- text --------------------------------------------------------------------------------------

/** `2026-11-21 12:15:30` (UTC), as `ferry history` shows times. */
function time(ms: number): string {
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
}

const STATUS_COLOR: Record<DriftHostStatus, (s: string) => string> = {
  'in-sync': green,
  drifted: yellow,
  error: red,
  unreachable: red,
}

export function text(report: DriftReport, opts: { color: boolean }): string {
  const paint = (f: (s: string) => string, s: string) => (opts.color ? f(s) : s)
  const indent = (s: string, pad: string) =>
    s
      .trimEnd()
      .split('\n')
      .map((l) => pad + l)
      .join('\n')

  const rows = [
    ['HOST', 'STATUS', 'DRIFTED', 'ERRORS', 'FIRST SEEN (UTC)'],
    ...report.hosts.map((h) => {
      const first = oldest(drifted(h))
      // The status column already says unreachable; a host-level error otherwise counts as one.
      const errors = errored(h).length + (h.error && h.status !== 'unreachable' ? 1 : 0)
      return [
        printable(h.name),
        h.status,
        String(drifted(h).length),
        String(errors),
        first === undefined ? '-' : time(first),
      ]
    }),
  ]
  // Pad before painting: escape codes would count towards the width.
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  const out = rows.map((r, i) =>
    r
      .map((cell, c) => {
        const painted =
          i === 0 ? paint(bold, cell) : c === 1 ? paint(STATUS_COLOR[report.hosts[i - 1]!.status], cell) : cell
        return c === r.length - 1 ? painted : painted + ' '.repeat(widths[c]! - cell.length)
      })
      .join('  ')
      .trimEnd(),
  )

  for (const h of report.hosts) {
    for (const s of drifted(h)) {
      const since = Date.parse(s.firstSeen ?? '')
      out.push(
        '',
        `${printable(h.name)}  ${paint(bold, printable(where(s)))}${Number.isNaN(since) ? '' : ` (first seen ${time(since)} UTC)`}`,
      )
      if (s.diff) out.push(indent(opts.color ? colorDiff(printable(s.diff)) : printable(s.diff), '    '))
    }
  }

  const errors: string[] = []
  const message = (s: string) => paint(red, printable(s).trimEnd().replace(/\n/g, '\n    '))
  for (const h of report.hosts) {
    if (h.error)
      errors.push(`${printable(h.name)}  ${h.status === 'unreachable' ? 'unreachable' : 'error'}: ${message(h.error)}`)
    for (const s of errored(h))
      errors.push(`${printable(h.name)}  ${printable(where(s))}: ${message(s.error ?? 'error')}`)
  }
  if (errors.length) out.push('', ...errors)

  const sum = summarize(report)
  const closing =
    `drift check ${report.checkId}: ${plural(sum.hosts, 'host')}, ${sum.inSync} in sync, ` +
    `${sum.drifted} drifted (${plural(sum.driftedSteps, 'step')}), ${plural(sum.errors, 'error')}, ` +
    `${sum.unreachable} unreachable in ${report.duration.toFixed(1)} s`
  out.push('', paint(bold, closing))
  return `${out.join('\n')}\n`
}

// ---- json --------------------------------------------------------------------------------------

export function json(report: DriftReport): string {
  const { checkId, startedAt, duration, runbooks, hosts } = report
  return `${JSON.stringify({ checkId, startedAt, duration, runbooks, summary: summarize(report), exitCode: exitCode(report), hosts }, null, 2)}\n`
}

// ---- nagios ------------------------------------------------------------------------------------

const NAGIOS_STATE = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const

// Nagios takes everything after the first `|` as perfdata and only the first line as the status.
const oneLine = (s: string) => s.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/\|/g, '/')

/** Names in the status line, capped so a fleet-wide drift stays within Nagios's output limit. */
function names(hosts: DriftHost[], max = 10): string {
  const shown = hosts
    .slice(0, max)
    .map((h) => oneLine(h.name))
    .join(', ')
  return hosts.length > max ? `${shown} and ${hosts.length - max} more` : shown
}

export function nagios(
  report: DriftReport,
  thresholds: { warning: number; critical: number },
): { text: string; code: 0 | 1 | 2 | 3 } {
  const sum = summarize(report)
  const driftedHosts = report.hosts.filter((h) => drifted(h).length)
  const unreachable = report.hosts.filter((h) => h.status === 'unreachable')
  const failed = report.hosts.filter((h) => h.status === 'error')
  // As the plugin guidelines read a bare threshold N: alert when the value is above N.
  const code =
    sum.driftedSteps > thresholds.critical
      ? 2
      : sum.driftedSteps > thresholds.warning
        ? 1
        : unreachable.length || failed.length
          ? 3
          : 0

  const parts = [
    sum.driftedSteps
      ? `${plural(sum.driftedSteps, 'drifted step')} on ${names(driftedHosts)}`
      : unreachable.length || failed.length
        ? `${sum.inSync} of ${plural(sum.hosts, 'host')} in sync`
        : `all ${plural(sum.hosts, 'host')} in sync`,
  ]
  if (unreachable.length) parts.push(`unreachable: ${names(unreachable)}`)
  if (failed.length) parts.push(`error: ${names(failed)}`)

  // Plugin guidelines: 'label'=value[UOM];[warn];[crit];[min];[max]. Labels are fixed and need no quotes.
  const perfdata = [
    `drifted_steps=${sum.driftedSteps};${thresholds.warning};${thresholds.critical};0`,
    `drifted_hosts=${driftedHosts.length};;;0;${sum.hosts}`,
    `unreachable_hosts=${unreachable.length};;;0;${sum.hosts}`,
    `error_hosts=${failed.length};;;0;${sum.hosts}`,
    `duration=${seconds(report.duration)}s;;;0`,
  ].join(' ')
  return { text: `FERRY DRIFT ${NAGIOS_STATE[code]} - ${parts.join('; ')} | ${perfdata}\n`, code }
}

// ---- prometheus --------------------------------------------------------------------------------

const FAMILIES = {
  ferry_drift_drifted_steps: 'Steps of the runbook found drifted on the host by the last check.',
  ferry_drift_error_steps: 'Steps of the runbook whose check failed on the host in the last check.',
  ferry_drift_host_up: 'Whether the last check reached the host (1) or not (0).',
  ferry_drift_last_check_timestamp_seconds: 'When the last check started, in unix seconds.',
  ferry_drift_check_duration_seconds: 'How long the last check took on the host, in seconds.',
  ferry_drift_first_seen_timestamp_seconds:
    'When the oldest drift of the runbook on the host was first seen, in unix seconds.',
} as const

type Family = keyof typeof FAMILIES

/** Text format 0.0.4: label values escape backslash, double quote and newline. */
const labelValue = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

export function prometheus(report: DriftReport): string {
  const samples: Record<Family, string[]> = {
    ferry_drift_drifted_steps: [],
    ferry_drift_error_steps: [],
    ferry_drift_host_up: [],
    ferry_drift_last_check_timestamp_seconds: [],
    ferry_drift_check_duration_seconds: [],
    ferry_drift_first_seen_timestamp_seconds: [],
  }
  const add = (family: Family, labels: Record<string, string>, value: number) => {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${labelValue(v)}"`)
      .join(',')
    samples[family].push(`${family}{${l}} ${value}`)
  }
  const checked = Date.parse(report.startedAt) / 1000

  for (const h of [...report.hosts].sort((a, b) => byName(a.name, b.name))) {
    add('ferry_drift_host_up', { host: h.name }, h.status === 'unreachable' ? 0 : 1)
    // Every runbook of the check gets a series, so one that is in sync reads 0 rather than absent.
    const runbooks = [...new Set([...report.runbooks, ...h.steps.map((s) => s.runbook)])].sort(byName)
    for (const runbook of runbooks) {
      const labels = { host: h.name, runbook }
      const steps = h.steps.filter((s) => s.runbook === runbook)
      add('ferry_drift_last_check_timestamp_seconds', labels, checked)
      add('ferry_drift_check_duration_seconds', labels, h.duration)
      // An unreachable host was not checked: 0 drifted steps would claim it is in sync.
      if (h.status === 'unreachable') continue
      add('ferry_drift_drifted_steps', labels, steps.filter((s) => s.status === 'drifted').length)
      // A runbook that could not be checked at all on a reachable host counts as one error.
      add(
        'ferry_drift_error_steps',
        labels,
        steps.filter((s) => s.status === 'error').length || (h.status === 'error' && !steps.length ? 1 : 0),
      )
      const first = oldest(steps.filter((s) => s.status === 'drifted'))
      if (first !== undefined) add('ferry_drift_first_seen_timestamp_seconds', labels, first / 1000)
    }
  }

  const out: string[] = []
  for (const [family, help] of Object.entries(FAMILIES) as [Family, string][]) {
    out.push(`# HELP ${family} ${help}`, `# TYPE ${family} gauge`, ...samples[family])
  }
  return `${out.join('\n')}\n`
}

// ---- junit -------------------------------------------------------------------------------------

// XML 1.0 has no way to write these, not even as character references.
const ILLEGAL_XML =
  /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
const ENTITY: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#13;',
  '\n': '&#10;',
  '\t': '&#9;',
}

/** Escapes for text or, when `attr`, an attribute: there a parser would turn raw newlines and tabs into spaces. */
function xml(s: string, attr = false): string {
  return s.replace(ILLEGAL_XML, '').replace(attr ? /[&<>"'\r\n\t]/g : /[&<>"'\r]/g, (c) => ENTITY[c]!)
}

const attrs = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xml(String(v), true)}"`)
    .join('')

export function junit(report: DriftReport): string {
  const suites: string[] = []
  let tests = 0
  let failures = 0
  let errors = 0

  for (const h of report.hosts) {
    const cases: string[] = []
    let f = 0
    let e = 0
    const testcase = (name: string, body = '') =>
      cases.push(
        `    <testcase${attrs({ classname: h.name, name, time: 0 })}${body ? `>\n      ${body}\n    </testcase>` : '/>'}`,
      )

    if (h.status === 'unreachable') {
      e++
      testcase(
        'reachable',
        `<error${attrs({ message: h.error ?? 'unreachable', type: 'unreachable' })}>${xml(h.error ?? '')}</error>`,
      )
    } else if (h.error) {
      // A host that failed as a whole has no step to hang its error on.
      e++
      testcase('check', `<error${attrs({ message: h.error, type: 'error' })}>${xml(h.error)}</error>`)
    }
    for (const s of h.steps) {
      if (s.status === 'drifted') {
        f++
        const message = s.firstSeen ? `drifted (first seen ${s.firstSeen})` : 'drifted'
        testcase(where(s), `<failure${attrs({ message, type: 'drift' })}>${xml(s.diff ?? '')}</failure>`)
      } else if (s.status === 'error') {
        e++
        testcase(
          where(s),
          `<error${attrs({ message: s.error ?? 'error', type: 'error' })}>${xml(s.error ?? '')}</error>`,
        )
      } else {
        testcase(where(s))
      }
    }

    tests += cases.length
    failures += f
    errors += e
    const head = attrs({
      name: h.name,
      tests: cases.length,
      failures: f,
      errors: e,
      time: seconds(h.duration),
      timestamp: report.startedAt,
    })
    suites.push(cases.length ? `  <testsuite${head}>\n${cases.join('\n')}\n  </testsuite>` : `  <testsuite${head}/>`)
  }

  const head = attrs({ name: 'ferry drift', tests, failures, errors, time: seconds(report.duration) })
  return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${head}>`, ...suites, '</testsuites>', ''].join('\n')
}

// ---- files -------------------------------------------------------------------------------------

/**
 * Replaces `path` in one step, so a reader (node_exporter's textfile collector) sees the old file
 * or the new one, never half of one. The temporary name does not end in `.prom`: the collector
 * would otherwise read it.
 */
export function writeAtomically(path: string, content: string, mode: number): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    try {
      // open's mode is narrowed by the umask, which must not decide who may read the report.
      fchmodSync(fd, mode)
      writeFileSync(fd, content)
      // Without it a crash soon after the rename can leave an empty file in place of the old one.
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}
