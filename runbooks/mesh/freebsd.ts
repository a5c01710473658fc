// deploy-mesh on FreeBSD, as seed 000 runs it: Quagga's zebra and ospfd, OpenVPN TAP links (or
// GRE), the router id on lo1 and the jails' /32s on lo2. No FreeBSD machine exists where ferry is
// tested: this plan is proved by golden tests (facts in, exact commands and files out).
import { file, pkg, service, sysctl, ospf, type Step } from 'ferry'
import zebraConf from '../../templates/zebra.conf.ts'
import quaggaOspfd, { quaggaSecrets } from '../../templates/ospfd.conf.ts'
import {
  greTunnel,
  linksOfKind,
  loopbacks,
  networks,
  openvpnConfig,
  openvpnKey,
  ospfInterfaces,
  refuseKinds,
  refuseRouting,
  verifyMesh,
  type Member,
  type OsSteps,
} from './common.ts'

const QUAGGA = '/usr/local/etc/quagga'
const OVPN = '/usr/local/etc/openvpn/ferry'

export async function freebsdSteps(m: Member): Promise<OsSteps> {
  refuseKinds(
    m,
    ['openvpn', 'gre'],
    'GRE over IPsec is built for OpenBSD (isakmpd) and Linux (strongSwan); on FreeBSD use openvpn or gre',
  )
  refuseRouting(m, 'quagga', 'deploy-mesh builds Quagga on FreeBSD, as seed 000 runs it')
  const vpn = linksOfKind(m, 'openvpn')
  const gre = linksOfKind(m, 'gre')
  const password = await m.secret('zebra_password')
  const interfaces = ospfInterfaces(m, (l) => `${l.link.kind === 'openvpn' ? 'TAP' : 'GRE'} to ${l.remote.host}`)
  const steps: Step[] = [
    pkg('routing packages', { name: ['quagga', ...(vpn.length ? ['openvpn'] : [])] }),
    sysctl('forwarding', { key: 'net.inet.ip.forwarding', value: '1' }),
    // seed 000's suggested task: cloned_interfaces="lo1", ifconfig_lo1="inet 10.0.0.1/32".
    // The jails' /32s on lo2 are announced by `network`, lo2 being passive like every non-tunnel.
    ...loopbacks(m, { jails: true }),
  ]
  const handlers: Record<string, Step> = {}

  // One instance per link, as the port's rc.d script runs them: a link to the script named
  // openvpn_tapN (`ln -s openvpn openvpn_tapN`), and openvpn_tapN_* variables in rc.conf.local.
  if (vpn.length) steps.push(...(await openvpnKey(m, OVPN)))
  for (const l of vpn) {
    const dev = l.local.ifname
    const instance = `openvpn_${dev}`
    steps.push(
      openvpnConfig(m, l, OVPN, `restart ${dev}`),
      service(instance, {
        name: instance,
        instanceOf: 'openvpn',
        enabled: true,
        state: 'running',
        vars: { configfile: `${OVPN}/${dev}.conf`, if: 'tap' },
      }),
    )
    handlers[`restart ${dev}`] = service(`restart ${dev}`, { name: instance, state: 'restarted' })
  }

  // seed 003's GRE, FreeBSD's way: cloned_interfaces and ifconfig_greN in rc.conf.
  steps.push(...gre.map((l) => greTunnel(m, l, `${l.local.address} peer ${l.remote.address}`)))

  // The two files seed 000 writes. They hold the vty password and the MD5 key: 0600, quagga's.
  const config = (name: string, content: string) =>
    file(name, {
      path: `${QUAGGA}/${name}`,
      content,
      mode: 0o600,
      owner: 'quagga:quagga',
      validate: `${name.replace('.conf', '')} -C -f %s`,
      mask: quaggaSecrets,
      notify: 'restart quagga',
    })
  steps.push(
    config('zebra.conf', zebraConf({ hostname: m.host.name, password })),
    config(
      'ospfd.conf',
      quaggaOspfd({
        hostname: m.host.name,
        password,
        routerId: m.vars.router_id,
        area: m.vars.ospf_area,
        interfaces,
        networks: networks(m),
        md5Key: await m.secret('ospf_md5_key'),
      }),
    ),
    // sysrc quagga_enable=YES, quagga_flags="-A 127.0.0.1", quagga_daemons="zebra ospfd" in
    // rc.conf.local, then `service quagga start`: seed 000's order.
    service('quagga', {
      name: 'quagga',
      enabled: true,
      state: 'running',
      flags: '-A 127.0.0.1',
      vars: { daemons: 'zebra ospfd' },
    }),
    ...verifyMesh(m, ospf.quaggaNeighbours, ospf.bsdRoutes),
  )
  // Quagga rereads its files only when it starts.
  handlers['restart quagga'] = service('restart quagga', { name: 'quagga', state: 'restarted' })
  return { steps, handlers }
}
