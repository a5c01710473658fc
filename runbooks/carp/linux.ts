// deploy-carp-gateway on Linux: seed 004's pair as Debian builds it, each OpenBSD part by its
// Linux counterpart:
// - interface groups → link groups (`ip link set … group ext`, the names in /etc/iproute2/group),
//   set live and by an ifupdown hook as each interface comes up;
// - pf → nftables, the whole ruleset on those groups (templates/nftables-carp.conf.ts), loaded
//   and checked against the kernel's;
// - carpN → one ucarp per shared address (templates/ucarp-init.ts, ucarp-up.ts, ucarp-down.ts):
//   ucarp owns the address, adding and removing it in its up and down scripts; ferry owns the
//   files. Preemption is ucarp's --preempt (carp(4)'s net.inet.carp.preempt);
// - pfsync → conntrackd, FTFW over the pair's own link; the first address's scripts move its
//   states on failover;
// - ifstated → the first address's up and down scripts, which run the inventory's commands.
// ipsec and sasyncd are OpenBSD's only (refused). Then, per shared address, a check that exactly
// one node holds it: the holder finds no other answer for it (arping's duplicate address
// detection), the other node finds the holder's.
import {
  command,
  file,
  line,
  pkg,
  platformFor,
  service,
  sysctl,
  verify,
  StepError,
  type Step,
  type StepsContext,
} from 'ferry'
import { quote } from '../../src/shell/quote.ts'
import { networkOf } from '../../src/mesh/ipv4.ts'
import conntrackdConf from '../../templates/conntrackd.conf.ts'
import nftablesCarp from '../../templates/nftables-carp.conf.ts'
import linkGroupsHook from '../../templates/link-groups.ts'
import ucarpDown from '../../templates/ucarp-down.ts'
import ucarpInit from '../../templates/ucarp-init.ts'
import ucarpUp from '../../templates/ucarp-up.ts'
import { linuxRefusals, refusals, type CarpVars } from './model.ts'

const NFT = '/etc/nftables.conf'
const CONNTRACKD = '/etc/conntrackd/conntrackd.conf'
/** conntrackd's sync port (its example configuration's). */
const SYNC_PORT = 3780
const PASSFILE = '/etc/ucarp/pass'

// The kernel's ruleset, and the file's as nft lists it once loaded: loaded into an empty network
// namespace of its own, which changes nothing here. The comparison is nft's own listing on both
// sides, so it holds across nft's versions of how a rule prints.
const LIVE = 'nft list ruleset'
const WANT = `if [ -f ${NFT} ]; then unshare --net sh -c ${quote(`nft -f ${NFT} && nft list ruleset`)}; fi`
const LOADED = `[ "$(${LIVE})" = "$(${WANT})" ]`
const LOAD = `if [ -f ${NFT} ]; then nft -f ${NFT}; else nft flush ruleset; fi`

const run = (name: string, action: 'start' | 'restart') => platformFor('linux').services.run(name, action, true)

