// deploy-tenants on OpenBSD, as seed 001 sets it up: forwarding; pf.conf rendered from the
// tenants (templates/pf-tenants.conf.ts), checked with `pfctl -nf` before it is installed and
// loaded as a handler; the daemons that work inside a domain: a tenant's own bgpd as an rc.d
// instance of bgpd with its rtable and flags, sshd's `ListenAddress A rdomain N`, ntpd's `listen on
// A rtable N`. No OpenBSD machine exists where ferry is tested: this plan is proved by golden
// tests (test/unit/tenants.test.ts).
import { bgp, command, file, line, service, sysctl, verify, type Step } from 'ferry'
import bgpdDomain from '../../templates/bgpd-domain.conf.ts'
import pfTenants from '../../templates/pf-tenants.conf.ts'
import type { OsSteps } from '../deploy-tenants.ts'
import { bgpdInstance, bgpdVars, pfVars, sshdInDomains, type Tenant, type TenantsVars } from './model.ts'

/** bgpd's control socket in rdomain N: bgpd names it after the rtable it was started in. */
const socketOf = (t: Tenant) => `/var/run/bgpd.sock.${t.domain}`

/** The tenant's bgpd: its file, the rc.d instance that starts it in the domain, and the check that its sessions are up. */
function bgpdSteps(t: Tenant): { steps: Step[]; handlers: Record<string, Step> } {
  const { name, config } = bgpdInstance(t)
  const summary = bgp.openbgpdSummary(socketOf(t))
  const reload = `reload ${name}`
  return {
    steps: [
      file(`${name}.conf`, {
        path: config,
        mode: 0o600,
        content: bgpdDomain(bgpdVars(t)),
        validate: 'bgpd -n -f %s',
        notify: reload,
      }),
      // ln -s /etc/rc.d/bgpd /etc/rc.d/bgpd_rd1; rcctl enable; rcctl set … rtable 1; flags "-f …".
      service(name, {
        name,
        instanceOf: 'bgpd',
        enabled: true,
        state: 'running',
        vars: { rtable: String(t.domain) },
        flags: `-f ${config}`,
      }),
      verify(`${t.name}'s BGP sessions Established`, {
        command: summary.command,
        timeout: 120,
        expect: (out) => {
          const sessions = summary.parse(out)
          const down = t.bgp!.neighbors.filter((n) => !sessions.get(n.descr ?? n.address))
          return down.length === 0 || `not Established: ${down.map((n) => n.descr ?? n.address).join(', ')}`
        },
      }),
    ],
    handlers: {
      [reload]: command(reload, async ({ $ }) => void (await $`bgpctl -s ${socketOf(t)} reload`), {
        unless: `! rcctl check ${name}`, // not running: it reads the file when it starts
        repeatOnRollback: true,
        revert: `bgpctl -s ${socketOf(t)} reload`,
      }),
    },
  }
}

export function openbsdSteps(v: TenantsVars): OsSteps {
  const bgpds = v.tenants.filter((t) => t.bgp).map(bgpdSteps)
  const ntpd = v.tenants.flatMap((t) => t.ntpd.map((a) => `listen on ${a} rtable ${t.domain}`))
  return {
    steps: [
      sysctl('forwarding', { key: 'net.inet.ip.forwarding', value: '1' }),
      file('pf.conf', {
        path: '/etc/pf.conf',
        mode: 0o600,
        content: pfTenants(pfVars(v)),
        validate: 'pfctl -nf %s',
        notify: 'load pf',
      }),
      ...bgpds.flatMap((b) => b.steps),
      ...sshdInDomains(v, (t) => t.domain),
      ...ntpd.map((l) =>
        line(`ntpd: ${l}`, { path: '/etc/ntpd.conf', line: l, validate: 'ntpd -n -f %s', notify: 'restart ntpd' }),
      ),
    ],
    handlers: {
      'load pf': command('load pf', async ({ $ }) => void (await $`pfctl -f /etc/pf.conf`), {
        unless: "! pfctl -s info | grep -q '^Status: Enabled'",
        repeatOnRollback: true,
        revert: 'pfctl -f /etc/pf.conf',
      }),
      'reload sshd': service('reload sshd', { name: 'sshd', state: 'reloaded' }),
      // ntpd(8) reads its file only when it starts.
      'restart ntpd': service('restart ntpd', { name: 'ntpd', state: 'restarted' }),
      ...Object.assign({}, ...bgpds.map((b) => b.handlers)),
    },
  }
}
