// A network interface: a loopback alias, a gre tunnel, a tap/tun device, an 802.1Q vlan or a
// routing domain's own (Linux's VRF device), in a routing domain or the default one, configured
// live and (by default) at boot: FreeBSD rc.conf, OpenBSD /etc/hostname.if, Debian's ifupdown or
// systemd-networkd (whichever the host keeps it in: the probe says). The probe reads both, so
// drift in either shows. The state is addresses and endpoints, never secrets, so the record
// keeps it whole and undo puts back exactly what was there.

import { field, fields, ifaceDelta, splitFiles } from '../platform/common.ts'
import { probeNow, run } from './script.ts'
import { unifiedDiff } from '../report/diff.ts'
import type { Iface, IfaceKind, IfaceState, Tunnel, Vlan } from '../platform/platform.ts'
import {
  ANYTHING,
  StepError,
  notifyList,
  type Change,
  type CommonOptions,
  type ProbeResult,
  type Step,
} from './step.ts'

export interface IfaceOptions extends CommonOptions {
  /** `lo1`, `gre0`, `tap0`; on Linux a loopback alias `lo1` is addresses on `lo` labelled `lo:1`. */
  name: string
  kind: IfaceKind
  /** IPv4 CIDR (`10.0.0.1/32`), or point-to-point `172.16.2.1 peer 172.16.2.2`. */
  addresses?: string[]
  /** Outer endpoints; gre only, and required there. */
  tunnel?: Tunnel
  /** The 802.1Q tag (1–4094) and the interface that carries it; vlan only, and required there. */
  vlan?: Vlan
  /**
   * The routing domain (OpenBSD rdomain, Linux VRF of table N: the platform's `domainIface(N)`,
   * which a step of its own makes first on Linux); 0, the default, when not given. A vrf
   * interface is its own domain's, and says which.
   */
  domain?: number
  /** A description (OpenBSD's `description`, Linux's link alias); left as it is when not given. */
  description?: string
  /** Also configure it for boot. Default true. */
  persist?: boolean
}

export interface IfaceRecord {
  live: IfaceState
  /** The boot-time configuration lines, as the probe printed them. */
  saved: string[]
  /** What keeps them, where the host decides (`networkd`); undefined: the platform's usual place. */
  netConfig?: string
}

const IP = String.raw`(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)`
const ADDRESS = new RegExp(`^${IP}(?:/(?:3[0-2]|[12]?\\d)| peer ${IP})$`)
const ENDPOINT = new RegExp(`^${IP}$`)
const NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/
/** Printable, and nothing a shell or hostname.if would read as more than text. */
const DESCRIPTION = /^[A-Za-z0-9][A-Za-z0-9 ._:,-]{0,63}$/

function parse(probe: ProbeResult): IfaceRecord {
  const [local, remote] = (field(probe.stdout, 'tunnel') ?? '').split(' ')
  const [id, parent] = (field(probe.stdout, 'vlan') ?? '').split(' ')
  const domain = Number(field(probe.stdout, 'domain') ?? 0)
  const description = field(probe.stdout, 'description')
  return {
    live: {
      exists: field(probe.stdout, 'exists') === '1',
      up: field(probe.stdout, 'up') === '1',
      addresses: fields(probe.stdout, 'addr'),
      tunnel: local && remote ? { local, remote } : undefined,
      ...(id && parent ? { vlan: { id: Number(id), parent } } : {}),
      ...(domain ? { domain } : {}),
      ...(description ? { description } : {}),
    },
    saved: fields(probe.stdout, 'saved'),
    netConfig: field(probe.stdout, 'netconfig'),
  }
}

/** A unified diff per file of a boot configuration (several files: each after its `==> PATH <==`). */
export function bootDiff(file: string, before: readonly string[], after: readonly string[]): string {
  const old = splitFiles(before, file)
  const now = splitFiles(after, file)
  const text = (f: { lines: string[] } | undefined) => (f ? f.lines.map((l) => `${l}\n`).join('') : '')
  const paths = [...new Set([...now, ...old].map((f) => f.path))]
  return paths
    .map((p) => [text(old.find((f) => f.path === p)), text(now.find((f) => f.path === p))] as const)
    .map(([a, b], i) => (a === b ? '' : unifiedDiff(paths[i]!, paths[i]!, a, b)))
    .filter(Boolean)
    .join('')
}

const endpoints = (t: Tunnel | undefined) => (t ? `${t.local} ${t.remote}` : '(none)')
const tag = (v: Vlan | undefined) => (v ? `${v.id} on ${v.parent}` : '(none)')

/**
 * `iface('gre to r2', { name: 'gre0', kind: 'gre', tunnel: { local: A, remote: B },
 * addresses: ['172.16.2.1 peer 172.16.2.2'] })`. Exported as `iface` because `interface` is
 * reserved.
 */
