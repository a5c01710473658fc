// migrate-jail: moves a running jail to another host with zfs send/receive; the lab measured
// 0.1–0.7 s of downtime. Seed 000 gives each jail its own dataset and a /32 that OSPF announces
// (here from the jail pool's `network` statement), so routing follows the jail on its own once
// it runs at the destination.
//
//   preflight  lock the jail; the destination has the pool, room, and no such dataset or /32
//   seed       snapshot, full `zfs send -R` while the jail keeps running
//   catch-up   incrementals while it still runs, so the cut-over's is small
//   cut-over   autostart off, stop, final snapshot, `send -i`, the same guid on both sides,
//              then its definition (ferry's, from the inventory) and autostart at the
//              destination, and start it there
//   verify     a third host reaches it on every port it served, and routes it the destination's way
//   clean-up   the source dataset renamed and kept (or destroyed: cleanup=true), the lock released
//
// Every phase journals its undo first; a failure anywhere leaves the jail running at the source,
// its address and autostart as they were, and nothing of this migration at the destination.
// Only snapshots named with this migration's tag, and a dataset holding one, are ever destroyed.
//
// The stream is relayed by the controller between two SSH channels, so the hosts need not trust
// each other; direct=true has the source pipe into its own `ssh` to the destination instead.
//
// The destination takes from the source the jail's data, which runs confined in the jail as it
// did there, and nothing that runs outside it: the definition written at the destination is
// ferry's own (the source's must read the same, or the move is refused before anything starts),
// the guid that proves the last increment arrived is digits or refused, the received datasets
// must mount under the jail's root, and every value discovery reads is checked as it is read.
import { randomBytes } from 'node:crypto'
import {
  defineRunbook,
  z,
  ParamError,
  StepError,
  action,
  net,
  zfs,
  relay,
  runLine,
  writeFile,
  removeFile,
  dirOf,
  quote,
  jailDriver,
  parseDiscovery,
  definitionDiffers,
  poolOf,
  hostAddress,
  type Host,
  type Inventory,
  type JailDriver,
  type JailHost,
  type JailSpec,
  type JailState,
  type PrepareContext,
  type ProbeResult,
  type StepContext,
  type StepsContext,
} from 'ferry'

const params = z.object({
  jail: z.string().min(1).describe("the jail to move, as named under a host's jails:"),
  to: z.string().min(1).describe('the host to move it to'),
  yes: z.boolean().default(false).describe('go ahead without asking; needed where there is no terminal'),
  cleanup: z.boolean().default(false).describe('destroy the source dataset afterwards (default: rename and keep it)'),
  direct: z
    .boolean()
    .default(false)
    .describe(
      "the source sends over its own ssh to the destination (hosts that trust each other); the cut-over then waits for the destination's login shell",
    ),
  catchups: z.number().int().min(0).max(5).default(1).describe('incremental sends while the jail still runs'),
  from: z.string().optional().describe('the host it runs on (found by discovery)'),
  check_from: z
    .string()
    .optional()
    .describe('the third host that checks it answers (default: a neighbour of the destination)'),
  tag: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _.:- only')
    .optional()
    .describe("names this migration's snapshots (default: generated)"),
})
type Params = z.output<typeof params>

/** Free space a destination needs beyond the data itself: ZFS metadata and the pool's reserve. */
const HEADROOM = 1.1

