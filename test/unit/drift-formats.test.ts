// The output formats of `ferry drift`, each rendered from one hand-built check of five lab hosts.
import { describe, expect, it } from 'vitest'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { json, junit, nagios, prometheus, text, writeAtomically } from '../../src/drift/formats.ts'
import { naturalOrder } from '../../src/drift/check.ts'
import type { DriftHost, DriftReport } from '../../src/drift/report.ts'
import { colorDiff, unifiedDiff } from '../../src/report/diff.ts'
import { parsePrometheus } from '../fixtures/prometheus.ts'

const frrConf = (cost: number) => `frr version 8.4
frr defaults traditional
hostname lab1
!
interface gre0
 description "lab1 <-> lab2" & backup
 ip ospf cost ${cost}
 ip ospf network point-to-point
!
router ospf
 ospf router-id 10.255.0.1
 network 10.255.0.0/24 area 0
!
`
// As `ferry run` shows them: from what the host has to what the runbook wants.
const FRR_DIFF = unifiedDiff('/etc/frr/frr.conf', '/etc/frr/frr.conf', frrConf(99), frrConf(10))
const DAEMONS_DIFF = unifiedDiff('/dev/null', '/etc/frr/daemons', '', 'zebra=yes\nospfd=yes\nbgpd=no\n')
const SYSCTL_DIFF = 'net.ipv4.ip_forward: 0 → 1'

const inSync = (runbook: string, step: string) => ({ runbook, step, status: 'in-sync' as const })
const common = [inSync('deploy-mesh', 'routing packages'), inSync('hardening', 'sshd_config')]

const REPORT: DriftReport = {
  checkId: '20261121-121530-3f9a',
  startedAt: '2026-11-21T12:15:30.000Z',
  duration: 1.234,
  runbooks: ['deploy-mesh', 'hardening'],
  hosts: [
    {
      name: 'lab1',
      status: 'drifted',
      duration: 0.81,
      steps: [
        ...common,
        {
          runbook: 'deploy-mesh',
          step: 'frr.conf',
          status: 'drifted',
          diff: FRR_DIFF,
          firstSeen: '2026-11-19T03:00:00.000Z',
        },
      ],
    },
    {
      name: 'lab2',
      status: 'drifted',
      duration: 0.62,
      steps: [
        ...common,
        {
          runbook: 'deploy-mesh',
          step: 'enable forwarding',
          status: 'drifted',
          diff: SYSCTL_DIFF,
          firstSeen: '2026-11-21T12:15:30.000Z',
        },
      ],
    },
    {
      name: 'lab3',
      status: 'drifted',
      duration: 0.7,
      steps: [
        ...common,
        {
          runbook: 'deploy-mesh',
          step: 'daemons',
          status: 'drifted',
          diff: DAEMONS_DIFF,
          firstSeen: '2026-11-20T08:00:00.000Z',
        },
      ],
    },
    { name: 'lab4', status: 'in-sync', duration: 0.55, steps: [...common, inSync('deploy-mesh', 'frr.conf')] },
    { name: 'lab5', status: 'unreachable', error: 'connect ECONNREFUSED 192.0.2.5:22', duration: 1.2, steps: [] },
  ],
}

/** The fixture with every drifted step and host put back in sync. */
function healed(report: DriftReport): DriftReport {
  const heal = (h: DriftHost): DriftHost =>
    h.status === 'drifted'
      ? {
          ...h,
          status: 'in-sync',
          steps: h.steps.map((s) => ({ runbook: s.runbook, step: s.step, status: 'in-sync' })),
        }
      : h
  return { ...report, hosts: report.hosts.map(heal) }
}

const withoutUnreachable = (report: DriftReport): DriftReport => ({
  ...report,
  hosts: report.hosts.filter((h) => h.status !== 'unreachable'),
})

const ESC = '\x1b'
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '')

