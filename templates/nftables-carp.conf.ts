// /etc/nftables.conf for a Linux node of seed 004's pair: pf-carp.conf's rules in nftables, on
// interface groups (link groups, named in /etc/iproute2/group), the same on both nodes. What
// differs from pf, and why:
// - one forward hook stands for pf's `pass in on int` + `pass out on egress`: what comes in on an
//   inside group may go out on an outside group (every group not inside);
// - a connection's state begins with a SYN (pf's default `flags S/SA`): a TCP packet from the
//   middle of a connection this node holds no state for is dropped. That is what makes synced
//   states matter: without conntrackd, the new master drops the inside's open connections;
// - the inside's networks leave through the outside shared addresses (snat), as a real edge
//   does: the far side sees one address, whichever node holds it;
// - conntrackd's sync (pfsync's part) is passed on its own link, ucarp's advertisements (IP
//   protocol 112, CARP's and VRRP's) on the CARP links.
// The file flushes the whole ruleset first, as Debian's own and as pf.conf is the whole of pf.
// Check with `nft -c -f FILE`.
import { lines, template, word } from '../src/mesh/config.ts'

export interface NftablesCarpVars {
  /** The interfaces ucarp runs on. */
  carpdevs: string[]
  /** The link conntrackd syncs over, and its UDP port. */
  syncdev: string
  syncPort: number
  /** The inside's groups, and every other group (the outside). */
  inside: string[]
  outside: string[]
  /** Per outside shared address: its carpdev, the address, and the inside networks behind it. */
  snat: { carpdev: string; address: string; from: string[] }[]
}

export default template('nftables-carp.conf', (v: NftablesCarpVars) => {
  // One value, or an anonymous set of them; names in double quotes, addresses bare.
  const list = (xs: string[], what: string, q = '"') => {
    const each = xs.map((x) => `${q}${word(what, x)}${q}`)
    return each.length === 1 ? each[0]! : `{ ${each.join(', ')} }`
  }
  const set = (xs: string[], what: string) => list(xs, what)
  const from = `iifgroup ${set(v.inside, 'group')}`
  return lines(
    '#!/usr/sbin/nft -f',
    '# /etc/nftables.conf: written by ferry (deploy-carp-gateway) from the inventory',
    'flush ruleset',
    '',
    'table inet filter {',
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy drop;',
    '\t\tiif "lo" accept',
    '\t\tct state established,related accept',
    `\t\tiifname ${set([v.syncdev], 'syncdev')} udp dport ${v.syncPort} accept`,
    `\t\tiifname ${set(v.carpdevs, 'carpdev')} ip protocol vrrp accept`,
    `\t\t${from} accept`,
    '\t}',
    '',
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy drop;',
    '\t\tct state established,related accept',
    '\t\ttcp flags & (fin | syn | rst | ack) != syn ct state new drop',
    `\t\t${from}${v.outside.length ? ` oifgroup ${set(v.outside, 'group')}` : ''} accept`,
    '\t}',
    '}',
    v.snat.length > 0 && [
      '',
      'table ip nat {',
      '\tchain postrouting {',
      '\t\ttype nat hook postrouting priority srcnat; policy accept;',
      ...v.snat.map(
        (s) =>
          `\t\toifname "${word('carpdev', s.carpdev)}" ip saddr ${list(s.from, 'network', '')} snat to ${word('address', s.address)}`,
      ),
      '\t}',
      '}',
    ],
  )
})
