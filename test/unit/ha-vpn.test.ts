// deploy-ha-vpn (seed 002) without a lab: the whole runbook through the real engine against a
// simulated bare Debian gateway, every file it writes compared with the article's text
// (test/fixtures/seeds/002-*, cut verbatim from it), with the article's own values from
// inventory/article-ha.yaml; the plan of one gateway, command by command; the checks after the
// run; and the inventories it refuses, before any host is contacted.
//
// What the article gets wrong, and what ferry writes instead (SLIPS below, each with its reason):
// its conn is named `siteltosite2` (an l for the 1 of site1); its GRE script's stop leaves the
// tunnel, so a second start fails ("add tunnel failed: File exists"); the script and bgpd.conf
// end in a stray `}`, as does haresources; haresources' first word is `cluster1`, a cluster's
// name, where Heartbeat wants a node's (uname -n), and the prose calls its external address
// 159.18.124.254 where the line has 116.1.1.1; its leftnexthop 116.1.1.30 is outside its own
// 116.1.1.1/28; the script's tunnel address is a /32 while bgpd.conf announces the /30; `log file
// bgpd.log` is relative. And lines with no meaning today: KLIPS's interfaces= and klipsdebug,
// pluto's plutodebug, plutoload and plutostart, and the nexthops.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import * as ha from '../../src/facts/ha.ts'
import { runPlan, packagesIn, type Facts } from '../golden/plan.ts'
import { heldAptInstall, lsProbe } from '../golden/scripts.ts'
import { authkeysMask } from '../../templates/authkeys.ts'
import { hbTime } from '../../templates/ha.cf.ts'
import { bgpdSecrets } from '../../templates/bgpd.conf.ts'
import { ipsecSecretsMask } from '../../templates/ipsec.secrets.ts'
import { masked } from '../../src/steps/file.ts'
import { loadInventory } from '../../src/inventory/load.ts'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadSeedInventory, HA_SECRETS } from '../fixtures/seeds/inventories.ts'
import { seedLines } from '../fixtures/seeds/files.ts'
import { platformFor } from '../../src/platform/platform.ts'
import type { Step } from '../../src/steps/step.ts'
import { loadRunbook } from '../../src/engine/load.ts'
import { buildSteps } from '../../src/engine/build.ts'
import { ROOT } from '../fixtures/seeds/inventories.ts'

afterEach(() => vi.unstubAllEnvs())

const linux = platformFor('linux')

/** A bare Debian gateway: nothing of ferry's yet; as the active (or standby) node once Heartbeat runs. */
function gateway(role: 'active' | 'standby', site = 1): Facts {
  const ext = site === 1 ? '116.1.1.1/28' : '216.1.1.1/28'
  const int = site === 1 ? '192.168.0.1/24' : '192.168.1.1/24'
  const own = site === 1 ? ['116.1.1.2/28', '192.168.0.2/24'] : ['216.1.1.2/28', '192.168.1.2/24']
  const addrs = [...own, ...(role === 'active' ? [ext, int] : [])]
    .map(
      (a, i) =>
        `${i + 2}: eth${i % 2}    inet ${a} brd 0.0.0.0 scope global eth${i % 2}\\       valid_lft forever preferred_lft forever`,
    )
    .join('\n')
  const roleOut = [
    `${addrs}\n`,
    `${role === 'active' ? 'all' : 'none'}\n`,
    role === 'standby' ? `answers=${ext.split('/')[0]}\nanswers=${int.split('/')[0]}\n` : '',
  ]
  const [me, them] = site === 1 ? ['site1', 'site2'] : ['site2', 'site1']
  const conn = `${me}to${them}`
  const sas = [
    'Security Associations (1 up, 0 connecting):',
    `${conn}[1]: ESTABLISHED 5 seconds ago, ${ext.split('/')[0]}[${me}.company.com]...x[${them}.company.com]`,
    `${conn}{1}:  INSTALLED, TUNNEL, reqid 1, ESP SPIs: c1a2b3c4_i c5d6e7f8_o`,
    '',
  ].join('\n')
  const peerTunnel = site === 1 ? '172.16.0.2' : '172.16.0.1'
  const bgp = `{"ipv4Unicast":{"as":65432,"peers":{"${peerTunnel}":{"remoteAs":65432,"state":"Established"}}}}\n`
  const sep = 'ferry-fact-section\n'
  const peerLan = site === 1 ? '192.168.1.1' : '192.168.0.1'
  const lan = `path ${peerLan} ${peerLan} from ${int.split('/')[0]} via ${peerTunnel} dev gre-${them} uid 0 \\    cache\nreaches ${peerLan}\n`
  const lastSection: Record<string, string> = {
    'IKE SAs up': sas,
    'BGP sessions Established': bgp,
    'LAN to LAN through the tunnels': lan,
  }
  return (step: Step, _changed, files) => {
    switch (step.kind) {
      case 'pkg':
        return packagesIn(step.probe(linux))
          .map((p) => `${p}\t-\n`)
          .join('')
      case 'sysctl':
        return 'live=0\n'
      case 'service':
        // Debian enables a service as it installs it; the held install started none. Heartbeat's
        // init script says "running" (exit 0 to status) while ha.cf is missing: the runbook must
        // not believe it.
        return step.reads[0] === 'service:heartbeat' && !('/etc/ha.d/ha.cf' in files)
          ? 'exists=1\nenabled=1\nrunning=1\nlinks=1\n'
          : 'exists=1\nenabled=1\nrunning=0\nlinks=1\n'
      case 'command':
        // heartbeat -s: stopped (3) until this run starts it.
        if (step.name === 'heartbeat running') return { stdout: '', code: 3 }
        return { stdout: '', code: 0 } // a handler's `unless`: the daemon does not run yet, or read its files
      case 'verify':
        if (step.name.startsWith('one active node')) return roleOut.join(sep)
        return [...roleOut, lastSection[step.name]!].join(sep)
      case 'file':
      case 'line': {
        const path = step.touches[0]!.replace(/^file:/, '')
        if (path in files) return lsProbe('-rw-------', 'root', 'root', files[path]!)
        // What the packages put there.
        if (path === '/etc/frr/daemons') return lsProbe('-rw-r-----', 'frr', 'frr', 'zebra=yes\nbgpd=no\nospfd=no\n')
        if (path === '/etc/frr/vtysh.conf')
          return lsProbe('-rw-r-----', 'frr', 'frr', 'service integrated-vtysh-config\n')
        return { stdout: '', code: 1 }
      }
      default:
        return { stdout: '', code: 0 } // a handler's `unless`: the daemon does not run yet
    }
  }
}

