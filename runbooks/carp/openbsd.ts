// deploy-carp-gateway on OpenBSD (seed 004 as the article runs it). Per node, in the order
// OpenBSD's rc brings them up: the interface groups each interface joins (`group ext` in its
// hostname.if, pf's rules name groups and `egress`, not interfaces); pf; pfsync on the pair's own
// link so the backup holds the master's states; the CARP interfaces with the shared addresses
// (this node's advskew, the pair's passphrase); ipsec.conf in both of ipsecctl's forms, with
// isakmpd run by ipsecctl (-K) and, with sasyncd, passive until sasyncd says this node is master
// (-S); sasyncd, following the first CARP interface; ifstated, running the inventory's commands
// when that interface turns master or backup; carp preemption on, so the preferred master takes
// its addresses back. Then a check of each CARP interface's state.
//
// Proved by golden tests (test/unit/carp.test.ts): no OpenBSD machine exists where ferry is tested.
import { command, file, line, service, sysctl, verify, StepError, type Step, type StepsContext } from 'ferry'
import { quote } from '../../src/shell/quote.ts'
import hostnameCarp, { hostnameCarpMask } from '../../templates/hostname.carp.ts'
import hostnamePfsync from '../../templates/hostname.pfsync.ts'
import ifstatedConf from '../../templates/ifstated.conf.ts'
import ipsecCarpConf, { type IpsecCarpRule } from '../../templates/ipsec-carp.conf.ts'
import pfCarp from '../../templates/pf-carp.conf.ts'
import sasyncdConf, { sasyncdMask } from '../../templates/sasyncd.conf.ts'
import { addressMask, refusals, type CarpVars } from './model.ts'

/** Where the static SAs' key files go: root's alone. */
const KEYS = '/etc/ipsec.keys'
/** carp(4)'s states a node settles in; INIT means its carpdev is down or it has not started. */
const SETTLED = /^\tcarp: (MASTER|BACKUP) carpdev (\S+) vhid (\d+) /m

/** A static SA's key, checked against what ipsecctl's defaults (HMAC-SHA2-256, AES) take. */
function staticKey(name: string, value: string, kind: 'auth' | 'enc'): string {
  const hex = value.trim()
  const ok = kind === 'auth' ? /^[0-9a-fA-F]{64}$/.test(hex) : /^([0-9a-fA-F]{2}){16,32}$/.test(hex)
  if (!ok)
    throw new StepError(
      `secret ${name}: ${kind === 'auth' ? 'an HMAC-SHA2-256 key is 64 hex digits' : 'an AES key is 32 to 64 hex digits'}, without 0x`,
    )
  return `${hex}\n`
}

