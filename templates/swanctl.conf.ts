// strongSwan's /etc/swanctl/conf.d/mesh.conf: the Linux side of seed 003's GRE over IPsec. Like the
// ipsec.conf rule, each peer gets an ESP tunnel covering all traffic between the two global
// addresses (the GRE packets), keyed with the ipsec_psk secret. Load with `swanctl --load-all`.
//
// The defaults are chosen to talk to the article's OpenBSD end: IKEv1 (isakmpd speaks nothing
// else), its main mode 3des-sha1-modp1024, and aes128-sha1 for ESP, which is what the article's
// `ipsecctl -s all` shows was negotiated. Identities are the addresses; on an OpenBSD peer that
// means ipsec.conf without srcid/dstid (its `ids: false`), since `srcid $me/32` is sent as a name.
// The file holds the PSK: mode 0600.
import { lines, quotable, template, word } from '../src/mesh/config.ts'

export interface SwanctlPeer {
  /** Names the connection, child and secret; letters, digits, "_", "." and "-". */
  name: string
  address: string
  /** The ipsec_psk secret. */
  psk: string
  /** Default: the address. */
  id?: string
}

export interface SwanctlConfVars {
  /** This host's global address. */
  local: string
  /** Default: the address. */
  localId?: string
  peers: SwanctlPeer[]
  /** IKE version; default 1, as isakmpd. */
  version?: 1 | 2
  /** IKE proposal; default 3des-sha1-modp1024 (seed 003's main mode). */
  proposals?: string
  /** ESP proposal; default aes128-sha1. */
  espProposals?: string
  /** trap (default) brings a tunnel up on the first packet; start at load. */
  startAction?: 'trap' | 'start' | 'none'
}

export default template('swanctl.conf', (v: SwanctlConfVars) => {
  const localId = word('local id', v.localId ?? v.local)
  return lines(
    'connections {',
    v.peers.flatMap((p) => {
      const name = section(p.name)
      return [
        `    ${name} {`,
        `        version = ${v.version ?? 1}`,
        `        local_addrs = ${word('local address', v.local)}`,
        `        remote_addrs = ${word('peer address', p.address)}`,
        `        proposals = ${word('proposals', v.proposals ?? '3des-sha1-modp1024')}`,
        '        local {',
        '            auth = psk',
        `            id = ${localId}`,
        '        }',
        '        remote {',
        '            auth = psk',
        `            id = ${word('peer id', p.id ?? p.address)}`,
        '        }',
        '        children {',
        `            ${name} {`,
        `                local_ts = ${v.local}/32`,
        `                remote_ts = ${p.address}/32`,
        '                mode = tunnel',
        `                esp_proposals = ${word('ESP proposals', v.espProposals ?? 'aes128-sha1')}`,
        `                start_action = ${v.startAction ?? 'trap'}`,
        '            }',
        '        }',
        '    }',
      ]
    }),
    '}',
    '',
    'secrets {',
    v.peers.flatMap((p) => [
      `    ike-${section(p.name)} {`,
      `        id-local = ${localId}`,
      `        id-remote = ${p.id ?? p.address}`,
      `        secret = "${quotable('IPsec PSK', p.psk)}"`,
      '    }',
    ]),
    '}',
  )
})

function section(name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`${JSON.stringify(name)} cannot name a section`)
  return name
}

/** Where the file holds secrets, for the file step's `mask`. */
export const swanctlSecrets = [/secret = "([^"]*)"/]
