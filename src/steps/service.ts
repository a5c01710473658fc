// A service: enabled at boot or not, running or not, and its settings (FreeBSD rc.conf
// variables, OpenBSD rcctl variables). `reloaded` and `restarted` are actions, for handlers:
// each time the step runs on a running service it has exactly one thing to do.
//
// Apply goes enable → settings → start, the order of the seeds (and OpenBSD's rcctl sets
// nothing on a disabled daemon). Undo goes the other way round: stop → settings → disable.

import { field } from '../platform/common.ts'
import { probeNow, run } from './script.ts'
import type { Platform } from '../platform/platform.ts'
import {
  ANYTHING,
  StepError,
  notifyList,
  riskyService,
  type CommonOptions,
  type ProbeResult,
  type Step,
} from './step.ts'

export interface ServiceOptions extends CommonOptions {
  /** The rc.d script, init script or systemd unit. */
  name: string
  enabled?: boolean
  state?: 'running' | 'stopped' | 'reloaded' | 'restarted'
  /** Shorthand for `vars.flags`: FreeBSD `NAME_flags`, OpenBSD `rcctl set NAME flags …`. */
  flags?: string
  /**
   * Per-service settings, by the name after the service's: on FreeBSD `{ daemons: 'zebra ospfd' }`
   * is `quagga_daemons` in /etc/rc.conf.local, on OpenBSD `{ user: '_x' }` is `rcctl set NAME
   * user _x`. Linux services have none: use `file` or `line` on /etc/default/NAME.
   */
  vars?: Record<string, string>
}

/** The service as the probe saw it; a var is undefined when unset. */
export interface ServiceRecord {
  exists: boolean
  enabled: boolean
  running: boolean
  vars: Record<string, string | undefined>
  /** Whether the init system has the service registered at all (sysvinit rc.d links). */
  links?: boolean
}

/** What a run wants; undefined fields are left alone. */
interface Target {
  enabled?: boolean
  running?: boolean
  vars: Record<string, string | undefined>
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@:-]*$/
const VAR = /^[a-z][a-z0-9_]*$/

function parse(probe: ProbeResult, keys: string[]): ServiceRecord {
  const vars: Record<string, string | undefined> = {}
  for (const l of probe.stdout.split('\n')) {
    const m = /^var ([a-z0-9_]+)(?:=(.*))?$/.exec(l)
    if (m && keys.includes(m[1]!)) vars[m[1]!] = m[2]
  }
  const on = (k: string) => field(probe.stdout, k) === '1'
  const links = field(probe.stdout, 'links')
  return {
    exists: on('exists'),
    enabled: on('enabled'),
    running: on('running'),
    vars,
    ...(links === undefined ? {} : { links: links === '1' }),
  }
}

const shown = (v: string | undefined) => (v === undefined ? '(unset)' : v === '' ? '""' : v)

/**
 * `service('quagga', { name: 'quagga', enabled: true, state: 'running', flags: '-A 127.0.0.1',
 * vars: { daemons: 'zebra ospfd' } })`; as a handler, `{ name: 'frr', state: 'reloaded' }`.
 */
