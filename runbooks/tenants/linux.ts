// deploy-tenants on Linux: seed 001's provider edge with VRFs for routing domains (the VRF device
// vrfN, table N, made by the iface steps in deploy-tenants.ts). What is Linux's own here:
// forwarding; the packet filter, pf.conf's rules as iptables rules (templates/
// iptables-tenants.rules.ts says how each becomes which), written where Debian's
// netfilter-persistent loads them at boot and loaded at once; and the policy rules (rule steps,
// kept for boot with the VRF devices) that do what pf's `match … rtable N` does, by the firewall
// marks the filter sets.
//
// iptables, not nftables: the lab's full-kernel hosts (Debian's user-mode-linux 6.1) have
// nf_tables for bridges only, and a rule set must be proved there. iptables-restore's format
// loads through either backend (iptables-nft on a stock Debian 12 kernel, iptables-legacy in the
// lab), so the same file serves both.
//
// A tenant's own BGP speaker (seed 001's bgpd_rd1) is an FRR instance in its VRF
// (templates/frr-tenants.conf.ts says why FRR and not OpenBGPD); this runbook owns frr.conf on
// the edge, so the edge is not also a deploy-mesh member. sshd listens in a VRF as in an rdomain
// (`ListenAddress A rdomain vrfN`: OpenSSH binds the socket to the VRF device). Not built on Linux,
// and refused: ntpd in a domain (Debian's ntpd, ntpsec, has no `listen on … rtable`).
import { bgp, command, file, pkg, platformFor, rule, service, sysctl, verify, StepError, type Step } from 'ferry'
import frrTenants from '../../templates/frr-tenants.conf.ts'
import iptablesTenants from '../../templates/iptables-tenants.rules.ts'
import type { OsSteps } from '../deploy-tenants.ts'
import { frrHandlers, frrPackages, frrSteps } from '../shared/frr.ts'
import { bgpdVars, iptablesVars, sshdInDomains, type Tenant, type TenantsVars } from './model.ts'

const RULES = '/etc/iptables/rules.v4'
/** Before the kernel's VRF rule (1000), which would look a VRF member's packets up in its own table. */
const PREF = 900
/** Before ferry: both tables empty, every policy ACCEPT. What rollback loads when there was no file. */
const OPEN = [
  '*mangle',
  ...['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'].map((c) => `:${c} ACCEPT [0:0]`),
  'COMMIT',
  '*filter',
  ...['INPUT', 'FORWARD', 'OUTPUT'].map((c) => `:${c} ACCEPT [0:0]`),
  'COMMIT',
].join('\\n')

// The kernel's rules in iptables-save's form, less its comments and counters: what the file
// holds, when the file is loaded (the template prints that form). With no file, the open tables.
const NORM = "sed -e '/^#/d' -e 's/ \\[[0-9]*:[0-9]*\\]$//'"
const LIVE = `{ iptables-save -t mangle && iptables-save -t filter; } | ${NORM}`
const WANT = `if [ -f ${RULES} ]; then ${NORM} ${RULES}; else printf '${OPEN}\\n'; fi`
/** The NORM of a rule set, in JavaScript. */
const normalized = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ''))
const LOADED = `[ "$(${LIVE})" = "$(${WANT})" ]`
// iptables-restore replaces each table it is given as a whole, at once.
const LOAD = `if [ -f ${RULES} ]; then iptables-restore ${RULES}; else printf '${OPEN}\\n' | iptables-restore; fi`

/** The tenant's VRF device (vrfN). */
const vrfOf = (t: Tenant) => platformFor('linux').interfaces.domainIface!(t.domain).name

/**
 * The policy rules that do what pf's `match … rtable N` does, by the marks the filter sets: mark N
 * looks up the tenant's table N (what comes in on the uplink for its networks), 254 the main table
 * (what it sends anywhere but to a tenant). Each is kept with a leaving tenant's VRF device, so it
 * comes back at boot with the domain; the main table's with the first such tenant's.
 */
function policyRules(leaving: Tenant[]): Step[] {
  if (!leaving.length) return []
  return [
    rule('pf rtable 0: marked 254, the main table', {
      pref: PREF,
      fwmark: 254,
      table: 'main',
      iface: vrfOf(leaving[0]!),
    }),
    ...leaving.map((t) =>
      rule(`pf rtable ${t.domain}: marked ${t.domain}, ${t.name}'s table`, {
        pref: PREF,
        fwmark: t.domain,
        table: t.domain,
        iface: vrfOf(t),
      }),
    ),
  ]
}

/**
 * The tenants' BGP instances in their VRFs, all in one FRR; then, per tenant, its sessions
 * Established; last, that what they learned is in their own tables and in no other (zebra puts a
 * VRF's routes in its table; a route of `proto bgp` anywhere else would be a leak).
 */
