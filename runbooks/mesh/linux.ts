// deploy-mesh on Linux (Debian): FRR, OpenVPN TAP or GRE tunnels, strongSwan for GRE over IPsec.
// This is the plan the lab proves end to end.
import { command, file, pkg, service, sysctl, ospf, ipsec as ipsecFacts, type Step } from 'ferry'
import frrConf from '../../templates/frr.conf.ts'
import { frrHandlers, frrPackages, frrSteps } from '../shared/frr.ts'
import { quaggaSecrets } from '../../templates/ospfd.conf.ts'
import swanctlConf, { swanctlSecrets } from '../../templates/swanctl.conf.ts'
import {
  greTunnel,
  linksOfKind,
  loopbacks,
  networks,
  openvpnConfig,
  openvpnKey,
  ospfInterfaces,
  refuseRouting,
  verifyMesh,
  type Member,
  type OsSteps,
} from './common.ts'

const OVPN = '/etc/openvpn/ferry'
const SWANCTL = '/etc/swanctl/conf.d/ferry-mesh.conf'
// strongSwan's daemon, as systemd runs it or as an init script does (the ipsec_daemon var).
const STRONGSWAN = {
  'charon-systemd': { packages: ['charon-systemd'], service: 'strongswan' },
  starter: { packages: ['strongswan-starter', 'strongswan-charon'], service: 'ipsec' },
} as const
// For starter: charon runs this when it starts, as the strongswan unit runs it for charon-systemd.
const START_SCRIPT = '/etc/strongswan.d/ferry-swanctl.conf'

export async function linuxSteps(m: Member): Promise<OsSteps> {
  refuseRouting(m, 'frr', 'deploy-mesh builds FRR on Linux')
  const vpn = linksOfKind(m, 'openvpn')
  const gre = linksOfKind(m, 'gre', 'gre-ipsec')
  const ipsec = linksOfKind(m, 'gre-ipsec')
  const steps: Step[] = [
    pkg('routing packages', {
      name: [
        ...frrPackages,
        ...(vpn.length ? ['openvpn'] : []),
        ...(ipsec.length ? ['strongswan-swanctl', ...STRONGSWAN[m.vars.ipsec_daemon].packages] : []),
      ],
    }),
    sysctl('forwarding', { key: 'net.ipv4.ip_forward', value: '1' }),
    ...loopbacks(m, { jails: false }),
  ]
  const handlers: Record<string, Step> = {}

  // One OpenVPN instance per link. It records the checksum of the config and key it started with,
  // so its restart handler knows whether a change has been read yet (on a first run, the
  // instance starts with them and needs no restart).
  if (vpn.length) steps.push(...(await openvpnKey(m, OVPN)))
  for (const l of vpn) {
    const dev = l.local.ifname
    const conf = `${OVPN}/${dev}.conf`
    const pid = `/run/ferry-openvpn-${dev}.pid`
    const sum = `/run/ferry-openvpn-${dev}.sum`
    const read = `cat ${conf} ${OVPN}/mesh.key | cksum`
    const start = `openvpn --config ${conf} --daemon ferry-${dev} --writepid ${pid} && ${read} > ${sum}`
    const stop = `p=$(cat ${pid}) && kill "$p" && while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; rm -f ${pid} ${sum}`
    // `read`, a builtin, not `$(cat …)`: one process fewer on every probe of every link. One
    // group, so that `! ${running}` negates all of it.
    const running = `{ read -r p < ${pid} && kill -0 "$p"; } 2>/dev/null`
    steps.push(
      openvpnConfig(m, l, OVPN, `restart ${dev}`),
      command(`${dev} up`, async ({ $ }) => void (await $`sh -c ${start}`), {
        unless: running,
        touches: [`if:${dev}`],
        undo: async ({ $ }) => void (await $`sh -c ${stop}`),
      }),
    )
    handlers[`restart ${dev}`] = command(
      `restart ${dev}`,
      async ({ $ }) => void (await $`sh -c ${`${stop}; ${start}`}`),
      {
        unless: `! ${running} || ${read} | cmp -s - ${sum}`,
        touches: [`if:${dev}`],
        repeatOnRollback: true, // after a rollback, the instance rereads the restored config
        revert: `${stop}; ${start}`,
      },
    )
  }

  steps.push(...gre.map((l) => greTunnel(m, l, l.local.cidr)))

  // GRE over IPsec: strongSwan keys ESP between the global addresses, which carry the GRE.
  if (ipsec.length) {
    const psk = await m.secret('ipsec_psk')
    steps.push(
      file('swanctl.conf', {
        path: SWANCTL,
        mode: 0o600,
        content: swanctlConf({
          local: m.host.address,
          peers: ipsec.map((l) => ({ name: l.remote.host, address: m.peer(l.remote.host).address, psk })),
        }),
        mask: swanctlSecrets,
        notify: 'load swanctl',
      }),
      ...(m.vars.ipsec_daemon === 'starter'
        ? [
            file('strongSwan start script', {
              path: START_SCRIPT,
              mode: 0o644,
              content:
                "# charon loads swanctl's files when it starts; managed by ferry\ncharon {\n    start-scripts {\n        ferry-swanctl = /usr/sbin/swanctl --load-all\n    }\n}\n",
            }),
          ]
        : []),
      service('strongswan', { name: STRONGSWAN[m.vars.ipsec_daemon].service, enabled: true, state: 'running' }),
    )
    handlers['load swanctl'] = command('load swanctl', async ({ $ }) => void (await $`swanctl --load-all`), {
      unless: '! swanctl --stats',
      repeatOnRollback: true,
      revert: 'swanctl --load-all',
    })
  }

  steps.push(
    ...frrSteps({
      daemon: 'ospfd',
      content: frrConf({
        hostname: m.host.name,
        // vtysh needs no vty password; one is set when the inventory has it, as Quagga's files do.
        password: m.inventory.secrets.names().includes('zebra_password') ? await m.secret('zebra_password') : undefined,
        routerId: m.vars.router_id,
        area: m.vars.ospf_area,
        interfaces: ospfInterfaces(m),
        networks: networks(m),
        md5Key: await m.secret('ospf_md5_key'),
      }),
      mask: quaggaSecrets,
    }),
    ...verifyMesh(m, ospf.frrNeighbours, ospf.linuxOspfRoutes, ipsecFacts.strongswanSas),
  )
  Object.assign(handlers, frrHandlers())
  return { steps, handlers }
}