const MB = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`

/** Every jail the inventory declares, wherever it declares it, by name. */
function declaredJails(inv: Inventory): Map<string, JailSpec> {
  const jails = new Map<string, JailSpec & { on: string }>()
  for (const host of inv.hosts) {
    for (const [name, jail] of Object.entries(host.jails)) {
      const seen = jails.get(name)
      if (seen && (seen.address !== jail.address || seen.dataset !== jail.dataset)) {
        const at = inv.locate(['hosts', host.name, 'jails', name])
        throw new ParamError(
          `${at ? `${at.file}:${at.line}:${at.col}: ` : ''}jail ${name} is declared on ${seen.on} and on ${host.name} with different address or dataset`,
        )
      }
      jails.set(name, { name, ...jail, on: host.name })
    }
  }
  return jails
}

function hostNamed(inv: Inventory, name: string, what: string): Host {
  const host = inv.hosts.find((h) => h.name === name)
  if (!host) throw new ParamError(`--param ${what}=${name}: no such host in ${inv.file}`)
  return host
}

/** A neighbour of the destination other than the source, by the inventory's links; else any other host. */
function thirdHost(inv: Inventory, from: string, to: string): string | undefined {
  const usable = (n: string) => n !== from && n !== to && !!inv.hosts.find((h) => h.name === n)?.os
  const neighbours = inv.links.flatMap((l) => (l.a === to ? [l.b] : l.b === to ? [l.a] : []))
  return neighbours.find(usable) ?? inv.hosts.map((h) => h.name).find(usable)
}

/**
 * Why a host, as its discovery describes it, cannot take the jail of `size` bytes whose root is
 * `root` at the source: nothing when it can. The jail keeps its root: the definition names it,
 * and a received dataset must mount there, where the destination's own parent dataset puts it.
 */
function unfit(host: JailHost, jail: JailSpec, size: number, root: string): string[] {
  const here = host.jails.get(jail.name)
  if (!here) return ['its discovery left the jail out']
  const pool = poolOf(jail.dataset)
  const free = host.pools.get(pool)
  const parent = here.parentMountpoint?.startsWith('/') ? here.parentMountpoint.replace(/\/$/, '') : undefined
  const at = parent === undefined ? undefined : `${parent}/${jail.dataset.slice(jail.dataset.lastIndexOf('/') + 1)}`
  return [
    free === undefined && `no pool ${pool}`,
    here.dataset && `${jail.dataset} exists there already`,
    !here.parentExists && `the parent of ${jail.dataset} does not exist there`,
    here.parentExists &&
      at !== root &&
      `${jail.dataset} would be mounted at ${at ?? 'no path'} there, not at ${root} as now`,
    free !== undefined && free < size * HEADROOM && `${MB(free)} free in ${pool}, ${MB(size * HEADROOM)} needed`,
    host.addresses.has(hostAddress(jail)) && `${hostAddress(jail)} is configured there already`,
    here.definition !== undefined && `a definition of ${jail.name} exists there`,
  ].filter((x): x is string => !!x)
}

/**
 * Why the jail, as its source shows it, is not one ferry moves: nothing when it is. It must run
 * from a mounted dataset, and be defined as ferry defines it at the destination, since no
 * definition is carried from the source (whose exec.prestart, say, would run as root there).
 */
function unmovable(jail: JailSpec, driver: JailDriver, source: string, here: JailState): string | undefined {
  const root = here.dataset?.mountpoint
  if (!root?.startsWith('/'))
    return `jail ${jail.name} on ${source}: ${jail.dataset} ${root ? `has no mountpoint (${root})` : 'does not exist'}`
  const path = driver.configPath(jail)
  if (here.definition === undefined) return `jail ${jail.name} on ${source} has no definition in ${path}`
  const wanted = driver.definition(jail, root)
  const differs = definitionDiffers(here.definition, wanted)
  if (differs) {
    return (
      `jail ${jail.name} on ${source} is not defined as ferry defines it at the destination, and ferry carries no definition from the source: ` +
      `${path} ${differs}. Ferry's: ${wanted.map((l) => l.trim()).join(' ')}`
    )
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------
// prepare: discovery and the prompts. Looks only; the run changes things.