/** One correction of the article's text: its line `old` replaced by `lines` ([] removes it), or `lines` added after `after`. */
type Slip = { why: string } & ({ old: string; lines: string[] } | { after: string; lines: string[] })

/** The article's lines with its values as the inventory gives them, then corrected by `slips`, each of which must apply. */
function corrected(article: string[], values: Record<string, string>, slips: Slip[]): string[] {
  let out = article.map((l) => Object.entries(values).reduce((t, [a, b]) => t.replaceAll(a, b), l))
  for (const slip of slips) {
    const line = 'old' in slip ? slip.old : slip.after
    const at = out.indexOf(line)
    expect(at, `${line} (${slip.why})`).toBeGreaterThanOrEqual(0)
    out = [...out.slice(0, 'old' in slip ? at : at + 1), ...slip.lines, ...out.slice(at + 1)]
  }
  return out
}

const STRAY_BRACE: Slip = { old: '}', lines: [], why: "the article's typesetting: a `}` after the file's last line" }

/**
 * The slip list: what the article's files have wrong or no longer mean, and what ferry writes
 * instead. Each entry must match a line of the article's text (test/fixtures/seeds/002-*).
 */
export const SLIPS: Record<string, Slip[]> = {
  gre: [
    {
      after: '# here to somewhere else',
      lines: ['# Managed by ferry (deploy-ha-vpn); Heartbeat starts and stops it.'],
      why: "ferry's mark",
    },
    {
      old: '    ip addr add 172.16.0.1 dev gre-site2',
      lines: ['    ip addr add 172.16.0.1/30 dev gre-site2'],
      why: 'a /32: the /30 its bgpd.conf announces is then in no routing table, and FRR announces a network only from there',
    },
    {
      old: '    ip addr del 172.16.0.1 dev gre-site2',
      lines: ['    ip addr del 172.16.0.1/30 dev gre-site2'],
      why: 'as start adds it',
    },
    {
      after: '    ip link set gre-site2 down',
      lines: ['    ip tunnel del gre-site2'],
      why: 'stop left the tunnel, so the next start failed with "add tunnel failed: File exists" (and a changed endpoint never took)',
    },
    {
      old: '  *)',
      lines: [
        '  status)',
        '    for t in gre-site2; do',
        '      ip -o link show dev "$t" 2>/dev/null | grep -q "[<,]UP[,>]" || { echo "gre is not running"; exit 3; }',
        '    done',
        '    echo "gre is running"',
        '    ;;',
        '  *)',
      ],
      why: 'Heartbeat asks a resource\'s status before it starts it (ResourceManager: "running" means held already)',
    },
    {
      old: '    echo "Usage: $0 {start|stop|restart}" >&2',
      lines: ['    echo "Usage: $0 {start|stop|restart|status}" >&2'],
      why: 'the status action',
    },
    STRAY_BRACE,
  ],
  'ipsec.conf': [
    {
      old: 'config setup',
      lines: ['# /etc/ipsec.conf, read by strongswan-starter; managed by ferry (deploy-ha-vpn)', 'config setup'],
      why: "ferry's mark",
    },
    {
      old: '    interfaces="ipsec0=eth0:0"',
      lines: [],
      why: "KLIPS's ipsec0 device: gone; the kernel's XFRM binds to no interface",
    },
    { old: '    klipsdebug=none', lines: [], why: 'KLIPS: gone' },
    { old: '    plutodebug=none', lines: [], why: "pluto, FreeS/WAN's IKE daemon: gone (charon logs by charondebug)" },
    { old: '    plutoload=%search', lines: [], why: "pluto's: each conn's auto= says it" },
    { old: '    plutostart=%search', lines: [], why: "pluto's: each conn's auto= says it" },
    {
      old: '    keyingtries=0',
      lines: ['    keyingtries=%forever'],
      why: 'ipsec.conf(5) of strongSwan 5.9 names %forever (charon takes 0 alike)',
    },
    { old: 'conn siteltosite2', lines: ['conn site1tosite2'], why: 'an l for the 1 of site1' },
    {
      old: '    leftnexthop=116.1.1.30',
      lines: [],
      why: "KLIPS's routing (and outside its own 116.1.1.1/28): strongSwan has no nexthop",
    },
    { old: '    rightnexthop=216.1.1.30', lines: [], why: "KLIPS's routing: strongSwan has no nexthop" },
  ],
  'bgpd.conf': [
    {
      old: 'log file bgpd.log',
      lines: ['log file /var/log/frr/bgpd.log'],
      why: "relative to bgpd's working directory, /, where bgpd (user frr) cannot write",
    },
    {
      after: '  neighbor 172.16.0.2 next-hop-self',
      lines: [
        '  neighbor 172.16.0.2 prefix-list ferry-not-underlay out',
        '!',
        'ip prefix-list ferry-not-underlay seq 5 deny 116.1.1.0/28 le 32',
        'ip prefix-list ferry-not-underlay seq 10 permit 0.0.0.0/0 le 32',
      ],
      why: "`redistribute connected` announces the site's WAN subnet: site2 would route its tunnel's outer packets to 116.1.1.1 into the tunnel (KLIPS's nexthop routes kept that out in 2003)",
    },
    STRAY_BRACE,
  ],
  haresources: [
    {
      old: 'cluster1 116.1.1.1/28 192.168.0.1/24 \\',
      lines: [
        '# /etc/ha.d/haresources; managed by ferry (deploy-ha-vpn)',
        'torcofw1 ServiceAddress::116.1.1.1/28::eth0 ServiceAddress::192.168.0.1/24::eth1 ipsec gre zebra bgpd',
      ],
      why: "cluster1 names no node, and Heartbeat wants the preferred node's (uname -n): torcofw1, its bgpd.conf hostname; one line (ResourceManager joins `\\` lines alike). Its prose calls the external address 159.18.124.254; the line's 116.1.1.1 is kept. Each address goes to ferry's ServiceAddress with its interface, not to resource-agents' IPaddr: IPaddr took 23 s and 50 s per address on the lab's gateways (templates/service-address.ts), and without an interface takes eth0 and refuses the internal address on eth1",
    },
    { old: 'ipsec gre zebra bgpd', lines: [], why: 'joined onto the line above' },
    STRAY_BRACE,
  ],
}

