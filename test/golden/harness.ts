// Golden tests: facts in, commands and files out, per OS, with no host. A step goes through
// check → record → apply → undo on a platform, its probe answered by a fixture, and every
// command it sends is recorded by a zx `$` whose spawn never starts a process.

import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, existsSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { recordingShell as recording } from '../../src/shell/recording.ts'
import { platformFor } from '../../src/platform/platform.ts'
import type { Host, Os } from '../../src/inventory/types.ts'
import type { Change, ProbeResult, Step } from '../../src/steps/step.ts'

/** A probe's stdout (exit 0), or stdout and exit status. */
export type Fixture = string | ProbeResult

/** A command as sent: the line, plus what went to its stdin if anything did. */
export type Sent = string | { cmd: string; input: string }

/** What a re-run of the step's own probe shows up as in the command lists. */
export const PROBE = '<probe>'

export interface Case {
  /** `<os> <type>: <case>` */
  name: string
  os: Os
  step: Step
  probe: Fixture
  /** What the probe prints when undo runs it again; default: the same as `probe`. */
  after?: Fixture
  /** Resources earlier steps will change (CheckContext.pending). */
  pending?: string[]
  expect: {
    /** The exact snippet, or parts it must contain. */
    probe?: string | string[]
    /** Summaries, or whole changes with their diffs. */
    changes?: Array<string | Change>
    apply?: Sent[]
    undo?: Sent[]
    /** What the commit-confirmed revert job would run for this step (`Step.revert`). */
    revert?: string[]
    /** check must refuse, with this message. */
    error?: RegExp
    /** apply must fail, with this message (undo still runs, as the engine would). */
    applyError?: RegExp
    /**
     * The apply commands that write files under /etc, run for real against a scratch copy of
     * /etc holding `before`; afterwards each path holds its text (null: no such file).
     */
    files?: { before?: Record<string, string>; after: Record<string, string | null> }
  }
}

export interface Outcome {
  probe: string
  changes: Change[]
  apply: Sent[]
  undo: Sent[]
  revert?: string[]
  error?: string
  applyError?: string
}

const host = {
  name: 'golden',
  connection: 'ssh',
  address: '192.0.2.1',
  port: 22,
  user: 'root',
  become: 'none',
  identity: [],
  knownHosts: [],
  connectTimeout: 1000,
  groups: ['all'],
  vars: {},
  jails: {},
} satisfies Host

const asProbe = (f: Fixture): ProbeResult => (typeof f === 'string' ? { stdout: f, code: 0 } : f)

// Backups are named by the time and a random part; the golden name stands for any of them.
const stable = (s: string) => s.replace(/\d{8}T\d{9}Z-[0-9a-f]{8}/g, 'BACKUP')

const recordingShell = (answer: (cmd: string) => ProbeResult, sent: (s: Sent) => void) =>
  recording(answer, (cmd, input) => sent(input ? { cmd: stable(cmd), input } : stable(cmd)))

/** Runs a case's step through check, record, apply and undo. */
export async function runCase(c: Case): Promise<Outcome> {
  const platform = platformFor(c.os)
  const snippet = c.step.probe(platform)
  const first = asProbe(c.probe)
  let changes: Change[]
  try {
    changes = c.step.check(first, { host, platform, pending: new Set(c.pending ?? []) })
  } catch (err) {
    return { probe: snippet, changes: [], apply: [], undo: [], error: (err as Error).message }
  }
  const out: Outcome = { probe: snippet, changes, apply: [], undo: [] }
  if (!changes.length) return out
  let log = out.apply
  let now = first
  // The probe, or its first lines alone (pkg's undo asks only the versions), answered alike.
  const $ = recordingShell(
    (cmd) => (cmd === snippet || snippet.startsWith(`${cmd}\n`) ? now : { stdout: '', code: 0 }),
    (s) => log.push(s === snippet ? PROBE : s),
  )
  const record = c.step.record(first, { host, platform, pending: new Set() })
  out.revert = c.step.revert?.(record, platform).map(stable)
  const ctx = {
    host,
    platform,
    $,
    connect: () => Promise.reject(new Error('golden steps work on one host')),
    progress: () => {},
  }
  try {
    await c.step.apply(ctx, changes, record)
  } catch (err) {
    out.applyError = (err as Error).message
  }
  log = out.undo
  now = asProbe(c.after ?? c.probe)
  await c.step.undo(ctx, record)
  return out
}

/** Each line of the commands sent: a multi-line script counts line by line. */
export function commandLines(sent: Sent[]): string[] {
  return sent.flatMap((s) => (typeof s === 'string' ? s : s.cmd).split('\n'))
}

/**
 * Runs the lines that only edit files under /etc (they start `f=/etc/…`) in a scratch root,
 * every `/etc/` rewritten into it, and returns what the files hold afterwards.
 */
export function filesAfter(
  sent: Sent[],
  before: Record<string, string>,
  paths: string[],
): Record<string, string | null> {
  const root = mkdtempSync(join(tmpdir(), 'ferry-golden-'))
  try {
    for (const [path, text] of Object.entries(before)) {
      mkdirSync(dirname(join(root, path)), { recursive: true })
      writeFileSync(join(root, path), text)
    }
    for (const path of paths) mkdirSync(dirname(join(root, path)), { recursive: true })
    for (const l of commandLines(sent).filter((l) => l.startsWith('f=/etc/'))) {
      // Every path under /etc, /etc itself too (a `cd /etc`): one left out would edit this machine's.
      const scratch = l.replace(/(?<![\w./-])\/etc(?![\w.-])/g, `${root}/etc`)
      if (/(?<![\w./-])\/etc(?![\w.-])/.test(scratch.replaceAll(`${root}/etc`, '')))
        throw new Error(`a path under /etc escaped the scratch root: ${l}`)
      execFileSync('/bin/sh', ['-c', scratch])
    }
    return Object.fromEntries(
      paths.map((p) => [p, existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : null]),
    )
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
