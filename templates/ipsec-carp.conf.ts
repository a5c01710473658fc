// OpenBSD's /etc/ipsec.conf for seed 004's pair, in both of the forms its ipsecctl(8) section
// shows: `ike esp from A to B peer C` (isakmpd negotiates; ipsecctl's defaults for the crypto) and
// static keys, `esp from A to B spi OUT:IN authkey file "OUT:IN" enckey file "OUT:IN"` (HMAC-SHA2-256
// and AES by default). The article's examples lost their addresses in print (`esp from to spi …`,
// `ike esp from to peer`): these are the same rules with the inventory's. The key files hold bare
// hex, one per direction, and are written apart (mode 0600). ipsecctl refuses an ipsec.conf that
// others may read: mode 0600. Check with `ipsecctl -n -f FILE`.
import { lines, quotable, template, word } from '../src/mesh/config.ts'

export type IpsecCarpRule =
  | { keying: 'ike'; from: string; to: string; peer?: string }
  | {
      keying: 'static'
      from: string
      to: string
      spi: { out: number; in: number }
      /** Key file paths, outgoing then incoming. */
      authkey: { out: string; in: string }
      enckey: { out: string; in: string }
    }

export interface IpsecCarpConfVars {
  rules: IpsecCarpRule[]
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`
const files = (what: string, k: { out: string; in: string }) =>
  `"${quotable(what, word(what, k.out))}:${quotable(what, word(what, k.in))}"`

export default template('ipsec-carp.conf', (v: IpsecCarpConfVars) =>
  lines(
    '# /etc/ipsec.conf: written by ferry (deploy-carp-gateway) from the inventory',
    v.rules.flatMap((r) =>
      r.keying === 'ike'
        ? [
            `ike esp from ${word('from', r.from)} to ${word('to', r.to)}${r.peer ? ` peer ${word('peer', r.peer)}` : ''}`,
          ]
        : [
            `esp from ${word('from', r.from)} to ${word('to', r.to)} spi ${hex(r.spi.out)}:${hex(r.spi.in)} \\`,
            `\tauthkey file ${files('authkey file', r.authkey)} enckey file ${files('enckey file', r.enckey)}`,
          ],
    ),
  ),
)