/** The article's placeholders for the RSA keys, as the inventory gives them: strongSwan reads FreeS/WAN's RFC 3110 keys after `dns:`. */
const KEYS = {
  '0xA0S8PIPI...': '"dns:0sAwEAAbSite1PublicKeyNotInTheArticle"',
  '0xA0QKJ986...': '"dns:0sAwEAAbSite2PublicKeyNotInTheArticle"',
}

const plan = async (host = 'torcofw1', role: 'active' | 'standby' = 'active', site = 1) => {
  const inv = await loadSeedInventory('article-ha')
  return runPlan('deploy-ha-vpn', inv, host, gateway(role, site))
}
const linesOf = (text: string | undefined) => text!.trimEnd().split('\n')

describe("seed 002: every file a gateway gets, against the article's (inventory/article-ha.yaml, torcofw1)", () => {
  it("/etc/init.d/gre: the article's script for its one tunnel, named gre-site2, slips corrected; dash parses it", async () => {
    const gre = linesOf((await plan()).files['/etc/init.d/gre'])
    expect(gre).toEqual(corrected(seedLines('002-gre'), { MYTunnel: 'gre-site2' }, SLIPS.gre!))
    execFileSync('/bin/dash', ['-n', '-c', gre.join('\n')])
  })

  it("/etc/ipsec.conf: the article's, read by strongSwan's starter: its conn site1tosite2, without what means nothing today", async () => {
    expect(linesOf((await plan()).files['/etc/ipsec.conf'])).toEqual(
      corrected(seedLines('002-ipsec.conf'), KEYS, SLIPS['ipsec.conf']!),
    )
  })

  it("/etc/frr/bgpd.conf: the article's lines, its values, a log file bgpd can write", async () => {
    expect(linesOf((await plan()).files['/etc/frr/bgpd.conf'])).toEqual(
      corrected(seedLines('002-bgpd.conf'), {}, SLIPS['bgpd.conf']!),
    )
  })

  it("/etc/ha.d/haresources: the article's one line, the preferred node named", async () => {
    expect(linesOf((await plan()).files['/etc/ha.d/haresources'])).toEqual(
      corrected(seedLines('002-haresources'), {}, SLIPS.haresources!),
    )
  })

  it('the files the article does not print: ha.cf (the peer over ucast), authkeys, ipsec.secrets, the key, zebra.conf, the resource scripts', async () => {
    const { files } = await plan()
    expect(files['/etc/ha.d/ha.cf']).toBe(
      [
        '# /etc/ha.d/ha.cf; managed by ferry (deploy-ha-vpn)',
        'logfacility local0',
        'keepalive 2',
        'deadtime 10',
        'warntime 5',
        'initdead 30',
        'udpport 694',
        'ucast eth1 192.168.0.3',
        'auto_failback on',
        'node torcofw1',
        'node torcofw2',
        '',
      ].join('\n'),
    )
    expect(files['/etc/ha.d/authkeys']).toBe(`auth 1\n1 sha1 ${HA_SECRETS.FERRY_HA_AUTHKEY}\n`)
    expect(files['/etc/ipsec.secrets']).toBe(
      '# /etc/ipsec.secrets; managed by ferry (deploy-ha-vpn)\n: RSA /etc/ipsec.d/private/site1.pem\n',
    )
    expect(files['/etc/ipsec.d/private/site1.pem']).toBe(HA_SECRETS.FERRY_HA_SITE1_RSA)
    expect(files['/etc/frr/zebra.conf']).toBe(
      '!\nhostname torcofw1\npassword a_secure_password\nenable password a_more_secure_password\nlog file /var/log/frr/zebra.log\n!\n',
    )
    expect(files['/etc/frr/daemons']).toBe('zebra=yes\nbgpd=yes\nospfd=no\n')
    expect(files['/etc/frr/vtysh.conf']).toBe('no service integrated-vtysh-config\n')
    // Each resource starts its daemon itself, with its own file: no init script, no watchfrr.sh.
    const started = {
      zebra: '    exec /usr/lib/frr/zebra -d -F traditional -f /etc/frr/zebra.conf $zebra_options\n',
      bgpd: '    exec /usr/lib/frr/bgpd -d -F traditional -f /etc/frr/bgpd.conf $bgpd_options\n',
      ipsec: '    exec /usr/lib/ipsec/starter --daemon charon\n',
    }
    for (const [d, start] of Object.entries(started)) {
      const script = files[`/etc/ha.d/resource.d/${d}`]!
      expect(script).toContain(start)
      expect(script).toContain(
        `  status) if running; then echo "${d} is running"; else echo "${d} is not running"; exit 3; fi ;;\n`,
      )
      execFileSync('/bin/dash', ['-n', '-c', script])
    }
    // ServiceAddress's status, run here against lo: Heartbeat reads its words and exit code.
    const address = files['/etc/ha.d/resource.d/ServiceAddress']!
    const status = (a: string) =>
      spawnSync('/bin/dash', ['-c', address, 'ServiceAddress', a, 'lo', 'status'], { encoding: 'utf8' })
    expect(status('127.0.0.1/8')).toMatchObject({ status: 0, stdout: '127.0.0.1/8 is running\n' })
    expect(status('198.51.100.7/32')).toMatchObject({ status: 3, stdout: '198.51.100.7/32 is not running\n' })
  })

  it(
    "the other node's ha.cf names the first; the other site's files mirror these (conn site2tosite1, the tunnel's .2, primary torcofw3)",
    { timeout: 30_000 },
    async () => {
      const b = (await plan('torcofw2', 'standby')).files
      expect(b['/etc/ha.d/ha.cf']).toContain('ucast eth1 192.168.0.2\nauto_failback on\nnode torcofw2\nnode torcofw1\n')
      // The pair's IPsec, GRE and haresources are the same on both; bgpd.conf and zebra.conf differ by hostname only.
      const a = (await plan()).files
      for (const f of [
        '/etc/init.d/gre',
        '/etc/ipsec.conf',
        '/etc/ipsec.secrets',
        '/etc/ha.d/haresources',
        '/etc/ha.d/authkeys',
      ])
        expect(b[f], f).toBe(a[f])
      expect(b['/etc/frr/bgpd.conf']).toBe(a['/etc/frr/bgpd.conf']!.replace('hostname torcofw1', 'hostname torcofw2'))
      const site2 = (await plan('torcofw3', 'active', 2)).files
      expect(site2['/etc/ipsec.conf']).toContain(
        'conn site2tosite1\n    authby=rsasig\n    left=216.1.1.1\n    leftrsasigkey="dns:0sAwEAAbSite2PublicKeyNotInTheArticle"\n    leftid=@site2.company.com\n    right=116.1.1.1\n',
      )
      expect(site2['/etc/init.d/gre']).toContain(
        '    ip tunnel add gre-site1 mode gre \\\n      remote 116.1.1.1 local 216.1.1.1 ttl 255\n    ip link set gre-site1 up\n    ip addr add 172.16.0.2/30 dev gre-site1\n    ip route add 172.16.0.1/32 dev gre-site1\n',
      )
      expect(site2['/etc/frr/bgpd.conf']).toContain('  bgp router-id 172.16.0.2\n  network 172.16.0.0/30\n')
      expect(site2['/etc/frr/bgpd.conf']).toContain(
        '  neighbor 172.16.0.1 remote-as 65432\n  neighbor 172.16.0.1 next-hop-self\n',
      )
      expect(site2['/etc/ha.d/haresources']).toContain(
        '\ntorcofw3 ServiceAddress::216.1.1.1/28::eth0 ServiceAddress::192.168.1.1/24::eth1 ipsec gre zebra bgpd\n',
      )
    },
  )
})

