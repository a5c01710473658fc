// A service: enabled at boot or not, running or not, and its settings (FreeBSD rc.conf
// variables, OpenBSD rcctl variables). `reloaded` and `restarted` are actions, for handlers:
// each time the step runs on a running service it has exactly one thing to do.
//
// Apply goes enable → settings → start, the order of the seeds (and OpenBSD's rcctl sets
// nothing on a disabled daemon). Undo goes the other way round: stop → settings → disable.
//
// A service may be a second instance of another's script (`instanceOf`): seed 001's bgpd_rd1,
// a link to /etc/rc.d/bgpd with its own rtable and flags. Apply makes the link first; undo takes
// it away last, and only if this step made it, once the instance is stopped and unregistered.
//
// A service may be held by a cluster manager (`heldBy`): seed 002's Heartbeat starts ipsec, gre,
// zebra and bgpd on whichever gateway of a pair is active, and stops them on the other. Ferry
// installs and configures such a service and keeps it from starting at boot, but its running
// state is the manager's: ferry never starts or stops it, a plan never compares it, so neither a
// second run nor drift reports the standby's stopped daemon. A reload or restart (a handler)
// still acts, only where it runs, as for any service.

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

/** Where Linux (sysvinit), OpenBSD and FreeBSD keep a service's script. */
const SCRIPT_DIRS = ['/etc/init.d', '/etc/rc.d', '/usr/local/etc/rc.d']

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
  /**
   * This service is a second instance of another's script, under its own name and settings:
   * `{ name: 'bgpd_rd1', instanceOf: 'bgpd', vars: { rtable: '1' } }`. OpenBSD and FreeBSD: a link
   * to the script in its rc.d directory, made if missing. Linux: `BASE@INSTANCE`, a systemd
   * template instance, or without systemd a link in /etc/init.d to a script that supports it.
   */
  instanceOf?: string
  /**
   * Who runs the service (`'heartbeat'`; CARP's ifstated likewise): ferry never starts or stops
   * it, and it is kept from starting at boot (`enabled` defaults to false, and true is refused).
   * `state` may only be `reloaded` or `restarted`, which act where it runs.
   */
  heldBy?: string
}

/** The service as the probe saw it; a var is undefined when unset. */
export interface ServiceRecord {
  exists: boolean
  enabled: boolean
  running: boolean
  vars: Record<string, string | undefined>
  /** Whether the init system has the service registered at all (sysvinit rc.d links). */
  links?: boolean
  /** An instance: its link as the probe saw it (`none`: this step makes it), and where it goes. */
  instance?: Instance
}

interface Instance {
  state: 'link' | 'other' | 'none' | 'template'
  dir?: string
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
  const state = field(probe.stdout, 'instance') as Instance['state'] | undefined
  const dir = field(probe.stdout, 'dir')
  return {
    exists: on('exists'),
    enabled: on('enabled'),
    running: on('running'),
    vars,
    ...(links === undefined ? {} : { links: links === '1' }),
    ...(state === undefined ? {} : { instance: { state, ...(dir === undefined ? {} : { dir }) } }),
  }
}

const shown = (v: string | undefined) => (v === undefined ? '(unset)' : v === '' ? '""' : v)

/**
 * `service('quagga', { name: 'quagga', enabled: true, state: 'running', flags: '-A 127.0.0.1',
 * vars: { daemons: 'zebra ospfd' } })`; as a handler, `{ name: 'frr', state: 'reloaded' }`.
 */
