// pf rules for an OpenBSD mesh member, loaded as the anchor "ferry-mesh" from /etc/pf.conf: the
// mesh's own plumbing passes (GRE and, with IPsec, ESP and IKE between the global addresses, and
// OSPF on the tunnels) whatever the rest of the ruleset blocks. Traffic routed through the
// tunnels is left to the operator's rules. Validate with `pfctl -nf FILE`.
//
// Seed 003 turns pf off while testing ("you can enable it again after everything works"): these
// are the rules that make turning it back on safe for the mesh.
import { lines, template, word } from '../src/mesh/config.ts'

export interface PfMeshVars {
  /** This host's global address. */
  me: string
  /** The global addresses of its GRE peers. */
  peers: string[]
  /** Pass ESP and IKE (UDP 500 and 4500) too. */
  ipsec: boolean
  /** The tunnel interfaces, where OSPF speaks. */
  tunnels: string[]
}

export default template('pf-mesh.conf', (v: PfMeshVars) => {
  const protos = v.ipsec ? '{ gre esp }' : 'gre'
  const me = word('my address', v.me)
  return lines(
    "# ferry deploy-mesh: the mesh's tunnels and OSPF",
    `table <ferry_mesh_peers> const { ${v.peers.map((p) => word('peer address', p)).join(' ')} }`,
    `pass quick proto ${protos} from ${me} to <ferry_mesh_peers>`,
    `pass quick proto ${protos} from <ferry_mesh_peers> to ${me}`,
    v.ipsec && [
      `pass quick proto udp from ${me} to <ferry_mesh_peers> port { isakmp ipsec-nat-t }`,
      `pass quick proto udp from <ferry_mesh_peers> to ${me} port { isakmp ipsec-nat-t }`,
    ],
    v.tunnels.length > 0 && `pass quick on { ${v.tunnels.map((t) => word('interface', t)).join(' ')} } proto ospf`,
  )
})
