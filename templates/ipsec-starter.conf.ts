// Seed 002's /etc/ipsec.conf, FreeS/WAN's format as strongSwan's starter (strongswan-starter)
// still reads it: `config setup`, `conn %default` and one conn per peer site, RSA signatures or
// a pre-shared key. Each conn is host to host between the two sites' external service
// addresses, so it carries everything between them: the GRE. What the article's file has that
// means nothing to strongSwan 5.9 is left out, and test/unit/ha-vpn.test.ts lists it:
// - interfaces="ipsec0=eth0:0" and klipsdebug: KLIPS, FreeS/WAN's own IPsec stack, with its
//   ipsec0 device; the kernel's XFRM (NETKEY) needs no interface to bind to;
// - plutodebug, plutoload, plutostart: pluto, FreeS/WAN's IKE daemon (charon's logging is
//   charondebug; each conn's auto= says whether it is loaded and started);
// - leftnexthop, rightnexthop: KLIPS's routing; the kernel routes ESP itself.
// And one line is spelled as strongSwan documents it: keyingtries=%forever for the article's 0
// (charon takes 0 as "never give up" too; ipsec.conf(5) names only %forever).
//
// The public keys are FreeS/WAN's: RFC 3110 (the DNS KEY record's RSA part), base64 with 0s, as
// `ipsec showhostkey` printed them. strongSwan reads a bare 0s… key as PKCS#1, and RFC 3110 only
// with `dns:` in front (stroke_cred.c, load_pubkey), so the key goes in as `"dns:0s…"`, quoted
// for its `=` padding.
// The file holds no secret: the private key and any PSK are in ipsec.secrets.
import { lines, template, word } from '../src/mesh/config.ts'

export interface StarterConn {
  /** The conn's name, e.g. `site1tosite2`. */
  name: string
  /** This site's external service address and identity (`@site1.company.com`), and its key. */
  left: string
  leftid: string
  /** RFC 3110 base64 with `0s`: the site's ipsec_public_key. Unused with a PSK. */
  leftKey?: string
  right: string
  rightid: string
  rightKey?: string
}

export interface IpsecStarterVars {
  /** rsasig (the article's) or psk. */
  auth: 'rsasig' | 'psk'
  conns: StarterConn[]
}

const key = (what: string, k: string | undefined) => {
  if (k === undefined || !/^0s[A-Za-z0-9+/]+=*$/.test(k))
    throw new Error(`${what} must be an RFC 3110 public key in base64 after 0s, as FreeS/WAN printed it`)
  // In double quotes: starter's parser takes base64's trailing `=` for another assignment
  // ("syntax error, unexpected EQ", seen on the lab's gateways).
  return `"dns:${k}"`
}

export default template('ipsec-starter.conf', (v: IpsecStarterVars) =>
  lines(
    '# /etc/ipsec.conf, read by strongswan-starter; managed by ferry (deploy-ha-vpn)',
    'config setup',
    '    uniqueids=yes',
    '',
    'conn %default',
    '    keyingtries=%forever',
    v.conns.flatMap((c) => [
      '',
      `conn ${word('conn name', c.name)}`,
      `    authby=${v.auth === 'psk' ? 'secret' : 'rsasig'}`,
      `    left=${word('left', c.left)}`,
      v.auth === 'rsasig' && `    leftrsasigkey=${key(`${c.name}: leftrsasigkey`, c.leftKey)}`,
      `    leftid=${word('leftid', c.leftid)}`,
      `    right=${word('right', c.right)}`,
      v.auth === 'rsasig' && `    rightrsasigkey=${key(`${c.name}: rightrsasigkey`, c.rightKey)}`,
      `    rightid=${word('rightid', c.rightid)}`,
      '    auto=start',
    ]),
  ),
)
