// deploy-ha-vpn: seed 002 ("Building Enterprise Grade VPNs", Linux Symposium 2003). Each site has two
// gateways; Heartbeat on the LAN decides which one is active, takes over the site's external and
// internal service addresses there and starts, in order, IPsec, the GRE tunnels, zebra and bgpd;
// GRE runs inside IPsec between the sites' external addresses, and bgpd announces each site's
// networks over it with next-hop-self.
//
// The steps are in the order a reader of the article would set a gateway up: packages, the GRE
// script, IPsec, FRR, Heartbeat, then checks. Everything Heartbeat starts is installed and
// configured but never started or enabled at boot by ferry (`heldBy: 'heartbeat'`; installs with
// `startServices: false`, so Debian's maintainer scripts do not start it either): on the standby
// it stays stopped, and neither a second run nor drift calls that a change. Heartbeat itself is
// ferry's to run.
//
// The sites, their /30s and every check of the inventory are in ha-vpn/sites.ts.
import {
  defineRunbook,
  bgp,
  command,
  file,
  ha,
  line,
  pkg,
  service,
  sysctl,
  verify,
  StepError,
  type Step,
  type StepsContext,
} from 'ferry'
import bgpdConf, { bgpdSecrets } from '../templates/bgpd.conf.ts'
import greInit from '../templates/gre-init.ts'
import authkeys, { authkeysMask } from '../templates/authkeys.ts'
import haResource from '../templates/ha-resource.ts'
import haCf from '../templates/ha.cf.ts'
import haresources from '../templates/haresources.ts'
import ipsecConf from '../templates/ipsec-starter.conf.ts'
import ipsecSecrets, { ipsecSecretsMask } from '../templates/ipsec.secrets.ts'
import privateKey from '../templates/private-key.pem.ts'
import serviceAddress from '../templates/service-address.ts'
import zebraConf from '../templates/zebra-split.conf.ts'
import { networkOf } from '../src/mesh/ipv4.ts'
import { onePlanPerHost } from './shared/plan.ts'
import { addressOf, connName, linksOf, sitesOf, vars, type HaVars, type Site } from './ha-vpn/sites.ts'

/** strongswan-starter's service, as the ipsec_daemon var says it runs. */
const IPSEC_SERVICE = { 'charon-systemd': 'strongswan-starter', starter: 'ipsec' } as const
/** Heartbeat's own answer (exit 3 when stopped), which needs no ha.cf. */
const HEARTBEAT_RUNS = '/usr/libexec/heartbeat/heartbeat -s >/dev/null 2>&1'
const HA_FILES = ['/etc/ha.d/ha.cf', '/etc/ha.d/authkeys', '/etc/ha.d/haresources']
/**
 * Stops Heartbeat as its init script does (it gives up its resources, then ends), but a stop asked
 * while it starts up is put off and then never done (heartbeat.c, hb_initiate_shutdown: "Shutdown
 * delayed until Communication is up"; seen in the lab when a run was rolled back 45 s after the
 * start: `heartbeat -k` waited 10 min). After 60 s its resources are given up by hand, in
 * haresources' reverse order as Heartbeat would, and its processes are ended by PID: killed
 * without that, it would leave the node holding the service addresses.
 */
const HEARTBEAT_STOP = [
  'service heartbeat stop >/dev/null 2>&1 & stop=$!',
  'i=0; while kill -0 "$stop" 2>/dev/null && [ "$i" -lt 60 ]; do sleep 1; i=$((i + 1)); done',
  `if ${HEARTBEAT_RUNS}; then`,
  '  pkill -KILL -P "$stop"; kill -KILL "$stop"',
  '  read -r hb < /run/heartbeat.pid',
  // Every group it may hold, its own or taken over (ResourceManager has no "giveall").
  '  for k in $(/usr/share/heartbeat/ResourceManager allkeys); do /usr/share/heartbeat/ResourceManager givegroup "$k"; done',
  '  pkill -KILL -P "$hb"; kill -KILL "$hb"; rm -f /run/heartbeat.pid',
  'fi 2>/dev/null',
  `! ${HEARTBEAT_RUNS}`,
].join('\n')
/** bgpd's neighbours in the default VRF. */
const BGP_PEERS = bgp.frrPeers()
const RUNNING = (pid: string) => `{ read -r p < ${pid} && kill -0 "$p"; } 2>/dev/null`

