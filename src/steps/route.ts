// A static IPv4 route, live and (by default) at boot, where each OS keeps it: FreeBSD's rc.conf
// (`static_routes` and `route_NAME`), a `!route` line in OpenBSD's /etc/hostname.IF, a pair of
// `up`/`down` lines in the interface's ifupdown stanza or a drop-in beside its systemd-networkd
// .network on Linux. In the main routing table or another: Linux `table N`, OpenBSD's rtable,
// FreeBSD's fib. Routes carry the path to the host, so a change is risky (commit-confirmed).

import { bootIface, field, fields, routeDest } from '../platform/common.ts'
import { bootDiff } from './iface.ts'
import { probeNow, run } from './script.ts'
import type { Route, RouteState, RouteType } from '../platform/platform.ts'
import {
  ANYTHING,
  StepError,
  notifyList,
  type Change,
  type CommonOptions,
  type ProbeResult,
  type Step,
} from './step.ts'

export interface RouteOptions extends CommonOptions {
  /** `10.1.0.0/16` (the network address), `192.0.2.7` or `/32` for a host, or `default`. */
  to: string
  /** The gateway. */
  via?: string
  /** The interface: alone, an interface route (not on OpenBSD); with `via`, the route is pinned to it (route(8) -ifp on the BSDs). */
  dev?: string
  /** Drop what the route matches silently (`blackhole`), or refuse it with ICMP unreachable (`reject`). */
  type?: RouteType
  /** A routing table other than the main one: Linux `table N`, OpenBSD rtable (`-T N`), FreeBSD fib (`-fib N`). */
  table?: number
  /** `absent` removes the route. Default `present`. */
  state?: 'present' | 'absent'
  /** Also configure it for boot. Default true. */
  persist?: boolean
  /**
   * The interface whose boot configuration keeps it, where the OS keeps routes that way: Linux (its
   * ifupdown stanza, or its systemd-networkd .network) and OpenBSD (/etc/hostname.IF). Default `dev`.
   */
  iface?: string
}

export interface RouteRecord {
  /** The route of that destination in that table before apply; undefined: none. */
  live?: RouteState
  /** The route's boot configuration lines, as the probe printed them. */
  saved: string[]
  /** What keeps them, where the host decides (`networkd`). */
  netConfig?: string
}

const OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1?\d?\d)`
const IP = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`)
const NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/

const toNumber = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0)

/** `default` (or 0.0.0.0/0), else `A/P` with no host bits set; a bare address is a /32. */
function destination(name: string, to: string): string {
  const t = to.trim()
  if (t === 'default' || t === '0.0.0.0/0') return 'default'
  const [address = '', prefix = '32', extra] = t.split('/')
  const p = Number(prefix)
  if (extra !== undefined || !IP.test(address) || !/^\d+$/.test(prefix) || p > 32 || p === 0)
    throw new StepError(
      `${name}: to must be default, an IPv4 address or an IPv4 network (10.1.0.0/16): ${JSON.stringify(to)}`,
    )
  if (toNumber(address) % 2 ** (32 - p) !== 0)
    throw new StepError(`${name}: ${t} has host bits set: the network is written with its first address`)
  return `${address}/${p}`
}

function parse(probe: ProbeResult): RouteRecord {
  const line = field(probe.stdout, 'route')
  let live: RouteState | undefined
  if (line !== undefined) {
    const words = line.split(' ')
    const at = (w: string) => (words.includes(w) ? words[words.indexOf(w) + 1] : undefined)
    if (line === 'blackhole' || line === 'reject') live = { type: line }
    else if (words[0] === 'other') live = { type: 'other', text: line.slice('other '.length) }
    else live = { ...(at('via') ? { via: at('via') } : {}), ...(at('dev') ? { dev: at('dev') } : {}) }
  }
  return { live, saved: fields(probe.stdout, 'saved'), netConfig: field(probe.stdout, 'netconfig') }
}

/** Whether the route found is the one wanted: the gateway, or the interface, or the type. */
function matches(want: RouteState | undefined, live: RouteState | undefined): boolean {
  if (!want || !live) return !want && !live
  if (want.type || live.type) return want.type === live.type
  if (want.via) return live.via === want.via && (!want.dev || live.dev === want.dev)
  return !live.via && live.dev === want.dev
}

/** Exactly the same route: what undo puts back. */
const same = (a: RouteState | undefined, b: RouteState | undefined) =>
  a?.via === b?.via && a?.dev === b?.dev && a?.type === b?.type && !!a === !!b

/** How a route reads in a plan: `via 192.0.2.1 dev em0`, `dev gre1`, `blackhole`, `(none)`. */
function text(s: RouteState | undefined): string {
  if (!s) return '(none)'
  if (s.type) return s.type === 'other' ? (s.text ?? 'another kind of route') : s.type
  return [s.via && `via ${s.via}`, s.dev && `dev ${s.dev}`].filter(Boolean).join(' ')
}