export function service(name: string, opts: ServiceOptions): Step<ServiceRecord> {
  const svc = opts.name
  const base = opts.instanceOf
  // flags first: seed 000 sets quagga_flags, then quagga_daemons.
  const wanted: Record<string, string> = { ...(opts.flags === undefined ? {} : { flags: opts.flags }), ...opts.vars }
  const keys = Object.keys(wanted)
  if (!NAME.test(svc)) throw new StepError(`${name}: not a service name: ${JSON.stringify(svc)}`)
  if (base !== undefined && (!NAME.test(base) || base === svc))
    throw new StepError(`${name}: not a service ${svc} can be an instance of: ${JSON.stringify(base)}`)
  const badKey = keys.find((k) => !VAR.test(k) || k === 'enable')
  if (badKey !== undefined)
    throw new StepError(
      `${name}: not a service variable: ${JSON.stringify(badKey)}${badKey === 'enable' ? ' (use enabled)' : ''}`,
    )
  const action = opts.state === 'reloaded' ? 'reload' : opts.state === 'restarted' ? 'restart' : undefined
  const held = opts.heldBy
  if (held !== undefined) {
    if (!NAME.test(held)) throw new StepError(`${name}: not a cluster manager's name: ${JSON.stringify(held)}`)
    if (opts.state === 'running' || opts.state === 'stopped')
      throw new StepError(
        `${name}: ${svc} is held by ${held}, which starts and stops it: state ${opts.state} is not ferry's`,
      )
    if (opts.enabled)
      throw new StepError(`${name}: ${svc} is held by ${held}: started at boot, it would run beside ${held}'s choice`)
  }
  const target: Target = {
    // A handler (reload, restart) leaves boot alone, held or not.
    enabled: held !== undefined && !action ? false : opts.enabled,
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

  /** The instance's link, if this step made it (the probe saw none): apply's first command, undo's last. */
  const made = (record: ServiceRecord) => base !== undefined && record.instance?.state === 'none'
  const link = (platform: Platform, record: ServiceRecord, how: 'link' | 'unlink') =>
    made(record) ? [platform.services.instances[how](base!, svc, record.instance!.dir!)] : []

  /**
   * Undoing an enable: unregistered rather than disabled where the service was not registered
   * before (sysvinit's rc.d links), or is an instance this step made, so no line or link stays.
   */
  const disable = (platform: Platform, record: ServiceRecord, now: ServiceRecord, p: { enabled: string[] }) => {
    const unregister = platform.services.unregister
    const forget =
      target.enabled !== undefined &&
      unregister &&
      ((record.links === false && now.links === true) || (made(record) && now.enabled))
    return forget ? [unregister(svc)] : p.enabled
  }

  const snippet = (platform: Platform) =>
    [platform.services.probe(svc, keys), ...(base ? [platform.services.instances.probe(base, svc)] : [])].join('\n')

  return {
    kind: 'service',
    name,
    notify: notifyList(opts.notify),
    // bgpd_rd1 routes as bgpd does.
    risky: opts.risky ?? (riskyService(svc) || (base !== undefined && riskyService(base))),
    previewCommands: true,
    touches: [`service:${svc}`],
    // A service is there once its script or unit is: one written earlier in the run (a daemon
    // with no script of its package's) makes this probe again. Each OS's place for one.
    reads: [
      `service:${svc}`,
      ...(base ? [`service:${base}`] : []),
      ...SCRIPT_DIRS.map((d) => `file:${d}/${svc}`),
      `file:/etc/systemd/system/${svc}.service`,
    ],
    repeatOnRollback: action !== undefined,

    probe: snippet,

    check(probe, { platform, pending }) {
      if (keys.length && !platform.services.vars)
        throw new StepError(
          `${platform.os} services have no variables (${keys.join(', ')}); write /etc/default/${svc} with file or line`,
        )
      const cur = parse(probe, keys)
      const instance = base ? checkInstance(platform, base, svc, probe, cur) : undefined
      const setting = keys.filter((k) => cur.vars[k] !== wanted[k])
      const changes = [
        ...(instance?.state === 'none' ? [`link ${instance.dir}/${svc} to ${base}`] : []),
        ...(target.enabled !== undefined && target.enabled !== cur.enabled
          ? [`${target.enabled ? 'enable' : 'disable'} ${svc}`]
          : []),
        ...setting.map((k) => `${svc} ${k}: ${shown(cur.vars[k])} → ${shown(wanted[k])}`),
        ...(target.running !== undefined && target.running !== cur.running
          ? [`${target.running ? 'start' : 'stop'} ${svc}`]
          : []),
        // As systemd's try-restart: a stopped daemon reads its config when it starts, so only a
        // running one (or one an earlier step is about to start) is reloaded or restarted.
        ...(action && (cur.running || pending.has(`service:${svc}`)) ? [`${action} ${svc}`] : []),
      ].map((summary) => ({ summary }))
      // What the plan shows instead of a running state ferry does not compare.
      if (held !== undefined && changes.length) changes.push({ summary: `running: ${held}'s` })
      // A missing service is neither enabled nor running; it only matters if there is work to do.
      // An earlier step installing packages (or creating it) may: then the plan is what that allows.
      // An instance needs its base's script; the link to it is this step's own work.
      const script = base ?? svc
      const there = base ? field(probe.stdout, 'base') === '1' : cur.exists
      const installing =
        pending.has(ANYTHING) || pending.has(`service:${script}`) || [...pending].some((r) => r.startsWith('pkg:'))
      if (!there && changes.length && !installing)
        throw new StepError(`service ${script} does not exist (install its package first)`)
      // Settings apply would set on a service it leaves (or finds) disabled: OpenBSD's rcctl refuses.
      if (setting.length && platform.services.vars?.whileEnabled && !(target.enabled ?? cur.enabled))
        throw new StepError(
          `${svc} is disabled, and ${platform.os} keeps no settings for a disabled service (${setting.join(', ')}): add enabled: true`,
        )
      return changes
    },

    record: (probe) => parse(probe, keys),

    async apply({ $, platform }, _changes, record) {
      const enabled = target.enabled ?? record.enabled
      const p = plan(platform, record, target, enabled)
      await run($, [
        ...link(platform, record, 'link'),
        ...p.enabled,
        ...p.vars,
        ...p.running,
        ...(action ? [platform.services.run(svc, action, enabled)] : []),
      ])
    },

    async undo({ $, platform }, record) {
      // A reload or restart cannot be taken back; nothing else was changed.
      if (target.enabled === undefined && target.running === undefined && !keys.length && !made(record)) return
      const now = parse(await probeNow($, snippet(platform)), keys)
      const back: Target = {
        enabled: target.enabled === undefined ? undefined : record.enabled,
        running: target.running === undefined ? undefined : record.running,
        vars: Object.fromEntries(keys.map((k) => [k, record.vars[k]])),
      }
      const p = plan(platform, now, back, now.enabled)
      await run($, [...p.running, ...p.vars, ...disable(platform, record, now, p), ...link(platform, record, 'unlink')])
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
        ...(record.links === false ? { links: true } : {}),
      }
      const back: Target = {
        enabled: target.enabled === undefined ? undefined : record.enabled,
        running: target.running === undefined ? undefined : record.running,
        vars: Object.fromEntries(keys.map((k) => [k, record.vars[k]])),
      }
      const p = plan(platform, after, back, after.enabled)
      return [
        ...p.running,
        ...p.vars,
        ...disable(platform, record, after, p),
        ...link(platform, record, 'unlink'),
        ...repeat,
      ]
    },
  }
}

/** Refuses an instance the probe shows cannot be made or is something else; its link, as seen. */
function checkInstance(
  platform: Platform,
  base: string,
  svc: string,
  probe: ProbeResult,
  cur: ServiceRecord,
): Instance | undefined {
  const why = platform.services.instances.refuse(base, svc) ?? field(probe.stdout, 'refuse')
  if (why !== undefined) throw new StepError(`${svc} cannot be an instance of ${base}: ${why}`)
  if (cur.instance?.state === 'other')
    throw new StepError(
      `${cur.instance.dir}/${svc} is there and is not a link to ${base}: ferry leaves it alone (without instanceOf, ${svc} is a service of its own)`,
    )
  return cur.instance
}