async function plan({ host, vars: v, inventory, secret }: StepsContext<unknown, HaVars>) {
  const sites = sitesOf(inventory)
  const site = sites.find((s) => s.name === v.site)!
  const links = linksOf(sites, site.name)
  const peer = site.gateways.find((g) => g.name !== host.name)!
  const peerVars = vars.parse(peer.vars)
  const rsa = v.ipsec_auth === 'rsasig'
  const password = await secret('bgpd_password')
  const enablePassword = await secret('bgpd_enable_password')
  const psk = rsa ? undefined : await secret('ipsec_psk')

  const steps: Step[] = [
    // Packages. heartbeat, strongSwan's starter (FreeS/WAN's ipsec.conf) and FRR (Zebra's
    // successor); none of their services may start on install: the standby would run them.
    pkg('packages', {
      name: ['heartbeat', 'strongswan-starter', 'strongswan-charon', 'frr', 'frr-pythontools'],
      startServices: false,
    }),
    // A gateway routes between its LAN and the tunnels.
    sysctl('forwarding', { key: 'net.ipv4.ip_forward', value: '1' }),

    // 3.1: the GRE script, run by Heartbeat (haresources' `gre`), not at boot.
    file('gre script', {
      path: '/etc/init.d/gre',
      mode: 0o755,
      content: greInit({
        tunnels: links.map((l) => ({
          name: l.ifname,
          local: addressOf(v.external_address),
          remote: addressOf(l.peer.vars.external_address),
          address: l.address,
          peer: l.peerAddress,
        })),
      }),
      validate: 'sh -n %s',
    }),

    // 3.3: IPsec, FreeS/WAN's way, through strongswan-starter. The same files on both gateways.
    file('ipsec.conf', {
      path: '/etc/ipsec.conf',
      mode: 0o644,
      content: ipsecConf({
        auth: v.ipsec_auth,
        conns: links.map((l) => ({
          name: connName(site, l.peer),
          left: addressOf(v.external_address),
          leftid: v.ipsec_id,
          leftKey: v.ipsec_public_key,
          right: addressOf(l.peer.vars.external_address),
          rightid: l.peer.vars.ipsec_id,
          rightKey: l.peer.vars.ipsec_public_key,
        })),
      }),
      notify: 'reload ipsec',
    }),
    ...(rsa
      ? [
          file('ipsec private key', {
            path: `/etc/ipsec.d/private/${site.name}.pem`,
            mode: 0o600,
            content: privateKey({ key: (await secret(v.ipsec_private_key!)).trimEnd().split('\n') }),
            mask: [/[^\n]+/],
            notify: 'reload ipsec',
          }),
        ]
      : []),
    file('ipsec.secrets', {
      path: '/etc/ipsec.secrets',
      mode: 0o600,
      content: rsa
        ? ipsecSecrets({ privateKey: `/etc/ipsec.d/private/${site.name}.pem` })
        : ipsecSecrets({
            psk: {
              leftid: v.ipsec_id,
              peers: links.map((l) => ({ rightid: l.peer.vars.ipsec_id, secret: psk! })),
            },
          }),
      mask: ipsecSecretsMask,
      notify: 'reload ipsec',
    }),
    service('ipsec', { name: IPSEC_SERVICE[v.ipsec_daemon], heldBy: 'heartbeat' }),

    // 3.4: Zebra's split files, which FRR 8.4 still reads (templates/bgpd.conf.ts says how).
    line('bgpd enabled', { path: '/etc/frr/daemons', line: 'bgpd=yes', match: /^bgpd=/ }),
    line('split configs', {
      path: '/etc/frr/vtysh.conf',
      line: 'no service integrated-vtysh-config',
      match: /^(no )?service integrated-vtysh-config/,
    }),
    file('zebra.conf', {
      path: '/etc/frr/zebra.conf',
      mode: 0o600,
      owner: 'frr:frr',
      content: zebraConf({ hostname: host.name, password, enablePassword }),
      validate: 'vtysh -C -f %s',
      mask: bgpdSecrets,
      notify: 'reload zebra',
    }),
    file('bgpd.conf', {
      path: '/etc/frr/bgpd.conf',
      mode: 0o600,
      owner: 'frr:frr',
      content: bgpdConf({
        hostname: host.name,
        password,
        enablePassword,
        as: v.bgp_as,
        // The article's router id is its tunnel address; with several peers, the first tunnel's.
        routerId: links[0]!.address.split('/')[0]!,
        networks: [...links.map((l) => l.subnet), ...v.networks],
        neighbors: links.map((l) => ({ address: l.peerAddress })),
        withhold: [networkOf(v.external_address)],
        timers: v.bgp_timers,
      }),
      validate: 'vtysh -C -f %s',
      mask: bgpdSecrets,
      notify: 'reload bgpd',
    }),
    // FRR's one init script is not started at boot; Heartbeat runs zebra and bgpd (below).
    service('frr', { name: 'frr', heldBy: 'heartbeat' }),
    // haresources' resources, as light as the failover budget needs (templates/ha-resource.ts).
    ...(['ipsec', 'zebra', 'bgpd'] as const).map((daemon) =>
      file(`${daemon} resource`, {
        path: `/etc/ha.d/resource.d/${daemon}`,
        mode: 0o755,
        content: haResource({ daemon }),
        validate: 'sh -n %s',
      }),
    ),
    file('ServiceAddress resource', {
      path: '/etc/ha.d/resource.d/ServiceAddress',
      mode: 0o755,
      content: serviceAddress({}),
      validate: 'sh -n %s',
    }),

    // 3.2: Heartbeat. ha.cf differs per node; authkeys and haresources are the pair's.
    file('ha.cf', {
      path: '/etc/ha.d/ha.cf',
      mode: 0o644,
      content: haCf({
        ...v.heartbeat,
        lanInterface: v.lan_interface,
        peerLanAddress: addressOf(peerVars.lan_address),
        nodes: [host.name, peer.name],
      }),
      notify: 'reload heartbeat',
    }),
    file('authkeys', {
      path: '/etc/ha.d/authkeys',
      mode: 0o600,
      content: authkeys({ key: await secret('ha_authkey') }),
      mask: authkeysMask,
      notify: 'reload heartbeat',
    }),
    file('haresources', {
      path: '/etc/ha.d/haresources',
      mode: 0o644,
      content: haresources({
        primary: v.primary,
        addresses: [
          { address: v.external_address, iface: v.wan_interface },
          { address: v.internal_address, iface: v.lan_interface },
        ],
        resources: ['ipsec', 'gre', 'zebra', 'bgpd'],
      }),
      notify: 'reload heartbeat',
    }),
    // Heartbeat runs from boot, but whether it runs now is asked of the daemon, not of its init
    // script: the script answers every action, status too, with exit 0 while ha.cf is missing, as
    // it is when a first run is planned (seen on the lab's gateways: the run took it for running).
    service('heartbeat', { name: 'heartbeat', enabled: true }),
    command('heartbeat running', async ({ $ }) => void (await $`sh -c ${startHeartbeat(host.name, v)}`), {
      unless: HEARTBEAT_RUNS,
      undo: async ({ $ }) => void (await $`sh -c ${HEARTBEAT_STOP}`),
    }),
    ...checks(site, links, host.name, peer.name, v),
  ]

  const handlers: Record<string, Step> = {
    // Only where the daemon runs (the active node): elsewhere it reads its file when Heartbeat starts it.
    'reload ipsec': command(
      'reload ipsec',
      async ({ $ }) => void (await $`sh -c ${'ipsec update && ipsec rereadsecrets'}`),
      {
        unless: `! ${RUNNING('/var/run/charon.pid')}`,
        repeatOnRollback: true,
        revert: 'ipsec update && ipsec rereadsecrets',
      },
    ),
    ...Object.fromEntries(
      (['zebra', 'bgpd'] as const).map((d) => {
        const reload = `/usr/lib/frr/frr-reload.py --reload --daemon ${d} /etc/frr/${d}.conf`
        return [
          `reload ${d}`,
          command(`reload ${d}`, async ({ $ }) => void (await $`sh -c ${reload}`), {
            unless: `! ${RUNNING(`/run/frr/${d}.pid`)}`,
            repeatOnRollback: true,
            revert: reload,
          }),
        ]
      }),
    ),
    // Only a Heartbeat started before its files were last written: one started by this run read them.
    'reload heartbeat': command('reload heartbeat', async ({ $ }) => void (await $`service heartbeat reload`), {
      unless: `! ${HEARTBEAT_RUNS} || { ${HA_FILES.map((f) => `[ /run/heartbeat.pid -nt ${f} ]`).join(' && ')}; }`,
      repeatOnRollback: true,
      revert: 'service heartbeat reload',
    }),
  }
  return { steps, handlers }
}