export async function openbsdSteps({ host, vars: v, secret }: StepsContext<unknown, CarpVars>) {
  const wrong = refusals(v)
  if (wrong.length) throw new StepError(`${host.name}: ${wrong.join('; ')}`)
  const pass = await secret('carp_pass')
  const first = v.carp[0]!.name
  const ike = v.ipsec.some((r) => r.keying === 'ike')
  const statics = v.ipsec.filter((r) => r.keying === 'static')
  const keyFiles: { name: string; path: string; kind: 'auth' | 'enc' }[] = statics.flatMap((r) =>
    (['out', 'in'] as const).flatMap((d) => [
      { name: r.authkeys[d], path: `${KEYS}/${r.authkeys[d]}`, kind: 'auth' as const },
      { name: r.enckeys[d], path: `${KEYS}/${r.enckeys[d]}`, kind: 'enc' as const },
    ]),
  )
  const rules: IpsecCarpRule[] = v.ipsec.map((r) =>
    r.keying === 'ike'
      ? r
      : {
          ...r,
          authkey: { out: `${KEYS}/${r.authkeys.out}`, in: `${KEYS}/${r.authkeys.in}` },
          enckey: { out: `${KEYS}/${r.enckeys.out}`, in: `${KEYS}/${r.enckeys.in}` },
        },
  )
  const handlers: Record<string, Step> = {
    'load pf': command('load pf', async ({ $ }) => void (await $`pfctl -f /etc/pf.conf`), {
      unless: "! pfctl -s info | grep -q '^Status: Enabled'",
      repeatOnRollback: true,
      revert: 'pfctl -f /etc/pf.conf',
    }),
  }
  // netstart (re)configures an interface from its hostname.if; rollback runs it again with the
  // file put back, or destroys the interface when there was none.
  const netstart = (ifname: string) => {
    const script = `if [ -f /etc/hostname.${ifname} ]; then sh /etc/netstart ${ifname}; else ifconfig ${ifname} destroy 2>/dev/null || true; fi`
    handlers[`netstart ${ifname}`] = command(`netstart ${ifname}`, async ({ $ }) => void (await $`sh -c ${script}`), {
      repeatOnRollback: true,
      revert: script,
    })
    return `netstart ${ifname}`
  }

  const steps: Step[] = [
    // Groups: in hostname.if for boot, and live.
    ...v.interfaces.flatMap((i) =>
      i.groups.flatMap((g) => [
        line(`${i.name} in group ${g}`, { path: `/etc/hostname.${i.name}`, line: `group ${g}` }),
        command(`${i.name} joins ${g}`, async ({ $ }) => void (await $`ifconfig ${i.name} group ${g}`), {
          unless: `ifconfig ${quote(i.name)} | grep -Eq ${quote(`^[[:space:]]groups:(.* )?${g}( |$)`)}`,
          undo: async ({ $ }) => void (await $`ifconfig ${i.name} -group ${g}`),
        }),
      ]),
    ),
    file('pf.conf', {
      path: '/etc/pf.conf',
      mode: 0o600,
      content: pfCarp({
        carpdevs: [...new Set(v.carp.map((c) => c.carpdev))],
        syncdev: v.pfsync.syncdev,
        inside: v.inside,
        ipsec: v.ipsec.length > 0,
      }),
      validate: 'pfctl -nf %s',
      notify: 'load pf',
    }),
    file('hostname.pfsync0', {
      path: '/etc/hostname.pfsync0',
      mode: 0o640,
      content: hostnamePfsync(v.pfsync),
      notify: netstart('pfsync0'),
    }),
    ...v.carp.map((c) => {
      const { address, mask } = addressMask(c.address)
      return file(`hostname.${c.name}`, {
        path: `/etc/hostname.${c.name}`,
        mode: 0o640,
        content: hostnameCarp({
          address,
          netmask: mask,
          vhid: c.vhid,
          carpdev: c.carpdev,
          advskew: v.advskew,
          pass,
          groups: c.groups,
        }),
        mask: hostnameCarpMask,
        notify: netstart(c.name),
      })
    }),
    // Made now, not by the handler at the end of the run: ifstated's check (below) and sasyncd
    // want the interface to exist. A change to its file is the handler's.
    ...v.carp.map((c) =>
      command(`${c.name} made`, async ({ $ }) => void (await $`sh /etc/netstart ${c.name}`), {
        unless: `ifconfig ${c.name} >/dev/null 2>&1`,
        undo: async ({ $ }) => void (await $`ifconfig ${c.name} destroy`),
      }),
    ),
    sysctl('carp preemption', { key: 'net.inet.carp.preempt', value: '1' }),
  ]

  if (v.ipsec.length) {
    for (const k of keyFiles)
      steps.push(
        file(`ipsec key ${k.name}`, {
          path: k.path,
          mode: 0o600,
          dirMode: 0o700,
          content: staticKey(k.name, await secret(k.name), k.kind),
          mask: [/[^\n]+/],
          notify: 'load ipsec',
        }),
      )
    steps.push(
      file('ipsec.conf', {
        path: '/etc/ipsec.conf',
        mode: 0o600,
        content: ipsecCarpConf({ rules }),
        validate: 'ipsecctl -n -f %s',
        notify: 'load ipsec',
      }),
      // `ipsec=YES`: rc loads ipsec.conf at boot, after isakmpd and sasyncd start.
      service('ipsec at boot', { name: 'ipsec', enabled: true }),
    )
    handlers['load ipsec'] = command('load ipsec', async ({ $ }) => void (await $`ipsecctl -f /etc/ipsec.conf`), {
      repeatOnRollback: true,
      revert: 'if [ -f /etc/ipsec.conf ]; then ipsecctl -f /etc/ipsec.conf; else ipsecctl -F; fi',
    })
  }
  if (ike || v.sasyncd)
    steps.push(
      service('isakmpd', {
        name: 'isakmpd',
        enabled: true,
        state: 'running',
        // -K: the SAs are ipsecctl's; -S: passive, and keeping its SAs on shutdown, until sasyncd says master.
        flags: v.sasyncd ? '-S -K' : '-K',
      }),
    )
  if (v.sasyncd) {
    steps.push(
      file('sasyncd.conf', {
        path: '/etc/sasyncd.conf',
        mode: 0o600,
        owner: 'root',
        content: sasyncdConf({ carp: first, peer: v.sasyncd.peer, key: await secret('sasyncd_key') }),
        mask: sasyncdMask,
        validate: 'sasyncd -n -c %s',
        notify: 'restart sasyncd',
      }),
      service('sasyncd', { name: 'sasyncd', enabled: true, state: 'running' }),
    )
    handlers['restart sasyncd'] = service('restart sasyncd', { name: 'sasyncd', state: 'restarted' })
  }
  steps.push(
    file('ifstated.conf', {
      path: '/etc/ifstated.conf',
      mode: 0o644,
      content: ifstatedConf({ carp: first, ...v.ifstated }),
      validate: 'ifstated -n -f %s',
      notify: 'reload ifstated',
    }),
    service('ifstated', { name: 'ifstated', enabled: true, state: 'running' }),
    // Each CARP interface settled as master or backup, on its carpdev and vhid: INIT (its carpdev
    // down, or no advertisement sent yet) is waited out; which node is master is the pair's to say.
    ...v.carp.map((c) =>
      verify(`${c.name} is master or backup`, {
        command: `ifconfig ${c.name}`,
        timeout: 15,
        expect: (out) => {
          const m = SETTLED.exec(out)
          if (!m) return `not settled: ${/^\tcarp: (\S+)/m.exec(out)?.[1] ?? 'no carp line'}`
          return (m[2] === c.carpdev && Number(m[3]) === c.vhid) || `on ${m[2]} vhid ${m[3]}`
        },
      }),
    ),
  )
  handlers['reload ifstated'] = service('reload ifstated', { name: 'ifstated', state: 'reloaded' })
  return { steps, handlers }
}