describe('seed 002: the plan of one gateway, command by command', () => {
  it('a bare torcofw1: the held install, forwarding, the GRE script, IPsec, FRR, Heartbeat started; then the reloads only where daemons run', async () => {
    const { commands, outcome } = await plan()
    expect(outcome.status).toBe('changed')
    expect(commands[0]).toBe(heldAptInstall('heartbeat strongswan-starter strongswan-charon frr frr-pythontools'))
    expect(commands[1]).toBe('sysctl -w net.ipv4.ip_forward=1')
    expect(commands[2]).toMatch(/^f=\/etc\/sysctl\.d\/60-ferry\.conf; /)
    const started = commands.indexOf('service heartbeat start || exit')
    expect(commands.slice(3, started + 1)).toEqual([
      'write /etc/init.d/gre 0755 after sh -n %s',
      'write /etc/ipsec.conf 0644',
      'write /etc/ipsec.d/private/site1.pem 0600',
      'write /etc/ipsec.secrets 0600',
      // Heartbeat's, not started at boot: disabled, neither started nor stopped.
      'if [ -d /run/systemd/system ]; then systemctl disable strongswan-starter; else update-rc.d strongswan-starter disable; fi',
      'write /etc/frr/daemons 0640',
      'write /etc/frr/vtysh.conf 0640',
      'write /etc/frr/zebra.conf 0600 after vtysh -C -f %s',
      'write /etc/frr/bgpd.conf 0600 after vtysh -C -f %s',
      'if [ -d /run/systemd/system ]; then systemctl disable frr; else update-rc.d frr disable; fi',
      'write /etc/ha.d/resource.d/ipsec 0755 after sh -n %s',
      'write /etc/ha.d/resource.d/zebra 0755 after sh -n %s',
      'write /etc/ha.d/resource.d/bgpd 0755 after sh -n %s',
      'write /etc/ha.d/resource.d/ServiceAddress 0755 after sh -n %s',
      'write /etc/ha.d/ha.cf 0644',
      'write /etc/ha.d/authkeys 0600',
      'write /etc/ha.d/haresources 0644',
      'service heartbeat start || exit',
    ])
    // Then the watch of the next test, and no handler: ipsec, zebra and bgpd do not run yet
    // (Heartbeat starts them with the files in place), and heartbeat started with its files.
    expect(commands.at(-1)).toBe('done')
  })

  it('Heartbeat started on the primary, then its group started by hand if Heartbeat says it holds it and does not (Heartbeat 3.0.6 can lose that message); on the other node, started only', async () => {
    const { commands } = await plan()
    expect(commands.slice(commands.indexOf('service heartbeat start || exit'))).toEqual([
      'service heartbeat start || exit',
      't0=$(date +%s) since=',
      'while :; do',
      // Ends once holding 116.1.1.1 and 192.168.0.1, after initdead + deadtime + converge_timeout,
      // or once both answer from the other node after initdead (30 s).
      '  { ip -o -4 addr show to 116.1.1.1/32 | grep -q . && ip -o -4 addr show to 192.168.0.1/32 | grep -q .; } && exit 0',
      '  t=$(($(date +%s) - t0))',
      '  [ "$t" -lt 100 ] || exit 0',
      '  if [ "$t" -gt 30 ] && [ "$(for a in 116.1.1.1 192.168.0.1; do if ping -c 1 -W 1 "$a" >/dev/null 2>&1; then echo "answers=$a"; fi; done | wc -l)" = 2 ]; then exit 0; fi',
      '  case "$(cl_status rscstatus 2>/dev/null)" in',
      '    local | all) if pgrep -x ResourceManager >/dev/null; then since=; else since=${since:-$t}; fi ;;',
      '    *) since= ;;',
      '  esac',
      '  if [ -n "$since" ] && [ $((t - since)) -ge 10 ]; then',
      '    logger -t ferry "Heartbeat holds its resources but did not start them: ResourceManager takegroup"',
      '    for k in $(/usr/share/heartbeat/ResourceManager listkeys torcofw1); do /usr/share/heartbeat/ResourceManager takegroup "$k"; done',
      '    since=',
      '  fi',
      '  sleep 1',
      'done',
    ])
    const other = await runPlan('deploy-ha-vpn', await loadSeedInventory('article-ha'), 'torcofw2', gateway('standby'))
    expect(other.commands.filter((c) => c.includes('heartbeat start'))).toEqual(['service heartbeat start'])
  })

  it("the primary's watch, run by sh with stand-ins: Heartbeat holding its group without starting it gets ResourceManager takegroup after 10 s; Heartbeat starting it itself gets nothing", async () => {
    const { commands } = await plan()
    const watch = commands.slice(commands.indexOf('service heartbeat start || exit')).join('\n')
    const run = (stub: Record<string, string>) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ferry-hb-watch-'))
      const stubs = { service: 'exit 0', ping: 'exit 1', logger: `echo "$*" >> ${dir}/log`, ...stub }
      // ResourceManager as Heartbeat's answers: listkeys gives the group's key, its first resource.
      const rm = `case $1 in listkeys) [ "$2" = torcofw1 ] && echo ServiceAddress::116.1.1.1/28::eth0 ;; takegroup) echo "$*" > ${dir}/taken ;; esac`
      for (const [name, body] of Object.entries({ ...stubs, ResourceManager: rm }))
        writeFileSync(path.join(dir, name), `#!/bin/sh\n${body.replaceAll('DIR', dir)}\n`, { mode: 0o755 })
      const t0 = Date.now()
      const r = spawnSync(
        'sh',
        ['-c', watch.replaceAll('/usr/share/heartbeat/ResourceManager', `${dir}/ResourceManager`)],
        {
          env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
          encoding: 'utf8',
          timeout: 60_000,
        },
      )
      const read = (f: string) => (existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), 'utf8') : '')
      return { code: r.status, seconds: (Date.now() - t0) / 1000, taken: read('taken'), log: read('log') }
    }
    // Lost: Heartbeat says local, no ResourceManager runs, the addresses come only with takegroup.
    const lost = run({
      cl_status: 'echo local',
      pgrep: 'exit 1',
      ip: '[ -e DIR/taken ] && echo "2: eth0    inet $5 scope global eth0"',
    })
    expect(lost).toMatchObject({ code: 0, taken: 'takegroup ServiceAddress::116.1.1.1/28::eth0\n' })
    expect(lost.log).toContain('Heartbeat holds its resources but did not start them')
    expect(lost.seconds).toBeGreaterThanOrEqual(10)
    // Heartbeat at work: its ResourceManager runs, and the addresses come on the third look.
    const working = run({
      cl_status: 'echo local',
      pgrep: 'exit 0',
      ip: 'n=$(cat DIR/n 2>/dev/null || echo 0); echo $((n + 1)) > DIR/n; [ "$n" -ge 4 ] && echo "2: eth0    inet $5"',
    })
    expect(working).toMatchObject({ code: 0, taken: '', log: '' })
  }, 60_000)

  it("the watch's timers are whole seconds for test(1), whatever fractions Heartbeat's take", async () => {
    const inv = await loadSeedInventory('article-ha')
    for (const h of inv.hosts) h.vars.heartbeat = { ...(h.vars.heartbeat as object), initdead: 12.5, deadtime: 2.5 }
    const { commands } = await runPlan('deploy-ha-vpn', inv, 'torcofw1', gateway('active'))
    expect(commands).toContain('  [ "$t" -lt 75 ] || exit 0') // 12.5 + 2.5 + converge_timeout 60
    expect(commands.find((c) => c.startsWith('  if [ "$t" -gt '))).toMatch(/^ {2}if \[ "\$t" -gt 13 \]/)
  })

  it('with ipsec_daemon: starter (no systemd), the held IPsec service is the init script ipsec', async () => {
    const inv = await loadSeedInventory('article-ha')
    for (const h of inv.hosts) h.vars.ipsec_daemon = 'starter'
    const { commands } = await runPlan('deploy-ha-vpn', inv, 'torcofw1', gateway('active'))
    expect(commands).toContain(
      'if [ -d /run/systemd/system ]; then systemctl disable ipsec; else update-rc.d ipsec disable; fi',
    )
  })

  it('the reloads, where the daemons run: ipsec update and rereadsecrets, frr-reload.py per daemon on its own file', async () => {
    const inv = await loadSeedInventory('article-ha')
    const facts = gateway('active')
    const { commands } = await runPlan('deploy-ha-vpn', inv, 'torcofw1', (step, changed, files) =>
      step.kind === 'command' ? { stdout: '', code: 1 } : facts(step, changed, files),
    )
    expect(commands.slice(-4)).toEqual([
      'ipsec update && ipsec rereadsecrets',
      '/usr/lib/frr/frr-reload.py --reload --daemon zebra /etc/frr/zebra.conf',
      '/usr/lib/frr/frr-reload.py --reload --daemon bgpd /etc/frr/bgpd.conf',
      'service heartbeat reload',
    ])
  })
})

