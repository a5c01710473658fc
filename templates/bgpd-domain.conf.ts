// bgpd.conf(5) for a tenant's own OpenBGPD, the one seed 001 starts in the tenant's routing domain
// (`rcctl set bgpd_rd1 rtable 1`, `flags "-f /etc/bgpd_rd1.conf"`). The article shows only how it
// is started and asked (`bgpctl -s /var/run/bgpd.sock.1`), not the file: this is the least one
// that announces the tenant's networks and takes its neighbours' routes. OpenBGPD's filters deny
// by default, so both directions are allowed explicitly; the session is the tenant's own, inside
// its domain, and nothing it learns leaves that domain's table. Check with `bgpd -n -f FILE`.
import { lines, quotable, template, word } from '../src/mesh/config.ts'

export interface BgpdDomainVars {
  tenant: string
  domain: number
  as: number
  routerId: string
  networks: string[]
  neighbors: { address: string; remoteAs: number; descr?: string }[]
  /** The control socket, where the default (/var/run/bgpd.sock.RDOMAIN) would not be the domain's own. */
  socket?: string
}

export default template('bgpd-domain.conf', (v: BgpdDomainVars) =>
  lines(
    `# bgpd for tenant ${v.tenant}, in routing domain ${v.domain}: written by ferry (deploy-tenants)`,
    `AS ${v.as}`,
    `router-id ${word('router id', v.routerId)}`,
    v.socket && `socket "${quotable('socket', v.socket)}"`,
    v.networks.map((n) => `network ${word('network', n)}`),
    v.neighbors.flatMap((n) => [
      `neighbor ${word('neighbor', n.address)} {`,
      `\tremote-as ${n.remoteAs}`,
      n.descr && `\tdescr "${quotable('descr', n.descr)}"`,
      '}',
    ]),
    'allow from any',
    'allow to any',
  ),
)