async function prepare(ctx: PrepareContext): Promise<Record<string, unknown>> {
  const p = { ...ctx.params }
  const declared = declaredJails(ctx.inventory)
  if (!declared.size)
    throw new ParamError(`${ctx.inventory.file} declares no jails (a host's jails: { NAME: { address, dataset } })`)
  const specs = [...declared.values()]

  // One round trip per jail host: where every jail is, its size, and each host's pools and addresses.
  const seen = new Map<string, { host: Host; driver: JailDriver; state: JailHost; ms: number }>()
  await Promise.all(
    ctx.inventory.hosts.map(async (host) => {
      const driver = jailDriver(host.os)
      if (!driver) return
      try {
        const t = await ctx.connect(host)
        const t0 = Date.now() // a round trip, for the downtime estimate; not the handshake
        const out = await runLine(t.$, driver.discover(specs)).nothrow()
        if (out.exitCode !== 0) throw new Error(out.stderr.trim() || `exit ${out.exitCode}`)
        seen.set(host.name, { host, driver, state: parseDiscovery(out.stdout), ms: Date.now() - t0 })
      } catch (err) {
        ctx.warn(`${host.name}: left out of discovery: ${(err as Error).message.split('\n')[0]}`)
      }
    }),
  )
  const where = (name: string) => [...seen.values()].filter((s) => s.state.jails.get(name)?.running)

  // Which jail.
  if (p.jail === undefined && ctx.interactive) {
    const choices = specs.flatMap((j) =>
      where(j.name).map((s) => ({
        value: j.name,
        name: `${j.name}  on ${s.host.name}  ${j.address}  ${j.dataset}  ${MB(s.state.jails.get(j.name)!.dataset?.referenced ?? 0)}`,
      })),
    )
    if (!choices.length) throw new ParamError('no declared jail is running on any host that answered')
    p.jail = await ctx.ask.search({ message: 'Jail to move', choices })
  }
  if (p.jail === undefined) return p // the missing-params error lists it
  const jail = declared.get(String(p.jail))
  if (!jail)
    throw new ParamError(
      `--param jail=${p.jail}: no such jail in ${ctx.inventory.file} (declared: ${[...declared.keys()].join(', ')})`,
    )
  const running = where(jail.name)
  if (running.length > 1)
    throw new ParamError(`jail ${jail.name} runs on ${running.map((s) => s.host.name).join(' and ')}; stop one first`)
  const source = running[0]
  if (!source)
    throw new ParamError(`jail ${jail.name} is not running on any host that answered; ferry moves running jails`)
  if (p.from !== undefined && p.from !== source.host.name)
    throw new ParamError(`--param from=${p.from}: jail ${jail.name} runs on ${source.host.name}`)
  p.from = source.host.name
  const here = source.state.jails.get(jail.name)!
  const refusal = unmovable(jail, source.driver, source.host.name, here)
  if (refusal) throw new ParamError(refusal)
  const size = here.dataset!.referenced
  const root = here.dataset!.mountpoint

  // To where: a host with the same kind of jails, the pool, the parent dataset and room, and
  // neither the dataset nor the address already.
  const why = (name: string): string | undefined => {
    const s = seen.get(name)
    if (name === source.host.name) return 'it is the source'
    if (!s) return 'not a jail host that answered discovery'
    if (s.driver !== source.driver) return `its jails are ${s.driver.kind}, not ${source.driver.kind}`
    return unfit(s.state, jail, size, root)[0]
  }
  if (p.to === undefined && ctx.interactive) {
    const fit = [...seen.keys()].filter((n) => !why(n)).sort()
    for (const n of [...seen.keys()].filter((n) => n !== source.host.name && why(n)))
      ctx.warn(`${n}: not offered: ${why(n)}`)
    if (!fit.length) throw new ParamError(`no host can take jail ${jail.name} (${MB(size)})`)
    p.to = await ctx.ask.select({
      message: `Move ${jail.name} from ${source.host.name} to`,
      choices: fit.map((n) => ({
        value: n,
        name: `${n}  ${MB(seen.get(n)!.state.pools.get(poolOf(jail.dataset))!)} free in ${poolOf(jail.dataset)}`,
      })),
    })
  }
  if (p.to === undefined) return p
  hostNamed(ctx.inventory, String(p.to), 'to')
  const unfitFor = why(String(p.to))
  if (unfitFor) throw new ParamError(`--param to=${p.to}: cannot take jail ${jail.name}: ${unfitFor}`)

  p.check_from ??= thirdHost(ctx.inventory, source.host.name, String(p.to))
  if (p.check_from === undefined)
    throw new ParamError(
      'no third host to check the jail from: the inventory needs a host besides the source and the destination',
    )
  p.tag ??= `ferry-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}-${randomBytes(2).toString('hex')}`

  if (ctx.dryRun || p.yes === true) return p
  // Three round trips between the stop and the start (stop and snapshot; the last increment;
  // check and start), then the jail's own start and OSPF announcing it: the lab measured 0.5–0.7 s.
  const rtt = Math.max(source.ms, seen.get(String(p.to))!.ms) / 1000
  const downtime = Math.max(1, Math.ceil(3 * rtt + 0.5))
  const catchups = Number(p.catchups ?? 1)
  const plan = [
    `Move jail ${jail.name} (${jail.address}, ${jail.dataset}) from ${source.host.name} to ${p.to}:`,
    `  send ${MB(size)} in full while it runs${catchups ? `, then ${catchups} catch-up increment${catchups > 1 ? 's' : ''}` : ''}${p.direct === true ? ' (direct, host to host)' : ' (relayed by this controller)'};`,
    `  cut over: stop it on ${source.host.name}, send the last changes, start it on ${p.to} (expected downtime about ${downtime} s);`,
    `  verify from ${p.check_from}; then ${p.cleanup === true ? `destroy ${jail.dataset} on ${source.host.name}` : `keep ${jail.dataset} on ${source.host.name} renamed`}.`,
    '  Proceed?',
  ].join('\n')
  if (!ctx.interactive) throw new ParamError(`missing params: --param yes=true (no terminal to confirm on)\n${plan}`)
  if (!(await ctx.ask.confirm({ message: plan, default: false })))
    throw new ParamError('not confirmed; nothing was changed')
  p.yes = true
  return p
}

