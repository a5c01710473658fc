// OpenBSD's /etc/hostname.pfsync0 (pfsync(4)): up, on the pair's own sync link, and unicast to the
// other node when its address is given (multicast to 224.0.0.240 otherwise). pfsync has no
// authentication: its link is the pair's alone, and pf passes it there only.
import { lines, template, word } from '../src/mesh/config.ts'

export interface HostnamePfsyncVars {
  syncdev: string
  syncpeer?: string
}

export default template('hostname.pfsync', (v: HostnamePfsyncVars) =>
  lines(`up syncdev ${word('syncdev', v.syncdev)}${v.syncpeer ? ` syncpeer ${word('syncpeer', v.syncpeer)}` : ''}`),
)
