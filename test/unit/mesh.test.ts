// The mesh link allocation (src/mesh/links.ts) and the two seed inventories. The plan must be a pure
// function of the inventory that never renumbers a running link when hosts or links are added.

import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Host, Link } from '../../src/inventory/types.ts'
import {
  LinkAllocationError,
  linksOf,
  allocate,
  allocateLinks,
  type AllocatedLink,
  type AllocateOptions,
} from '../../src/mesh/links.ts'
import { loadSeedInventory } from '../fixtures/seeds/inventories.ts'

const POOL = '172.16.2.0/24'

afterEach(() => {
  vi.unstubAllEnvs()
})

const pair = (l: AllocatedLink) => `${l.ends[0].host}-${l.ends[1].host}`
const byPair = (plan: AllocatedLink[]) => new Map(plan.map((l) => [pair(l), l]))
/** What must never change for a running link. */
const identity = ({ index, subnet, ends, port, kind, cost }: AllocatedLink) => ({
  index,
  subnet,
  ends,
  port,
  kind,
  cost,
})

/** Every pair of `names`, in the order a person would list them. */
const fullMesh = (names: string[]): Link[] => names.flatMap((a, i) => names.slice(i + 1).map((b) => ({ a, b })))
const names = (prefix: string, n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i + from).padStart(2, '0')}`)

/** The problems a plan is refused with. */
function problems(links: Link[], opts: AllocateOptions = { pool: POOL }) {
  try {
    allocate(links, opts)
  } catch (e) {
    if (e instanceof LinkAllocationError) return e.problems
    throw e
  }
  throw new Error('expected a LinkAllocationError')
}

const host = (name: string, vars: Record<string, unknown> = {}, os: Host['os'] = 'freebsd') => ({ name, os, vars })
/** An inventory with these hosts and links, whose problems are all at its first line. */
const inventory = (hosts: ReturnType<typeof host>[], links: Link[]) => ({
  file: '/inv.yaml',
  hosts,
  links,
  locate: () => undefined,
})

describe('allocate', () => {
  it('gives each link a /30 of the pool, the lower host name taking its first address', () => {
    const [link] = allocate([{ a: 'server2', b: 'server1', index: 1 }], { pool: POOL })
    expect(link).toEqual({
      at: 0,
      index: 1,
      subnet: '172.16.2.4/30',
      kind: 'openvpn',
      cost: 10,
      port: 1195,
      ends: [
        { host: 'server1', ifname: 'tap1', address: '172.16.2.5', cidr: '172.16.2.5/30' },
        { host: 'server2', ifname: 'tap1', address: '172.16.2.6', cidr: '172.16.2.6/30' },
      ],
      pinned: true,
      probed: false,
    })
  })

  it('is deterministic, and the same whichever way round a link writes a and b', () => {
    const links = fullMesh(names('r', 6))
    const swapped = links.map(({ a, b }) => ({ a: b, b: a }))
    expect(allocate(links, { pool: POOL })).toEqual(allocate(links, { pool: POOL }))
    expect(allocate(swapped, { pool: POOL }).map(identity)).toEqual(allocate(links, { pool: POOL }).map(identity))
  })

  it('puts a link where its host names hash, whatever else the inventory holds', () => {
    const alone = (l: Link) => identity(allocate([l], { pool: POOL })[0]!)
    const plan = allocate(fullMesh(names('r', 4)), { pool: POOL })
    expect(plan.some((l) => l.probed)).toBe(false) // no collision among these six, so each is where it hashes
    for (const l of plan) expect(identity(l)).toEqual(alone({ a: l.ends[0].host, b: l.ends[1].host }))
    // Listed the other way round, each link is still where it was (only its position differs).
    expect(byPair(allocate([...fullMesh(names('r', 4))].reverse(), { pool: POOL }))).toEqual(
      new Map(plan.map((l) => [pair(l), { ...l, at: 5 - l.at }])),
    )
  })

  it('keeps every existing link, address, names and port, when hosts and links are appended', () => {
    const before = fullMesh(names('r', 8)) // 28 links in 64 /30s: several collide
    const newcomers = names('r', 3, 9)
    const after = [
      ...before,
      ...newcomers.flatMap((n) => names('r', 8).map((o) => ({ a: n, b: o }))),
      ...fullMesh(newcomers),
    ]
    const first = allocate(before, { pool: POOL })
    const second = byPair(allocate(after, { pool: POOL }))
    expect(first.filter((l) => l.probed).length).toBeGreaterThan(0) // the collision path is exercised
    expect(second.size).toBe(55)
    for (const l of first) expect(identity(second.get(pair(l))!), pair(l)).toEqual(identity(l))
  })

  it('keeps existing links when links between new hosts are added anywhere in the list, if they do not collide', () => {
    const base = fullMesh(names('r', 4))
    const extra = { a: 'x1', b: 'x2' }
    const first = allocate(base, { pool: POOL })
    const second = byPair(allocate([extra, ...base], { pool: POOL }))
    expect(second.get('x1-x2')!.probed).toBe(false)
    for (const l of first) expect(identity(second.get(pair(l))!)).toEqual(identity(l))
  })

  it('resolves a collision by list order: the first link keeps the /30, the later takes the next free one', () => {
    const pool = '172.16.2.0/27' // 8 /30s
    const slot = (l: Link) => allocate([l], { pool })[0]!.index
    const candidates = fullMesh(names('h', 8))
    const [x, y] = candidates.flatMap((c, i) =>
      candidates
        .slice(i + 1)
        .filter((d) => slot(d) === slot(c))
        .map((d) => [c, d]),
    )[0]!
    const s = slot(x!)
    const xy = allocate([x!, y!], { pool })
    expect(xy.map((l) => [l.index, l.probed])).toEqual([
      [s, false],
      [(s + 1) % 8, true],
    ])
    const yx = allocate([y!, x!], { pool })
    expect(yx.map((l) => [l.index, l.probed])).toEqual([
      [s, false],
      [(s + 1) % 8, true],
    ])
    expect(yx[0]!.ends.map((e) => e.host)).toEqual(xy[1]!.ends.map((e) => e.host))
  })

  it('places pinned links first: a hashed link moves off a pinned /30', () => {
    const free = { a: 'r1', b: 'r2' }
    const s = allocate([free], { pool: POOL })[0]!.index
    const plan = allocate([free, { a: 'r3', b: 'r4', index: s }], { pool: POOL })
    expect(plan.map((l) => [l.index, l.pinned, l.probed])).toEqual([
      [(s + 1) % 64, false, true],
      [s, true, false],
    ])
  })

  it('reports an exhausted pool, and a pool that holds no /30', () => {
    expect(problems(fullMesh(['a', 'b', 'c']), { pool: '10.0.0.0/29' })).toEqual([
      {
        path: ['links', expect.any(Number)],
        message: 'link pool 10.0.0.0/29 is exhausted: it has 2 /30s for 3 links; use a larger link_pool',
      },
    ])
    expect(allocate(fullMesh(['a', 'b']), { pool: '10.0.0.0/30' }).map((l) => l.subnet)).toEqual(['10.0.0.0/30'])
    expect(problems([{ a: 'a', b: 'b' }], { pool: '10.0.0.0/31' })[0]!.message).toMatch(
      /not an IPv4 network of \/30 or larger/,
    )
    expect(problems([{ a: 'a', b: 'b' }], { pool: '10.0.0.1/24' })[0]!.path).toEqual(['link_pool'])
  })

  describe('per-link settings', () => {
    it('index and subnet pin the /30', () => {
      const plan = allocate(
        [
          { a: 'a', b: 'b', index: 63 },
          { a: 'a', b: 'c', subnet: '172.16.2.8/30' },
          { a: 'b', b: 'c', index: 3, subnet: '172.16.2.12/30' },
        ],
        { pool: POOL },
      )
      expect(plan.map((l) => [l.subnet, l.pinned])).toEqual([
        ['172.16.2.252/30', true],
        ['172.16.2.8/30', true],
        ['172.16.2.12/30', true],
      ])
    })

    it('refuses bad or clashing pins, each at its inventory path', () => {
      expect(
        problems([
          { a: 'a', b: 'b', index: 64 },
          { a: 'a', b: 'c', subnet: '172.16.3.0/30' },
          { a: 'a', b: 'd', subnet: '172.16.2.0/29' },
          { a: 'a', b: 'e', index: 1, subnet: '172.16.2.8/30' },
          { a: 'a', b: 'f', index: 5 },
          { a: 'a', b: 'g', subnet: '172.16.2.20/30' },
        ]),
      ).toEqual([
        { path: ['links', 0, 'index'], message: 'must be an integer from 0 to 63 (the link pool has 64 /30s)' },
        { path: ['links', 1, 'subnet'], message: 'must be a /30 network inside link_pool, e.g. 172.16.2.4/30' },
        { path: ['links', 2, 'subnet'], message: 'must be a /30 network inside link_pool, e.g. 172.16.2.4/30' },
        { path: ['links', 3, 'subnet'], message: 'is /30 number 2 but index says 1; keep one of them' },
        { path: ['links', 5, 'subnet'], message: '/30 number 5 is already pinned by links[4] (a - f)' },
      ])
    })

    it('interfaces pins names per host; a clash on a host is refused', () => {
      const [l] = allocate(
        [{ a: 'server1', b: 'server2', index: 0, interfaces: { server1: 'tap2', server2: 'tap1' } }],
        { pool: POOL },
      )
      expect(l!.ends.map((e) => e.ifname)).toEqual(['tap2', 'tap1'])
      expect(
        problems([
          { a: 'a', b: 'b', index: 0, interfaces: { a: 'tap7' } },
          { a: 'a', b: 'c', index: 7 },
          { a: 'b', b: 'c', interfaces: { x: 'tap1' } },
          { a: 'b', b: 'd', interfaces: { b: 'tap 1' } },
          { a: 'c', b: 'd', interfaces: 'tap1' },
        ]),
      ).toEqual([
        { path: ['links', 2, 'interfaces'], message: 'x is not an end of this link (b - c)' },
        {
          path: ['links', 3, 'interfaces'],
          message: 'b: "tap 1" is not an interface name (a letter, then letters, digits, "_", "." or "-"; at most 15)',
        },
        {
          path: ['links', 4, 'interfaces'],
          message: 'must be a mapping from host to interface name, e.g. { c: tap2, d: tap1 }',
        },
      ])
      expect(
        problems([
          { a: 'a', b: 'b', index: 0, interfaces: { a: 'tap7' } },
          { a: 'a', b: 'c', index: 7 },
        ]),
      ).toEqual([
        {
          path: ['links', 1, 'interfaces'],
          message: 'a already uses interface tap7 for links[0]; pin another with interfaces',
        },
      ])
    })

    it('tunnel comes from the link, else the tunnel var both ends share, else openvpn', () => {
      const hosts = [
        host('a', { tunnel: 'gre' }),
        host('b', { tunnel: 'gre' }),
        host('c'),
        host('d', { tunnel: 'gre-ipsec' }),
      ]
      const kinds = allocate(
        [
          { a: 'a', b: 'b' },
          { a: 'a', b: 'b2' },
          { a: 'c', b: 'x' },
          { a: 'a', b: 'd', tunnel: 'openvpn' },
        ],
        { pool: POOL, hosts },
      )
      expect(kinds.map((l) => l.kind)).toEqual(['gre', 'gre', 'openvpn', 'openvpn'])
      expect(
        problems(
          [
            { a: 'a', b: 'd' },
            { a: 'c', b: 'e', tunnel: 'wireguard' },
            { a: 'c', b: 'f' },
          ],
          { pool: POOL, hosts: [...hosts, host('f', { tunnel: 'none' })] },
        ),
      ).toEqual([
        { path: ['links', 0], message: 'a has tunnel gre and d has tunnel gre-ipsec; set tunnel on the link' },
        { path: ['links', 1, 'tunnel'], message: 'must be one of openvpn, gre, gre-ipsec' },
        {
          path: ['links', 2],
          message: 'the tunnel var of f must be one of openvpn, gre, gre-ipsec, not "none"; or set tunnel on the link',
        },
      ])
    })

    it('names tunnels after their kind and /30; Linux GRE ends are gre-N, as Linux keeps gre0', () => {
      const hosts = [host('bsd'), host('obsd', {}, 'openbsd'), host('deb', {}, 'linux')]
      const plan = allocate(
        [
          { a: 'bsd', b: 'deb', index: 0 },
          { a: 'obsd', b: 'deb', index: 1, tunnel: 'gre-ipsec' },
          { a: 'bsd', b: 'obsd', index: 2, tunnel: 'gre' },
        ],
        { pool: POOL, hosts },
      )
      expect(plan.map((l) => l.ends.map((e) => `${e.host}:${e.ifname}`))).toEqual([
        ['bsd:tap0', 'deb:tap0'],
        ['deb:gre-1', 'obsd:gre1'],
        ['bsd:gre2', 'obsd:gre2'],
      ])
    })

    it('cost defaults to 10; OpenVPN links get port base + index or their own port, others none', () => {
      const plan = allocate(
        [
          { a: 'a', b: 'b', index: 4 },
          { a: 'a', b: 'c', index: 5, cost: 25, port: 5000 },
          { a: 'b', b: 'c', index: 6, tunnel: 'gre' },
        ],
        { pool: POOL, portBase: 2000 },
      )
      expect(plan.map((l) => [l.cost, l.port])).toEqual([
        [10, 2004],
        [25, 5000],
        [10, undefined],
      ])
      expect(
        problems([
          { a: 'a', b: 'b', cost: 0 },
          { a: 'a', b: 'c', cost: 1.5 },
          { a: 'a', b: 'd', port: 70000 },
        ]).map((p) => p.path),
      ).toEqual([
        ['links', 0, 'cost'],
        ['links', 1, 'cost'],
        ['links', 2, 'port'],
      ])
      expect(
        problems([
          { a: 'a', b: 'b', index: 3, port: 1194 },
          { a: 'a', b: 'c', index: 0 },
        ]),
      ).toEqual([
        { path: ['links', 1, 'port'], message: 'a already uses OpenVPN port 1194 for links[0]; pin another with port' },
      ])
      expect(problems([{ a: 'a', b: 'b', index: 63 }], { pool: POOL, portBase: 65500 })[0]!.message).toMatch(
        /port 65563 .* is over 65535/,
      )
    })
  })

  it('linksOf shows each link from one host, with opposite OpenVPN key directions at the ends', () => {
    const plan = allocate(
      [
        { a: 'b', b: 'a', index: 0 },
        { a: 'c', b: 'b', index: 1 },
      ],
      { pool: POOL },
    )
    expect(linksOf(plan, 'b').map((h) => [h.local.address, h.remote.host, h.remote.address, h.keyDirection])).toEqual([
      ['172.16.2.2', 'a', '172.16.2.1', 1],
      ['172.16.2.5', 'c', '172.16.2.6', 0],
    ])
    expect(linksOf(plan, 'z')).toEqual([])
  })
})

describe('allocateLinks', () => {
  const hosts = [
    host('a', { link_pool: POOL }),
    host('b', { link_pool: POOL }),
    host('c', { link_pool: '10.9.0.0/24' }),
    host('d'),
  ]

  it('takes link_pool from the linked hosts, and ignores hosts without links', () => {
    const plan = allocateLinks(
      inventory(hosts, [
        { a: 'a', b: 'b', index: 2 },
        { a: 'b', b: 'd', index: 3 },
      ]),
    )
    expect(plan.map((l) => l.subnet)).toEqual(['172.16.2.8/30', '172.16.2.12/30'])
    expect(
      allocateLinks(
        inventory(
          [...hosts, host('spare', { link_pool: '10.8.0.0/24' })],
          [
            { a: 'a', b: 'b', index: 2 },
            { a: 'b', b: 'd', index: 3 },
          ],
        ),
      ),
    ).toEqual(plan)
    expect(allocateLinks(inventory(hosts, []))).toEqual([])
  })

  it('refuses hosts that disagree on link_pool, or links with no pool', () => {
    expect(() => allocateLinks(inventory(hosts, [{ a: 'a', b: 'c' }]))).toThrow(
      '/inv.yaml:1:1: links: the linked hosts disagree on link_pool: a has 172.16.2.0/24, c has 10.9.0.0/24',
    )
    expect(() => allocateLinks(inventory(hosts, [{ a: 'd', b: 'x' }]))).toThrow(
      /^\/inv\.yaml:1:1: links: no link_pool: set it in the vars of the linked hosts/,
    )
  })
})

describe('inventory/prod.yaml (seed 000)', () => {
  it('loads: five FreeBSD servers in two data centres, with the article address plan', async () => {
    const inv = await loadSeedInventory('prod')
    expect(inv.hosts.map((h) => [h.name, h.os, h.groups.join(',')])).toEqual([
      ['server1', 'freebsd', 'mesh,dc1,all'],
      ['server2', 'freebsd', 'mesh,dc1,all'],
      ['server3', 'freebsd', 'mesh,dc1,all'],
      ['server4', 'freebsd', 'mesh,dc2,all'],
      ['server5', 'freebsd', 'mesh,dc2,all'],
    ])
    expect(inv.secrets.names().sort()).toEqual(['ipsec_psk', 'openvpn_key', 'ospf_md5_key', 'zebra_password'])
    inv.hosts.forEach((h, i) => {
      expect(h.vars).toMatchObject({
        router_id: `10.0.0.${i + 1}`,
        loopback: `10.0.0.${i + 1}/32`,
        jail_prefix: `172.16.3.${16 * i}/28`,
        link_pool: POOL,
        ospf_area: '0.0.0.0',
        tunnel: 'openvpn',
      })
      // Every jail's /32 is in its server's /28, as the article assigns them.
      for (const jail of Object.values(h.jails))
        expect(Number(jail.address.split(/[./]/)[3]) >> 4, `${h.name} ${jail.address}`).toBe(i)
    })
    expect(inv.hosts[0]!.vars.ospf_networks).toEqual(['172.16.2.0/23', '10.0.0.0/24'])
  })

  it("plans the article's link addresses: server1 reaches server2 at 172.16.2.2 on tap2 and server3 at 172.16.2.6 on tap3", async () => {
    const plan = allocateLinks(await loadSeedInventory('prod'))
    expect(
      linksOf(plan, 'server1').map((h) => [h.local.ifname, h.local.cidr, h.remote.host, h.remote.address]),
    ).toEqual([
      ['tap2', '172.16.2.1/30', 'server2', '172.16.2.2'],
      ['tap3', '172.16.2.5/30', 'server3', '172.16.2.6'],
    ])
    for (const l of plan) {
      // tapN is the TAP to server N, and the /30 is the pair's place in 1-2, 1-3, 2-3, 1-4, …
      const [m, n] = l.ends.map((e) => Number(e.host.slice(-1))) as [number, number]
      expect(l.ends.map((e) => e.ifname)).toEqual([`tap${n}`, `tap${m}`])
      expect(l.index).toBe(((n - 1) * (n - 2)) / 2 + m - 1)
      expect([l.kind, l.pinned, l.port]).toEqual(['openvpn', true, 1194 + l.index])
    }
  })

  it("has the costs behind server1's routing table: server2 11 via tap2, server3 10, server4 20 and server5 25 via tap3", async () => {
    const plan = allocateLinks(await loadSeedInventory('prod'))
    expect(shortestPaths(plan, 'server1')).toEqual({
      server2: { cost: 11, via: 'tap2' },
      server3: { cost: 10, via: 'tap3' },
      server4: { cost: 20, via: 'tap3' },
      server5: { cost: 25, via: 'tap3' },
    })
    // No single link failure splits the mesh.
    for (const down of plan)
      expect(
        Object.keys(
          shortestPaths(
            plan.filter((l) => l !== down),
            'server1',
          ),
        ),
        pair(down),
      ).toHaveLength(4)
  })
})

describe('inventory/openbsd-mesh.yaml (seed 003)', () => {
  it('loads: OpenBSD routers with GRE over IPsec; the HQ-branch1 tunnel is gre0 at both ends', async () => {
    const inv = await loadSeedInventory('openbsd-mesh')
    expect(inv.hosts.map((h) => [h.name, h.os, h.become])).toEqual([
      ['hq', 'openbsd', 'doas'],
      ['branch1', 'openbsd', 'doas'],
      ['branch2', 'openbsd', 'doas'],
    ])
    expect(inv.secrets.names().sort()).toEqual(['ipsec_psk', 'ospf_md5_key'])
    expect(await inv.secrets.get('ospf_md5_key')).toBe('mypassword')
    const plan = allocateLinks(inv)
    expect(plan.map((l) => l.kind)).toEqual(['gre-ipsec', 'gre-ipsec', 'gre-ipsec'])
    expect(plan[0]!.ends.map((e) => [e.host, e.ifname, e.address])).toEqual([
      ['branch1', 'gre0', '172.16.2.1'],
      ['hq', 'gre0', '172.16.2.2'],
    ])
    expect(plan.every((l) => l.port === undefined)).toBe(true)
    expect(new Set(plan.map((l) => l.index)).size).toBe(3)
  })
})

/** Dijkstra over the plan's links, as OSPF computes it: cost and first-hop interface to every other host. */
function shortestPaths(plan: AllocatedLink[], from: string): Record<string, { cost: number; via: string }> {
  const best = new Map<string, { cost: number; via: string }>([[from, { cost: 0, via: '' }]])
  const done = new Set<string>()
  for (;;) {
    const next = [...best].filter(([h]) => !done.has(h)).sort((x, y) => x[1].cost - y[1].cost)[0]
    if (!next) break
    const [here, { cost, via }] = next
    done.add(here)
    for (const { local, remote, link } of linksOf(plan, here)) {
      const c = cost + link.cost
      const old = best.get(remote.host)
      if (!old || c < old.cost) best.set(remote.host, { cost: c, via: here === from ? local.ifname : via })
    }
  }
  best.delete(from)
  return Object.fromEntries([...best].sort(([a], [b]) => a.localeCompare(b)))
}
