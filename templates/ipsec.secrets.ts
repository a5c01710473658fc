// Seed 002's /etc/ipsec.secrets, which the article does not print: with RSA signatures (its
// choice) the one line naming this site's private key, a PEM file in /etc/ipsec.d/private/
// (relative names are looked up there); with a PSK, one line per peer site between the two
// identities. ipsec.secrets(5). Mode 0600 either way; with a PSK it holds the secret.
import { lines, quotable, template, word } from '../src/mesh/config.ts'

export interface IpsecSecretsVars {
  /** rsasig: the private key file's path. */
  privateKey?: string
  /** psk: this site's identity, and each peer's with the ipsec_psk secret. */
  psk?: { leftid: string; peers: { rightid: string; secret: string }[] }
}

export default template('ipsec.secrets', (v: IpsecSecretsVars) =>
  lines(
    '# /etc/ipsec.secrets; managed by ferry (deploy-ha-vpn)',
    v.privateKey !== undefined && `: RSA ${word('private key path', v.privateKey)}`,
    (v.psk?.peers ?? []).map(
      (p) =>
        `${word('leftid', v.psk!.leftid)} ${word('rightid', p.rightid)} : PSK "${quotable('IPsec PSK', p.secret)}"`,
    ),
  ),
)

/** Where the file holds secrets, for the file step's `mask`. */
export const ipsecSecretsMask = [/: PSK "([^"]*)"/]
