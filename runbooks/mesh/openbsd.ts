// deploy-mesh on OpenBSD, as seed 003 runs it: GRE tunnels (hostname.greN, link0), IPsec between
// the global addresses (ipsec.conf, isakmpd -K, ipsecctl), and ospfd with MD5, all in base. No
// OpenBSD machine exists where ferry is tested: this plan is proved by golden tests.
import { command, file, line, service, sysctl, ospf, ipsec as ipsecFacts, type Step } from 'ferry'
import ipsecConf, { ipsecSecrets } from '../../templates/ipsec.conf.ts'
import openbsdOspfd, { openbsdOspfdSecrets } from '../../templates/ospfd-openbsd.conf.ts'
import pfMesh from '../../templates/pf-mesh.conf.ts'
import {
  greTunnel,
  linksOfKind,
  loopbacks,
  ospfInterfaces,
  platformOf,
  refuseKinds,
  refuseRouting,
  verifyMesh,
  type Member,
  type OsSteps,
} from './common.ts'

const PF_ANCHOR = '/etc/pf.ferry-mesh.conf'

export async function openbsdSteps(m: Member): Promise<OsSteps> {
  refuseKinds(
    m,
    ['gre', 'gre-ipsec'],
    'OpenVPN is built for FreeBSD and Linux; OpenBSD links are gre or gre-ipsec, as in seed 003',
  )
  refuseRouting(m, 'openbsd', "deploy-mesh builds OpenBSD's ospfd on OpenBSD, as seed 003 runs it")
  const ipsec = linksOfKind(m, 'gre-ipsec')
  const steps: Step[] = [
    sysctl('forwarding', { key: 'net.inet.ip.forwarding', value: '1' }),
    ...(m.links.length ? [sysctl('gre allowed', { key: 'net.inet.gre.allow', value: '1' })] : []),
    ...loopbacks(m, { jails: true }),
    // ifconfig greN create; tunnel ME PEER; inet A B netmask 0xffffffff link0 up; and hostname.greN.
    ...m.links.map((l) => greTunnel(m, l, `${l.local.address} peer ${l.remote.address}`)),
  ]
  const handlers: Record<string, Step> = {}

  if (ipsec.length) {
    const psk = await m.secret('ipsec_psk')
    // srcid/dstid as in the article, unless a peer keys with strongSwan, which identifies by address.
    const ids = ipsec.every((l) => platformOf(m.peer(l.remote.host))?.ike === 'isakmpd')
    steps.push(
      file('ipsec.conf', {
        path: '/etc/ipsec.conf',
        mode: 0o600,
        content: ipsecConf({
          me: m.host.address,
          peers: ipsec.map((l) => ({ name: `peer_${l.remote.host}`, address: m.peer(l.remote.host).address, psk })),
          ids,
        }),
        validate: 'ipsecctl -n -f %s',
        mask: ipsecSecrets,
        notify: 'load ipsec.conf',
      }),
      // isakmpd -K takes its policy from ipsecctl; `ipsec` makes netstart load ipsec.conf at boot.
      service('isakmpd', { name: 'isakmpd', enabled: true, state: 'running', flags: '-K', notify: 'load ipsec.conf' }),
      service('ipsec at boot', { name: 'ipsec', enabled: true }),
    )
    handlers['load ipsec.conf'] = command(
      'load ipsec.conf',
      async ({ $ }) => void (await $`ipsecctl -f /etc/ipsec.conf`),
      {
        unless: '! rcctl check isakmpd', // isakmpd not running: netstart loads the file with it
        repeatOnRollback: true,
        revert: 'ipsecctl -f /etc/ipsec.conf',
      },
    )
  }

  if (m.vars.pf) {
    steps.push(
      file('pf rules', {
        path: PF_ANCHOR,
        mode: 0o600,
        content: pfMesh({
          me: m.host.address,
          peers: m.links.map((l) => m.peer(l.remote.host).address),
          ipsec: ipsec.length > 0,
          tunnels: m.links.map((l) => l.local.ifname),
        }),
        validate: 'pfctl -nf %s',
        notify: 'load pf',
      }),
      line('pf anchor', { path: '/etc/pf.conf', line: 'anchor "ferry-mesh"', notify: 'load pf' }),
      line('pf anchor rules', {
        path: '/etc/pf.conf',
        line: `load anchor "ferry-mesh" from "${PF_ANCHOR}"`,
        notify: 'load pf',
      }),
    )
    handlers['load pf'] = command(
      'load pf',
      async ({ $ }) => void (await $`sh -c ${'pfctl -nf /etc/pf.conf && pfctl -f /etc/pf.conf'}`),
      {
        unless: "! pfctl -s info | grep -q '^Status: Enabled'",
        repeatOnRollback: true,
        revert: 'pfctl -nf /etc/pf.conf && pfctl -f /etc/pf.conf',
      },
    )
  }

  steps.push(
    file('ospfd.conf', {
      path: '/etc/ospfd.conf',
      mode: 0o600,
      content: openbsdOspfd({
        md5Key: await m.secret('ospf_md5_key'),
        routerId: m.vars.router_id,
        area: m.vars.ospf_area,
        interfaces: ospfInterfaces(m),
        passive: [
          ...new Set([...m.vars.ospf_passive, 'lo1', ...(m.vars.jail_interface ? [m.vars.jail_interface] : [])]),
        ],
      }),
      validate: 'ospfd -n -f %s',
      mask: openbsdOspfdSecrets,
      notify: 'reload ospfd',
    }),
    service('ospfd', { name: 'ospfd', enabled: true, state: 'running' }),
    ...verifyMesh(m, ospf.openbsdNeighbours, ospf.bsdRoutes, ipsecFacts.openbsdSas),
  )
  handlers['reload ospfd'] = service('reload ospfd', { name: 'ospfd', state: 'reloaded' })
  return { steps, handlers }
}
