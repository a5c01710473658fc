// conntrackd's /etc/conntrackd/conntrackd.conf for a Linux node of seed 004's pair: what pfsync
// does on OpenBSD. FTFW mode (acknowledged, resent on loss) over the pair's own link, unicast to
// the peer when one is named, else multicast. The backup keeps the master's connections in its
// external cache; ucarp's up script commits them to the kernel when the node becomes master
// (templates/ucarp-script.ts). Connections to or from the node's own addresses (its management,
// the sync link) are not synced: they end at this node and mean nothing to the other.
import { lines, template, word } from '../src/mesh/config.ts'

export interface ConntrackdConfVars {
  syncdev: string
  /** This node's address on the sync link. */
  address: string
  /** The other node's address on it: unicast. Multicast (225.0.0.50) when absent. */
  peer?: string
  port: number
  /** The node's own addresses, never synced. */
  own: string[]
}

/** The daemon's control socket, as Debian's default file names it: `conntrackd -C FILE -s` asks through it. */
export const CONNTRACKD_SOCKET = '/var/run/conntrackd.sock'

export default template('conntrackd.conf', (v: ConntrackdConfVars) =>
  lines(
    '# /etc/conntrackd/conntrackd.conf: written by ferry (deploy-carp-gateway) from the inventory',
    'Sync {',
    '\tMode FTFW {',
    '\t\tDisableExternalCache Off',
    '\t}',
    v.peer
      ? [
          '\tUDP {',
          `\t\tIPv4_address ${word('address', v.address)}`,
          `\t\tIPv4_Destination_Address ${word('peer', v.peer)}`,
          `\t\tPort ${v.port}`,
        ]
      : ['\tMulticast {', '\t\tIPv4_address 225.0.0.50', `\t\tGroup ${v.port}`, `\t\tIPv4_interface ${v.address}`],
    `\t\tInterface ${word('syncdev', v.syncdev)}`,
    '\t\tChecksum on',
    '\t}',
    '}',
    'General {',
    '\tHashSize 32768',
    '\tHashLimit 131072',
    '\tLogFile on',
    '\tSyslog off',
    '\tLockFile /var/lock/conntrackd.lock',
    '\tUNIX {',
    `\t\tPath ${CONNTRACKD_SOCKET}`,
    '\t}',
    // Debian's unit waits for conntrackd's sd_notify; without systemd the call does nothing.
    '\tSystemd on',
    '\tFilter From Userspace {',
    '\t\tProtocol Accept {',
    '\t\t\tTCP',
    '\t\t\tUDP',
    '\t\t\tICMP',
    '\t\t}',
    '\t\tAddress Ignore {',
    ...['127.0.0.1', ...v.own].map((a) => `\t\t\tIPv4_address ${word('address', a)}`),
    '\t\t}',
    '\t}',
    '}',
  ),
)
