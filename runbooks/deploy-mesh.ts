// deploy-mesh: every mesh member to a converged OSPF mesh over its links' tunnels.
//
// - FreeBSD is seed 000: Quagga, OpenVPN TAP links, the router id on lo1, jails' /32s on lo2.
// - OpenBSD is seed 003: GRE over IPsec (isakmpd), ospfd with MD5.
// - Linux is FRR, with OpenVPN, GRE or GRE over strongSwan IPsec: what the lab proves end to end.
//
// Link addresses, tunnel names and ports come from the inventory's `links` through allocateLinks, the
// same at every member. Each OS's plan is in mesh/; what they share is in mesh/common.ts.
import {
  defineRunbook,
  allocateLinks,
  linksOf,
  StepError,
  type Host,
  type Inventory,
  type AllocatedLink,
  type StepsContext,
} from 'ferry'
import { vars, type MeshVars } from './mesh/common.ts'
import { freebsdSteps } from './mesh/freebsd.ts'
import { linuxSteps } from './mesh/linux.ts'
import { openbsdSteps } from './mesh/openbsd.ts'
import { onePlanPerHost } from './shared/plan.ts'

const PLANS = { freebsd: freebsdSteps, openbsd: openbsdSteps, linux: linuxSteps }

// The link allocation is the whole inventory's, the same for every host: computed once per run.
const meshes = new WeakMap<Inventory, { links: AllocatedLink[]; hosts: Map<string, Host> }>()
const planFor = onePlanPerHost(async ({ host, vars, inventory, secret }: StepsContext<unknown, MeshVars>) => {
  // Each OS has its own daemons and files, so the plan is chosen before connecting.
  if (!host.os)
    throw new StepError(`${host.name}: deploy-mesh needs the host's os: (freebsd, openbsd or linux) in the inventory`)
  let mesh = meshes.get(inventory)
  if (!mesh)
    meshes.set(
      inventory,
      (mesh = { links: allocateLinks(inventory), hosts: new Map(inventory.hosts.map((h) => [h.name, h])) }),
    )
  const { hosts } = mesh
  return PLANS[host.os]({
    host,
    vars,
    inventory,
    links: linksOf(mesh.links, host.name),
    peer: (name) => hosts.get(name)!,
    secret,
  })
})

export default defineRunbook({
  name: 'deploy-mesh',
  description:
    'Tunnels, forwarding, IPsec and OSPF on every mesh member, then waits for every neighbour to be Full and every loopback routed',
  hosts: 'mesh',
  drift: true,
  vars,
  steps: async (ctx) => (await planFor(ctx)).steps,
  handlers: async (ctx) => (await planFor(ctx)).handlers,
})
