// deploy-carp-gateway: seed 004 (the OpenBSD 3.8 interview), a redundant gateway pair: interface
// groups that the packet filter's rules are written against, addresses shared by CARP, the
// master's connection states copied to the backup, commands run when a node becomes master or
// backup.
//
// - OpenBSD (carp/openbsd.ts) is the article's: hostname.carpN, pfsync, pf, ifstated, sasyncd and
//   ipsecctl. Proved by golden tests only: no OpenBSD machine exists where ferry is tested.
// - Linux (carp/linux.ts) is the same pair as Debian builds it: ucarp (the CARP protocol) holding
//   the shared addresses, conntrackd for pfsync, nftables on link groups for pf, ucarp's up and
//   down scripts for ifstated. Proved in the lab (test/lab/carp.test.ts).
//
// The pair and every check of it are in carp/model.ts.
import { defineRunbook, StepError, type StepsContext } from 'ferry'
import { vars, type CarpVars } from './carp/model.ts'
import { linuxSteps } from './carp/linux.ts'
import { openbsdSteps } from './carp/openbsd.ts'
import { onePlanPerHost } from './shared/plan.ts'

const planFor = onePlanPerHost(async (ctx: StepsContext<unknown, CarpVars>) => {
  const os = ctx.host.os
  if (os === 'openbsd') return openbsdSteps(ctx)
  if (os === 'linux') return linuxSteps(ctx)
  throw new StepError(
    `${ctx.host.name}: deploy-carp-gateway builds OpenBSD and Linux gateways${os ? `, not ${os}` : ': give the host its os (openbsd or linux)'}`,
  )
})

export default defineRunbook({
  name: 'deploy-carp-gateway',
  description:
    'A CARP gateway pair (seed 004): interface groups, a packet filter on groups, the shared addresses, states synced to the backup (pfsync; conntrackd on Linux), commands on becoming master or backup (ifstated; ucarp scripts), ipsecctl and sasyncd on OpenBSD; then each shared address held by exactly one node',
  hosts: 'carp-gateways',
  drift: true,
  vars,
  steps: async (ctx) => (await planFor(ctx)).steps,
  handlers: async (ctx) => (await planFor(ctx)).handlers,
})
