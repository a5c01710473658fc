// What runbooks import: `import { defineRunbook, file, sysctl, … , z } from 'ferry'`.
export { z } from 'zod'
/** POSIX single-quote quoting, as ferry's $ uses (zx's own `quote` emits bash-only $'…'). */
export { quote } from './shell/quote.ts'
export {
  defineRunbook,
  ParamError,
  type Runbook,
  type StepsContext,
  type PrepareContext,
  type Ask,
  type Choice,
} from './runbook.ts'
export { file } from './steps/file.ts'
export { directory } from './steps/directory.ts'
export { link } from './steps/link.ts'
export { line } from './steps/line.ts'
export { block } from './steps/block.ts'
export { sysctl } from './steps/sysctl.ts'
export { pkg } from './steps/pkg.ts'
export { service } from './steps/service.ts'
export { iface } from './steps/iface.ts'
export { route } from './steps/route.ts'
export { rule } from './steps/rule.ts'
export { command } from './steps/command.ts'
export { verify } from './steps/verify.ts'
export { action } from './steps/action.ts'
export { cron } from './steps/cron.ts'
export { user } from './steps/user.ts'
export { group } from './steps/group.ts'
export type { Step, StepContext, Change, ProbeResult } from './steps/step.ts'
export type { Host, Inventory } from './inventory/types.ts'
/** What each OS answers: its routing suite, its jail driver, its commands and facts. */
export { platformFor, jailDriver, ROUTING_SUITES, type RoutingSuite } from './platform/platform.ts'
export { StepError } from './steps/step.ts'
export { allocateLinks, linksOf, type AllocatedLink, type LinkEnd } from './mesh/links.ts'
/** OSPF facts (neighbour tables, routes): a command and a parser for each daemon and OS. */
export * as ospf from './facts/ospf.ts'
/** IPsec facts: the ESP SAs a host holds (strongSwan, OpenBSD's ipsecctl), with their packet counts. */
export * as ipsec from './facts/ipsec.ts'
export { DEFAULT_COST, type HostLink } from './mesh/links.ts'
export type { OspfInterface } from './mesh/config.ts'
/** Seed 002's HA facts: addresses held, Heartbeat's resources, the starter's IKE SAs, the LAN's paths. */
export * as ha from './facts/ha.ts'
/** BGP facts: each neighbour's session, OpenBGPD's through a domain's own control socket, FRR's per VRF. */
export * as bgp from './facts/bgp.ts'
/** Reachability facts: the next hop towards an address, and whether a TCP port answers. */
export * as net from './facts/net.ts'
/** zfs(8) command lines for snapshots and replication streams. */
export * as zfs from './jails/zfs.ts'
export { poolOf, parentOf, hostAddress, type JailDriver, type JailSpec } from './jails/driver.ts'
export { parseDiscovery, definitionDiffers, type JailState, type JailHost } from './jails/discovery.ts'
export { relay, type RelayProgress } from './jails/relay.ts'
export { runLine } from './shell/remote.ts'
export { writeFile, removeFile, dirOf } from './platform/common.ts'
export type { Transport } from './transport/transport.ts'
/** Ansible-style Jinja2 templates (`ospfd.conf.j2`), rendered to the bytes Ansible's template module writes. */
export { jinja, TemplateError } from './jinja/jinja.ts'
