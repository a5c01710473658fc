// migrate-jail without hosts: discovery's parser on each driver's output, the FreeBSD driver's
// commands (no FreeBSD machine exists here: these goldens are its only proof), the route and
// port facts, the prompt flow of `prepare`, driven through the real inquirer prompts by
// @inquirer/testing against hosts that answer discovery from fixtures, and whole FreeBSD
// migrations run against stand-in hosts, honest and compromised.
import { describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { render } from '@inquirer/testing'
import { loadInventory } from '../../src/inventory/index.ts'
import { loadRunbook } from '../../src/engine/load.ts'
import { askWith } from '../../src/cli/params.ts'
import { ParamError, type PrepareContext } from '../../src/runbook.ts'
import { recordingShell } from '../../src/shell/recording.ts'
import type { Transport } from '../../src/transport/transport.ts'
import { jailDriver } from '../../src/platform/platform.ts'
import { definitionDiffers, parseDiscovery } from '../../src/jails/discovery.ts'
import { freebsdJails } from '../../src/jails/freebsd.ts'
import * as zfs from '../../src/jails/zfs.ts'
import { tcpOpen } from '../../src/facts/net.ts'
import { linuxRouteTo } from '../../src/platform/linux.ts'
import { bsdRouteTo } from '../../src/platform/common.ts'
import { relay } from '../../src/jails/relay.ts'
import { LocalTransport } from '../../src/transport/local.ts'
import { readOnly } from '../../src/transport/transport.ts'
import { buildSteps } from '../../src/engine/build.ts'
import { HostRunner } from '../../src/engine/host.ts'
import type { Host } from '../../src/inventory/types.ts'
import { standinHosts, STANDINS, type StandinHost } from '../golden/standins.ts'

const ROOT = resolve(import.meta.dirname, '../..')
/** The definition of web as the source has it: written out here, not built by the code under test. */
const WEB_CONF = [
  'web {',
  '\tpath = "/tank/jails/web";',
  '\thost.hostname = "web";',
  '\tip4.addr = "lo2|172.16.3.17/32";',
  '\texec.start = "/bin/sh /etc/rc";',
  '\texec.stop = "/bin/sh /etc/rc.shutdown";',
  '\texec.clean;',
  '\tmount.devfs;',
  '}',
  '',
].join('\n')

const WEB = { name: 'web', address: '172.16.3.17/32', dataset: 'tank/jails/web' }

/**
 * What the Linux driver's discovery printed on lab2 with `web` (200 MB) running, recorded in the
 * lab; with the definition (lab.ts's makeJail's) and the parent's mountpoint it prints since.
 */
const LAB2 = [
  'jail\tweb',
  `definition\t${Buffer.from('address=172.16.3.17/32\ndataset=tank/jails/web\n').toString('hex')}`,
  'autostart',
  'running',
  'listen\t80',
  'dataset\t196812800\t196812800\t/tank/jails/web',
  'parent\t1\t/tank/jails',
  'pool\ttank\t833720320',
  'addr\t127.0.0.1/8',
  'addr\t172.16.3.17/32',
  'addr\t198.18.0.12/24',
].join('\n')

/** A host with the pool and the parent, and nothing of the jail. */
const empty = (free: number, extra: string[] = []) =>
  ['jail\tweb', 'parent\t1\t/tank/jails', `pool\ttank\t${free}`, 'addr\t127.0.0.1/8', ...extra].join('\n')

describe('discovery', () => {
  it('reads a running jail, its ports and size, the pools and the addresses', () => {
    const host = parseDiscovery(LAB2)
    expect(host.jails.get('web')).toEqual({
      name: 'web',
      definition: 'address=172.16.3.17/32\ndataset=tank/jails/web\n',
      autostart: true,
      running: true,
      ports: [80],
      parentExists: true,
      parentMountpoint: '/tank/jails',
      dataset: { used: 196812800, referenced: 196812800, mountpoint: '/tank/jails/web' },
    })
    expect(host.pools).toEqual(new Map([['tank', 833720320]]))
    expect([...host.addresses]).toEqual(['127.0.0.1', '172.16.3.17', '198.18.0.12'])
  })

  it('reads an absent jail as absent, whatever else the host has', () => {
    const host = parseDiscovery(
      ['jail\tweb', 'parent\t0', 'jail\tdb', 'running', 'listen\t5432', 'listen\t5432'].join('\n'),
    )
    expect(host.jails.get('web')).toMatchObject({ running: false, parentExists: false, ports: [] })
    expect(host.jails.get('web')!.dataset).toBeUndefined()
    expect(host.jails.get('web')!.definition).toBeUndefined()
    expect(host.jails.get('db')).toMatchObject({ running: true, ports: [5432] })
    expect(host.pools.size).toBe(0)
  })

  it('takes nothing from a host that does not read as what it says: a source may be compromised', () => {
    const bad: Array<[string, string]> = [
      ['listen\t99999', 'listen'],
      ['listen\t80; rm -rf /', 'listen'],
      ['dataset\t1e9\t1\t/tank/jails/web', 'dataset'],
      ['dataset\t1\t1\ttank/jails/web', 'dataset'],
      ['dataset\t1\t1\t/tank/\x1b[2Jweb', 'dataset'],
      ['parent\t1\t../etc', 'parent'],
      ['definition\t6a6', 'definition'],
      ['running\tyes', 'running'],
    ]
    for (const [line, key] of bad)
      expect(() => parseDiscovery(`jail\tweb\n${line}\n`), line).toThrow(`discovery line 2 does not read as ${key}`)
    expect(() => parseDiscovery('pool\ttank\t-1\n')).toThrow('discovery line 1 does not read as pool')
    expect(() => parseDiscovery('addr\t172.16.3.17/32 dev lo\n')).toThrow('discovery line 1 does not read as addr')
    // Lines of no key ferry knows are none of its business.
    expect(parseDiscovery('jail\tweb\nlock\tsomeone\n').jails.get('web')).toMatchObject({ running: false })
  })

  it("compares a definition with ferry's without indentation, blank lines and comments, and says where it differs", () => {
    const ferry = ['web {', '\tpath = "/tank/jails/web";', '\tmount.devfs;', '}']
    expect(
      definitionDiffers(
        '# web, moved by ferry\nweb {\n  path = "/tank/jails/web";\n\n  // devices\n  mount.devfs;\n}\n',
        ferry,
      ),
    ).toBeUndefined()
    expect(
      definitionDiffers('web {\n\tpath = "/tank/jails/web";\n\tmount.devfs;\n\tallow.raw_sockets;\n}\n', ferry),
    ).toBe(`line 4 is "allow.raw_sockets;", where ferry's has "}"`)
    expect(definitionDiffers('web {\n\tpath = "/tank/jails/web";\n', ferry)).toBe(
      `ends where ferry's has "mount.devfs;"`,
    )
    expect(definitionDiffers('web {\r\n', ferry)).toBe('line 1 holds a control character ("\\r")')
    expect(definitionDiffers('# \x9b2J\nweb {\n', ferry)).toBe('line 1 holds a control character ("\\u009b")')
  })

  it('has a driver for FreeBSD and Linux, and none for OpenBSD (no jails there)', () => {
    expect(jailDriver('freebsd')?.kind).toBe('FreeBSD jail(8)')
    expect(jailDriver('linux')?.kind).toBe('lab jail (Linux)')
    expect(jailDriver('openbsd')).toBeUndefined()
  })
})

describe('FreeBSD jail(8) driver (golden)', () => {
  it('starts, stops and enables a jail from its jail.conf.d file', () => {
    expect(freebsdJails.configPath(WEB)).toBe('/etc/jail.conf.d/web.conf')
    expect(freebsdJails.start(WEB)).toBe(
      [
        '[ "$(zfs get -H -o value mounted tank/jails/web)" = yes ] || zfs mount tank/jails/web',
        'jail -f /etc/jail.conf.d/web.conf -c web',
      ].join('\n'),
    )
    expect(freebsdJails.stop(WEB)).toBe(
      'if jls -j web jid >/dev/null 2>&1; then jail -f /etc/jail.conf.d/web.conf -r web; fi',
    )
    expect(freebsdJails.autostart(WEB, true)).toBe('sysrc jail_list+=web')
    expect(freebsdJails.autostart(WEB, false)).toBe('sysrc jail_list-=web')
  })

  it('defines a jail as the FreeBSD Handbook does, from the inventory and its root alone, quoted for jail.conf', () => {
    expect(freebsdJails.definition(WEB, '/tank/jails/web')).toEqual(WEB_CONF.split('\n').slice(0, -1))
    expect(freebsdJails.definition(WEB, '/jails/$HOME/"x"\\')[1]).toBe('\tpath = "/jails/\\$HOME/\\"x\\"\\\\";')
  })

  it('discovers with jls, sysrc jail_list, sockstat, zfs get and ifconfig', () => {
    const snippet = freebsdJails.discover([WEB])
    expect(snippet).toContain(
      `if [ -f /etc/jail.conf.d/web.conf ]; then printf 'definition\\t%s\\n' "$(od -An -v -tx1 /etc/jail.conf.d/web.conf | tr -d ' \\n')"; fi`,
    )
    expect(snippet).toContain(
      `if m=$(zfs get -H -o value mountpoint tank/jails 2>/dev/null); then printf 'parent\\t1\\t%s\\n' "$m"; else printf 'parent\\t0\\n'; fi`,
    )
    expect(snippet).toContain(`case " $(sysrc -n jail_list 2>/dev/null) " in *' web '*) echo autostart ;; esac`)
    expect(snippet).toContain(
      `if jls -j web jid >/dev/null 2>&1; then echo running; sockstat -4 -l -q -j web | awk '$5 ~ /^tcp/ { n = split($6, a, ":"); print "listen\\t" a[n] }'; fi`,
    )
    expect(snippet).toContain('zfs get -Hp -o value used,referenced,mountpoint tank/jails/web')
    expect(snippet).toContain(`ifconfig -a inet | awk '$1 == "inet" { print "addr\\t" $2 }'`)
  })

  it('quotes what the inventory supplies', () => {
    const odd = { name: "we'b", address: '172.16.3.17/32', dataset: 'tank/jails/we b' }
    expect(freebsdJails.stop(odd)).toBe(
      `if jls -j 'we'\\''b' jid >/dev/null 2>&1; then jail -f '/etc/jail.conf.d/we'\\''b.conf' -r 'we'\\''b'; fi`,
    )
    expect(zfs.snapshot(odd.dataset, 'ferry-1-seed')).toBe(`zfs snapshot -r 'tank/jails/we b@ferry-1-seed'`)
  })
})

describe('zfs commands', () => {
  it('sends a full replication stream, then increments received with -F', () => {
    expect(zfs.send('tank/jails/web', 't-seed')).toBe("trap '' HUP PIPE; zfs send -R tank/jails/web@t-seed")
    expect(zfs.send('tank/jails/web', 't-final', 't-catchup1')).toBe(
      "trap '' HUP PIPE; zfs send -R -i @t-catchup1 tank/jails/web@t-final",
    )
    expect(zfs.receive('tank/jails/web', false)).toBe('zfs receive -u tank/jails/web')
    expect(zfs.receive('tank/jails/web', true)).toBe('zfs receive -u -F tank/jails/web')
  })

  it("destroys a dataset only when it holds this migration's snapshot", () => {
    expect(zfs.destroyReceived('tank/jails/web', 't-seed')).toBe(
      'if zfs get -H -o value name tank/jails/web@t-seed >/dev/null 2>&1; then ' +
        'if [ "$(zfs get -H -o value mounted tank/jails/web)" = yes ]; then n=0; until zfs umount tank/jails/web; do n=$((n + 1)); [ "$n" -lt 10 ] || exit 1; sleep 0.3; done; fi; ' +
        'n=0; until zfs destroy -r tank/jails/web; do n=$((n + 1)); [ "$n" -lt 10 ] || exit 1; sleep 0.3; done; fi',
    )
  })
})

describe('route and port facts', () => {
  it("reads the next hop from Linux ip route get and the BSDs' route get", () => {
    expect(
      linuxRouteTo('172.16.3.17').parse('172.16.3.17 via 172.16.2.6 dev tap14 src 10.0.0.3 uid 0 \n    cache \n'),
    ).toEqual({ gateway: '172.16.2.6', dev: 'tap14' })
    expect(linuxRouteTo('172.16.2.6').parse('172.16.2.6 dev tap14 src 172.16.2.5 uid 0 \n')).toEqual({ dev: 'tap14' })
    expect(linuxRouteTo('9.9.9.9').parse('')).toBeUndefined()
    const bsd =
      '   route to: 172.16.3.17\ndestination: 172.16.3.17\n    gateway: 172.16.2.2\n        fib: 0\n  interface: tap2\n      flags: <UP,GATEWAY,HOST,DONE,PROTO1>\n'
    expect(bsdRouteTo('172.16.3.17').parse(bsd)).toEqual({ gateway: '172.16.2.2', dev: 'tap2' })
  })

  it('tests a TCP port with bash on Linux and nc on the BSDs', () => {
    expect(tcpOpen('linux', '172.16.3.17', 80).command).toBe(
      `timeout 3 bash --norc --noprofile -c 'exec 3<>/dev/tcp/172.16.3.17/80' 2>/dev/null && echo open`,
    )
    expect(tcpOpen('freebsd', '172.16.3.17', 80).command).toBe('nc -z -w 3 172.16.3.17 80 2>/dev/null && echo open')
    expect(tcpOpen('linux', '172.16.3.17', 80).parse('open\n')).toBe(true)
    expect(tcpOpen('linux', '172.16.3.17', 80).parse('')).toBe(false)
  })
})

describe('relay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-relay-'))
  const [a, b] = [new LocalTransport('a'), new LocalTransport('b')]

  it("streams one command's output into another's input, every byte, reporting progress", async () => {
    const out = join(dir, 'got')
    const seen: number[] = []
    const n = await relay(a, 'head -c 30000000 /dev/urandom | tee ' + join(dir, 'sent'), b, `cat > ${out}`, {
      every: 0,
      progress: (p) => seen.push(p.bytes),
    })
    expect(n).toBe(30_000_000)
    expect(statSync(out).size).toBe(30_000_000)
    expect(readFileSync(out).equals(readFileSync(join(dir, 'sent')))).toBe(true)
    expect(seen.at(-1)).toBe(30_000_000)
    expect(seen.length).toBeGreaterThan(2)
  })

  it('a receiver that dies stops a sender that would never end, and the error names the cause', async () => {
    await expect(relay(a, 'yes', b, 'head -c 1000 > /dev/null; echo no space >&2; exit 3')).rejects.toThrow(
      /^transfer failed after \d+ bytes: zfs receive on b exited 3: no space; zfs send on a was stopped$/,
    )
  })

  it('an interrupt stops both sides', async () => {
    const abort = new AbortController()
    setTimeout(() => abort.abort(), 200)
    await expect(relay(a, 'yes', b, 'cat > /dev/null', { signal: abort.signal })).rejects.toThrow(
      /^interrupted after \d+ bytes$/,
    )
  })

  it("a sender that fails ends the receiver's input", async () => {
    await expect(relay(a, 'printf abc; echo no such snapshot >&2; exit 2', b, 'cat > /dev/null')).rejects.toThrow(
      'transfer failed after 3 bytes: zfs send on a exited 2: no such snapshot; zfs receive on b was stopped',
    )
  })
})

