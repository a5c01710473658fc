// One OpenVPN TAP point-to-point link, as seed 000 runs its mesh: one instance per peer, each on
// its own UDP port, with a pre-shared static key (the openvpn_key secret, written to keyFile with
// mode 0600). The two ends use opposite key directions. Validate with
// `openvpn --config FILE --version`.
//
// The article does not show its OpenVPN config; this is the plainest TAP p2p setup that OpenVPN
// 2.6 runs, as measured in the lab (DESIGN.md). `secret` is deprecated in 2.6 in favour of TLS but
// still works; OpenSSL 3 has no Blowfish, 2.6's static-key default, hence the explicit cipher.
import { count, lines, template, word } from '../src/mesh/config.ts'
import { dottedMask, splitCidr } from '../src/mesh/ipv4.ts'

export interface OpenvpnTapVars {
  /** The tap interface, e.g. tap2. */
  dev: string
  /** A comment for the first line, e.g. `TAP to server2`. */
  description?: string
  /** The peer's underlay (public) address or name. */
  remote: string
  /** Bind to this underlay address; default: all of them. */
  local?: string
  /** UDP port, the same at both ends (the link plan's port). */
  port: number
  /** This end's inner address with its prefix, e.g. 172.16.2.1/30. */
  address: string
  /** Path of the static key file on the host. */
  keyFile: string
  /** 0 at one end, 1 at the other (the link plan's keyDirection). */
  keyDirection: 0 | 1
  /** Default AES-256-CBC. */
  cipher?: string
  /** Default SHA256. */
  auth?: string
  /** `keepalive PING RESTART`, seconds; default 10 60. */
  keepalive?: [number, number]
}

export default template('openvpn-tap.conf', (v: OpenvpnTapVars) => {
  const { address, prefix } = splitCidr(v.address)
  const [ping, restart] = v.keepalive ?? [10, 60]
  return lines(
    v.description !== undefined && `# ${v.description}`,
    `dev ${word('dev', v.dev)}`,
    'dev-type tap',
    'proto udp',
    v.local !== undefined && `local ${word('local', v.local)}`,
    `port ${count('port', v.port)}`,
    `remote ${word('remote', v.remote)}`,
    `ifconfig ${address} ${dottedMask(prefix)}`,
    `secret ${word('key file', v.keyFile)} ${v.keyDirection}`,
    `cipher ${word('cipher', v.cipher ?? 'AES-256-CBC')}`,
    `auth ${word('auth', v.auth ?? 'SHA256')}`,
    `keepalive ${count('keepalive ping', ping)} ${count('keepalive restart', restart)}`,
    'persist-key',
    'persist-tun',
  )
})
