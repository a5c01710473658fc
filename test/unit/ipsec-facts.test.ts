// The IPsec facts' parsers, against output rebuilt by hand from each tool's printf formats; no real
// listing was captured (no OpenBSD host, and the lab cannot carry ESP yet).
//
// strongSwan 5.9.8, `swanctl --list-sas --pretty`: the dump is vici_message.c's `dump` method with
// pretty set (src/libcharon/plugins/vici/vici_message.c, lines 552-644 at tag 5.9.8): "LABEL {",
// two more spaces a level, "name = value", "name {" … "}", "name = [" … "]", the message's last "}"
// at column 0; swanctl prints one "list-sa event" message per IKE_SA, then the "list-sas reply"
// (src/swanctl/commands/list_sas.c, list_cb and list_sas, lines 349-453). The keys, in their order,
// are vici_query.c's (list_ike lines 404-521, list_child lines 287-333, list_child_ipsec 178-244,
// list_child_stats 249-282): SPIs "%.8x", counts in decimal, states as child_sa_state_names.
//
// OpenBSD, `ipsecctl -vv -s sa` (sbin/ipsecctl/ipsecctl.c 1.88: ipsecctl_print_rule prints "@%d "
// under -vv, then ipsecctl_print_sa "esp tunnel from A to B spi 0x%08x auth … enc …"; pfkdump.c 1.58:
// pfkey_print_sa prints each extension in type order as "\t%s: " and a newline: print_sa's
// "spi … auth … enc …" and "\t\tstate … replay … flags …", print_life's "alloc … bytes … add …
// first …", print_counter's newline then "\t\t%llu input packet%s" etc., every one under -vv).
import { describe, expect, it } from 'vitest'
import { between, moved, openbsdSas, strongswanSas } from '../../src/facts/ipsec.ts'

const HQ = '198.51.100.1'
const BRANCH1 = '203.0.113.2'
const BRANCH2 = '203.0.113.3'

/** One CHILD_SA as list_child prints it; `sa` is left out for a state without one installed. */
const child = (
  id: string,
  state: string,
  peer: string,
  sa?: { in: string; out: string; packetsIn: number; packetsOut: number },
) => [
  `      ${id} {`,
  `        name = ${id.replace(/-\d+$/, '')}`,
  `        uniqueid = ${id.replace(/^.*-/, '')}`,
  '        reqid = 1',
  `        state = ${state}`,
  '        mode = TUNNEL',
  ...(sa
    ? [
        '        protocol = ESP',
        `        spi-in = ${sa.in}`,
        `        spi-out = ${sa.out}`,
        '        encr-alg = AES_CBC',
        '        encr-keysize = 128',
        '        integ-alg = HMAC_SHA1_96',
        `        bytes-in = ${sa.packetsIn * 96}`,
        `        packets-in = ${sa.packetsIn}`,
        ...(sa.packetsIn ? ['        use-in = 1'] : []),
        `        bytes-out = ${sa.packetsOut * 96}`,
        `        packets-out = ${sa.packetsOut}`,
        ...(sa.packetsOut ? ['        use-out = 0'] : []),
        '        rekey-time = 2874',
        '        life-time = 3421',
        '        install-time = 179',
      ]
    : []),
  '        local-ts = [',
  `          ${HQ}/32`,
  '        ]',
  '        remote-ts = [',
  `          ${peer}/32`,
  '        ]',
  '      }',
]

/** One list-sa event: an IKE_SA of the connection named after the peer, with its CHILD_SAs. */
const ikeSa = (name: string, peer: string, state: string, children: string[][]) => [
  'list-sa event {',
  `  ${name} {`,
  '    uniqueid = 3',
  '    version = 1',
  `    state = ${state}`,
  `    local-host = ${HQ}`,
  '    local-port = 500',
  `    local-id = ${HQ}`,
  `    remote-host = ${peer}`,
  '    remote-port = 500',
  `    remote-id = ${peer}`,
  '    initiator = yes',
  '    initiator-spi = 5ad2c4a1e0f3b789',
  '    responder-spi = 9c8b7a6f5e4d3c2b',
  '    encr-alg = 3DES_CBC',
  '    integ-alg = HMAC_SHA1_96',
  '    prf-alg = PRF_HMAC_SHA1',
  '    dh-group = MODP_1024',
  ...(state === 'ESTABLISHED' ? ['    established = 180', '    reauth-time = 9845'] : []),
  '    child-sas {',
  ...children.flat(),
  '    }',
  '  }',
  '}',
]
const REPLY = ['list-sas reply {', '}']
const swanctl = (...events: string[][]) => [...events.flat(), ...REPLY, ''].join('\n')

