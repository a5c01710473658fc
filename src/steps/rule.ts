// A policy-routing rule (Linux's `ip rule`): packets that carry a firewall mark look up another
// routing table. A packet filter marks them; the rule moves the lookup. It is what pf's `match …
// rtable N` does in one line on OpenBSD, which has no such rules (the platform has none: refused).
// Live and (by default) at boot, kept with an interface as routes are: a pair of `up`/`down` lines
// in its ifupdown stanza, or a drop-in beside its systemd-networkd .network. Rules steer traffic,
// so a change is risky (commit-confirmed).

import { field, fields } from '../platform/common.ts'
import { bootDiff } from './iface.ts'
import { probeNow, run } from './script.ts'
import type { Rule } from '../platform/platform.ts'
import {
  ANYTHING,
  StepError,
  notifyList,
  type Change,
  type CommonOptions,
  type ProbeResult,
  type Step,
} from './step.ts'

export interface RuleOptions extends CommonOptions {
  /** The priority: lower first. The kernel's VRF rule is at 1000, the main table's at 32766. */
  pref: number
  /** The firewall mark the packets carry (1 to 4294967295). */
  fwmark: number
  /** The table they look up: a number, or `main` (254). */
  table: number | 'main'
  /** `absent` removes the rule. Default `present`. */
  state?: 'present' | 'absent'
  /** Also configure it for boot. Default true. */
  persist?: boolean
  /** The interface whose boot configuration keeps it (ifupdown's stanza, networkd's .network); required with persist. */
  iface?: string
}

export interface RuleRecord {
  /** Whether the rule was live before apply. */
  live: boolean
  /** The rule's boot configuration lines, as the probe printed them. */
  saved: string[]
  /** What keeps them, where the host decides (`networkd`). */
  netConfig?: string
}

const NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/
const U32 = 0xffffffff

function parse(probe: ProbeResult): RuleRecord {
  return {
    live: field(probe.stdout, 'rule') === '1',
    saved: fields(probe.stdout, 'saved'),
    netConfig: field(probe.stdout, 'netconfig'),
  }
}

/** `rule('to the main table', { pref: 900, fwmark: 254, table: 'main', iface: 'vrf2' })`. */
export function rule(name: string, opts: RuleOptions): Step<RuleRecord> {
  const whole = (key: string, v: unknown, min: number, max: number) => {
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max))
      throw new StepError(`${name}: ${key} is a whole number from ${min} to ${max}: ${JSON.stringify(v)}`)
    return v
  }
  const pref = whole('pref', opts.pref, 1, 32765) // 0 and 32766–32767 are the kernel's own rules
  const fwmark = whole('fwmark', opts.fwmark, 1, U32)
  const table = opts.table === 'main' ? 254 : whole('table', opts.table, 1, U32)
  if (opts.iface !== undefined && !NAME.test(opts.iface))
    throw new StepError(`${name}: not an interface name (iface): ${JSON.stringify(opts.iface)}`)
  const present = (opts.state ?? 'present') === 'present'
  const persist = opts.persist ?? true
  const spec: Rule = { pref, fwmark, table, persist, iface: opts.iface }
  const label = `rule ${pref} (fwmark 0x${fwmark.toString(16)} → table ${table === 254 ? 'main' : table})`
  const resources = [`rule:${pref}:${fwmark}`, ...(persist && opts.iface ? [`if:${opts.iface}`] : [])]

  return {
    kind: 'rule',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky ?? true,
    previewCommands: true,
    touches: resources,
    reads: resources,

    probe: (platform) => platform.rules?.probe(spec) ?? 'exit 0',

    check(probe, { platform, pending }) {
      const rules = platform.rules
      if (!rules)
        throw new StepError(
          `${platform.kernel} has no policy-routing rules: its packet filter moves a lookup to another table (pf's rtable)`,
        )
      const refusal = rules.refuse(spec)
      if (refusal) throw new StepError(refusal)
      const nosave = field(probe.stdout, 'nosave')
      // Unless an earlier step configures the interface that keeps it (or may: a command), as for routes.
      if (persist && nosave !== undefined && !pending.has(ANYTHING) && !pending.has(`if:${opts.iface}`))
        throw new StepError(`${label} cannot be configured for boot: ${nosave}; or set persist: false`)
      const cur = parse(probe)
      const changes: Change[] = []
      if (cur.live !== present) changes.push({ summary: `${label}: ${present ? 'add' : 'remove'}` })
      if (persist) {
        const saved = rules.render(spec, present, cur.saved, cur.netConfig)
        if (saved.join('\n') !== cur.saved.join('\n')) {
          const file = rules.savedIn(spec, cur.netConfig)
          changes.push({ summary: `${label} at boot: ${file}`, diff: bootDiff(file, cur.saved, saved) })
        }
      }
      return changes
    },

    record: parse,

    async apply({ $, platform }, _changes, { live, saved, netConfig }) {
      const rules = platform.rules!
      await run($, [
        ...(live === present ? [] : rules.change(spec, present)),
        ...(persist ? rules.save(spec, rules.render(spec, present, saved, netConfig), saved, netConfig) : []),
      ])
    },

    async undo({ $, platform }, record) {
      const rules = platform.rules!
      const now = parse(await probeNow($, rules.probe(spec)))
      await run($, [
        ...(now.live === record.live ? [] : rules.change(spec, record.live)),
        ...(persist ? rules.save(spec, record.saved, now.saved, record.netConfig) : []),
      ])
    },

    // From the state apply leaves back to the record's.
    revert: ({ live, saved, netConfig }, platform) => {
      const rules = platform.rules!
      return [
        ...(live === present ? [] : rules.change(spec, live)),
        ...(persist ? rules.save(spec, saved, rules.render(spec, present, saved, netConfig), netConfig) : []),
      ]
    },
  }
}