describe('text', () => {
  const out = text(REPORT, { color: false })
  const lines = out.split('\n')

  it('opens with a table whose columns line up', () => {
    const table = lines.slice(0, 6)
    expect(table[0]).toBe('HOST  STATUS       DRIFTED  ERRORS  FIRST SEEN (UTC)')
    expect(table[1]).toBe('lab1  drifted      1        0       2026-11-19 03:00:00')
    expect(table[4]).toBe('lab4  in-sync      0        0       -')
    expect(table[5]).toBe('lab5  unreachable  0        0       -')
    for (const col of ['STATUS', 'DRIFTED', 'ERRORS', 'FIRST SEEN']) {
      const at = table[0]!.indexOf(col)
      for (const row of table.slice(1)) expect(row[at - 1], `${row} at ${col}`).toBe(' ')
      for (const row of table.slice(1)) expect(row[at], `${row} at ${col}`).not.toBe(' ')
    }
  })

  it('shows each drifted step with when it was first seen and its diff, indented', () => {
    expect(out).toContain(
      '\nlab1  deploy-mesh › frr.conf (first seen 2026-11-19 03:00:00 UTC)\n    --- /etc/frr/frr.conf\n    +++ /etc/frr/frr.conf\n',
    )
    expect(lines).toContain('    - ip ospf cost 99')
    expect(lines).toContain('    + ip ospf cost 10')
    expect(out).toContain(
      '\nlab2  deploy-mesh › enable forwarding (first seen 2026-11-21 12:15:30 UTC)\n    net.ipv4.ip_forward: 0 → 1\n',
    )
    expect(out).toContain(
      '\nlab3  deploy-mesh › daemons (first seen 2026-11-20 08:00:00 UTC)\n    --- /dev/null\n    +++ /etc/frr/daemons\n',
    )
    expect(out).not.toContain('lab4  deploy-mesh')
  })

  it('lists unreachable hosts and errored steps, and ends with the summary line', () => {
    expect(lines).toContain('lab5  unreachable: connect ECONNREFUSED 192.0.2.5:22')
    expect(lines.at(-1)).toBe('')
    expect(lines.at(-2)).toBe(
      'drift check 20261121-121530-3f9a: 5 hosts, 1 in sync, 3 drifted (3 steps), 0 errors, 1 unreachable in 1.2 s',
    )

    const failing: DriftReport = {
      ...REPORT,
      hosts: [
        {
          name: 'lab4',
          status: 'error',
          duration: 0.5,
          steps: [
            { runbook: 'deploy-mesh', step: 'ospfd', status: 'error', error: 'sysctl: unknown oid\nsecond line' },
          ],
        },
      ],
    }
    const f = text(failing, { color: false })
    expect(f.split('\n')[1]).toBe('lab4  error   0        1       -')
    expect(f).toContain('\nlab4  deploy-mesh › ospfd: sysctl: unknown oid\n    second line\n')
    expect(f).toContain(
      'drift check 20261121-121530-3f9a: 1 host, 0 in sync, 0 drifted (0 steps), 1 error, 0 unreachable in 1.2 s\n',
    )
  })

  it('has no escape codes without colour, even from a hostile file', () => {
    const hostile = {
      ...REPORT,
      hosts: [
        {
          ...REPORT.hosts[0]!,
          steps: [{ ...REPORT.hosts[0]!.steps[2]!, diff: `+motd ${ESC}[2J${ESC}]0;pwned\x07\n` }],
        },
      ],
    }
    expect(out).not.toContain(ESC)
    const h = text(hostile, { color: false })
    expect(h).not.toContain(ESC)
    expect(h).toContain('    +motd \\x1b[2J\\x1b]0;pwned\\x07\n')
    expect(text(hostile, { color: true })).not.toContain(`${ESC}[2J`)
  })

  it('colours with colorDiff and status colours, without moving the columns', () => {
    const coloured = text(REPORT, { color: true })
    expect(coloured).toContain(ESC)
    expect(stripAnsi(coloured)).toBe(out)
    expect(coloured).toContain(
      colorDiff(FRR_DIFF.trimEnd())
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n'),
    )
    expect(coloured).toContain('\x1b[31munreachable\x1b[39m')
  })
})