describe('strongSwan: swanctl --list-sas --pretty', () => {
  it('no SAs: the reply alone', () => {
    expect(strongswanSas.command).toBe('swanctl --list-sas --pretty')
    expect(strongswanSas.parse(swanctl())).toEqual([])
  })

  it('an IKE_SA up with no CHILD_SA, and one whose CHILD_SA is still being installed: no ESP SA', () => {
    const out = swanctl(
      ikeSa('branch1', BRANCH1, 'ESTABLISHED', []),
      ikeSa('branch2', BRANCH2, 'ESTABLISHED', [child('branch2-4', 'INSTALLING', BRANCH2)]),
    )
    expect(strongswanSas.parse(out)).toEqual([])
  })

  it('several peers, a rekeyed CHILD_SA beside its successor, a second IKE_SA to one peer, a deleted one left out', () => {
    const out = swanctl(
      ikeSa('branch1', BRANCH1, 'ESTABLISHED', [
        child('branch1-7', 'REKEYED', BRANCH1, { in: 'c0a80101', out: '0b1c2d3e', packetsIn: 342, packetsOut: 343 }),
        child('branch1-9', 'INSTALLED', BRANCH1, { in: 'c4f0e1d2', out: '7e6d5c4b', packetsIn: 1, packetsOut: 0 }),
      ]),
      ikeSa('branch2', BRANCH2, 'ESTABLISHED', [
        child('branch2-2', 'INSTALLED', BRANCH2, { in: 'cc00ff11', out: '00ab00cd', packetsIn: 12, packetsOut: 12 }),
      ]),
      // Both ends started IKE at once (trap): a second IKE_SA of the same connection.
      ikeSa('branch2', BRANCH2, 'ESTABLISHED', [
        child('branch2-5', 'DELETED', BRANCH2, { in: 'cd11ee22', out: '01ab01cd', packetsIn: 0, packetsOut: 0 }),
      ]),
    )
    const sas = strongswanSas.parse(out)
    expect(sas).toEqual([
      { from: BRANCH1, to: HQ, spi: 'c0a80101', packets: 342 },
      { from: HQ, to: BRANCH1, spi: '0b1c2d3e', packets: 343 },
      { from: BRANCH1, to: HQ, spi: 'c4f0e1d2', packets: 1 },
      { from: HQ, to: BRANCH1, spi: '7e6d5c4b', packets: 0 },
      { from: BRANCH2, to: HQ, spi: 'cc00ff11', packets: 12 },
      { from: HQ, to: BRANCH2, spi: '00ab00cd', packets: 12 },
    ])
    expect(between(sas, HQ, BRANCH2)).toEqual({ in: [sas[4]], out: [sas[5]] })
    expect(between(sas, HQ, '203.0.113.4')).toEqual({ in: [], out: [] })
  })

  it('a line that is not vici (not the listing at all) is an error that quotes it', () => {
    expect(() => strongswanSas.parse('Security Associations (1 up, 0 connecting):\n')).toThrow(
      "swanctl printed a line that is not vici's: Security Associations (1 up, 0 connecting):",
    )
  })
})

/** One SA as `ipsecctl -vv -s sa` prints it: the rule line, then every extension the kernel sent. */
const sad = (from: string, to: string, spi: string, counts: { in: number; out: number } | 'larval', flows = true) =>
  counts === 'larval'
    ? [
        `@0 esp transport from ${from} to ${to} spi 0x${spi}`,
        `\tsa: spi 0x${spi} auth none enc none`,
        '\t\tstate larval replay 0 flags 0<>',
        '\tlifetime_cur: alloc 0 bytes 0 add 1714000390 first 0',
        `\taddress_src: ${from}`,
        `\taddress_dst: ${to}`,
        '\tcounter: ',
        ...['input packets', 'output packets', 'input bytes', 'output bytes'].map((w) => `\t\t0 ${w}`),
        '\t\t0 input bytes, decompressed',
        '\t\t0 output bytes, uncompressed',
        '\t\t0 packets dropped on input',
        '\t\t0 packets dropped on output',
        '',
        '\treplay: rpl 0',
      ]
    : [
        `@0 esp tunnel from ${from} to ${to} spi 0x${spi} auth hmac-sha1 enc aes`,
        `\tsa: spi 0x${spi} auth hmac-sha1 enc aes`,
        '\t\tstate mature replay 16 flags 0x404<tunnel,esn>',
        `\tlifetime_cur: alloc 0 bytes ${(counts.in + counts.out) * 96} add 1714000000 first 1714000003`,
        '\tlifetime_hard: alloc 0 bytes 0 add 1200 first 0',
        '\tlifetime_soft: alloc 0 bytes 0 add 1080 first 0',
        `\taddress_src: ${from}`,
        `\taddress_dst: ${to}`,
        `\tidentity_src: type prefix id 0: ${from}/32`,
        `\tidentity_dst: type prefix id 0: ${to}/32`,
        ...(flows
          ? [
              '\tsrc_mask: 255.255.255.255',
              '\tdst_mask: 255.255.255.255',
              '\tprotocol: proto 0 flags 0',
              `\tflow_type: type use direction ${counts.in ? 'in' : 'out'}`,
              `\tsrc_flow: ${from}`,
              `\tdst_flow: ${to}`,
            ]
          : []),
        '\tlifetime_lastuse: alloc 0 bytes 0 add 0 first 1714000400',
        '\tcounter: ',
        `\t\t${counts.in} input packet${counts.in === 1 ? '' : 's'}`,
        `\t\t${counts.out} output packet${counts.out === 1 ? '' : 's'}`,
        `\t\t${counts.in * 96} input bytes`,
        `\t\t${counts.out * 96} output bytes`,
        '\t\t0 input bytes, decompressed',
        '\t\t0 output bytes, uncompressed',
        '\t\t0 packets dropped on input',
        '\t\t0 packets dropped on output',
        '',
        `\treplay: rpl ${counts.in + counts.out + 1}`,
      ]
