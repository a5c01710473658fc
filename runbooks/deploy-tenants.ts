// deploy-tenants: seed 001 ("OpenBSD Routing Tables and Routing Domains"). A provider edge where
// each tenant has a routing domain of its own: its VLANs on the trunks, a loopback, its own table
// with a reject route for 127/8, a blackhole default and its static routes; forwarding on, and a
// packet filter as the only way between domains. OpenBSD is the article's (rdomains, pf);
// Linux's domains are VRFs, its filter iptables rules with policy rules for pf's `rtable`
// (tenants/linux.ts), proved in the lab (test/lab/tenants.test.ts).
//
// The steps are in the article's order, per tenant: the domain's own interface first (OpenBSD's
// loN, Linux's VRF device: both must exist before an interface joins the domain on Linux, and on
// OpenBSD making lo1 first means the kernel never makes it behind ferry's back), then its VLANs,
// then its routes, each kept in the hostname.if (or ifupdown stanza) of the interface its gateway
// is on; the reject and blackhole routes in the tenant's first interface's, as the article keeps
// them in hostname.vlan6. Then what the OS does its own way (tenants/openbsd.ts).
//
// The tenants and every check of them are in tenants/model.ts.
import { defineRunbook, iface, platformFor, route, verify, StepError, type Step, type StepsContext } from 'ferry'
import { interfaceFor, refusals, vars, type Tenant, type TenantsVars } from './tenants/model.ts'
import { linuxSteps } from './tenants/linux.ts'
import { openbsdSteps } from './tenants/openbsd.ts'

export interface OsSteps {
  steps: Step[]
  handlers: Record<string, Step>
}

const PLANS: Partial<Record<string, (v: TenantsVars, host: string) => OsSteps>> = {
  openbsd: openbsdSteps,
  linux: linuxSteps,
}

/** The domain's own interface with the loopback address, its VLANs, and the routes of its table. */
function tenantSteps(os: 'openbsd' | 'linux' | 'freebsd', t: Tenant): Step[] {
  const own = platformFor(os).interfaces.domainIface!(t.domain)
  const first = t.interfaces[0]!.name
  const table = t.domain
  return [
    // 127.0.0.1 of its own: OpenBSD's lo1 takes the article's /8; on Linux a /8 would put a
    // connected 127/8 in the table, where the reject route below could not go.
    iface(`domain ${t.domain} (${t.name})`, {
      ...own,
      domain: t.domain,
      addresses: [os === 'linux' ? '127.0.0.1/32' : '127.0.0.1/8'],
    }),
    ...t.interfaces.map((i) =>
      iface(`${t.name} ${i.name}`, {
        name: i.name,
        kind: 'vlan',
        vlan: { id: i.vlan, parent: i.parent },
        description: i.description,
        domain: t.domain,
        addresses: [i.address],
      }),
    ),
    route(`${t.name}: 127/8 refused`, { to: '127.0.0.0/8', type: 'reject', table, iface: first }),
    route(`${t.name}: default dropped`, { to: 'default', type: 'blackhole', table, iface: first }),
    ...t.routes.map((r) =>
      route(`${t.name}: ${r.to}`, { to: r.to, via: r.via, table, iface: interfaceFor(t, r.via)!.name }),
    ),
  ]
}

/**
 * The domain's table holds ferry's routes and the kernel's own, nothing else: a route added by
 * hand (which no route step owns) shows in drift, and fails a run, which does not remove it.
 */
function tableChecks(os: 'openbsd' | 'linux' | 'freebsd', t: Tenant): Step {
  const routes = platformFor(os).net.staticRoutes(t.domain)
  const want = new Set(['127.0.0.0/8', 'default', ...t.routes.map((r) => r.to)])
  return verify(`${t.name}: table ${t.domain} holds only its routes`, {
    command: routes.command,
    timeout: 5,
    expect: (out) => {
      const found = routes.parse(out)
      const extra = found.filter((d) => !want.has(d))
      const missing = [...want].filter((d) => !found.includes(d))
      return (
        (extra.length === 0 && missing.length === 0) ||
        [extra.length && `not ferry's: ${extra.join(', ')}`, missing.length && `missing: ${missing.join(', ')}`]
          .filter(Boolean)
          .join('; ')
      )
    },
  })
}

function plan({ host, vars: v }: StepsContext<unknown, TenantsVars>): OsSteps {
  const os = host.os
  const build = os && PLANS[os]
  if (!os || !build)
    throw new StepError(
      `${host.name}: deploy-tenants builds OpenBSD and Linux provider edges (os: openbsd or linux)${os ? `, not ${os}` : ': give the host its os'}`,
    )
  const wrong = refusals(v)
  if (wrong.length) throw new StepError(`${host.name}: ${wrong.join('; ')}`)
  const own = build(v, host.name)
  return {
    steps: [...v.tenants.flatMap((t) => tenantSteps(os, t)), ...own.steps, ...v.tenants.map((t) => tableChecks(os, t))],
    handlers: own.handlers,
  }
}

export default defineRunbook({
  name: 'deploy-tenants',
  description:
    "Tenants in routing domains (seed 001): each tenant's VLANs, loopback and routes in its own domain, forwarding, and the packet filter as the only way between domains",
  hosts: 'tenants',
  drift: true,
  vars,
  steps: (ctx) => plan(ctx).steps,
  handlers: (ctx) => plan(ctx).handlers,
})