describe('seed 002: the checks after a run', () => {
  const checks = async (host: string) => {
    const inv = await loadSeedInventory('article-ha')
    const { runbook } = await loadRunbook('deploy-ha-vpn', ROOT)
    const [built] = await buildSteps(
      runbook,
      inv,
      inv.hosts.filter((h) => h.name === host),
      {},
    )
    return built!.steps.filter((s) => s.kind === 'verify')
  }
  const look = (step: Step, sections: string[]) =>
    step.check({ stdout: sections.join('ferry-fact-section\n'), code: 0 }, {} as never).map((c) => c.summary)
  const ADDR = (...a: string[]) => a.map((x) => `2: eth0    inet ${x} brd 0.0.0.0 scope global eth0\n`).join('')

  it('each gateway: one active node in its site, then, on the active node only, its IKE SAs and BGP sessions', async () => {
    const [one, ike, bgp] = await checks('torcofw1')
    expect([one, ike, bgp].map((s) => [s!.name, s!.probe(linux)])).toEqual([
      [
        'one active node in site1',
        '{ ip -o -4 addr show; } 2>&1 || :; echo ferry-fact-section; { cl_status rscstatus; } 2>&1 || :; echo ferry-fact-section; { for a in 116.1.1.1 192.168.0.1; do if ping -c 1 -W 1 "$a" >/dev/null 2>&1; then echo "answers=$a"; fi; done; } 2>&1 || :',
      ],
      ['IKE SAs up', expect.stringMatching(/echo ferry-fact-section; \{ ipsec status; \} 2>&1 \|\| :$/)],
      [
        'BGP sessions Established',
        expect.stringMatching(/echo ferry-fact-section; \{ vtysh -c 'show bgp summary json'; \} 2>&1 \|\| :$/),
      ],
    ])
    // The standby: no service address, Heartbeat holds none here, both answer from the other node.
    const standby = [ADDR('192.168.0.3/24'), 'none\n', 'answers=116.1.1.1\nanswers=192.168.0.1\n', '']
    for (const s of [one, ike, bgp]) expect(look(s!, standby)).toEqual([])
    // rscstatus local is the primary's own group; on the other node it holds nothing of the site's.
    expect(look((await checks('torcofw2'))[0]!, [ADDR('192.168.0.3/24'), 'local\n', standby[2]!, ''])).toEqual([])
    expect(look(one!, [ADDR(), 'local\n', standby[2]!, ''])).toEqual([
      "wait until one active node in site1 (now: not settled: holds no service address, Heartbeat's resources here: local, answering: 116.1.1.1 192.168.0.1 (torcofw2 is the other node))",
    ])
    expect(look(one!, [ADDR('116.1.1.1/28', '192.168.0.1/24'), 'local\n', '', ''])).toEqual([])
    expect(look(one!, [ADDR('116.1.1.1/28', '192.168.0.1/24'), 'foreign\n', '', ''])[0]).toMatch(/not settled/)
    expect(look(one!, [ADDR(), 'transition\n', standby[2]!, ''])[0]).toMatch(/resources here: transition/)
    // Not settled yet: one address of two, or none held and none answering (before the takeover).
    expect(look(one!, [ADDR('116.1.1.1/28'), 'all\n', '', ''])).toEqual([
      "wait until one active node in site1 (now: not settled: holds 116.1.1.1/28, Heartbeat's resources here: all, answering: neither (torcofw2 is the other node))",
    ])
    expect(look(ike!, [ADDR(), 'none\n', '', ''])[0]).toMatch(/not settled: holds no service address/)
    expect(look(one!, [ADDR(), 'cl_status: heartbeat is not running\n', '', ''])[0]).toMatch(
      /Heartbeat does not answer \(cl_status rscstatus: "cl_status: heartbeat is not running"\)/,
    )
    // The active node: both addresses, and its SAs and sessions.
    const active = [ADDR('116.1.1.1/28', '192.168.0.1/24'), 'all\n', '']
    expect(look(one!, [...active, ''])).toEqual([])
    expect(
      look(ike!, [
        ...active,
        'Security Associations (0 up, 1 connecting):\nsite1tosite2[1]: CONNECTING, 116.1.1.1[%any]...216.1.1.1[%any]\n',
      ]),
    ).toEqual(['wait until IKE SAs up (now: not up: site1tosite2)'])
    expect(look(bgp!, [...active, '{"ipv4Unicast":{"peers":{"172.16.0.2":{"state":"Active"}}}}\n'])).toEqual([
      'wait until BGP sessions Established (now: site2 (172.16.0.2) is Active)',
    ])
    expect(look(bgp!, [...active, '% Unknown command: show bgp summary json\n'])[0]).toMatch(/bgpd does not answer/)
  })

  it("the active node's LAN address reaches the other site's through the tunnel, and only through it", async () => {
    const lan = (await checks('torcofw1'))[3]!
    expect(lan.name).toBe('LAN to LAN through the tunnels')
    expect(lan.probe(linux)).toMatch(
      /echo ferry-fact-section; \{ printf 'path %s %s\\n' 192\.168\.1\.1 "\$\(ip -o route get 192\.168\.1\.1 from 192\.168\.0\.1 2>&1\)"; if ping -c 1 -W 2 -I 192\.168\.0\.1 192\.168\.1\.1 >\/dev\/null 2>&1; then printf 'reaches %s\\n' 192\.168\.1\.1; fi; \} 2>&1 \|\| :$/,
    )
    // The fact's command, run here from lo to lo: the kernel's answer parsed.
    const here = ha.lanPaths('127.0.0.1', ['127.0.0.1'])
    expect(here.parse(execFileSync('/bin/sh', ['-c', here.command], { encoding: 'utf8' }))).toEqual(
      new Map([['127.0.0.1', { dev: 'lo', reaches: true }]]),
    )
    const active = [ADDR('116.1.1.1/28', '192.168.0.1/24'), 'all\n', '']
    const via = (dev: string) =>
      `path 192.168.1.1 192.168.1.1 from 192.168.0.1 via 172.16.0.2 dev ${dev} uid 0 \\    cache\n`
    expect(look(lan, [...active, `${via('gre-site2')}reaches 192.168.1.1\n`])).toEqual([])
    expect(look(lan, [...active, via('gre-site2')])).toEqual([
      'wait until LAN to LAN through the tunnels (now: 192.168.1.1 does not answer through gre-site2)',
    ])
    // Answering by another way (the underlay) is not the article's VPN.
    expect(look(lan, [...active, `${via('eth0')}reaches 192.168.1.1\n`])).toEqual([
      'wait until LAN to LAN through the tunnels (now: 192.168.1.1 is routed via eth0, not gre-site2)',
    ])
    expect(look(lan, [...active, 'path 192.168.1.1 RTNETLINK answers: Network is unreachable\n'])).toEqual([
      'wait until LAN to LAN through the tunnels (now: 192.168.1.1 is routed via nothing, not gre-site2)',
    ])
  })
})

