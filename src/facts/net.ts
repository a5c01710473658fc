// Facts about reaching an address from a host: which way its kernel routes it, and whether a TCP
// port answers there. A command and a parser each, per OS family.

import type { Os } from '../inventory/types.ts'
import { quote } from '../shell/quote.ts'
import type { Fact } from './ospf.ts'

/** The next hop towards an address: the gateway (none when on-link) and the interface. */
export interface NextHop {
  gateway?: string
  dev: string
}

/** Linux `ip -4 route get`: `172.16.3.17 via 172.16.2.5 dev tap14 src 10.0.0.1 uid 0`. */
export const linuxRouteTo = (address: string): Fact<NextHop | undefined> => ({
  command: `ip -4 route get ${quote(address)}`,
  parse(stdout) {
    const dev = / dev (\S+)/.exec(stdout)?.[1]
    if (!dev) return undefined
    const via = / via (\S+)/.exec(stdout)?.[1]
    return via ? { gateway: via, dev } : { dev }
  },
})

/** The BSDs' `route -n get`: `gateway: 172.16.2.5` and `interface: tap2` lines. */
export const bsdRouteTo = (address: string): Fact<NextHop | undefined> => ({
  command: `route -n get ${quote(address)}`,
  parse(stdout) {
    const dev = /^\s*interface: (\S+)/m.exec(stdout)?.[1]
    if (!dev) return undefined
    const gateway = /^\s*gateway: (\S+)/m.exec(stdout)?.[1]
    return gateway ? { gateway, dev } : { dev }
  },
})

export const routeTo = (os: Os, address: string) => (os === 'linux' ? linuxRouteTo(address) : bsdRouteTo(address))

/**
 * Prints `open` when a TCP connection to the port succeeds within 3 s. Debian has bash's
 * /dev/tcp but not always nc; the BSDs have nc in base. Under sshd, bash reads ~/.bashrc unless
 * told not to, and a slow one (pyenv init took over a second here) would eat the timeout.
 */
export const tcpOpen = (os: Os, address: string, port: number): Fact<boolean> => ({
  command: os === 'linux'
    ? `timeout 3 bash --norc --noprofile -c ${quote(`exec 3<>/dev/tcp/${address}/${port}`)} 2>/dev/null && echo open`
    : `nc -z -w 3 ${quote(address)} ${port} 2>/dev/null && echo open`,
  parse: (stdout) => stdout.trim() === 'open',
})
