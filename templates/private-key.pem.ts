// A private key file (PEM), such as seed 002's /etc/ipsec.d/private/SITE.pem: the secret given line
// by line, since no template value may hold a newline. Write it with mode 0600 and mask it whole.
import { lines, template } from '../src/mesh/config.ts'

export interface PrivateKeyVars {
  /** The secret, split into its lines. */
  key: string[]
}

export default template('private-key.pem', (v: PrivateKeyVars) => {
  if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----$/.test(v.key[0] ?? ''))
    throw new Error('the private key must be PEM, its first line -----BEGIN … PRIVATE KEY-----')
  return lines(v.key)
})
