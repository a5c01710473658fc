// The HA lab (issue 21, seed 002 "Building Enterprise Grade VPNs"): two sites, each a pair of
// full-kernel gateways (uml.ts) with eth0 on the lab's bridge, which plays the internet, and
// eth1 on the site's own LAN bridge; behind each pair a bare LAN namespace whose default route is
// the site's internal service address, the address Heartbeat moves between the pair. `up --ha`
// (lab.ts) starts it; inventory/lab-ha.yaml describes it to runbooks, in the shape issue 21 fixed.
//
// Heartbeat 3.0.6 runs on these gateways (measured, see the issue 21 lab report): started by
// `/etc/init.d/heartbeat start`, logging to ha.cf's logfile/debugfile (no logd, no syslog, no
// /dev/shm needed). haresources' bare `IP/MASK` resolves to IPaddr with nic eth0 by default
// (resource-agents 4.12), so the LAN address must be written `IP/MASK/eth1`. Its shell resource
// agents are slow here: a fork+exec costs ~31 ms in UML against ~3 ms on the controller, and a
// takeover of two IPaddr resources took ~25 s after Heartbeat declared the peer dead.
//
// Nothing here leaves the machine: the LAN bridges have no address on the controller and no
// port but the lab's, the controller has an `unreachable` route for each LAN (as for the far
// segment), and neither the gateways nor the LAN hosts have a route off the lab's segments.
import fs from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { UmlHost } from './uml.ts'

/** A bare network namespace on a site's LAN: no sshd, no root of its own; lab.exec enters its netns. */
export interface LanHost {
  name: string
  netns: string
  address: string
  /** Its end of the veth inside the netns is eth0; this is the controller's end, on the bridge. */
  veth: string
  bridge: string
  cidr: string
  /** Its default route: the site's internal service address. */
  via: string
}

export interface HaSite {
  name: string
  /** The site's LAN, one bridge on the controller. */
  net: string
  bridge: string
  /** The service addresses Heartbeat takes over: on the WAN (eth0) and on the LAN (eth1). */
  external: string
  internal: string
  /** Primary (haresources' preferred node) first. */
  gateways: { name: string; wan: string; lan: string }[]
  lanHost: { name: string; cidr: string }
}

/** Fixed by the lead for issue 21 (the article's addresses mapped onto the lab's ranges). */
export const HA_SITES: readonly HaSite[] = [
  {
    name: 'site1',
    net: '198.18.11.0/24',
    bridge: 'ferry-br11',
    external: '198.18.0.51/24',
    internal: '198.18.11.1/24',
    gateways: [
      { name: 'gw1a', wan: '198.18.0.41/24', lan: '198.18.11.2/24' },
      { name: 'gw1b', wan: '198.18.0.42/24', lan: '198.18.11.3/24' },
    ],
    lanHost: { name: 'lan1', cidr: '198.18.11.10/24' },
  },
  {
    name: 'site2',
    net: '198.18.12.0/24',
    bridge: 'ferry-br12',
    external: '198.18.0.52/24',
    internal: '198.18.12.1/24',
    gateways: [
      { name: 'gw2a', wan: '198.18.0.43/24', lan: '198.18.12.2/24' },
      { name: 'gw2b', wan: '198.18.0.44/24', lan: '198.18.12.3/24' },
    ],
    lanHost: { name: 'lan2', cidr: '198.18.12.10/24' },
  },
]

/** `198.18.0.51/24` → `198.18.0.51`. */
export const ip = (cidr: string) => cidr.split('/')[0]!
/** A MAC that reads as its address, as the UML hosts' do: 198.18.0.41 is …:fe:00:41, 198.18.11.2 …:fe:11:02. */
const mac = (cidr: string) => {
  const [, , c, d] = ip(cidr).split('.')
  return `52:54:00:fe:${c!.padStart(2, '0')}:${d!.padStart(2, '0')}`
}

/** The four gateways as UML hosts with a LAN leg, and the two LAN namespaces. */
export function planHa(): { gateways: Omit<UmlHost, 'pid'>[]; lans: LanHost[] } {
  const gateways = HA_SITES.flatMap((s) =>
    s.gateways.map((g) => ({
      name: g.name,
      address: ip(g.wan),
      tap: `fu-${g.name}`,
      mac: mac(g.wan),
      lan: {
        tap: `fu-${g.name}-lan`,
        mac: mac(g.lan),
        bridge: s.bridge,
        cidr: g.lan,
      },
    })),
  )
  const lans = HA_SITES.map((s) => ({
    name: s.lanHost.name,
    netns: `ferry-${s.lanHost.name}`,
    address: ip(s.lanHost.cidr),
    veth: `fl-${s.lanHost.name}`,
    bridge: s.bridge,
    cidr: s.lanHost.cidr,
    via: ip(s.internal),
  }))
  return { gateways, lans }
}