// ---------------------------------------------------------------------------------------------
// The phases, run on the source host.

interface Migration {
  jail: JailSpec
  source: Host
  dest: Host
  checker: Host
  src: JailDriver
  dst: JailDriver
  tag: string
  snaps: string[]
  lock: string
  kept: string
  p: Params
}

function migration({ host, params: p, inventory }: StepsContext<Params, unknown>): Migration {
  if (!p.from || !p.tag || !p.check_from)
    throw new StepError('from, tag and check_from are set by discovery; run through ferry run')
  const jail = declaredJails(inventory).get(p.jail)
  if (!jail) throw new StepError(`no jail ${p.jail} in ${inventory.file}`)
  const dest = hostNamed(inventory, p.to, 'to')
  const src = jailDriver(host.os)
  const dst = jailDriver(dest.os)
  if (!src || !dst)
    throw new StepError(
      `${!src ? host.name : dest.name} has no jail driver for os ${(!src ? host.os : dest.os) ?? '(unset)'}`,
    )
  return {
    jail,
    source: host,
    dest,
    checker: hostNamed(inventory, p.check_from, 'check_from'),
    src,
    dst,
    p,
    tag: p.tag,
    // seed, catch-ups, final: each increment goes from the one before.
    snaps: [
      `${p.tag}-seed`,
      ...Array.from({ length: p.catchups }, (_, i) => `${p.tag}-catchup${i + 1}`),
      `${p.tag}-final`,
    ],
    lock: `/var/run/ferry-migrate-${p.jail}.lock`,
    kept: `${jail.dataset}-moved-${p.tag}`,
  }
}

/** Runs a script on a host; fails with what it printed on stderr. */
async function on($: StepContext['$'], lines: string[]): Promise<string> {
  const out = await runLine($, ['set -e', ...lines].join('\n')).nothrow()
  if (out.exitCode !== 0) throw new StepError(out.stderr.trim() || `exit ${out.exitCode}`)
  return out.stdout
}

const destShell = async (ctx: StepContext, m: Migration) => (await ctx.connect(m.dest)).$

/** Sends `snap` (all of it, or the changes since `from`) to the destination, reporting progress. */
async function transfer(
  ctx: StepContext,
  m: Migration,
  label: string,
  snap: string,
  from?: string,
  total?: number,
): Promise<void> {
  const ds = m.jail.dataset
  const send = zfs.send(ds, snap, from)
  const receive = zfs.receive(ds, !!from)
  if (m.p.direct) {
    const target = `${m.dest.user}@${m.dest.address}`
    // BatchMode: no password prompt nobody would see; host keys as the source's own known_hosts say.
    await on(ctx.$, [
      `${send} | ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -p ${m.dest.port} ${quote(target)} ${quote(receive)}`,
    ])
    return
  }
  await relay(await ctx.connect(m.source), send, await ctx.connect(m.dest), receive, {
    signal: ctx.signal,
    progress: ({ bytes, rate }) => {
      const eta = total && rate > 0 && bytes < total ? `, ETA ${Math.ceil((total - bytes) / rate)} s` : ''
      ctx.progress(`${label}: ${MB(bytes)}${total ? ` of ${MB(total)}` : ''} at ${MB(rate)}/s${eta}`)
    },
  })
}

/** The jail at the source, as a probe of its discovery saw it. */
const atSource = (m: Migration, probe: ProbeResult) => parseDiscovery(probe.stdout).jails.get(m.jail.name)