describe('seed 002: inventories refused before any host is contacted, naming the host or site and the var', () => {
  /** inventory/article-ha.yaml edited, loaded from a scratch file, and built for torcofw1. */
  const refusal = async (edit: (t: string) => string) => {
    await loadSeedInventory('article-ha') // the secrets, in the env
    const text = edit(readFileSync(path.join(ROOT, 'inventory/article-ha.yaml'), 'utf8'))
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ferry-inventory-')), 'article-ha.yaml')
    writeFileSync(file, text)
    const inv = await loadInventory(file)
    const { runbook } = await loadRunbook('deploy-ha-vpn', ROOT)
    return buildSteps(
      runbook,
      inv,
      inv.hosts.filter((h) => h.name === 'torcofw1'),
      {},
    ).then(
      () => {
        throw new Error('planned')
      },
      (err: Error) => err.message,
    )
  }
  /** The host's four lines gone. */
  const drop = (host: string) => (t: string) => t.replace(new RegExp(`^  ${host}:\\n(    .*\\n){3}`, 'm'), '')

  it.each([
    ['a site with one gateway', drop('torcofw4'), /site site2 has 1 gateway \(torcofw3\): a Heartbeat pair is 2/],
    [
      'a site with three gateways',
      (t: string) =>
        t.replace(
          '  torcofw4:',
          '  torcofw5:\n    address: 216.1.1.4\n    groups: [ha-vpn, site2]\n    vars: { wan_address: 216.1.1.4/28, lan_address: 192.168.1.4/24 }\n  torcofw4:',
        ),
      /site site2 has 3 gateways \(torcofw3, torcofw4, torcofw5\): a Heartbeat pair is 2/,
    ],
    [
      'a primary not in its site',
      (t: string) => t.replace('primary: torcofw3', 'primary: torcofw1'),
      /site site2: var primary torcofw1 is not one of its gateways \(torcofw3, torcofw4\)/,
    ],
    [
      "a gateway's own address outside the service subnet",
      (t: string) => t.replace('wan_address: 216.1.1.3/28', 'wan_address: 216.1.2.3/28'),
      /torcofw4: var wan_address 216\.1\.2\.3\/28 must be another address in external_address 216\.1\.1\.1\/28's subnet: Heartbeat's IPaddr finds eth0 by it/,
    ],
    [
      'rsasig without a public key',
      (t: string) => t.replace('      ipsec_public_key: 0sAwEAAbSite2PublicKeyNotInTheArticle\n', ''),
      /site site2: var ipsec_public_key is missing \(ipsec_auth rsasig\)/,
    ],
    [
      "a peer site's var that is not what it claims",
      (t: string) => t.replace('external_address: 216.1.1.1/28', 'external_address: 216.1.1.1'),
      /torcofw3: var external_address: must be an IPv4 address with a prefix length/,
    ],
    [
      'one site only',
      (t: string) => drop('torcofw3')(drop('torcofw4')(t)),
      /needs at least two sites; the ha-vpn group has 1/,
    ],
  ])('%s', async (_what, edit, message) => {
    expect(await refusal(edit)).toMatch(message)
  })

  it("a missing var of the host's own: the inventory's line and the var, as every runbook's", async () => {
    expect(await refusal((t) => t.replace(', lan_address: 192.168.0.2/24', ''))).toMatch(
      /article-ha\.yaml:\d+:\d+: torcofw1: var lan_address: .*\(required by runbook deploy-ha-vpn\)/,
    )
  })

  it('a missing secret is named', async () => {
    expect(await refusal((t) => t.replace('  ha_authkey: env:FERRY_HA_AUTHKEY\n', ''))).toMatch(/ha_authkey/)
  })
})

