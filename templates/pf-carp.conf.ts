// OpenBSD's /etc/pf.conf for seed 004's pair, written against interface groups and `egress` (the
// group of the interfaces the default route points to) rather than interface names: the ruleset
// is the same on both nodes and on any hardware, the groups are in each hostname.if. The article
// prints no ruleset; this is the least one its setup needs: CARP on the interfaces it runs on and
// pfsync on its own link, both passed first and their states never synced (`no-sync`); IKE and
// ESP with the IPsec peers; the inside out; everything else blocked. Traffic inside the tunnels
// shows on enc0, which is skipped. Check with `pfctl -nf FILE`.
import { lines, template, word } from '../src/mesh/config.ts'

export interface PfCarpVars {
  /** The physical interfaces CARP runs on. */
  carpdevs: string[]
  syncdev: string
  /** The groups of the inside interfaces: what comes in on them may go out. */
  inside: string[]
  ipsec: boolean
}

export default template('pf-carp.conf', (v: PfCarpVars) => {
  const list = (xs: string[], what: string) =>
    xs.length === 1 ? word(what, xs[0]!) : `{ ${xs.map((x) => word(what, x)).join(' ')} }`
  return lines(
    '# /etc/pf.conf: written by ferry (deploy-carp-gateway) from the inventory',
    v.ipsec ? 'set skip on { lo enc0 }' : 'set skip on lo',
    'block',
    `pass quick on ${word('syncdev', v.syncdev)} proto pfsync keep state (no-sync)`,
    `pass quick on ${list(v.carpdevs, 'carpdev')} proto carp keep state (no-sync)`,
    v.ipsec && ['pass quick on egress proto udp to port { isakmp ipsec-nat-t }', 'pass quick on egress proto esp'],
    v.inside.length > 0 && `pass in on ${list(v.inside, 'group')}`,
    'pass out on egress',
  )
})