/** The lock's owner, as the source keeps it (ferry wrote it there), for a message. */
const lockOwner = (owner: string | undefined) =>
  owner && /^[\x20-\x7e]{1,200}$/.test(owner) ? owner : 'no readable owner recorded'

/** The lock holds the tag of the migration that took it: only that migration removes it. */
const unlock = (m: Migration) =>
  `if [ "$(cat ${quote(`${m.lock}/tag`)} 2>/dev/null)" = ${quote(m.tag)} ]; then rm -rf ${quote(m.lock)}; fi`

interface PreflightRecord {
  size: number
  root: string
}

function preflight(m: Migration) {
  const { jail } = m
  return action<PreflightRecord>('preflight', {
    summary: `lock ${jail.name} on ${m.source.name}; check ${m.dest.name} has room and no ${jail.dataset} or ${hostAddress(jail)}`,
    probe: [
      m.src.discover([jail]),
      `if [ -d ${quote(m.lock)} ]; then printf 'lock\\t%s\\n' "$(cat ${quote(`${m.lock}/owner`)} 2>/dev/null)"; fi`,
    ].join('\n'),
    refuse(probe) {
      const held = /^lock\t(.*)$/m.exec(probe.stdout)
      if (held)
        return `jail ${jail.name} is locked by another migration (${lockOwner(held[1])}; lock ${m.lock} on ${m.source.name})`
      const here = atSource(m, probe)
      if (!here?.running) return `jail ${jail.name} is not running on ${m.source.name}`
      return unmovable(jail, m.src, m.source.name, here)
    },
    // Refused above unless the dataset is there, mounted at a path.
    record: (probe) => ({
      size: atSource(m, probe)!.dataset!.referenced,
      root: atSource(m, probe)!.dataset!.mountpoint,
    }),
    async apply(ctx, { size, root }) {
      // The transfers' channels start ahead, two on each side, each taken one re-warming the next:
      // the cut-over's is ready long before it, so the jail's outage waits for no login shell.
      // (Two, as a catch-up can be shorter than a login.) --direct pays the destination's login.
      if (!m.p.direct) for (const h of [m.source, m.dest]) (await ctx.connect(h)).standby(2)
      const owner = `tag ${m.tag}, controller pid ${process.pid}, since ${new Date().toISOString()}`
      // mkdir is atomic: of two migrations racing here, one gets the lock; the other is told whose.
      // The lock and the destination's discovery go out together: one round trip.
      const [took, out] = await Promise.all([
        runLine(
          ctx.$,
          `mkdir ${quote(m.lock)} 2>/dev/null && printf '%s\\n' ${quote(m.tag)} > ${quote(`${m.lock}/tag`)} && printf '%s\\n' ${quote(owner)} > ${quote(`${m.lock}/owner`)} || { cat ${quote(`${m.lock}/owner`)} >&2 2>/dev/null; exit 1; }`,
        ).nothrow(),
        runLine(await destShell(ctx, m), m.dst.discover([jail])).nothrow(),
      ])
      if (took.exitCode !== 0)
        throw new StepError(
          `jail ${jail.name} is locked by another migration (${lockOwner(took.stderr.trim())}; lock ${m.lock} on ${m.source.name})`,
        )
      if (out.exitCode !== 0) throw new StepError(`${m.dest.name}: discovery failed: ${out.stderr.trim()}`)
      const problems = unfit(parseDiscovery(out.stdout), jail, size, root)
      if (problems.length) throw new StepError(`${m.dest.name} cannot take jail ${jail.name}: ${problems.join('; ')}`)
    },
    undo: async (ctx) => void (await on(ctx.$, [unlock(m)])),
    touches: [`lock:${m.lock}`],
  })
}

/** The size streamSize printed, if it printed one. */
const bytes = (probe: ProbeResult) => (/^\d{1,20}$/.test(probe.stdout.trim()) ? Number(probe.stdout.trim()) : undefined)