/**
 * `route('to site B', { to: '10.2.0.0/16', via: '172.16.2.2', dev: 'gre1' })`;
 * `route('tenant default', { to: 'default', via: '192.0.2.1', dev: 'em1', table: 100 })`;
 * `route('bogons', { to: '10.0.0.0/8', type: 'blackhole', iface: 'lo1' })`.
 */
export function route(name: string, opts: RouteOptions): Step<RouteRecord> {
  const to = destination(name, opts.to)
  const present = (opts.state ?? 'present') === 'present'
  const persist = opts.persist ?? true
  const { via, dev, type, iface } = opts
  if (via !== undefined && !IP.test(via))
    throw new StepError(`${name}: via must be an IPv4 address: ${JSON.stringify(via)}`)
  for (const [key, v] of [
    ['dev', dev],
    ['iface', iface],
  ] as const)
    if (v !== undefined && !NAME.test(v))
      throw new StepError(`${name}: not an interface name (${key}): ${JSON.stringify(v)}`)
  if (type !== undefined && type !== 'blackhole' && type !== 'reject')
    throw new StepError(`${name}: type is blackhole or reject: ${JSON.stringify(type)}`)
  if (type && (via || dev))
    throw new StepError(`${name}: a ${type} route has no gateway or interface (keep it with iface)`)
  if (present && !type && !via && !dev) throw new StepError(`${name}: a route needs via, dev or type`)
  const t = opts.table
  if (t !== undefined && !(Number.isInteger(t) && t >= 0 && t <= 0xffffffff))
    throw new StepError(`${name}: table is a whole number from 0 (the main table) to 4294967295: ${JSON.stringify(t)}`)
  const table = t || undefined

  const spec: Route = { to, via, dev, type, table, persist, iface }
  const want: RouteState | undefined = present ? { via, dev, type } : undefined
  const label = `${to === 'default' ? 'default' : routeDest(to).prefix === 32 ? to.slice(0, -3) : to}${table ? ` (table ${table})` : ''}`
  const bootIfaceName = persist ? bootIface(spec) : undefined
  const resources = [`route:${table ?? 'main'}:${to}`, ...(bootIfaceName ? [`if:${bootIfaceName}`] : [])]

  return {
    kind: 'route',
    name,
    notify: notifyList(opts.notify),
    // Routes are the path to the host.
    risky: opts.risky ?? true,
    previewCommands: true,
    touches: resources,
    reads: resources,

    probe: (platform) => platform.routes.probe(spec),

    check(probe, { platform, pending }) {
      const refusal = platform.routes.refuse(spec)
      if (refusal) throw new StepError(refusal)
      // A table the kernel lacks: unless an earlier step may make it, where the platform says one can.
      const cannot = field(probe.stdout, 'cannot')
      const tablesBy = platform.routes.tablesBy
      if (cannot !== undefined && !pending.has(ANYTHING) && !(tablesBy && pending.has(tablesBy)))
        throw new StepError(`${label}: ${cannot}`)
      // Unless an earlier step configures the interface that keeps it (an iface step).
      const nosave = field(probe.stdout, 'nosave')
      if (
        persist &&
        nosave !== undefined &&
        !pending.has(ANYTHING) &&
        !(bootIfaceName && pending.has(`if:${bootIfaceName}`))
      )
        throw new StepError(`${label} cannot be configured for boot: ${nosave}; or set persist: false`)
      const cur = parse(probe)
      const changes: Change[] = []
      if (!matches(want, cur.live)) {
        if (cur.live?.type === 'other')
          throw new StepError(
            `${label} is routed in a way ferry neither makes nor puts back (${cur.live.text}): remove that route first`,
          )
        changes.push({ summary: `${label}: ${text(cur.live)} → ${text(want)}` })
      }
      if (persist) {
        const saved = platform.routes.render(spec, want, cur.saved, cur.netConfig)
        if (saved.join('\n') !== cur.saved.join('\n')) {
          const file = platform.routes.savedIn(spec, cur.netConfig)
          changes.push({ summary: `${label} at boot: ${file}`, diff: bootDiff(file, cur.saved, saved) })
        }
      }
      return changes
    },

    record: parse,

    async apply({ $, platform }, _changes, { live, saved, netConfig }) {
      await run($, [
        ...(matches(want, live) ? [] : platform.routes.change(spec, live, want)),
        ...(persist
          ? platform.routes.save(spec, platform.routes.render(spec, want, saved, netConfig), saved, netConfig)
          : []),
      ])
    },

    async undo({ $, platform }, record) {
      const now = parse(await probeNow($, platform.routes.probe(spec)))
      await run($, [
        ...(same(now.live, record.live) ? [] : platform.routes.change(spec, now.live, record.live)),
        ...(persist ? platform.routes.save(spec, record.saved, now.saved, record.netConfig) : []),
      ])
    },

    // From the state apply leaves back to the record's.
    revert: ({ live, saved, netConfig }, platform) => [
      ...(matches(want, live) ? [] : platform.routes.change(spec, want, live)),
      ...(persist
        ? platform.routes.save(spec, saved, platform.routes.render(spec, want, saved, netConfig), netConfig)
        : []),
    ],
  }
}