export const HA_BRIDGES = HA_SITES.map((s) => s.bridge)
export const HA_NETS = HA_SITES.map((s) => s.net)
/** The secrets lab-ha.yaml names, each a 0600 file in the lab's state directory. */
export const HA_SECRETS = [
  ...HA_SITES.map((s) => `${s.name}_rsa`),
  'ha_authkey',
  'bgpd_password',
  'bgpd_enable_password',
] as const

export interface HaContext {
  stateDir: string
  run: (cmd: string, args: string[], input?: string) => string
}

/**
 * The sites' RSA keys (strongSwan's pki, PEM) and the Heartbeat and bgpd secrets, made once
 * and kept until `down`. Secrets go to files only, never to argv or output.
 */
export function ensureHaSecrets(c: HaContext): void {
  const make: Record<string, () => string> = {
    // Heartbeat's authkeys line `1 sha1 KEY`: any string without blanks.
    ha_authkey: () => randomBytes(20).toString('hex'),
    // Hex, as zebra_password: FRR refuses a password that does not start with a letter or digit.
    bgpd_password: () => randomBytes(12).toString('hex'),
    bgpd_enable_password: () => randomBytes(12).toString('hex'),
  }
  for (const s of HA_SITES)
    make[`${s.name}_rsa`] = () => c.run('pki', ['--gen', '--type', 'rsa', '--size', '2048', '--outform', 'pem'])
  for (const name of HA_SECRETS) {
    const file = path.join(c.stateDir, name)
    if (fs.existsSync(file)) continue
    const value = make[name]!()
    fs.writeFileSync(file, value.endsWith('\n') ? value : `${value}\n`, { mode: 0o600 })
  }
}

/**
 * A site's public key as FreeS/WAN wrote it in ipsec.conf: `0s` and the RFC 3110 key (exponent
 * length, exponent, modulus) in base64, which strongSwan's `pki --pub --outform dnskey` prints
 * (its dnskey encoder base64s the RFC 3110 blob; ha-lab.test.ts rebuilds it from the PEM). Note
 * for ipsec.conf: strongSwan 5.9's stroke plugin reads a bare `0s…` rsasigkey as ASN.1 DER
 * (PKCS#1), and RFC 3110 only with a `dns:` prefix: `rightrsasigkey=dns:0s…` (from its source).
 */
export function sitePublicKey(c: HaContext, site: string): string {
  return `0s${c.run('pki', ['--pub', '--in', path.join(c.stateDir, `${site}_rsa`), '--outform', 'dnskey']).trim()}`
}

/** inventory/lab-ha.yaml, in the shape of issue 21 (runbooks/deploy-ha-vpn.ts reads it). */
export function haInventory(c: HaContext, knownHosts: string): string {
  const lines = [
    '# Generated by `npm run lab -- up --ha`; removed by `npm run lab -- down`. Do not edit.',
    '# Two sites, each a pair of UML gateways (eth0 on ferry-br0, the "internet"; eth1 on the',
    "# site's LAN bridge) and a LAN namespace behind them (lan1, lan2: `lab.exec`, no sshd).",
    'defaults:',
    '  user: root',
    `  identity: ${c.stateDir}/id_ed25519`,
    `  known_hosts: ${knownHosts}`,
    '  os: linux',
    'groups:',
    '  ha-vpn:',
    '    vars:',
    '      bgp_as: 65432',
    '      tunnel_pool: 172.16.0.0/24',
    '      ipsec_auth: rsasig',
    // Faster than the article's keepalive 2 s and deadtime 10 s: issue 21 asks a failover within
    // 10 s. No syslog daemon runs on the gateways: Heartbeat logs to a file.
    '      heartbeat: { keepalive: 0.5, deadtime: 3, warntime: 1.5, initdead: 12, auto_failback: true, logfile: /var/log/ha-log }',
    // The peer site drops a dead node's session within a second of the new node's tunnel.
    '      bgp_timers: { keepalive: 1, hold: 3, connect: 1 }',
    // No systemd and no ifupdown on UML hosts: strongSwan from starter, interfaces live only.
    '      ipsec_daemon: starter',
    '      persist_interfaces: false',
  ]
  for (const s of HA_SITES) {
    lines.push(
      `  ${s.name}:`,
      '    vars:',
      `      site: ${s.name}`,
      `      ipsec_id: '@${s.name}.ferry.lab'`,
      `      external_address: ${s.external}`,
      `      internal_address: ${s.internal}`,
      '      wan_interface: eth0',
      '      lan_interface: eth1',
      `      ipsec_public_key: '${sitePublicKey(c, s.name)}'`,
      `      ipsec_private_key: ${s.name}_rsa`,
      `      networks: [${s.net}]`,
      `      primary: ${s.gateways[0]!.name}`,
    )
  }
  lines.push('hosts:')
  for (const s of HA_SITES)
    for (const g of s.gateways)
      lines.push(
        `  ${g.name}: { address: ${ip(g.wan)}, groups: [ha-vpn, ${s.name}], vars: { lan_address: ${g.lan}, wan_address: ${g.wan} } }`,
      )
  lines.push('secrets:', ...HA_SECRETS.map((n) => `  ${n}: file:${c.stateDir}/${n}`), '')
  return lines.join('\n')
}
