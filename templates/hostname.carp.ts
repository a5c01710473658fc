// OpenBSD's /etc/hostname.carpN for one of seed 004's shared addresses: hostname.if(5)'s packed
// form, `inet ADDRESS NETMASK NONE` and then carp(4)'s options on the same line, which netstart
// passes to one `ifconfig carpN inet … vhid … carpdev … advskew … pass …`. With options the netmask
// and broadcast fields must both be there (a CIDR would put `vhid` where the netmask goes); NONE
// takes the broadcast from the netmask. Each `group` line joins an interface group. The file holds
// the CARP passphrase: mode 0640 (netstart "fixes" anything readable by others), masked in diffs.
// carp(4) uses at most 19 bytes of a passphrase and drops the rest without a word: refused here.
import { lines, template, word } from '../src/mesh/config.ts'

export interface HostnameCarpVars {
  address: string
  /** Dotted, e.g. 255.255.255.0. */
  netmask: string
  vhid: number
  carpdev: string
  advskew: number
  /** The carp_pass secret. */
  pass: string
  groups: string[]
}

export default template('hostname.carp', (v: HostnameCarpVars) => {
  if (Buffer.byteLength(v.pass) > 19)
    throw new Error('the CARP passphrase must be at most 19 bytes (carp(4) drops the rest)')
  return lines(
    `inet ${word('address', v.address)} ${word('netmask', v.netmask)} NONE vhid ${v.vhid} carpdev ${word('carpdev', v.carpdev)} advskew ${v.advskew} pass ${word('CARP passphrase', v.pass)}`,
    v.groups.map((g) => `group ${word('group', g)}`),
  )
})

/** Where the file holds its secret, for the file step's `mask`. */
export const hostnameCarpMask = [/ pass (\S+)$/m]