/**
 * Starts Heartbeat; on the primary, then watches that its resource group starts. Heartbeat 3.0.6
 * can lose the message that starts the group: the node logs "Local Resource acquisition
 * completed" and, from the process that passes messages on, "msg2string: Message with zero
 * fields"; it then says it holds its resources (cl_status rscstatus: local) and never starts them
 * (seen in the lab, on either site, under load). When that has lasted 10 s with no
 * ResourceManager at work, the group is started as Heartbeat would have (ResourceManager
 * takegroup, by each key `listkeys` gives for this node). The watch ends once the node holds its service addresses, once the other node
 * answers on them (it holds the group), or after as long as the checks wait; the checks judge.
 */
function startHeartbeat(self: string, v: HaVars): string {
  if (v.primary !== self) return 'service heartbeat start'
  const addrs = [v.external_address, v.internal_address].map(addressOf)
  const holds = addrs.map((a) => `ip -o -4 addr show to ${a}/32 | grep -q .`).join(' && ')
  const elsewhere = `[ "$(${ha.answering(addrs).command} | wc -l)" = ${addrs.length} ]`
  // Whole seconds for test(1): Heartbeat's timers may be fractions (keepalive 0.5).
  const initdead = Math.ceil(v.heartbeat.initdead)
  const settle = Math.ceil(v.heartbeat.initdead + v.heartbeat.deadtime + v.converge_timeout)
  return [
    'service heartbeat start || exit',
    't0=$(date +%s) since=',
    'while :; do',
    `  { ${holds}; } && exit 0`,
    '  t=$(($(date +%s) - t0))',
    `  [ "$t" -lt ${settle} ] || exit 0`,
    `  if [ "$t" -gt ${initdead} ] && ${elsewhere}; then exit 0; fi`,
    '  case "$(cl_status rscstatus 2>/dev/null)" in',
    '    local | all) if pgrep -x ResourceManager >/dev/null; then since=; else since=${since:-$t}; fi ;;',
    '    *) since= ;;',
    '  esac',
    '  if [ -n "$since" ] && [ $((t - since)) -ge 10 ]; then',
    `    logger -t ferry "Heartbeat holds its resources but did not start them: ResourceManager takegroup"`,
    // As Heartbeat's req_our_resources does: each group this node is primary for, by its key
    // (the group's first resource; haresources' lines start with the node's name).
    `    for k in $(/usr/share/heartbeat/ResourceManager listkeys ${self}); do /usr/share/heartbeat/ResourceManager takegroup "$k"; done`,
    '    since=',
    '  fi',
    '  sleep 1',
    'done',
  ].join('\n')
}