describe('json', () => {
  it('is the report with its summary and exit code, pretty-printed', () => {
    const out = json(REPORT)
    expect(out.endsWith('}\n')).toBe(true)
    expect(out).toContain('\n  "checkId": "20261121-121530-3f9a",\n')
    const parsed = JSON.parse(out)
    expect(Object.keys(parsed)).toEqual([
      'checkId',
      'startedAt',
      'duration',
      'runbooks',
      'summary',
      'exitCode',
      'hosts',
    ])
    expect(parsed.summary).toEqual({ hosts: 5, inSync: 1, drifted: 3, errors: 0, unreachable: 1, driftedSteps: 3 })
    expect(parsed.exitCode).toBe(2)
    expect(parsed.hosts).toEqual(REPORT.hosts)
    expect(parsed.hosts[0].steps[2].diff).toBe(FRR_DIFF)
  })
})

describe('nagios', () => {
  // Nagios plugin guidelines: 'label'=value[UOM];[warn];[crit];[min];[max], warn and crit as ranges.
  const num = String.raw`-?\d+(?:\.\d+)?`
  const range = String.raw`@?(?:~|${num})?(?::(?:${num})?)?`
  const PERF = new RegExp(
    String.raw`^(?:'[^'=]+'|[^'=\s|]+)=${num}(?:s|ms|us|%|B|KB|MB|TB|c)?(?:;(?:${range})?(?:;(?:${range})?(?:;(?:${num})?(?:;(?:${num})?)?)?)?)?$`,
  )

  function split(out: string) {
    expect(out.endsWith('\n')).toBe(true)
    expect(out.slice(0, -1)).not.toContain('\n')
    const parts = out.slice(0, -1).split(' | ')
    expect(parts).toHaveLength(2)
    const perf = parts[1]!.split(' ')
    for (const p of perf) expect(p).toMatch(PERF)
    return { status: parts[0]!, perf: Object.fromEntries(perf.map((p) => p.split('='))) }
  }

  it('is CRITICAL at the default thresholds and names the drifted and unreachable hosts', () => {
    const { text: out, code } = nagios(REPORT, { warning: 0, critical: 0 })
    expect(code).toBe(2)
    const { status, perf } = split(out)
    expect(status).toBe('FERRY DRIFT CRITICAL - 3 drifted steps on lab1, lab2, lab3; unreachable: lab5')
    expect(perf).toEqual({
      drifted_steps: '3;0;0;0',
      drifted_hosts: '3;;;0;5',
      unreachable_hosts: '1;;;0;5',
      error_hosts: '0;;;0;5',
      duration: '1.234s;;;0',
    })
  })

  it('is WARNING between the thresholds', () => {
    const { text: out, code } = nagios(REPORT, { warning: 1, critical: 5 })
    expect(code).toBe(1)
    expect(split(out).status).toBe('FERRY DRIFT WARNING - 3 drifted steps on lab1, lab2, lab3; unreachable: lab5')
    expect(split(out).perf.drifted_steps).toBe('3;1;5;0')
  })

  it('is OK when every host is in sync', () => {
    const { text: out, code } = nagios(withoutUnreachable(healed(REPORT)), { warning: 0, critical: 0 })
    expect(code).toBe(0)
    expect(split(out).status).toBe('FERRY DRIFT OK - all 4 hosts in sync')
    expect(split(out).perf.drifted_steps).toBe('0;0;0;0')
  })

  it('is UNKNOWN when nothing drifted past the thresholds but a host could not be checked', () => {
    const { text: out, code } = nagios(healed(REPORT), { warning: 0, critical: 0 })
    expect(code).toBe(3)
    expect(split(out).status).toBe('FERRY DRIFT UNKNOWN - 4 of 5 hosts in sync; unreachable: lab5')
    const errored: DriftReport = {
      ...healed(REPORT),
      hosts: [
        ...withoutUnreachable(healed(REPORT)).hosts,
        { name: 'lab6', status: 'error', error: 'uname failed', duration: 0, steps: [] },
      ],
    }
    expect(nagios(errored, { warning: 0, critical: 0 })).toMatchObject({ code: 3 })
    expect(split(nagios(errored, { warning: 0, critical: 0 }).text).status).toBe(
      'FERRY DRIFT UNKNOWN - 4 of 5 hosts in sync; error: lab6',
    )
    expect(nagios(REPORT, { warning: 5, critical: 10 }).code).toBe(3)
  })

  it('keeps a host name from breaking the one line or the perfdata', () => {
    const odd: DriftReport = { ...REPORT, hosts: [{ ...REPORT.hosts[0]!, name: 'lab1|evil\nline' }] }
    const { text: out } = nagios(odd, { warning: 0, critical: 0 })
    expect(split(out).status).toBe('FERRY DRIFT CRITICAL - 1 drifted step on lab1/evil line')
  })
})

