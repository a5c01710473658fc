// Seed 002's /etc/frr/zebra.conf, which the article does not print: zebra's own file in Zebra's
// split configuration (bgpd.conf.ts says how FRR 8.4 reads it), with the node's name and the
// same vty passwords as bgpd.conf, as the article's bgpd.conf has them. Mode 0600, owner frr.
import { lines, template, vtyPassword, word } from '../src/mesh/config.ts'

export interface ZebraSplitVars {
  hostname: string
  password: string
  enablePassword: string
}

export default template('zebra-split.conf', (v: ZebraSplitVars) =>
  lines(
    '!',
    `hostname ${word('hostname', v.hostname)}`,
    `password ${vtyPassword(v.password)}`,
    `enable password ${vtyPassword(v.enablePassword)}`,
    'log file /var/log/frr/zebra.log',
    '!',
  ),
)