const ipsecctl = (...sas: string[][]) => [...sas.flat(), ''].join('\n')

describe('OpenBSD: ipsecctl -vv -s sa', () => {
  it('no SAs: nothing at all (ipsecctl_show prints no title without -s all)', () => {
    expect(openbsdSas.command).toBe('ipsecctl -vv -s sa')
    expect(openbsdSas.parse('')).toEqual([])
  })

  it('SAs sorted by SPI, both directions to two peers, a rekey beside the old SA; a larval SPI is no SA', () => {
    const out = ipsecctl(
      sad(HQ, BRANCH1, '0b1c2d3e', { in: 0, out: 343 }),
      sad(BRANCH2, HQ, '1a2b3c4d', { in: 1, out: 0 }, false),
      sad(HQ, BRANCH2, '2b3c4d5e', { in: 0, out: 12 }),
      sad(HQ, BRANCH1, '7e6d5c4b', { in: 0, out: 0 }),
      sad(BRANCH1, HQ, '9a8b7c6d', 'larval'),
      sad(BRANCH1, HQ, 'c0a80101', { in: 342, out: 0 }),
    )
    const sas = openbsdSas.parse(out)
    expect(sas).toEqual([
      { from: HQ, to: BRANCH1, spi: '0b1c2d3e', packets: 343 },
      { from: BRANCH2, to: HQ, spi: '1a2b3c4d', packets: 1 },
      { from: HQ, to: BRANCH2, spi: '2b3c4d5e', packets: 12 },
      { from: HQ, to: BRANCH1, spi: '7e6d5c4b', packets: 0 },
      { from: BRANCH1, to: HQ, spi: 'c0a80101', packets: 342 },
    ])
    expect(between(sas, HQ, BRANCH1)).toEqual({ in: [sas[4]], out: [sas[0], sas[3]] })
  })

  it('with one -v a zero count is left out: the SA still counts, with 0 packets', () => {
    const out = ipsecctl(sad(HQ, BRANCH1, '0b1c2d3e', { in: 0, out: 7 }))
      .replace(/^@0 /gm, '')
      .replace(/^\t\t0 .*\n/gm, '')
    expect(out).not.toContain('0 input packets')
    expect(openbsdSas.parse(out)).toEqual([{ from: HQ, to: BRANCH1, spi: '0b1c2d3e', packets: 7 }])
  })
})

describe('moved: traffic between two looks at one direction', () => {
  const sa = (spi: string, packets: number) => ({ from: HQ, to: BRANCH1, spi, packets })
  it('the same counts have not moved; a grown count has; a new SA (a rekey) that carried packets has', () => {
    expect(moved([sa('0b1c2d3e', 10)], [sa('0b1c2d3e', 10)])).toBe(false)
    expect(moved([sa('0b1c2d3e', 10)], [sa('0b1c2d3e', 11)])).toBe(true)
    expect(moved([sa('0b1c2d3e', 10)], [sa('7e6d5c4b', 0)])).toBe(false)
    expect(moved([sa('0b1c2d3e', 10)], [sa('0b1c2d3e', 10), sa('7e6d5c4b', 1)])).toBe(true)
    expect(moved([], [])).toBe(false)
  })
})