// ---- prometheus -------------------------------------------------------------------------------

describe('prometheus', () => {
  const samples = parsePrometheus(prometheus(REPORT))
  const value = (name: string, labels: Record<string, string>) =>
    samples
      .filter((s) => s.name === `ferry_drift_${name}` && JSON.stringify(s.labels) === JSON.stringify(labels))
      .map((s) => s.value)
  const checked = Date.parse('2026-11-21T12:15:30Z') / 1000

  it('declares every family once and has a sample per host and runbook', () => {
    expect(new Set(samples.map((s) => s.name))).toEqual(
      new Set(
        [
          'drifted_steps',
          'error_steps',
          'host_up',
          'last_check_timestamp_seconds',
          'check_duration_seconds',
          'first_seen_timestamp_seconds',
        ].map((n) => `ferry_drift_${n}`),
      ),
    )
    expect(value('drifted_steps', { host: 'lab1', runbook: 'deploy-mesh' })).toEqual([1])
    expect(value('drifted_steps', { host: 'lab1', runbook: 'hardening' })).toEqual([0])
    expect(value('drifted_steps', { host: 'lab4', runbook: 'deploy-mesh' })).toEqual([0])
    expect(value('error_steps', { host: 'lab3', runbook: 'deploy-mesh' })).toEqual([0])
    expect(value('host_up', { host: 'lab1' })).toEqual([1])
    expect(value('host_up', { host: 'lab5' })).toEqual([0])
    expect(value('last_check_timestamp_seconds', { host: 'lab2', runbook: 'hardening' })).toEqual([checked])
    expect(value('check_duration_seconds', { host: 'lab3', runbook: 'deploy-mesh' })).toEqual([0.7])
    expect(value('first_seen_timestamp_seconds', { host: 'lab1', runbook: 'deploy-mesh' })).toEqual([
      Date.parse('2026-11-19T03:00:00Z') / 1000,
    ])
    expect(samples.filter((s) => s.name === 'ferry_drift_drifted_steps').reduce((n, s) => n + s.value, 0)).toBe(3)
  })

  it('gives an unreachable host host_up 0 and check times, but no drift counts', () => {
    const lab5 = samples.filter((s) => s.labels.host === 'lab5')
    expect(lab5.map((s) => `${s.name} ${s.labels.runbook ?? ''} ${s.value}`)).toEqual([
      'ferry_drift_host_up  0',
      `ferry_drift_last_check_timestamp_seconds deploy-mesh ${checked}`,
      `ferry_drift_last_check_timestamp_seconds hardening ${checked}`,
      'ferry_drift_check_duration_seconds deploy-mesh 1.2',
      'ferry_drift_check_duration_seconds hardening 1.2',
    ])
  })

  it('leaves out first_seen where nothing drifted', () => {
    const firstSeen = samples.filter((s) => s.name === 'ferry_drift_first_seen_timestamp_seconds')
    expect(firstSeen.map((s) => `${s.labels.host} ${s.labels.runbook}`)).toEqual([
      'lab1 deploy-mesh',
      'lab2 deploy-mesh',
      'lab3 deploy-mesh',
    ])
  })

  it('sorts samples by host, then runbook, whatever the report order', () => {
    const shuffled = parsePrometheus(
      prometheus({ ...REPORT, runbooks: ['hardening', 'deploy-mesh'], hosts: [...REPORT.hosts].reverse() }),
    )
    const keys = shuffled
      .filter((s) => s.name === 'ferry_drift_drifted_steps')
      .map((s) => `${s.labels.host} ${s.labels.runbook}`)
    expect(keys).toEqual([
      'lab1 deploy-mesh',
      'lab1 hardening',
      'lab2 deploy-mesh',
      'lab2 hardening',
      'lab3 deploy-mesh',
      'lab3 hardening',
      'lab4 deploy-mesh',
      'lab4 hardening',
    ])
    expect(shuffled).toEqual(samples)
  })

  it('escapes backslash, double quote and newline in label values', () => {
    const host = 'lab"1\\dc\nx'
    const runbook = 'C:\\runbooks\\"deploy"'
    const out = prometheus({
      ...REPORT,
      runbooks: [runbook],
      hosts: [
        {
          ...REPORT.hosts[0]!,
          name: host,
          steps: [{ runbook, step: 's', status: 'drifted', firstSeen: REPORT.startedAt }],
        },
      ],
    })
    expect(out).toContain('{host="lab\\"1\\\\dc\\nx",runbook="C:\\\\runbooks\\\\\\"deploy\\""} 1\n')
    const parsed = parsePrometheus(out)
    expect(parsed.find((s) => s.name === 'ferry_drift_drifted_steps')?.labels).toEqual({ host, runbook })
    expect(parsed.find((s) => s.name === 'ferry_drift_host_up')?.labels).toEqual({ host })
  })
})

