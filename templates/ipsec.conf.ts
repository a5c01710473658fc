// OpenBSD's /etc/ipsec.conf in seed 003's shape: macros for the addresses and the pre-shared key,
// then one `ike esp` rule per peer that encrypts everything between the two global addresses, which
// is the GRE traffic. Validate with `ipsecctl -n -f FILE`, load with `ipsecctl -f FILE` once isakmpd
// runs with -K (`rcctl set isakmpd flags -K`).
//
// With one peer named `mypeer` whose key macro is `mypassword`, this is the article's file. With
// more peers, every peer gets its address and key macros and its own rule. Macro names hold only
// letters, digits and "_" (other characters become "_"); prefix them (peer_…) to stay clear of
// ipsec.conf's keywords. The continuation lines are indented with a tab; the article's web page
// lost its indentation. The file holds the PSK: mode 0600.
import { lines, quotable, template, word } from '../src/mesh/config.ts'

export interface IpsecCrypto {
  auth: string
  enc: string
  group: string
}

export interface IpsecPeer {
  /** The macro for the peer's global address, e.g. `mypeer` or `peer_server2`. */
  name: string
  address: string
  /** The ipsec_psk secret. */
  psk: string
  /** The macro for the key; default `<name>_psk`. */
  pskName?: string
}

export interface IpsecConfVars {
  /** This host's global address, in the macro `me`. */
  me: string
  peers: IpsecPeer[]
  /** Phase 1; default the article's: auth hmac-sha1 enc 3des group modp1024. */
  main?: IpsecCrypto
  /** Phase 2; left out by default, as in the article, so ipsecctl's defaults apply. */
  quick?: IpsecCrypto
  /** `srcid $me/32 dstid $peer/32`, as in the article; default true. */
  ids?: boolean
}

const SEED_MAIN: IpsecCrypto = { auth: 'hmac-sha1', enc: '3des', group: 'modp1024' }

export default template('ipsec.conf', (v: IpsecConfVars) => {
  const macros = v.peers.map((p) => ({ ...p, name: macro(p.name), pskName: macro(p.pskName ?? `${p.name}_psk`) }))
  const names = ['me', ...macros.flatMap((p) => [p.name, p.pskName])]
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup !== undefined) throw new Error(`macro ${dup} is defined twice`)
  const crypto = (c: IpsecCrypto) =>
    `auth ${word('auth', c.auth)} enc ${word('enc', c.enc)} group ${word('group', c.group)}`
  return lines(
    macros.map((p) => `${p.name} = "${quotable('peer address', p.address)}"`),
    `me = "${quotable('my address', v.me)}"`,
    macros.map((p) => `${p.pskName} = "${quotable('IPsec PSK', p.psk)}"`),
    macros.flatMap((p) => [
      `ike esp from $me to $${p.name} peer $${p.name} \\`,
      `\tmain ${crypto(v.main ?? SEED_MAIN)} \\`,
      v.quick && `\tquick ${crypto(v.quick)} \\`,
      (v.ids ?? true) && `\tsrcid $me/32 dstid $${p.name}/32 \\`,
      `\tpsk $${p.pskName}`,
    ]),
  )
})

/** ipsecctl expands `$name` over letters, digits and "_" only. */
function macro(name: string): string {
  const m = name.replace(/[^A-Za-z0-9_]/g, '_')
  return /^[0-9]/.test(m) ? `_${m}` : m
}

/** Where the file holds secrets, for the file step's `mask`. */
export const ipsecSecrets = [/_psk = "([^"]*)"/]
