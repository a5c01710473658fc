// Quagga's /usr/local/etc/quagga/zebra.conf, as seed 000 writes it: the host name and the
// management (vty) password. The file holds a secret: write it with mode 0600.
import { lines, template, word, vtyPassword } from '../src/mesh/config.ts'

export interface ZebraConfVars {
  hostname: string
  /** The zebra_password secret. */
  password: string
}

export default template('zebra.conf', (v: ZebraConfVars) =>
  lines(`hostname ${word('hostname', v.hostname)}`, `password ${vtyPassword(v.password)}`),
)
