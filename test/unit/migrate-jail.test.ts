// migrate-jail without hosts: discovery's parser on each driver's output, the FreeBSD driver's
// commands (no FreeBSD machine exists here: these goldens are its only proof), the route and
// port facts, and the prompt flow of `prepare`, driven through the real inquirer prompts by
// @inquirer/testing against hosts that answer discovery from fixtures.
import { describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { render } from '@inquirer/testing'
import { loadInventory } from '../../src/inventory/index.ts'
import { loadRunbook } from '../../src/engine/load.ts'
import { askWith } from '../../src/cli/params.ts'
import { ParamError, type PrepareContext } from '../../src/runbook.ts'
import { recordingShell } from '../../src/shell/recording.ts'
import type { Transport } from '../../src/transport/transport.ts'
import { parseDiscovery, jailDriver } from '../../src/jails/driver.ts'
import { freebsdJails } from '../../src/jails/freebsd.ts'
import * as zfs from '../../src/jails/zfs.ts'
import { linuxRouteTo, bsdRouteTo, tcpOpen } from '../../src/facts/net.ts'
import { relay } from '../../src/jails/relay.ts'
import { LocalTransport } from '../../src/transport/local.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const WEB = { name: 'web', address: '172.16.3.17/32', dataset: 'tank/jails/web' }

/** What the Linux driver's discovery printed on lab2 with `web` (200 MB) running, recorded in the lab. */
const LAB2 = [
  'jail\tweb', 'configured', 'autostart', 'running', 'listen\t80',
  'dataset\t196812800\t196812800\t/tank/jails/web', 'parent\t1',
  'pool\ttank\t833720320',
  'addr\t127.0.0.1/8', 'addr\t172.16.3.17/32', 'addr\t198.18.0.12/24',
].join('\n')

/** A host with the pool and the parent, and nothing of the jail. */
const empty = (free: number, extra: string[] = []) => ['jail\tweb', 'parent\t1', `pool\ttank\t${free}`, 'addr\t127.0.0.1/8', ...extra].join('\n')

describe('discovery', () => {
  it('reads a running jail, its ports and size, the pools and the addresses', () => {
    const host = parseDiscovery(LAB2)
    expect(host.jails.get('web')).toEqual({
      name: 'web', configured: true, autostart: true, running: true, ports: [80], parentExists: true,
      dataset: { used: 196812800, referenced: 196812800, mountpoint: '/tank/jails/web' },
    })
    expect(host.pools).toEqual(new Map([['tank', 833720320]]))
    expect([...host.addresses]).toEqual(['127.0.0.1', '172.16.3.17', '198.18.0.12'])
  })

  it('reads an absent jail as absent, whatever else the host has', () => {
    const host = parseDiscovery(['jail\tweb', 'parent\t0', 'jail\tdb', 'running', 'listen\t5432', 'listen\t5432'].join('\n'))
    expect(host.jails.get('web')).toMatchObject({ running: false, configured: false, parentExists: false, ports: [] })
    expect(host.jails.get('web')!.dataset).toBeUndefined()
    expect(host.jails.get('db')).toMatchObject({ running: true, ports: [5432] })
    expect(host.pools.size).toBe(0)
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
    expect(freebsdJails.start(WEB)).toBe([
      '[ "$(zfs get -H -o value mounted tank/jails/web)" = yes ] || zfs mount tank/jails/web',
      'jail -f /etc/jail.conf.d/web.conf -c web',
    ].join('\n'))
    expect(freebsdJails.stop(WEB)).toBe('if jls -j web jid >/dev/null 2>&1; then jail -f /etc/jail.conf.d/web.conf -r web; fi')
    expect(freebsdJails.autostart(WEB, true)).toBe('sysrc jail_list+=web')
    expect(freebsdJails.autostart(WEB, false)).toBe('sysrc jail_list-=web')
  })

  it('discovers with jls, sysrc jail_list, sockstat, zfs get and ifconfig', () => {
    const snippet = freebsdJails.discover([WEB])
    expect(snippet).toContain(`case " $(sysrc -n jail_list 2>/dev/null) " in *' web '*) echo autostart ;; esac`)
    expect(snippet).toContain(`if jls -j web jid >/dev/null 2>&1; then echo running; sockstat -4 -l -q -j web | awk '$5 ~ /^tcp/ { n = split($6, a, ":"); print "listen\\t" a[n] }'; fi`)
    expect(snippet).toContain('zfs get -Hp -o value used,referenced,mountpoint tank/jails/web')
    expect(snippet).toContain(`ifconfig -a inet | awk '$1 == "inet" { print "addr\\t" $2 }'`)
  })

  it('quotes what the inventory supplies', () => {
    const odd = { name: "we'b", address: '172.16.3.17/32', dataset: 'tank/jails/we b' }
    expect(freebsdJails.stop(odd)).toBe(`if jls -j 'we'\\''b' jid >/dev/null 2>&1; then jail -f '/etc/jail.conf.d/we'\\''b.conf' -r 'we'\\''b'; fi`)
    expect(zfs.snapshot(odd.dataset, 'ferry-1-seed')).toBe(`zfs snapshot -r 'tank/jails/we b@ferry-1-seed'`)
  })
})

describe('zfs commands', () => {
  it('sends a full replication stream, then increments received with -F', () => {
    expect(zfs.send('tank/jails/web', 't-seed')).toBe("trap '' HUP PIPE; zfs send -R tank/jails/web@t-seed")
    expect(zfs.send('tank/jails/web', 't-final', 't-catchup1')).toBe("trap '' HUP PIPE; zfs send -R -i @t-catchup1 tank/jails/web@t-final")
    expect(zfs.receive('tank/jails/web', false)).toBe('zfs receive -u tank/jails/web')
    expect(zfs.receive('tank/jails/web', true)).toBe('zfs receive -u -F tank/jails/web')
  })

  it('destroys a dataset only when it holds this migration\'s snapshot', () => {
    expect(zfs.destroyReceived('tank/jails/web', 't-seed')).toBe(
      'if zfs get -H -o value name tank/jails/web@t-seed >/dev/null 2>&1; then ' +
      'if [ "$(zfs get -H -o value mounted tank/jails/web)" = yes ]; then n=0; until zfs umount tank/jails/web; do n=$((n + 1)); [ "$n" -lt 10 ] || exit 1; sleep 0.3; done; fi; ' +
      'n=0; until zfs destroy -r tank/jails/web; do n=$((n + 1)); [ "$n" -lt 10 ] || exit 1; sleep 0.3; done; fi')
  })
})

describe('route and port facts', () => {
  it('reads the next hop from Linux ip route get and the BSDs\' route get', () => {
    expect(linuxRouteTo('172.16.3.17').parse('172.16.3.17 via 172.16.2.6 dev tap14 src 10.0.0.3 uid 0 \n    cache \n')).toEqual({ gateway: '172.16.2.6', dev: 'tap14' })
    expect(linuxRouteTo('172.16.2.6').parse('172.16.2.6 dev tap14 src 172.16.2.5 uid 0 \n')).toEqual({ dev: 'tap14' })
    expect(linuxRouteTo('9.9.9.9').parse('')).toBeUndefined()
    const bsd = '   route to: 172.16.3.17\ndestination: 172.16.3.17\n    gateway: 172.16.2.2\n        fib: 0\n  interface: tap2\n      flags: <UP,GATEWAY,HOST,DONE,PROTO1>\n'
    expect(bsdRouteTo('172.16.3.17').parse(bsd)).toEqual({ gateway: '172.16.2.2', dev: 'tap2' })
  })

  it('tests a TCP port with bash on Linux and nc on the BSDs', () => {
    expect(tcpOpen('linux', '172.16.3.17', 80).command).toBe(`timeout 3 bash --norc --noprofile -c 'exec 3<>/dev/tcp/172.16.3.17/80' 2>/dev/null && echo open`)
    expect(tcpOpen('freebsd', '172.16.3.17', 80).command).toBe('nc -z -w 3 172.16.3.17 80 2>/dev/null && echo open')
    expect(tcpOpen('linux', '172.16.3.17', 80).parse('open\n')).toBe(true)
    expect(tcpOpen('linux', '172.16.3.17', 80).parse('')).toBe(false)
  })
})

describe('relay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-relay-'))
  const [a, b] = [new LocalTransport('a'), new LocalTransport('b')]

  it('streams one command\'s output into another\'s input, every byte, reporting progress', async () => {
    const out = join(dir, 'got')
    const seen: number[] = []
    const n = await relay(a, 'head -c 30000000 /dev/urandom | tee ' + join(dir, 'sent'), b, `cat > ${out}`, { every: 0, progress: (p) => seen.push(p.bytes) })
    expect(n).toBe(30_000_000)
    expect(statSync(out).size).toBe(30_000_000)
    expect(readFileSync(out).equals(readFileSync(join(dir, 'sent')))).toBe(true)
    expect(seen.at(-1)).toBe(30_000_000)
    expect(seen.length).toBeGreaterThan(2)
  })

  it('a receiver that dies stops a sender that would never end, and the error names the cause', async () => {
    await expect(relay(a, 'yes', b, 'head -c 1000 > /dev/null; echo no space >&2; exit 3'))
      .rejects.toThrow(/^transfer failed after \d+ bytes: zfs receive on b exited 3: no space; zfs send on a was stopped$/)
  })

  it('an interrupt stops both sides', async () => {
    const abort = new AbortController()
    setTimeout(() => abort.abort(), 200)
    await expect(relay(a, 'yes', b, 'cat > /dev/null', { signal: abort.signal })).rejects.toThrow(/^interrupted after \d+ bytes$/)
  })

  it('a sender that fails ends the receiver\'s input', async () => {
    await expect(relay(a, 'printf abc; echo no such snapshot >&2; exit 2', b, 'cat > /dev/null'))
      .rejects.toThrow('transfer failed after 3 bytes: zfs send on a exited 2: no such snapshot; zfs receive on b was stopped')
  })
})

