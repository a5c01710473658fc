// OpenBSD's /etc/sasyncd.conf (seed 004): sasyncd follows one CARP interface (master or backup),
// sends the IPsec SAs isakmpd makes to its peer, and the peer's isakmpd (started with -S) answers
// but never initiates. sharedkey is the AES key itself, `0x` and 32, 48 or 64 hex digits: the file
// is a secret, and sasyncd refuses it unless it is root's and readable by root alone (mode 0600;
// even 0640 is refused). Check with `sasyncd -n -c FILE`.
import { lines, template, word } from '../src/mesh/config.ts'

export interface SasyncdConfVars {
  carp: string
  peer: string
  /** The sasyncd_key secret: 0x and 32, 48 or 64 hex digits. */
  key: string
}

export default template('sasyncd.conf', (v: SasyncdConfVars) => {
  if (!/^0x([0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$/.test(v.key))
    throw new Error('the sasyncd key must be 0x and 32, 48 or 64 hex digits (AES-128, -192 or -256)')
  return lines(
    '# /etc/sasyncd.conf: written by ferry (deploy-carp-gateway) from the inventory',
    `interface ${word('CARP interface', v.carp)}`,
    `peer ${word('peer', v.peer)}`,
    `sharedkey ${v.key}`,
  )
})

/** Where the file holds its secret, for the file step's `mask`. */
export const sasyncdMask = [/^sharedkey (\S+)$/m]
