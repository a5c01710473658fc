// deploy-mesh on the lab: five Linux hosts in two "data centres", a partial mesh of OpenVPN TAP
// links, FRR with MD5. Checked from outside the run: neighbours, routes, secrets, and rollback.
import { expect } from 'vitest'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { exec } from '../../lab/lab.ts'
import { loadInventory } from '../../src/inventory/index.ts'
import { ferry, labIt as it, tempDir } from './helpers.ts'

const MESH = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5']
const sh = (host: string, script: string) => exec(host, ['sh', '-c', script])
/** Per-host state that deploy-mesh creates: nothing of it may be there before, or after rollback. */
const traces = (host: string) => sh(host, '[ -e /run/frr/ospfd.pid ] && echo ospfd; ls /run/ferry-openvpn-* 2>/dev/null; ip -o link | grep -o "tap[0-9]*"; sysctl -n net.ipv4.ip_forward; ls -d /etc/openvpn/ferry 2>/dev/null; true')

it('converges within 60 s, then is a no-op in ≤ 3 round trips, a clean dry run, and rolls back', async () => {
  const inv = await loadInventory('lab')
  // No mesh yet (other tests may have left forwarding on: rollback must restore whatever it was).
  const clean = Object.fromEntries(MESH.map((h) => [h, traces(h)]))
  for (const h of MESH) expect(clean[h]).toMatch(/^[01]\n$/)
  const state = tempDir()
  const secrets = await Promise.all(['ospf_md5_key', 'zebra_password', 'openvpn_key'].map((s) => inv.secrets.get(s)))

  const started = Date.now()
  const first = await ferry(['run', 'deploy-mesh', '-i', 'lab', '--format', 'json', '--state-dir', state])
  const took = Date.now() - started
  expect(first.code, first.stderr).toBe(0)
  const applied = JSON.parse(first.stdout)
  expect(applied.hosts.map((h: { status: string }) => h.status)).toEqual(MESH.map(() => 'changed'))
  expect(took).toBeLessThan(60_000)

  try {
    // Every configured link's neighbour is Full, and every other loopback is routed by OSPF.
    for (const h of MESH) {
      const links = inv.links.filter((l) => l.a === h || l.b === h).map((l) => (l.a === h ? l.b : l.a))
      const neighbours = JSON.parse(sh(h, 'vtysh -c "show ip ospf neighbor json"')).neighbors as Record<string, { nbrState: string }[]>
      const full = Object.entries(neighbours).filter(([, n]) => n.some((x) => x.nbrState.startsWith('Full'))).map(([rid]) => rid).sort()
      expect(full).toEqual(links.map((peer) => String(inv.hosts.find((x) => x.name === peer)!.vars.router_id)).sort())
      const routes = sh(h, 'ip -4 route show proto ospf')
      for (const other of MESH.filter((o) => o !== h)) expect(routes).toContain(`${inv.hosts.find((x) => x.name === other)!.vars.router_id} `)
    }

    const again = await ferry(['run', 'deploy-mesh', '-i', 'lab', '--format', 'json', '--stats', '--state-dir', state])
    expect(again.code).toBe(0)
    const noop = JSON.parse(again.stdout)
    expect(noop.summary).toMatchObject({ ok: 5, changed: 0 })
    for (const h of MESH) expect(noop.stats[h].roundTrips).toBeLessThanOrEqual(3)
    const dry = await ferry(['run', 'deploy-mesh', '-i', 'lab', '--dry-run', '--state-dir', state])
    expect(dry.code, dry.stdout).toBe(0)

    // The MD5 key, the zebra password and the OpenVPN key are on the hosts, and nowhere else.
    expect(sh('lab1', 'cat /etc/frr/frr.conf')).toContain(secrets[0])
    const journal = ['journal.db', 'journal.db-wal'].map((f) => join(state, f)).filter(existsSync).map((f) => readFileSync(f))
    for (const secret of secrets.flatMap((s) => s.split('\n')).filter((l) => l.length >= 8)) {
      for (const out of [first, again, dry]) expect(out.stdout + out.stderr).not.toContain(secret)
      for (const bytes of journal) expect(bytes.includes(secret)).toBe(false)
    }
  } finally {
    const undo = await ferry(['rollback', applied.runId, '--state-dir', state])
    expect(undo.code, undo.stdout).toBe(0)
  }
  for (const h of MESH) expect(traces(h)).toBe(clean[h])
})