export function service(name: string, opts: ServiceOptions): Step<ServiceRecord> {
  const svc = opts.name
  // flags first: seed 000 sets quagga_flags, then quagga_daemons.
  const wanted: Record<string, string> = { ...(opts.flags === undefined ? {} : { flags: opts.flags }), ...opts.vars }
  const keys = Object.keys(wanted)
  if (!NAME.test(svc)) throw new StepError(`${name}: not a service name: ${JSON.stringify(svc)}`)
  const badKey = keys.find((k) => !VAR.test(k) || k === 'enable')
  if (badKey !== undefined)
    throw new StepError(
      `${name}: not a service variable: ${JSON.stringify(badKey)}${badKey === 'enable' ? ' (use enabled)' : ''}`,
    )
  const action = opts.state === 'reloaded' ? 'reload' : opts.state === 'restarted' ? 'restart' : undefined
  const target: Target = {
    enabled: opts.enabled,
    running: action || !opts.state ? undefined : opts.state === 'running',
    vars: wanted,
  }

  /** The commands from one state to another, grouped so apply and undo can order them. */
  const plan = (platform: Platform, from: ServiceRecord, to: Target, enabledWhenRunning: boolean) => ({
    enabled:
      to.enabled === undefined || to.enabled === from.enabled
        ? []
        : [to.enabled ? platform.services.enable(svc) : platform.services.disable(svc)],
    vars: Object.entries(to.vars)
      .filter(([k, v]) => from.vars[k] !== v)
      .map(([k, v]) => platform.services.vars!.set(svc, k, v)),
    running:
      to.running === undefined || to.running === from.running
        ? []
        : [platform.services.run(svc, to.running ? 'start' : 'stop', enabledWhenRunning)],
  })

  return {
    kind: 'service',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky ?? riskyService(svc),
    previewCommands: true,
    touches: [`service:${svc}`],
    reads: [`service:${svc}`],
    repeatOnRollback: action !== undefined,

    probe: (platform) => platform.services.probe(svc, keys),

    check(probe, { platform, pending }) {
      if (keys.length && !platform.services.vars)
        throw new StepError(
          `${platform.os} services have no variables (${keys.join(', ')}); write /etc/default/${svc} with file or line`,
        )
      const cur = parse(probe, keys)
      const changes = [
        ...(target.enabled !== undefined && target.enabled !== cur.enabled
          ? [`${target.enabled ? 'enable' : 'disable'} ${svc}`]
          : []),
        ...keys
          .filter((k) => cur.vars[k] !== wanted[k])
          .map((k) => `${svc} ${k}: ${shown(cur.vars[k])} → ${shown(wanted[k])}`),
        ...(target.running !== undefined && target.running !== cur.running
          ? [`${target.running ? 'start' : 'stop'} ${svc}`]
          : []),
        // As systemd's try-restart: a stopped daemon reads its config when it starts, so only a
        // running one (or one an earlier step is about to start) is reloaded or restarted.
        ...(action && (cur.running || pending.has(`service:${svc}`)) ? [`${action} ${svc}`] : []),
      ].map((summary) => ({ summary }))
      // A missing service is neither enabled nor running; it only matters if there is work to do.
      // An earlier step installing packages (or creating it) may: then the plan is what that allows.
      const installing =
        pending.has(ANYTHING) || pending.has(`service:${svc}`) || [...pending].some((r) => r.startsWith('pkg:'))
      if (!cur.exists && changes.length && !installing)
        throw new StepError(`service ${svc} does not exist (install its package first)`)
      return changes
    },

    record: (probe) => parse(probe, keys),

    async apply({ $, platform }, _changes, record) {
      const enabled = target.enabled ?? record.enabled
      const p = plan(platform, record, target, enabled)
      await run($, [
        ...p.enabled,
        ...p.vars,
        ...p.running,
        ...(action ? [platform.services.run(svc, action, enabled)] : []),
      ])
    },

    async undo({ $, platform }, record) {
      // A reload or restart cannot be taken back; nothing else was changed.
      if (target.enabled === undefined && target.running === undefined && !keys.length) return
      const now = parse(await probeNow($, platform.services.probe(svc, keys)), keys)
      const back: Target = {
        enabled: target.enabled === undefined ? undefined : record.enabled,
        running: target.running === undefined ? undefined : record.running,
        vars: Object.fromEntries(keys.map((k) => [k, record.vars[k]])),
      }
      const p = plan(platform, now, back, now.enabled)
      // A service ferry registered goes back to unregistered, not merely to disabled.
      const unregister =
        target.enabled !== undefined && record.links === false && now.links === true && platform.services.unregister
      await run($, [...p.running, ...p.vars, ...(unregister ? [unregister(svc)] : p.enabled)])
    },

    revert(record, platform) {
      // A reload or restart is repeated, so the daemon rereads what was put back; a handler is
      // asked without a record, and has nothing else to put back.
      const repeat = action ? [platform.services.run(svc, action, true)] : []
      if (!record) return repeat
      // From the state apply leaves, so every field the step sets gets its command.
      const after: ServiceRecord = {
        ...record,
        enabled: target.enabled ?? record.enabled,
        running: target.running ?? record.running,
        vars: { ...record.vars, ...wanted },
      }
      const back: Target = {
        enabled: target.enabled === undefined ? undefined : record.enabled,
        running: target.running === undefined ? undefined : record.running,
        vars: Object.fromEntries(keys.map((k) => [k, record.vars[k]])),
      }
      const p = plan(platform, after, back, after.enabled)
      const unregister = target.enabled !== undefined && record.links === false && platform.services.unregister
      return [...p.running, ...p.vars, ...(unregister ? [unregister(svc)] : p.enabled), ...repeat]
    },
  }
}
