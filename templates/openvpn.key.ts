// The static key every OpenVPN link on a host shares: the openvpn_key secret, as
// `openvpn --genkey secret FILE` writes it. A key is lines, so it is given line by line, and no
// line may hold a control character, as no value in any template may. The file holds a secret:
// write it with mode 0600.
import { lines, template } from '../src/mesh/config.ts'

export interface OpenvpnKeyVars {
  /** The openvpn_key secret, split into its lines. */
  key: string[]
}

export default template('openvpn.key', (v: OpenvpnKeyVars) => lines(v.key))