export function iface(name: string, opts: IfaceOptions): Step<IfaceRecord> {
  const it: Iface = { name: opts.name, kind: opts.kind, ...(opts.vlan ? { parent: opts.vlan.parent } : {}) }
  const persist = opts.persist ?? true
  const addresses = (opts.addresses ?? []).map((a) => a.trim().split(/\s+/).join(' '))
  const { vlan, domain, description } = opts
  const want: IfaceState = {
    exists: true,
    up: true,
    addresses,
    tunnel: opts.tunnel,
    ...(vlan ? { vlan } : {}),
    ...(domain ? { domain } : {}),
    ...(description !== undefined ? { description } : {}),
  }
  if (!NAME.test(it.name)) throw new StepError(`${name}: not an interface name: ${JSON.stringify(it.name)}`)
  const bad = addresses.find((a) => !ADDRESS.test(a))
  if (bad !== undefined)
    throw new StepError(`${name}: ${JSON.stringify(bad)} is neither IPv4 CIDR (10.0.0.1/32) nor "A peer B"`)
  if ((it.kind === 'gre') !== !!opts.tunnel)
    throw new StepError(
      `${name}: ${it.kind === 'gre' ? 'a gre interface needs' : 'only a gre interface takes'} a tunnel`,
    )
  if (opts.tunnel && ![opts.tunnel.local, opts.tunnel.remote].every((e) => ENDPOINT.test(e)))
    throw new StepError(`${name}: tunnel endpoints must be IPv4 addresses`)
  if ((it.kind === 'vlan') !== !!vlan)
    throw new StepError(
      `${name}: ${it.kind === 'vlan' ? 'a vlan interface needs' : 'only a vlan interface takes'} vlan`,
    )
  if (vlan && !(Number.isInteger(vlan.id) && vlan.id >= 1 && vlan.id <= 4094))
    throw new StepError(`${name}: a vlan id is a whole number from 1 to 4094: ${JSON.stringify(vlan.id)}`)
  if (vlan && !NAME.test(vlan.parent))
    throw new StepError(`${name}: not an interface name (vlan parent): ${JSON.stringify(vlan.parent)}`)
  if (domain !== undefined && !(Number.isInteger(domain) && domain >= 0 && domain <= 255))
    throw new StepError(`${name}: a routing domain is a whole number from 0 to 255: ${JSON.stringify(domain)}`)
  if (it.kind === 'vrf' && !domain) throw new StepError(`${name}: a vrf interface says its domain (1 to 255)`)
  if (description !== undefined && !DESCRIPTION.test(description))
    throw new StepError(
      `${name}: a description is 1 to 64 letters, digits, spaces and . _ : , - (starting with a letter or digit): ${JSON.stringify(description)}`,
    )

  // The state to go back to. A description is compared only when wanted (ifaceDelta), so one
  // this step set where there was none is put back as the empty one, which clears it.
  const before = (live: IfaceState): IfaceState =>
    description !== undefined && live.exists ? { ...live, description: live.description ?? '' } : live

  return {
    kind: 'iface',
    name,
    notify: notifyList(opts.notify),
    // The interfaces are the path to the host.
    risky: opts.risky ?? true,
    previewCommands: true,
    touches: [`if:${it.name}`],
    reads: [`if:${it.name}`],

    probe: (platform) => platform.interfaces.probe(it),

    check(probe, { platform, pending }) {
      const refusal = platform.interfaces.refuse(it, want)
      if (refusal) throw new StepError(refusal)
      if (domain && !platform.interfaces.domainIface)
        throw new StepError(`${it.name}: ${platform.os} has no routing domains (domain ${domain})`)
      // Unless an earlier step installs what reads the file at boot (ifupdown, say).
      const nosave = field(probe.stdout, 'nosave')
      if (persist && nosave !== undefined && !pending.has(ANYTHING))
        throw new StepError(`${it.name} cannot be configured for boot: ${nosave}; or set persist: false`)
      const cur = parse(probe)
      const d = ifaceDelta(cur.live, want)
      const nocreate = field(probe.stdout, 'nocreate')
      if (d.create && nocreate !== undefined && !pending.has(ANYTHING))
        throw new StepError(`${it.name} cannot be created here: ${nocreate}`)
      const changes: Change[] = [
        ...(d.create ? [`create ${it.name}`] : []),
        ...(d.tunnel
          ? [`${it.name} tunnel: ${endpoints(d.create ? undefined : cur.live.tunnel)} → ${endpoints(d.tunnel)}`]
          : []),
        ...(d.vlan ? [`${it.name} vlan: ${tag(d.create ? undefined : cur.live.vlan)} → ${tag(d.vlan)}`] : []),
        ...(d.description !== undefined ? [`${it.name} description: ${JSON.stringify(d.description)}`] : []),
        ...d.remove.map((a) => `${it.name}: remove ${a}`),
        ...(d.domain !== undefined ? [`${it.name} routing domain: ${cur.live.domain ?? 0} → ${d.domain}`] : []),
        ...d.add.map((a) => `${it.name}: add ${a}`),
        ...(d.up ? [`${it.name}: up`] : []),
      ].map((summary) => ({ summary }))
      const saved = platform.interfaces.render(it, want, cur.saved, cur.netConfig)
      if (persist && saved.join('\n') !== cur.saved.join('\n')) {
        const file = platform.interfaces.savedIn(it, cur.netConfig)
        changes.push({ summary: `${it.name} at boot: ${file}`, diff: bootDiff(file, cur.saved, saved) })
      }
      return changes
    },

    record: parse,

    async apply({ $, platform }, _changes, record) {
      const { saved, netConfig } = record
      await run($, [
        ...platform.interfaces.change(it, record.live, want),
        ...(persist
          ? platform.interfaces.save(it, platform.interfaces.render(it, want, saved, netConfig), saved, netConfig)
          : []),
      ])
    },

    async undo({ $, platform }, record) {
      const now = parse(await probeNow($, platform.interfaces.probe(it)))
      await run($, [
        ...platform.interfaces.change(it, now.live, before(record.live)),
        ...(persist ? platform.interfaces.save(it, record.saved, now.saved, record.netConfig) : []),
      ])
    },

    // From the state apply leaves back to the record's; a command for a change apply never made
    // fails in the job, which goes on with the next.
    revert: ({ live, saved, netConfig }, platform) => [
      ...platform.interfaces.change(it, want, before(live)),
      ...(persist
        ? platform.interfaces.save(it, saved, platform.interfaces.render(it, want, saved, netConfig), netConfig)
        : []),
    ],
  }
}
