// Seed 002's /etc/ha.d/authkeys (authkeys(5)): the same on both nodes, mode 0600 (Heartbeat
// refuses to start otherwise), a secret.
import { lines, template, word } from '../src/mesh/config.ts'

/** One key, SHA-1. */
export default template('authkeys', (v: { key: string }) => lines('auth 1', `1 sha1 ${word('Heartbeat key', v.key)}`))

/** Where authkeys holds its secret, for the file step's `mask`. */
export const authkeysMask = [/^1 sha1 (\S+)$/m]