/**
 * The checks after a run, from each gateway's side. A node is active when it holds both service
 * addresses and Heartbeat says it holds the site's group (rscstatus `local` on the primary,
 * `foreign` on the other, `all` on either); standby when it holds neither, Heartbeat does not
 * hold the group, and both addresses answer from the other node. Only the active node waits for
 * its IKE SAs, its BGP sessions and its LAN's path to the other sites' (routed through the tunnel,
 * answering); until a node is one or the other, every check waits.
 */
function checks(site: Site, links: ReturnType<typeof linksOf>, self: string, peer: string, v: HaVars): Step[] {
  const service = [v.external_address, v.internal_address]
  const addrs = service.map(addressOf)
  const answering = ha.answering(addrs)
  const roleFacts = [ha.addresses, ha.rscstatus, answering] as const
  /** 'active', 'standby', or why it is neither yet, from the role sections of a verify's output. */
  const role = (parts: string[]): 'active' | 'standby' | string => {
    try {
      const held = ha.addresses.parse(parts[0] ?? '')
      const rsc = ha.rscstatus.parse(parts[1] ?? '')
      const mine = service.filter((a) => held.includes(a))
      const group = rsc === 'all' || rsc === (v.primary === self ? 'local' : 'foreign')
      if (mine.length === 2 && group) return 'active'
      const answers = answering.parse(parts[2] ?? '')
      if (mine.length === 0 && !group && rsc !== 'transition' && addrs.every((a) => answers.includes(a)))
        return 'standby'
      return `not settled: holds ${mine.join(' and ') || 'no service address'}, Heartbeat's resources here: ${rsc}, answering: ${answers.join(' ') || 'neither'} (${peer} is the other node)`
    } catch (err) {
      return (err as Error).message
    }
  }
  const lanPaths = ha.lanPaths(
    addressOf(v.internal_address),
    links.map((l) => addressOf(l.peer.vars.internal_address)),
  )
  // Heartbeat waits initdead for the other node, then takes the group over, which may take as long
  // as the IKE SAs and BGP sessions are given.
  const settle = v.heartbeat.initdead + v.heartbeat.deadtime + v.converge_timeout
  const activeOnly = (name: string, fact: ha.Fact<unknown>, judge: (out: string) => true | string): Step =>
    verify(name, {
      command: ha.sections(...roleFacts, fact),
      timeout: settle + v.converge_timeout,
      expect: (out) => {
        const parts = ha.split(out)
        const r = role(parts)
        return r === 'standby' ? true : r === 'active' ? judge(parts[3] ?? '') : r
      },
    })
  return [
    verify(`one active node in ${site.name}`, {
      command: ha.sections(...roleFacts),
      timeout: settle,
      expect: (out) => {
        const r = role(ha.split(out))
        return r === 'active' || r === 'standby' || r
      },
    }),
    activeOnly('IKE SAs up', ha.starterSas, (out) => {
      const { ike, child } = ha.starterSas.parse(out)
      const down = links.map((l) => connName(site, l.peer)).filter((c) => !ike.has(c) || !child.has(c))
      return down.length === 0 || `not up: ${down.join(', ')}`
    }),
    activeOnly('BGP sessions Established', BGP_PEERS, (out) => {
      try {
        const peers = BGP_PEERS.parse(out)
        const down = links.filter((l) => peers.get(l.peerAddress) !== 'Established')
        return (
          down.length === 0 ||
          down
            .map((l) => `${l.peer.name} (${l.peerAddress}) is ${peers.get(l.peerAddress) ?? 'not a neighbour'}`)
            .join('; ')
        )
      } catch (err) {
        return (err as Error).message
      }
    }),
    // The article's point: one site's LAN reaches the other's, through the tunnel.
    activeOnly('LAN to LAN through the tunnels', lanPaths, (out) => {
      const paths = lanPaths.parse(out)
      const wrong = links.flatMap((l) => {
        const to = addressOf(l.peer.vars.internal_address)
        const p = paths.get(to)!
        if (p.dev !== l.ifname) return [`${to} is routed via ${p.dev ?? 'nothing'}, not ${l.ifname}`]
        return p.reaches ? [] : [`${to} does not answer through ${l.ifname}`]
      })
      return wrong.length === 0 || wrong.join('; ')
    }),
  ]
}

const planFor = onePlanPerHost(async (ctx: StepsContext<unknown, HaVars>) => {
  if (ctx.host.os && ctx.host.os !== 'linux')
    throw new StepError(`${ctx.host.name}: deploy-ha-vpn builds Debian gateways (os: linux), as the article's`)
  return plan(ctx)
})

export default defineRunbook({
  name: 'deploy-ha-vpn',
  description:
    'Heartbeat gateway pairs per site, GRE over IPsec between the sites and BGP over GRE (seed 002); then checks one active node per site, its IKE SAs and BGP sessions',
  hosts: 'ha-vpn',
  drift: true,
  // Its verify steps wait for Heartbeat's initdead and deadtime, then IKE and BGP: longer than the
  // default 120 s on a first run.
  confirmTimeout: 600,
  vars,
  steps: async (ctx) => (await planFor(ctx)).steps,
  handlers: async (ctx) => (await planFor(ctx)).handlers,
})