export async function linuxSteps({ host, vars: v, secret }: StepsContext<unknown, CarpVars>) {
  const wrong = [...refusals(v), ...linuxRefusals(v)]
  if (wrong.length) throw new StepError(`${host.name}: ${wrong.join('; ')}`)
  const pass = await secret('carp_pass')
  // ucarp keeps the key as carp(4) does, in 20 bytes with its NUL: it refuses a longer one
  // ("Password too long") where carp(4) would cut it.
  if (Buffer.byteLength(pass.trim()) > 19)
    throw new StepError(`${host.name}: the CARP passphrase must be at most 19 bytes (CARP uses no more)`)
  const iface = (name: string) => v.interfaces.find((i) => i.name === name)!
  const grouped = v.interfaces.filter((i) => i.groups.length).map((i) => ({ iface: i.name, group: i.groups[0]! }))
  const groups = [...new Set(grouped.map((g) => g.group))]
  const insideNets = v.interfaces
    .filter((i) => i.groups.some((g) => v.inside.includes(g)))
    .map((i) => networkOf(i.address))
  const outsideCarp = v.carp.filter((c) => !iface(c.carpdev).groups.some((g) => v.inside.includes(g)))
  const sync = iface(v.pfsync.syncdev)
  const first = v.carp[0]!.name

  const load = (name: string) =>
    command(name, async ({ $ }) => void (await $`sh -c ${LOAD}`), {
      unless: LOADED,
      // Rollback puts the file back (or removes it), then this loads it (or empties the ruleset).
      repeatOnRollback: true,
      revert: LOAD,
    })
  const handlers: Record<string, Step> = {
    'load ruleset': load('load ruleset'),
    // Not when the daemon started after the file was written (its lock file is made at start):
    // on a first run, it started with this very file a few steps earlier.
    'restart conntrackd': command(
      'restart conntrackd',
      async ({ $ }) => void (await $`sh -c ${run('conntrackd', 'restart')}`),
      { unless: `[ /var/lock/conntrackd.lock -nt ${CONNTRACKD} ]` },
    ),
  }

  const steps: Step[] = [
    pkg('packages', { name: ['ucarp', 'conntrackd', 'nftables', 'iputils-arping'] }),
    // Groups: named, then joined live and, through ifupdown's hook, at boot.
    ...groups.map((g) => line(`link group ${g}`, { path: '/etc/iproute2/group', line: `${v.link_groups[g]}\t${g}` })),
    ...grouped.map(({ iface: i, group: g }) =>
      command(`${i} in group ${g}`, async ({ $ }) => void (await $`ip link set dev ${i} group ${g}`), {
        unless: `ip -o link show dev ${quote(i)} | grep -q ${quote(` group ${g} `)}`,
        undo: async ({ $ }) => void (await $`ip link set dev ${i} group default`),
      }),
    ),
    file('link groups at boot', {
      path: '/etc/network/if-up.d/ferry-link-groups',
      mode: 0o755,
      content: linkGroupsHook({ groups: grouped }),
    }),
    file('nftables.conf', {
      path: NFT,
      mode: 0o755,
      content: nftablesCarp({
        carpdevs: [...new Set(v.carp.map((c) => c.carpdev))],
        syncdev: sync.name,
        syncPort: SYNC_PORT,
        inside: v.inside,
        outside: groups.filter((g) => !v.inside.includes(g)),
        snat: insideNets.length
          ? outsideCarp.map((c) => ({ carpdev: c.carpdev, address: c.address.split('/')[0]!, from: insideNets }))
          : [],
      }),
      validate: 'nft -c -f %s',
      notify: 'load ruleset',
    }),
    // Here, not only as the handler: a rule changed by hand shows in drift and is put back by a run.
    load('ruleset loaded as written'),
    ...(v.nftables_at_boot ? [service('nftables at boot', { name: 'nftables', enabled: true })] : []),
    sysctl('forwarding', { key: 'net.ipv4.ip_forward', value: '1' }),
    file('conntrackd.conf', {
      path: CONNTRACKD,
      mode: 0o644,
      content: conntrackdConf({
        syncdev: sync.name,
        address: sync.address.split('/')[0]!,
        peer: v.pfsync.syncpeer,
        port: SYNC_PORT,
        own: [...new Set([host.address, ...v.interfaces.map((i) => i.address.split('/')[0]!)])],
      }),
      notify: 'restart conntrackd',
    }),
    service('conntrackd at boot', { name: 'conntrackd', enabled: true }),
    // Debian's init script has no status: the daemon answering on its socket is what running means.
    command('conntrackd running', async ({ $ }) => void (await $`sh -c ${run('conntrackd', 'start')}`), {
      unless: `conntrackd -C ${CONNTRACKD} -s >/dev/null 2>&1`,
      undo: async ({ $ }) => void (await $`conntrackd -C ${CONNTRACKD} -k`),
    }),
    file('ucarp passphrase', {
      path: PASSFILE,
      mode: 0o600,
      dirMode: 0o700,
      content: `${pass.trim()}\n`,
      mask: [/[^\n]+/],
      notify: v.carp.map((c) => `restart ucarp-${c.name}`),
    }),
  ]

  for (const c of v.carp) {
    const script = (kind: string) => `/etc/ucarp/${c.name}-${kind}`
    const moves = c.name === first
    const scriptVars = (commands: string[]) => ({
      name: c.name,
      carpdev: c.carpdev,
      address: c.address,
      conntrackd: moves ? CONNTRACKD : undefined,
      commands: moves ? commands : [],
    })
    const restart = `restart ucarp-${c.name}`
    steps.push(
      file(`${c.name} up script`, { path: script('up'), mode: 0o700, content: ucarpUp(scriptVars(v.ifstated.master)) }),
      file(`${c.name} down script`, {
        path: script('down'),
        mode: 0o700,
        content: ucarpDown(scriptVars(v.ifstated.backup)),
      }),
      file(`ucarp-${c.name} init script`, {
        path: `/etc/init.d/ucarp-${c.name}`,
        mode: 0o755,
        content: ucarpInit({
          name: c.name,
          vhid: c.vhid,
          carpdev: c.carpdev,
          srcip: iface(c.carpdev).address.split('/')[0]!,
          address: c.address,
          advbase: v.ucarp.advbase,
          advskew: v.advskew,
          deadratio: v.ucarp.deadratio,
          passfile: PASSFILE,
          up: script('up'),
          down: script('down'),
        }),
        notify: restart,
      }),
      service(`ucarp-${c.name}`, { name: `ucarp-${c.name}`, enabled: true, state: 'running' }),
    )
    handlers[restart] = service(restart, { name: `ucarp-${c.name}`, state: 'restarted' })
  }

  // Exactly one holder per shared address. The holder asks, as duplicate address detection does
  // (from 0.0.0.0), whether anyone else answers for it; the other node, that someone does. A node
  // has not decided before ucarp's dead interval has passed, which the timeout waits out.
  const wait = v.ucarp.advbase * v.ucarp.deadratio + 10
  steps.push(
    ...v.carp.map((c) => {
      const a = c.address.split('/')[0]!
      const d = quote(c.carpdev)
      return verify(`${c.name}: one node holds ${a}`, {
        command: [
          `if ip -o -4 addr show dev ${d} | grep -q ${quote(` inet ${c.address} `)}; then`,
          `if arping -D -q -c 2 -w 3 -I ${d} ${a}; then echo master; else echo 'master, and another node answers too'; fi`,
          `elif arping -q -c 2 -w 3 -I ${d} ${a}; then echo backup; else echo 'backup, and no node answers'; fi`,
        ].join('\n'),
        timeout: wait,
        expect: (out) => /^(master|backup)$/.test(out.trim()) || out.trim(),
      })
    }),
  )
  return { steps, handlers }
}