describe('junit', () => {
  const xml = junit(REPORT)
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    htmlEntities: true,
    isArray: (name) => ['testsuite', 'testcase'].includes(name),
  })
  type Case = {
    classname: string
    name: string
    failure?: { '#text'?: string; message: string; type: string }
    error?: { '#text'?: string; message: string; type: string }
  }
  const parse = (s: string) =>
    parser.parse(s).testsuites as {
      name: string
      tests: string
      failures: string
      errors: string
      testsuite: { name: string; testcase?: Case[] }[]
    }

  it('is well-formed XML with the declaration first', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true)
    expect(XMLValidator.validate(xml)).toBe(true)
  })

  it('counts 3 failures and 1 error, in the totals and in the test cases', () => {
    const suites = parse(xml)
    const cases = suites.testsuite.flatMap((s) => s.testcase ?? [])
    expect(suites).toMatchObject({ name: 'ferry drift', tests: '13', failures: '3', errors: '1' })
    expect(cases).toHaveLength(13)
    expect(cases.filter((c) => c.failure)).toHaveLength(3)
    expect(cases.filter((c) => c.error)).toHaveLength(1)
    expect(suites.testsuite.map((s) => s.name)).toEqual(['lab1', 'lab2', 'lab3', 'lab4', 'lab5'])
    expect(suites.testsuite[0]).toMatchObject({
      tests: '3',
      failures: '1',
      errors: '0',
      time: '0.81',
      timestamp: REPORT.startedAt,
    })
  })

  it('keeps the diff intact through escaping', () => {
    expect(FRR_DIFF).toMatch(/<.*&.*"|".*<.*&/)
    expect(xml).not.toContain('"lab1 <-> lab2" & backup')
    const lab1 = parse(xml).testsuite[0]!.testcase!.find((c) => c.failure)!
    expect(lab1).toMatchObject({ classname: 'lab1', name: 'deploy-mesh › frr.conf' })
    expect(lab1.failure).toMatchObject({ type: 'drift', message: 'drifted (first seen 2026-11-19T03:00:00.000Z)' })
    expect(lab1.failure!['#text']!.trim()).toBe(FRR_DIFF.trim())
  })

  it('reports an unreachable host as one errored test case named reachable', () => {
    const lab5 = parse(xml).testsuite[4]!
    expect(lab5.testcase).toHaveLength(1)
    expect(lab5.testcase![0]).toMatchObject({
      classname: 'lab5',
      name: 'reachable',
      error: { type: 'unreachable', message: 'connect ECONNREFUSED 192.0.2.5:22' },
    })
  })

  it('escapes attributes and drops characters XML 1.0 cannot hold', () => {
    const nasty: DriftReport = {
      ...REPORT,
      hosts: [
        {
          name: `it's "lab<1>" & co`,
          status: 'error',
          duration: 0.1,
          steps: [
            { runbook: 'deploy-mesh', step: 'motd', status: 'drifted', diff: `+bell\x07 esc\x1b[0m nul\x00 tab\t\n` },
            {
              runbook: 'deploy-mesh',
              step: 'ospfd',
              status: 'error',
              error: 'exit 1:\nospfd: "bad" <config> & more\x0c',
            },
          ],
        },
      ],
    }
    const out = junit(nasty)
    expect(XMLValidator.validate(out)).toBe(true)
    expect(out).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f]/)
    const suite = parse(out).testsuite[0]!
    expect(suite.name).toBe(`it's "lab<1>" & co`)
    expect(suite.testcase![0]!.failure!['#text']).toBe('+bell esc[0m nul tab')
    expect(suite.testcase![1]!.error).toMatchObject({ type: 'error', message: 'exit 1:\nospfd: "bad" <config> & more' })
  })
})

