// A kernel variable, live and (by default) persisted in the platform's file, whose line for the
// key is replaced in place rather than appended again.

import { field } from '../platform/common.ts'
import { probeNow, run } from './script.ts'
import { ANYTHING, StepError, notifyList, type CommonOptions, type ProbeResult, type Step } from './step.ts'

export interface SysctlOptions extends CommonOptions {
  key: string
  value: string
  /** Also set it in /etc/sysctl.conf (BSD) or /etc/sysctl.d/60-ferry.conf (Linux). Default true. */
  persist?: boolean
}

/** The values before apply; undefined: the kernel lacked the key, or the file did not set it. */
export interface SysctlRecord {
  live?: string
  saved?: string
}

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.\/-]*$/

/** Multi-valued sysctls print tab-separated; compare them word by word. */
const norm = (v: string | undefined) => v?.trim().split(/\s+/).join(' ')

function parse(probe: ProbeResult): SysctlRecord {
  return { live: norm(field(probe.stdout, 'live')), saved: norm(field(probe.stdout, 'saved')) }
}

/** `sysctl('enable forwarding', { key: 'net.inet.ip.forwarding', value: '1' })`. */
export function sysctl(name: string, opts: SysctlOptions): Step<SysctlRecord> {
  const { key } = opts
  const value = norm(opts.value)!
  const persist = opts.persist ?? true
  if (!KEY.test(key)) throw new StepError(`${name}: not a sysctl key: ${JSON.stringify(key)}`)
  if (value === '' || value.includes('\n')) throw new StepError(`${name}: ${key} needs a one-line value`)

  return {
    kind: 'sysctl',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky,
    previewCommands: true,
    touches: [`sysctl:${key}`],
    reads: [`sysctl:${key}`],

    probe: (platform) => platform.sysctl.probe(key),

    check(probe, { platform, pending }) {
      const cur = parse(probe)
      // A key appears with its kernel module; an earlier step that may load one lets us plan.
      if (cur.live === undefined && !pending.has(ANYTHING))
        throw new StepError(`the kernel has no sysctl ${key} (is its module loaded?)`)
      const readonly = field(probe.stdout, 'readonly')
      if (cur.live !== value && readonly !== undefined && !pending.has(ANYTHING))
        throw new StepError(`${key} cannot be set here: ${readonly}`)
      return [
        ...(cur.live !== value ? [{ summary: `${key}: ${cur.live ?? '(no such key yet)'} → ${value}` }] : []),
        ...(persist && cur.saved !== value
          ? [{ summary: `${key} in ${platform.sysctl.file}: ${cur.saved ?? '(unset)'} → ${value}` }]
          : []),
      ]
    },

    record: parse,

    async apply({ $, platform }, _changes, record) {
      await run($, [
        ...(record.live !== value ? [platform.sysctl.set(key, value)] : []),
        ...(persist && record.saved !== value ? [platform.sysctl.persist(key, value)] : []),
      ])
    },

    async undo({ $, platform }, record) {
      const now = parse(await probeNow($, platform.sysctl.probe(key)))
      const lines: string[] = []
      if (record.live !== undefined && now.live !== record.live) lines.push(platform.sysctl.set(key, record.live))
      if (persist && now.saved !== record.saved)
        lines.push(
          record.saved === undefined ? platform.sysctl.unpersist(key) : platform.sysctl.persist(key, record.saved),
        )
      await run($, lines)
    },

    revert: (record, platform) => [
      ...(record.live === undefined ? [] : [platform.sysctl.set(key, record.live)]),
      ...(persist
        ? [record.saved === undefined ? platform.sysctl.unpersist(key) : platform.sysctl.persist(key, record.saved)]
        : []),
    ],
  }
}
