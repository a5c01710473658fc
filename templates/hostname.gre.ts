// OpenBSD's /etc/hostname.greN for seed 003's tunnel. The article runs three commands:
//   ifconfig gre0 create
//   ifconfig gre0 tunnel MYGLOBAL PEERGLOBAL
//   ifconfig gre0 inet MYGRE PEERGRE netmask 0xffffffff link0 up
// netstart creates the interface for the file and passes each line to ifconfig, except that it
// rewrites a line starting with `inet` as `inet ADDRESS [NETMASK [BROADCAST]]`. So the address
// line goes in without its `inet`; ifconfig's family defaults to inet. These are the same lines
// the iface step writes for a gre interface on OpenBSD: a runbook uses one or the other for a
// given file, never both.
import { lines, template, word } from '../src/mesh/config.ts'

export interface HostnameGreVars {
  /** Outer addresses: this host's and the peer's global ones. */
  tunnel: { local: string; remote: string }
  /** Inner addresses: this end's and the peer's, from the link plan. */
  address: string
  peer: string
  /** Default 0xffffffff, as in the article: a point-to-point pair, not a subnet. */
  netmask?: string
  /** The article sets link0; default true. */
  link0?: boolean
}

export default template('hostname.gre', (v: HostnameGreVars) => {
  const flags = (v.link0 ?? true) ? 'link0 up' : 'up'
  return lines(
    `tunnel ${word('tunnel local', v.tunnel.local)} ${word('tunnel remote', v.tunnel.remote)}`,
    `${word('address', v.address)} ${word('peer', v.peer)} netmask ${word('netmask', v.netmask ?? '0xffffffff')} ${flags}`,
  )
})