describe('writeAtomically', () => {
  it('replaces the file with the mode asked, whatever the umask, and leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-drift-'))
    const path = join(dir, 'ferry_drift.prom')
    writeFileSync(path, 'old\n', { mode: 0o600 })
    chmodSync(path, 0o600)
    const umask = process.umask(0o077) // the mode must not depend on it
    try {
      writeAtomically(path, prometheus(REPORT), 0o644)
    } finally {
      process.umask(umask)
    }
    try {
      expect(readdirSync(dir)).toEqual(['ferry_drift.prom'])
      expect(readFileSync(path, 'utf8')).toBe(prometheus(REPORT))
      expect(statSync(path).mode & 0o777).toBe(0o644)
      process.umask(0)
      writeAtomically(path, 'diffs\n', 0o600)
      expect(statSync(path).mode & 0o777).toBe(0o600)
    } finally {
      process.umask(umask)
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('cleans up its temporary file when the rename fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-drift-'))
    try {
      mkdirSync(join(dir, 'taken', 'full'), { recursive: true })
      expect(() => writeAtomically(join(dir, 'taken'), 'x', 0o600)).toThrow()
      expect(readdirSync(dir)).toEqual(['taken'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('host order', () => {
  it('is natural (lab2 before lab10) and total, without a locale', () => {
    const names = ['lab10', 'lab2', 'far1', 'lab1', 'lab02', 'lab', 'lab1a', 'Lab3', 's10-2', 's10-10', 's9']
    expect([...names].sort(naturalOrder)).toEqual([
      'Lab3',
      'far1',
      'lab',
      'lab1',
      'lab1a',
      'lab02',
      'lab2',
      'lab10',
      's9',
      's10-2',
      's10-10',
    ])
    // The same order whichever way round it is asked.
    for (const a of names)
      for (const b of names) expect(Math.sign(naturalOrder(a, b)) + Math.sign(naturalOrder(b, a))).toBe(0)
  })
})