function seed(m: Migration) {
  const ds = m.jail.dataset
  const snap = m.snaps[0]!
  return action('seed', {
    summary: (probe) =>
      `send ${ds}@${snap} in full (${MB(bytes(probe) ?? 0)}) from ${m.source.name} to ${m.dest.name} while the jail runs`,
    probe: zfs.streamSize(ds),
    record: (probe) => ({ size: bytes(probe) }),
    async apply(ctx, { size }) {
      await on(ctx.$, [zfs.snapshot(ds, snap)])
      await transfer(ctx, m, 'seed', snap, undefined, size)
    },
    async undo(ctx) {
      await Promise.all([
        on(await destShell(ctx, m), [zfs.destroyReceived(ds, snap)]),
        on(ctx.$, [zfs.destroySnapshot(ds, snap)]),
      ])
    },
    touches: [`zfs:${ds}`],
  })
}

function catchUp(m: Migration, n: number) {
  const ds = m.jail.dataset
  const [from, snap] = [m.snaps[n - 1]!, m.snaps[n]!]
  return action(`catch-up ${n}`, {
    summary: `send the changes since @${from} while the jail runs`,
    async apply(ctx) {
      await on(ctx.$, [zfs.snapshot(ds, snap)])
      await transfer(ctx, m, `catch-up ${n}`, snap, from)
    },
    async undo(ctx) {
      await Promise.all([
        on(await destShell(ctx, m), [zfs.destroySnapshot(ds, snap)]),
        on(ctx.$, [zfs.destroySnapshot(ds, snap)]),
      ])
    },
    touches: [`zfs:${ds}`],
  })
}

interface CutOverRecord {
  autostart: boolean
  root: string
}

function cutOver(m: Migration) {
  const { jail } = m
  const ds = jail.dataset
  const final = m.snaps.at(-1)!
  const from = m.snaps.at(-2)!
  return action<CutOverRecord>('cut-over', {
    summary: `stop ${jail.name} on ${m.source.name}, send the last changes, write its definition on ${m.dest.name} from the inventory, start it there`,
    probe: m.src.discover([jail]),
    // The preflight refuses a jail that does not run from a mounted dataset.
    record: (probe) => ({ autostart: atSource(m, probe)!.autostart, root: atSource(m, probe)!.dataset!.mountpoint }),
    async apply(ctx, { root }) {
      const dest$ = await destShell(ctx, m)
      // From the stop to the start at the destination the jail is down, so this is three round
      // trips: stop and snapshot at the source, the stream, check and start at the destination.
      // The source's stdout is the guid alone (sysrc and jail(8) report on stdout: theirs goes to
      // stderr), and a guid that is not a number is no guid. zfs-fuse, which has no -p, prints
      // it rounded with a unit (`14.2E`, `1005P`), so both sides compare that.
      const said = await on(ctx.$, [
        '{',
        m.src.autostart(jail, false),
        m.src.stop(jail),
        zfs.snapshot(ds, final),
        '} >&2',
        zfs.guid(ds, final),
      ])
      const guid = /^(\d{1,20}(?:\.\d{1,3})?[KMGTPE]?)\n?$/.exec(said)?.[1]
      if (!guid)
        throw new StepError(`${m.source.name} gave no guid for ${ds}@${final}: what it printed is not a number`)
      await transfer(ctx, m, 'cut-over', final, from)
      const path = m.dst.configPath(jail)
      await on(dest$, [
        `there=$(${zfs.guid(ds, final)})`,
        `if [ "$there" != ${quote(guid)} ]; then printf '%s, %s on %s\\n' ${quote(`@${final} differs: guid ${guid} on ${m.source.name}`)} "$there" ${quote(m.dest.name)} >&2; exit 1; fi`,
        zfs.mountsWithin(ds, root),
        `mkdir -p ${quote(dirOf(path))}`,
        writeFile(path, m.dst.definition(jail, root), 0o644),
        m.dst.autostart(jail, true),
        m.dst.start(jail),
      ])
    },
    async undo(ctx, record) {
      // The destination first, so its /32 is gone before the source announces it again.
      await on(await destShell(ctx, m), [
        m.dst.stop(jail),
        m.dst.autostart(jail, false),
        removeFile(m.dst.configPath(jail)),
      ])
      await on(ctx.$, [
        zfs.destroySnapshot(ds, final),
        m.src.start(jail),
        ...(record.autostart ? [m.src.autostart(jail, true)] : []),
      ])
    },
    touches: [`zfs:${ds}`, `jail:${jail.name}`],
  })
}

interface VerifyRecord {
  ports: number[]
}