describe('prepare: which jail, where to, go?', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-migrate-'))
  const file = join(dir, 'inv.yaml')
  writeFileSync(
    file,
    `defaults: { os: linux }
hosts:
  src1: { address: 198.51.100.1, jails: { web: { address: 172.16.3.17/32, dataset: tank/jails/web } } }
  roomy: { address: 198.51.100.2 }
  nopool: { address: 198.51.100.3 }
  small: { address: 198.51.100.4 }
  taken: { address: 198.51.100.5 }
  chk: { address: 198.51.100.6 }
  moved: { address: 198.51.100.7 }
links:
  - { a: roomy, b: chk }
  - { a: src1, b: roomy }
`,
  )
  const inventory = await loadInventory(file)
  const { runbook } = await loadRunbook('migrate-jail', ROOT)
  const discovery: Record<string, string> = {
    src1: LAB2,
    roomy: empty(800e6),
    nopool: ['jail\tweb', 'parent\t0', 'addr\t127.0.0.1/8'].join('\n'),
    small: empty(100e6),
    taken: empty(800e6, ['addr\t172.16.3.17/32']),
    chk: empty(800e6),
    moved: empty(800e6).replace('/tank/jails', '/jails'),
  }
  const connect = async (host: { name: string }) => {
    const $ = recordingShell(
      () => ({ stdout: discovery[host.name]!, code: 0 }),
      () => {},
    )
    return { name: host.name, $, probe$: $, standby: () => {} } as unknown as Transport
  }

  /** An Ask that shows each prompt with @inquirer/testing, keeps its screen, and plays the keys given for it. */
  function scripted(keys: string[][]) {
    const screens: string[] = []
    const ask = askWith(async (prompt, config) => {
      const { answer, events, getScreen } = await render(prompt as never, config as never)
      // The search prompt loads its choices asynchronously.
      await new Promise((r) => setTimeout(r, 20))
      screens.push(getScreen())
      for (const key of keys.shift() ?? []) {
        if (key.startsWith('type:')) events.type(key.slice(5))
        else events.keypress(key)
        await new Promise((r) => setTimeout(r, 10))
      }
      return answer
    })
    return { ask, screens }
  }

  const prepare = (params: Record<string, unknown>, ask: PrepareContext['ask'], opts: Partial<PrepareContext> = {}) => {
    const warnings: string[] = []
    const done = runbook.prepare!({
      inventory,
      params,
      interactive: true,
      dryRun: false,
      ask,
      connect,
      warn: (l) => warnings.push(l),
      ...opts,
    })
    return { done, warnings }
  }

  it('offers running jails with host, address, dataset and size, then only hosts that can take it, then the plan', async () => {
    const { ask, screens } = scripted([['type:we', 'enter'], ['enter'], ['type:y', 'enter']])
    const { done, warnings } = prepare({}, ask)
    const params = await done
    expect(screens[0]).toContain('Jail to move')
    expect(screens[0]).toContain('web  on src1  172.16.3.17/32  tank/jails/web  197 MB')
    // Never the source; not a host without the pool, without room, or with the address.
    expect(screens[1]).toContain('Move web from src1 to')
    expect(screens[1]).toMatch(/roomy {2}800 MB free in tank/)
    expect(screens[1]).toMatch(/chk {2}800 MB free in tank/)
    expect(screens[1]).not.toMatch(/^\W*(src1|nopool|small|taken|moved) /m)
    expect(warnings.sort()).toEqual([
      'moved: not offered: tank/jails/web would be mounted at /jails/web there, not at /tank/jails/web as now',
      'nopool: not offered: no pool tank',
      'small: not offered: 100 MB free in tank, 216 MB needed',
      'taken: not offered: 172.16.3.17 is configured there already',
    ])
    const plan = screens[2]!.replace(/\s+/g, ' ') // the prompt wraps at 80 columns
    expect(plan).toContain('Move jail web (172.16.3.17/32, tank/jails/web) from src1 to chk:')
    expect(plan).toContain('send 197 MB in full while it runs, then 1 catch-up increment (relayed by this controller);')
    expect(plan).toMatch(/expected downtime about \d+ s/)
    expect(plan).toContain('keep tank/jails/web on src1 renamed')
    // chk sorts first; the checker is then roomy, chk's neighbour.
    expect(params).toMatchObject({ jail: 'web', to: 'chk', from: 'src1', yes: true, check_from: 'roomy' })
    expect(params.tag).toMatch(/^ferry-\d{14}-[0-9a-f]{4}$/)
  })

  it('checks the flags it is given as the prompts would, and stops at a no', async () => {
    await expect(prepare({ jail: 'web', to: 'small', yes: true }, scripted([]).ask).done).rejects.toThrow(
      new ParamError('--param to=small: cannot take jail web: 100 MB free in tank, 216 MB needed'),
    )
    await expect(prepare({ jail: 'nope', to: 'roomy' }, scripted([]).ask).done).rejects.toThrow(
      /--param jail=nope: no such jail .* \(declared: web\)/,
    )
    await expect(prepare({ jail: 'web', to: 'roomy' }, scripted([['type:n', 'enter']]).ask).done).rejects.toThrow(
      new ParamError('not confirmed; nothing was changed'),
    )
    // roomy's neighbour chk checks it.
    await expect(prepare({ jail: 'web', to: 'roomy', yes: true }, scripted([]).ask).done).resolves.toMatchObject({
      from: 'src1',
      check_from: 'chk',
    })
  })

  it('without a terminal, leaves what is missing to the flag list, and wants yes=true to go', async () => {
    const off = { interactive: false }
    await expect(prepare({}, scripted([]).ask, off).done).resolves.toEqual({})
    await expect(prepare({ jail: 'web' }, scripted([]).ask, off).done).resolves.toMatchObject({
      jail: 'web',
      from: 'src1',
    })
    await expect(prepare({ jail: 'web', to: 'roomy' }, scripted([]).ask, off).done).rejects.toThrow(
      /^missing params: --param yes=true \(no terminal to confirm on\)\nMove jail web/,
    )
    // A dry run only plans: nothing to confirm.
    await expect(
      prepare({ jail: 'web', to: 'roomy' }, scripted([]).ask, { ...off, dryRun: true }).done,
    ).resolves.toMatchObject({ to: 'roomy' })
  })
})