describe('prepare: which jail, where to, go?', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-migrate-'))
  const file = join(dir, 'inv.yaml')
  writeFileSync(file, `defaults: { os: linux }
hosts:
  src1: { address: 198.51.100.1, jails: { web: { address: 172.16.3.17/32, dataset: tank/jails/web } } }
  roomy: { address: 198.51.100.2 }
  nopool: { address: 198.51.100.3 }
  small: { address: 198.51.100.4 }
  taken: { address: 198.51.100.5 }
  chk: { address: 198.51.100.6 }
links:
  - { a: roomy, b: chk }
  - { a: src1, b: roomy }
`)
  const inventory = await loadInventory(file)
  const { runbook } = await loadRunbook('migrate-jail', ROOT)
  const discovery: Record<string, string> = {
    src1: LAB2,
    roomy: empty(800e6),
    nopool: ['jail\tweb', 'parent\t0', 'addr\t127.0.0.1/8'].join('\n'),
    small: empty(100e6),
    taken: empty(800e6, ['addr\t172.16.3.17/32']),
    chk: empty(800e6),
  }
  const connect = async (host: { name: string }) => {
    const $ = recordingShell(() => ({ stdout: discovery[host.name]!, code: 0 }), () => {})
    return { name: host.name, $, probe$: $ } as unknown as Transport
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
    const done = runbook.prepare!({ inventory, params, interactive: true, dryRun: false, ask, connect, warn: (l) => warnings.push(l), ...opts })
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
    expect(screens[1]).not.toMatch(/^\W*(src1|nopool|small|taken) /m)
    expect(warnings.sort()).toEqual([
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
    await expect(prepare({ jail: 'web', to: 'small', yes: true }, scripted([]).ask).done).rejects.toThrow(new ParamError('--param to=small: cannot take jail web: 100 MB free in tank, 216 MB needed'))
    await expect(prepare({ jail: 'nope', to: 'roomy' }, scripted([]).ask).done).rejects.toThrow(/--param jail=nope: no such jail .* \(declared: web\)/)
    await expect(prepare({ jail: 'web', to: 'roomy' }, scripted([['type:n', 'enter']]).ask).done).rejects.toThrow(new ParamError('not confirmed; nothing was changed'))
    // roomy's neighbour chk checks it.
    await expect(prepare({ jail: 'web', to: 'roomy', yes: true }, scripted([]).ask).done).resolves.toMatchObject({ from: 'src1', check_from: 'chk' })
  })

  it('without a terminal, leaves what is missing to the flag list, and wants yes=true to go', async () => {
    const off = { interactive: false }
    await expect(prepare({}, scripted([]).ask, off).done).resolves.toEqual({})
    await expect(prepare({ jail: 'web' }, scripted([]).ask, off).done).resolves.toMatchObject({ jail: 'web', from: 'src1' })
    await expect(prepare({ jail: 'web', to: 'roomy' }, scripted([]).ask, off).done).rejects.toThrow(/^missing params: --param yes=true \(no terminal to confirm on\)\nMove jail web/)
    // A dry run only plans: nothing to confirm.
    await expect(prepare({ jail: 'web', to: 'roomy' }, scripted([]).ask, { ...off, dryRun: true }).done).resolves.toMatchObject({ to: 'roomy' })
  })
})