function bgpSteps(speakers: Tenant[], host: string): Step[] {
  if (!speakers.length) return []
  const tables = speakers.map((t) => String(t.domain))
  return [
    ...frrSteps({
      daemon: 'bgpd',
      content: frrTenants({ hostname: host, instances: speakers.map((t) => ({ ...bgpdVars(t), vrf: vrfOf(t) })) }),
    }),
    ...speakers.map((t) => {
      const peers = bgp.frrPeers(vrfOf(t))
      return verify(`${t.name}'s BGP sessions Established`, {
        command: peers.command,
        timeout: 120,
        expect: (out) => {
          let states: Map<string, string>
          try {
            states = peers.parse(out)
          } catch (err) {
            return (err as Error).message
          }
          const down = t.bgp!.neighbors.filter((n) => states.get(n.address) !== 'Established')
          return (
            down.length === 0 ||
            `not Established: ${down.map((n) => `${n.descr ?? n.address} (${states.get(n.address) ?? 'no session'})`).join(', ')}`
          )
        },
      })
    }),
    verify("BGP routes only in their tenants' tables", {
      command: 'ip -4 route show table all proto bgp',
      timeout: 5,
      expect: (out) => {
        const leaked = out
          .split('\n')
          .filter((l) => l.trim() !== '' && !/^\s/.test(l))
          .filter((l) => !tables.includes(/ table (\S+)/.exec(l)?.[1] ?? 'main'))
        return leaked.length === 0 || `outside: ${leaked.map((l) => l.trim()).join(' | ')}`
      },
    }),
  ]
}

/**
 * sshd's lines in the tenants' VRFs, sshd running (Debian's service is ssh), and a check that it
 * listens on each address inside its VRF (`ss` prints such a socket as `A%vrfN:PORT`).
 */
function sshdSteps(v: TenantsVars): Step[] {
  const lines = sshdInDomains(v, vrfOf)
  if (!lines.length) return []
  const want = v.tenants.flatMap((t) => t.sshd.map((a) => `${a}%${vrfOf(t)}`))
  return [
    ...lines,
    service('ssh', { name: 'ssh', enabled: true, state: 'running' }),
    verify('sshd listening in the domains', {
      command: 'ss -ltnH',
      timeout: 10,
      expect: (out) => {
        const missing = want.filter((w) => !out.split(/\s+/).some((word) => word.startsWith(`${w}:`)))
        return missing.length === 0 || `not listening on ${missing.join(', ')}`
      },
    }),
  ]
}

export function linuxSteps(v: TenantsVars, host: string): OsSteps {
  const unbuilt = v.tenants.filter((t) => t.ntpd.length).map((t) => `tenant ${t.name}'s ntpd`)
  if (unbuilt.length)
    throw new StepError(
      `on Linux, deploy-tenants does not build ${unbuilt.join(', ')}: Debian's ntpd has no \`listen on … rtable\``,
    )
  const leaving = v.tenants.filter((t) => t.upstream.length > 0)
  const speakers = v.tenants.filter((t) => t.bgp)
  const rules = iptablesTenants(iptablesVars(v))
  const load = (name: string) =>
    command(name, async ({ $ }) => void (await $`sh -c ${LOAD}`), {
      unless: LOADED,
      // Rollback puts the file back, then the handler loads it (or the open tables, with none).
      repeatOnRollback: true,
      revert: LOAD,
    })
  return {
    // The filter is in place before forwarding is on.
    steps: [
      // netfilter-persistent loads /etc/iptables/rules.v4 at boot (iptables-persistent is its
      // iptables plugin). Installed, it saves the kernel's rules of the moment to that file (its
      // debconf default), which the next step replaces.
      pkg('packages', { name: ['iptables', 'iptables-persistent', ...(speakers.length ? frrPackages : [])] }),
      file('packet filter', {
        path: RULES,
        mode: 0o600,
        content: rules,
        validate: 'iptables-restore --test %s',
        notify: 'load rules',
      }),
      // Here, not only as the handler: a rule changed by hand, with the file as ferry wrote it,
      // shows in drift and is put back by a run.
      load('rules loaded as written'),
      ...policyRules(leaving),
      sysctl('forwarding', { key: 'net.ipv4.ip_forward', value: '1' }),
      // Once the filter is in: it passes the tenants' sessions to the edge (INPUT from their networks).
      ...bgpSteps(speakers, host),
      ...sshdSteps(v),
      // What differs, line by line, where `rules loaded as written` can only say that something does.
      verify('packet filter: the kernel holds the rules as written', {
        command: LIVE,
        timeout: 5,
        expect: (out) => {
          const want = normalized(rules)
          const have = normalized(out)
          const extra = have.filter((l) => !want.includes(l))
          const missing = want.filter((l) => !have.includes(l))
          return (
            (extra.length === 0 && missing.length === 0 && have.join('\n') === want.join('\n')) ||
            [
              extra.length && `not ferry's: ${extra.join(' | ')}`,
              missing.length && `missing: ${missing.join(' | ')}`,
              !extra.length && !missing.length && 'in another order',
            ]
              .filter(Boolean)
              .join('; ')
          )
        },
      }),
    ],
    handlers: {
      'load rules': load('load rules'),
      ...(speakers.length ? frrHandlers() : {}),
      ...(v.tenants.some((t) => t.sshd.length)
        ? { 'reload sshd': service('reload sshd', { name: 'ssh', state: 'reloaded' }) }
        : {}),
    },
  }
}