// The FreeBSD driver's scripts, run for real against stand-in hosts whose sysrc, jail, jls and
// zfs print what FreeBSD's do (test/golden/standins.ts), through ferry's own engine: the whole
// migration of `web` from src1 to dst1, checked from chk.
describe('FreeBSD migration against stand-ins for sysrc, jail, jls and zfs', async () => {
  const CONF = '/etc/jail.conf.d/web.conf'
  const dir = mkdtempSync(join(tmpdir(), 'ferry-migrate-freebsd-'))
  const file = join(dir, 'inv.yaml')
  writeFileSync(
    file,
    `defaults: { os: freebsd }
hosts:
  src1: { address: 198.51.100.1, jails: { web: { address: 172.16.3.17/32, dataset: tank/jails/web } } }
  dst1: { address: 198.51.100.2 }
  chk: { address: 198.51.100.3 }
links:
  - { a: src1, b: dst1 }
  - { a: dst1, b: chk }
`,
  )
  const inventory = await loadInventory(file)
  const { runbook } = await loadRunbook('migrate-jail', ROOT)

  /** A pool `tank` with the jails' parent on each host; on src1, web running from its dataset. */
  function hosts(conf = WEB_CONF) {
    const h = standinHosts('src1', 'dst1', 'chk')
    const pool =
      'mkdir -p "$FERRY_STANDIN/zfs/tank/jails"; echo mounted=yes > "$FERRY_STANDIN/zfs/tank/.dataset"; echo mounted=yes > "$FERRY_STANDIN/zfs/tank/jails/.dataset"'
    h.dst1.sh(pool)
    h.src1.sh(
      `${pool}; mkdir "$FERRY_STANDIN/zfs/tank/jails/web"; printf 'mounted=yes\\nreferenced=5000000\\n' > "$FERRY_STANDIN/zfs/tank/jails/web/.dataset"; : > "$FERRY_STANDIN/zfs/tank/jails/web/.snapshots"`,
    )
    writeFileSync(h.src1.path(CONF), conf)
    h.src1.sh(`sysrc jail_list+=web >/dev/null; jail -f ${CONF} -c web >/dev/null`)
    return h
  }
  type Hosts = ReturnType<typeof hosts>

  /**
   * The run, as `ferry run migrate-jail --param jail=web --param to=dst1 --param yes=true` does it:
   * prepare (discovery), then the engine on src1. Without prepare, the run alone, as if the hosts
   * had changed since: the engine's own probes must refuse what prepare would have.
   */
  async function migrate(h: Hosts, opts: { prepare: boolean } = { prepare: true }) {
    const connect = async (host: Host) => h[host.name as keyof typeof h]
    const given = { jail: 'web', to: 'dst1', yes: true }
    const params = opts.prepare
      ? await runbook.prepare!({
          inventory,
          params: given,
          interactive: false,
          dryRun: false,
          ask: {} as PrepareContext['ask'],
          connect: async (host) => readOnly(await connect(host)),
          warn: () => {},
        })
      : { ...given, from: 'src1', check_from: 'chk', tag: 'ferry-20260101000000-abcd' }
    const [plan] = await buildSteps(
      runbook,
      inventory,
      inventory.hosts.filter((x) => x.name === 'src1'),
      runbook.params!.parse(params),
    )
    return new HostRunner({
      host: plan!.host,
      $: h.src1.$,
      probe$: h.src1.probe$,
      steps: plan!.steps,
      handlers: {},
      dryRun: false,
      rollbackOnFailure: true,
      connect,
    }).execute()
  }

  /** web runs on src1 as it did, and nothing of it is on dst1. */
  function untouched(h: Hosts) {
    expect(h.src1.sh('sysrc -n jail_list; jls -j web jid; zfs get -H -o value mounted tank/jails/web')).toMatch(
      /^web\n\d+\nyes\n$/,
    )
    expect(h.dst1.sh('sysrc -n jail_list')).toBe('\n')
    expect([
      readdirSync(join(h.dst1.root, 'zfs/tank/jails')),
      readdirSync(join(h.dst1.root, 'etc/jail.conf.d')),
      existsSync(join(h.dst1.root, 'jails')),
    ]).toEqual([['.dataset'], [], false])
    expect(existsSync(join(h.dst1.root, 'pwned'))).toBe(false)
  }

  it('moves web: the destination gets the definition byte for byte, autostart, and the running jail; the source keeps its data renamed', async () => {
    const h = hosts()
    const outcome = await migrate(h)
    expect(outcome.error).toBeUndefined()
    expect(outcome.steps.map((s) => `${s.name} ${s.status}`)).toEqual(
      ['preflight', 'seed', 'catch-up 1', 'cut-over', 'verify', 'clean-up'].map((s) => `${s} changed`),
    )
    expect(readFileSync(h.dst1.path(CONF), 'utf8')).toBe(WEB_CONF)
    expect(h.dst1.sh('sysrc -n jail_list; jls -j web jid; zfs get -H -o value mounted tank/jails/web')).toBe(
      'web\n1\nyes\n',
    )
    expect(
      h.src1.sh(
        'sysrc -n jail_list; jls -j web jid 2>&1 || true; zfs get -H -o value name tank/jails/web 2>&1 || true',
      ),
    ).toBe('\njls: jail "web" not found\ncannot open \'tank/jails/web\': dataset does not exist\n')
    expect(existsSync(h.src1.path(CONF))).toBe(false)
    // Nothing of it reached this machine's own /etc or /var/run.
    expect([existsSync('/etc/jail.conf.d/web.conf'), existsSync('/var/run/ferry-migrate-web.lock')]).toEqual([
      false,
      false,
    ])
  }, 60_000)

  // A compromised source: what it says is data, and a definition that is not ferry's is refused.
  // `pwn` is what it would have a stand-in host run (jail(8) runs exec.prestart through sh): a
  // pwned file in a host's directory says it ran there.
  const pwn = 'touch $FERRY_STANDIN/pwned'
  it.each([
    [
      'an exec.prestart, which jail(8) runs as root on the host',
      WEB_CONF.replace('\texec.clean;', `\texec.prestart = "${pwn}";\n\texec.clean;`),
      /line 7 is "exec\.prestart = \\"touch .*pwned\\";", where ferry's has "exec\.clean;"/,
    ],
    [
      'a second jail',
      `${WEB_CONF}evil {\n\tpath = "/";\n\texec.prestart = "${pwn}";\n}\n`,
      /line 10 is "evil \{", where ferry's has nothing more/,
    ],
    [
      'a control character',
      WEB_CONF.replace('"web";', '"web\x1b[2J";'),
      /line 3 holds a control character \("\\u001b"\)/,
    ],
    [
      "the host's root for the jail's",
      WEB_CONF.replace('"/tank/jails/web"', '"/"'),
      /line 2 is "path = \\"\/\\";", where ferry's has "path = \\"\/tank\/jails\/web\\";"/,
    ],
  ])(
    "refuses a source whose definition has %s, before anything runs: prepare, and the engine's own probe",
    async (_what, conf, why) => {
      const h = hosts(conf)
      const refused = await migrate(h).catch((err: Error) => err)
      expect(refused).toMatchObject({ name: 'ParamError' })
      expect((refused as Error).message).toMatch(why)
      const outcome = await migrate(h, { prepare: false })
      expect(outcome.error).toMatch(
        /jail web on src1 is not defined as ferry defines it at the destination, and ferry carries no definition from the source: \/etc\/jail\.conf\.d\/web\.conf /,
      )
      expect(outcome.error).toMatch(why)
      expect(outcome.error).toContain(
        `Ferry's: web { path = "/tank/jails/web"; host.hostname = "web"; ip4.addr = "lo2|172.16.3.17/32";`,
      )
      expect(outcome.steps.map((s) => s.status)).toEqual([
        'skipped',
        'skipped',
        'skipped',
        'skipped',
        'skipped',
        'skipped',
      ])
      untouched(h)
    },
    60_000,
  )

  /** Puts a lying `zfs` first on a host's PATH: `case` patterns of its arguments, each with what to do instead. */
  function lyingZfs(host: StandinHost, cases: string) {
    mkdirSync(join(host.root, 'bin'))
    writeFileSync(
      join(host.root, 'bin/zfs'),
      `#!/bin/sh\ncase "$*" in\n${cases}\nesac\nexec ${join(STANDINS, 'zfs')} "$@"\n`,
      { mode: 0o755 },
    )
  }

  it('takes a guid that is not a number for no guid: nothing of it runs at the destination, and the jail runs at the source again', async () => {
    const h = hosts()
    // What ferry once put unquoted in an `echo "…"` run as root on the destination.
    lyingZfs(h.src1, `'get -H -o value guid tank/jails/web@'*-final) printf '%s\\n' '1"; ${pwn}; echo "'; exit 0 ;;`)
    const outcome = await migrate(h)
    expect(outcome.status).toBe('rolled-back')
    expect(outcome.error).toMatch(
      /^cut-over: src1 gave no guid for tank\/jails\/web@ferry-\d{14}-[0-9a-f]{4}-final: what it printed is not a number$/,
    )
    untouched(h)
  }, 60_000)

  it("will not mount a received dataset whose stream says to mount it outside the jail's root", async () => {
    const h = hosts()
    // A full stream from src1 carries mountpoint=/etc: once mounted, the jail's files would be dst1's /etc.
    lyingZfs(
      h.src1,
      `'send -R tank/jails/web@'*-seed) ${join(STANDINS, 'zfs')} "$@" | sed 's|^ferry stand-in zfs stream$|&\\nmountpoint /etc|'; exit ;;`,
    )
    const outcome = await migrate(h)
    expect(outcome.status).toBe('rolled-back')
    expect(outcome.error).toBe('cut-over: tank/jails/web holds a mountpoint outside /tank/jails/web; not mounted')
    untouched(h)
  }, 60_000)
})