describe('Heartbeat times', () => {
  it('whole seconds as they are, fractions in milliseconds, nonsense refused', () => {
    expect([2, 10, 0.5, 1.25].map((s) => hbTime('keepalive', s))).toEqual(['2', '10', '500ms', '1250ms'])
    expect(() => hbTime('keepalive', 0.0001)).toThrow(
      'keepalive must be a positive number of seconds, to the millisecond',
    )
    expect(() => hbTime('deadtime', -1)).toThrow(/deadtime/)
  })
})

describe('ipsec_auth: psk', () => {
  it('authby=secret and no keys in ipsec.conf; the PSK between the two identities in ipsec.secrets, masked; no private key file', async () => {
    await loadSeedInventory('article-ha')
    vi.stubEnv('FERRY_HA_PSK', 'not-the-articles-psk')
    const text = readFileSync(path.join(ROOT, 'inventory/article-ha.yaml'), 'utf8')
      .replace('ipsec_auth: rsasig', 'ipsec_auth: psk')
      .replace('secrets:\n', 'secrets:\n  ipsec_psk: env:FERRY_HA_PSK\n')
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ferry-inventory-')), 'article-ha.yaml')
    writeFileSync(file, text)
    const { files, commands } = await runPlan('deploy-ha-vpn', await loadInventory(file), 'torcofw1', gateway('active'))
    expect(files['/etc/ipsec.conf']).toContain(
      'conn site1tosite2\n    authby=secret\n    left=116.1.1.1\n    leftid=@site1.company.com\n    right=216.1.1.1\n    rightid=@site2.company.com\n    auto=start\n',
    )
    expect(files['/etc/ipsec.conf']).not.toContain('rsasigkey')
    expect(files['/etc/ipsec.secrets']).toBe(
      '# /etc/ipsec.secrets; managed by ferry (deploy-ha-vpn)\n@site1.company.com @site2.company.com : PSK "not-the-articles-psk"\n',
    )
    expect(masked(files['/etc/ipsec.secrets']!, ipsecSecretsMask)).not.toContain('not-the-articles-psk')
    expect(commands).not.toContain('write /etc/ipsec.d/private/site1.pem 0600')
  })
})

describe('secrets in the files are masked in diffs', () => {
  it('bgpd.conf and zebra.conf: both vty passwords; authkeys: the key', async () => {
    const { files } = await plan()
    for (const f of ['/etc/frr/bgpd.conf', '/etc/frr/zebra.conf']) {
      const shown = masked(files[f]!, bgpdSecrets)
      expect(shown).toContain('password ********\nenable password ********\n')
      expect(shown).not.toMatch(/a_secure_password|a_more_secure_password/)
    }
    expect(masked(files['/etc/ha.d/authkeys']!, authkeysMask)).toBe('auth 1\n1 sha1 ********\n')
  })
})
