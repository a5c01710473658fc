// `ferry graph` (issue 24), without --live: the inventory's mesh as DOT, SVG and PNG. Seed 000's
// inventory (inventory/prod.yaml): five servers in dc1 and dc2, six OpenVPN links, their jails.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { loadInventory } from '../../src/inventory/load.ts'
import { allocateLinks } from '../../src/mesh/links.ts'
import { isFull } from '../../src/facts/ospf.ts'
import { graphOf, linkStates, meshDot, pairRoles, pairsOf, renderPng, renderSvg } from '../../src/report/graph.ts'
import { ROOT } from '../fixtures/seeds/inventories.ts'

const prod = async () => {
  const inv = await loadInventory('prod', { cwd: ROOT, unsetSecrets: 'warn' })
  return { inv, input: graphOf(inv, inv.hosts, allocateLinks(inv)), hosts: inv.hosts }
}

describe('ferry graph', () => {
  it('draws each host in its smallest group, each link with its tunnel, /30 and cost, each jail beside its host', async () => {
    const { input } = await prod()
    const dot = meshDot(input)
    expect(dot).toMatch(/subgraph "cluster_0" \{\n {4}label="dc1";\n {4}"server1" /)
    expect(dot).toContain('label="dc2";')
    expect(dot).not.toContain('label="mesh"')
    expect(input.links).toHaveLength(6)
    for (const l of input.links)
      expect(dot).toContain(
        `"${l.ends[0].host}" -- "${l.ends[1].host}" [label="${l.kind} ${l.subnet}\\ncost ${l.cost}"`,
      )
    expect(dot).toContain('"server1" -- "j0@server1" [style=dotted];')
  })

  it('colours a link by its state when one is given: down is red and dashed', async () => {
    const { input } = await prod()
    const [first, second] = input.links
    const dot = meshDot({
      ...input,
      states: new Map([
        [first!.at, 'down'],
        [second!.at, 'up'],
      ]),
    })
    expect(dot).toMatch(
      new RegExp(`cost ${first!.cost}\\\\ndown", color="#c62828".*style=dashed, id="link_${first!.at}"`),
    )
    expect(dot).toMatch(new RegExp(`cost ${second!.cost}\\\\nup", color="#2e7d32"`))
  })

  it('--live: a link is up when both ends see the other Full, partial when one does, down when neither or an end was not read', async () => {
    const { input, hosts } = await prod()
    const rid = (h: string) => String(hosts.find((x) => x.name === h)!.vars.router_id)
    // server1 sees server2 Full and server3 only in ExStart; server2 sees server1 Full; server3 and
    // server4 were not read; server5 sees everyone Full.
    const seen = new Map<string, Map<string, string> | undefined>([
      [
        'server1',
        new Map([
          [rid('server2'), 'Full/DR'],
          [rid('server3'), 'ExStart/DROther'],
        ]),
      ],
      ['server2', new Map([[rid('server1'), 'Full/Backup']])],
      ['server3', undefined],
      ['server4', undefined],
      ['server5', new Map(input.hosts.map((h) => [rid(h.name), 'Full/DR']))],
    ])
    const states = linkStates(input.links, hosts, seen, isFull)
    const of = (a: string, b: string) =>
      states.get(input.links.find((l) => [l.ends[0].host, l.ends[1].host].sort().join() === [a, b].sort().join())!.at)
    expect(of('server1', 'server2')).toBe('up')
    expect(of('server1', 'server3')).toBe('down')
    expect(of('server2', 'server5')).toBe('partial')
    expect(of('server4', 'server5')).toBe('partial')
    expect(of('server3', 'server4')).toBe('down')
  })

  it('--live: draws each jail at the hosts it was found running on, and one found nowhere at its own host as not running', async () => {
    const { input } = await prod()
    // j0 (server1's) moved to server2, j1 runs nowhere, j2 runs on both server1 and server3; the
    // rest as declared.
    const running = new Map(
      input.hosts.flatMap((h) => Object.keys(h.jails ?? {}).map((j) => [j, [h.name]] as [string, string[]])),
    )
    running.set('j0', ['server2']).set('j1', []).set('j2', ['server1', 'server3'])
    const dot = meshDot({ ...input, running })
    expect(dot).toContain('"server2" -- "j0@server2" [style=dotted];')
    expect(dot).not.toContain('"j0@server1"')
    expect(dot).toContain('"j1@server1" [shape=note, fillcolor="#ffebee", label="j1\\n172.16.3.1/32\\nnot running"];')
    expect(dot).toContain('"server1" -- "j2@server1"')
    expect(dot).toContain('"server3" -- "j2@server3"')
    expect(dot).toContain('"server2" -- "j16@server2"')
  })

  it('--live: finds the gateway pairs by the addresses their group shares, and marks each node by the ones it holds', async () => {
    const ha = await loadInventory('article-ha', { cwd: ROOT, unsetSecrets: 'warn' })
    const pairs = pairsOf(ha, ha.hosts)
    expect(pairs).toEqual([
      { group: 'site1', members: ['torcofw1', 'torcofw2'], shared: ['116.1.1.1', '192.168.0.1'] },
      { group: 'site2', members: ['torcofw3', 'torcofw4'], shared: ['216.1.1.1', '192.168.1.1'] },
    ])
    // --limit picks one node of a pair: no pair left to draw.
    expect(
      pairsOf(
        ha,
        ha.hosts.filter((h) => h.name !== 'torcofw2'),
      ).map((p) => p.group),
    ).toEqual(['site2'])
    const carp = await loadInventory('carp-linux', { cwd: ROOT, unsetSecrets: 'warn' })
    expect(pairsOf(carp, carp.hosts)).toEqual([
      { group: 'carp-gateways', members: ['gw1', 'gw2'], shared: ['203.0.113.1', '10.0.0.1'] },
    ])
    const roles = pairRoles(
      pairs,
      new Map([
        ['torcofw1', new Set(['116.1.1.2', '192.168.0.2'])],
        ['torcofw2', new Set(['116.1.1.3', '116.1.1.1', '192.168.0.1'])],
        ['torcofw3', new Set(['216.1.1.1'])],
        ['torcofw4', undefined],
      ]),
    )
    expect(Object.fromEntries(roles)).toEqual({ torcofw1: 'standby', torcofw2: 'active', torcofw3: 'partial' })
    const dot = meshDot({
      ...graphOf(ha, ha.hosts, []),
      roles,
      bgp: new Map([['torcofw2', { established: 1, peers: 2 }]]),
    })
    expect(dot).toContain(
      '"torcofw2" [label="torcofw2\\n116.1.1.3 (linux)\\nactive\\nBGP 1/2 Established", fillcolor="#c8e6c9"];',
    )
    expect(dot).toMatch(/"torcofw4" \[label="torcofw4\\n[^"]*"\];/)
  })

  it('renders an SVG that names every host and link, which resvg reads and rasterises to a PNG', async () => {
    const { input } = await prod()
    const svg = await renderSvg(meshDot(input))
    for (const h of input.hosts) expect(svg).toContain(`<title>${h.name}</title>`)
    for (const l of input.links) expect(svg).toContain(`id="link_${l.at}"`)
    const png = await renderPng(svg)
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a')
    // The IHDR's width and height: twice the SVG's, which is wider than a few hosts.
    expect(png.readUInt32BE(16)).toBeGreaterThan(1000)
    expect(png.readUInt32BE(20)).toBeGreaterThan(500)
  })

  it('writes the file its -o names, by extension, and refuses another', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-graph-'))
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['bin/ferry.mjs', 'graph', '-i', 'prod', ...args], { cwd: ROOT }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      )
    expect((await run('-o', path.join(dir, 'm.svg'))).code).toBe(0)
    expect(readFileSync(path.join(dir, 'm.svg'), 'utf8')).toMatch(/^<\?xml[\s\S]*<svg /)
    expect((await run('-o', path.join(dir, 'm.dot'))).code).toBe(0)
    expect(readFileSync(path.join(dir, 'm.dot'), 'utf8')).toMatch(/^graph "prod" \{/)
    // Refused before anything is read: a bad invocation, exit 64.
    const bad = await run('--live', '-o', path.join(dir, 'm.gif'))
    expect(bad.code).toBe(64)
    expect(bad.stderr).toContain('name a .svg, .png or .dot file')
  }, 60_000)
})