function verifyMove(m: Migration) {
  const { jail, checker } = m
  const address = hostAddress(jail)
  const destLoopback = String(m.dest.vars.loopback ?? m.dest.address).replace(/\/\d+$/, '')
  return action<VerifyRecord>('verify', {
    summary: `${checker.name} reaches ${address} and routes it the way it routes ${m.dest.name}`,
    // The ports it serves now, at the source, are the ones it must serve at the destination.
    probe: m.src.discover([jail]),
    record: (probe) => ({ ports: parseDiscovery(probe.stdout).jails.get(jail.name)?.ports ?? [] }),
    async apply(ctx, { ports }) {
      const $ = (await ctx.connect(checker)).$
      const os = checker.os ?? 'linux'
      const deadline = Date.now() + 30_000
      for (;;) {
        const missing: string[] = []
        const [toJail, toDest] = await Promise.all(
          [address, destLoopback].map(async (a) => {
            const fact = net.routeTo(os, a)
            return fact.parse((await runLine($, fact.command).nothrow()).stdout)
          }),
        )
        if (!toJail || !toDest || toJail.dev !== toDest.dev || toJail.gateway !== toDest.gateway) {
          missing.push(
            `${checker.name} routes ${address} via ${toJail ? `${toJail.gateway ?? 'link'} dev ${toJail.dev}` : 'nothing'}, ${m.dest.name} via ${toDest ? `${toDest.gateway ?? 'link'} dev ${toDest.dev}` : 'nothing'}`,
          )
        } else {
          const open = await Promise.all(
            ports.map(async (port) => {
              const fact = net.tcpOpen(os, address, port)
              return fact.parse((await runLine($, fact.command).nothrow()).stdout)
            }),
          )
          ports.forEach((port, i) => open[i] || missing.push(`${address}:${port} does not answer from ${checker.name}`))
        }
        if (!missing.length) return
        if (Date.now() > deadline) throw new StepError(`after 30 s: ${missing.join('; ')}`)
        await new Promise((r) => setTimeout(r, 250))
      }
    },
  })
}

interface CleanUpRecord {
  config?: string[]
}

function cleanUp(m: Migration) {
  const { jail } = m
  const ds = jail.dataset
  return action<CleanUpRecord>('clean-up', {
    summary: m.p.cleanup
      ? `destroy ${ds} on ${m.source.name}; release the lock`
      : `rename ${ds} to ${m.kept} on ${m.source.name}; release the lock`,
    probe: `cat ${quote(m.src.configPath(jail))}`,
    record: (probe) => (probe.code === 0 ? { config: probe.stdout.replace(/\n$/, '').split('\n') } : {}),
    async apply(ctx) {
      // The destination keeps the final snapshot only, the base for a move back.
      const dest$ = await destShell(ctx, m)
      await Promise.all([
        on(
          dest$,
          m.snaps.slice(0, -1).map((s) => zfs.destroySnapshot(ds, s)),
        ),
        on(ctx.$, [
          // Kept unmounted: the jail runs elsewhere now.
          zfs.unmount(ds),
          zfs.whenIdle(m.p.cleanup ? `zfs destroy -r ${quote(ds)}` : `zfs rename ${quote(ds)} ${quote(m.kept)}`),
          removeFile(m.src.configPath(jail)),
          unlock(m),
        ]),
      ])
    },
    async undo(ctx, record) {
      const path = m.src.configPath(jail)
      await on(ctx.$, [
        `if zfs get -H -o value name ${quote(m.kept)} >/dev/null 2>&1; then zfs rename ${quote(m.kept)} ${quote(ds)}; fi`,
        ...(record.config ? [writeFile(path, record.config, 0o644)] : []),
      ])
    },
    touches: [`zfs:${ds}`],
  })
}

export default defineRunbook({
  name: 'migrate-jail',
  description:
    'Moves a running jail to another host with zfs send/receive: seed, catch-up, a short cut-over, verify from a third host; rolled back on any failure',
  // prepare has found it by the time hosts are chosen.
  hosts: (p) => p.from!,
  params,
  prepare,
  steps: (ctx) => {
    const m = migration(ctx)
    return [
      preflight(m),
      seed(m),
      ...m.snaps.slice(1, -1).map((_, i) => catchUp(m, i + 1)),
      cutOver(m),
      verifyMove(m),
      cleanUp(m),
    ]
  },
})
