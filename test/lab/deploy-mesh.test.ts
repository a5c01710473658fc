// deploy-mesh on the lab: five Linux hosts in two "data centres", a partial mesh of OpenVPN TAP
// links, FRR with MD5. Checked from outside the run: neighbours, routes, secrets, and rollback.
import { expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parse, stringify } from 'yaml'
import { INVENTORY, resetShellStarts, shellStarts } from '../../lab/lab.ts'
import { loadInventory, type Inventory } from '../../src/inventory/index.ts'
import { linksOf, allocateLinks } from '../../src/mesh/links.ts'
import { ferry, journalBytes, labIt as it, sh, tempDir, waitFor, writeInventory } from './helpers.ts'

const MESH = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5']
/** Per-host state that deploy-mesh creates: nothing of it may be there before, or after rollback. */
const traces = (host: string) =>
  sh(
    host,
    '[ -e /run/frr/ospfd.pid ] && echo ospfd; ls /run/ferry-openvpn-* 2>/dev/null; ip -o link | grep -o "tap[0-9]*"; sysctl -n net.ipv4.ip_forward; ls -d /etc/openvpn/ferry 2>/dev/null; true',
  )
const routerId = (inv: Inventory, host: string) => String(inv.hosts.find((h) => h.name === host)!.vars.router_id)
/** Router ids of the host's Full OSPF neighbours, sorted. */
function fullNeighbours(host: string): string[] {
  const neighbours = JSON.parse(sh(host, 'vtysh -c "show ip ospf neighbor json"')).neighbors as Record<
    string,
    { nbrState: string }[]
  >
  return Object.entries(neighbours)
    .filter(([, n]) => n.some((x) => x.nbrState.startsWith('Full')))
    .map(([rid]) => rid)
    .sort()
}
/**
 * Runs body on a mesh deployed from bare hosts by a run of its own, then rolls that run back and
 * checks the hosts are bare again, whatever body did (or failed to do) in between.
 */
async function withMesh(body: (mesh: { runId: string; state: string }) => Promise<void>): Promise<void> {
  const clean = Object.fromEntries(MESH.map((h) => [h, traces(h)]))
  const state = tempDir()
  const first = await ferry(['run', 'deploy-mesh', '-i', 'lab', '--format', 'json', '--state-dir', state])
  expect(first.code, first.stderr).toBe(0)
  const runId = JSON.parse(first.stdout).runId as string
  try {
    await body({ runId, state })
  } finally {
    const undo = await ferry(['rollback', runId, '--state-dir', state])
    expect(undo.code, undo.stdout).toBe(0)
  }
  for (const h of MESH) expect(traces(h)).toBe(clean[h])
}

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
      expect(fullNeighbours(h)).toEqual(links.map((peer) => routerId(inv, peer)).sort())
      const routes = sh(h, 'ip -4 route show proto ospf')
      for (const other of MESH.filter((o) => o !== h)) expect(routes).toContain(`${routerId(inv, other)} `)
    }

    await resetShellStarts(MESH)
    const again = await ferry(['run', 'deploy-mesh', '-i', 'lab', '--format', 'json', '--stats', '--state-dir', state])
    expect(again.code).toBe(0)
    const noop = JSON.parse(again.stdout)
    expect(noop.summary).toMatchObject({ ok: 5, changed: 0 })
    for (const h of MESH) expect(noop.stats[h].roundTrips).toBeLessThanOrEqual(3)
    // Lock with the probe, and the unlock, both in the host's one session shell: one login.
    for (const h of MESH) expect(noop.stats[h]).toMatchObject({ inSession: 2, loginShells: 1 })
    // Counted on the hosts too: root's .bashrc logs every login shell sshd starts.
    for (const h of MESH) expect(await shellStarts(h), h).toBe(1)
    const dry = await ferry(['run', 'deploy-mesh', '-i', 'lab', '--dry-run', '--state-dir', state])
    expect(dry.code, dry.stdout).toBe(0)

    // The MD5 key, the zebra password and the OpenVPN key are on the hosts, and nowhere else.
    expect(sh('lab1', 'cat /etc/frr/frr.conf')).toContain(secrets[0])
    const journal = journalBytes(state, applied.runId)
    for (const secret of secrets.flatMap((s) => s.split('\n')).filter((l) => l.length >= 8)) {
      for (const out of [first, again, dry]) expect(out.stdout + out.stderr).not.toContain(secret)
      expect(journal.includes(secret)).toBe(false)
    }
  } finally {
    const undo = await ferry(['rollback', applied.runId, '--state-dir', state])
    expect(undo.code, undo.stdout).toBe(0)
  }
  for (const h of MESH) expect(traces(h)).toBe(clean[h])
  // The first run's 60 s is asserted above; the no-op, dry run and rollback come on top of it.
}, 120_000)

// Steps that only wait for the mesh: one that had to wait is reported changed, though it changed nothing.
const WAITS = /^every neighbour Full$|^every loopback routed$/

it('fails over to another path within 10 s when one end of a link dies, and a rerun restarts just that tunnel', async () => {
  const inv = await loadInventory('lab')
  // lab1–lab4 is the direct link; its OpenVPN dies at lab4's end, so lab1's tap stays up and
  // only OSPF can tell lab1 to stop sending into it.
  const tap = linksOf(allocateLinks(inv), 'lab4').find((l) => l.remote.host === 'lab1')!.local.ifname
  const target = String(inv.hosts.find((h) => h.name === 'lab4')!.vars.loopback).replace(/\/32$/, '')
  // 2 s per attempt: over a dead path the connect hangs until then, which only delays the measured
  // failover by the tail of one attempt; on a loaded machine sshd alone can take over 0.5 s to
  // fork, re-exec and send its banner, which a shorter timeout would count as no path at all.
  const banner = () => sh('lab1', `timeout 2 bash --norc -c 'exec 3<>/dev/tcp/${target}/22 && head -c 8 <&3' || true`)
  const route = () => sh('lab1', `ip route get ${target}`)
  await withMesh(async ({ state }) => {
    // A second sshd on lab4, on its loopback only: something to reach over whichever path OSPF picks.
    // The distribution's sshd_config has no ListenAddress, so this one does not clash with the lab's.
    const pidfile = '/run/ferry-test-sshd.pid'
    sh('lab4', `/usr/sbin/sshd -f /etc/ssh/sshd_config -o ListenAddress=${target} -o PidFile=${pidfile}`)
    try {
      expect(
        await waitFor(5_000, () => /^\d+$/.test(sh('lab4', `cat ${pidfile} 2>/dev/null || true`).trim())),
        'sshd wrote no pidfile',
      ).toBeDefined()
      expect(banner()).toBe('SSH-2.0-')
      // FRR's SPF throttle can put the routing table a few seconds behind the adjacencies the
      // run waited for: the direct link is the shortest path once it has caught up.
      expect(
        await waitFor(10_000, () => route().includes(`dev ${tap} `)),
        `lab1 routes ${target} over ${tap}; now: ${route()}`,
      ).toBeDefined()
      // A link fails on a network at rest. Right after convergence, OSPF's minimum LSA interval
      // (5 s, FRR's default) still holds back the next LSA of a router that just sent one, which
      // would put that wait, not the failover, into the figure: so every router LSA in lab1's
      // database (all of them are flooded there) must first be over 5 s old.
      const youngest = () => {
        const ages = sh('lab1', "vtysh -c 'show ip ospf database router'")
          .split('\n')
          .flatMap((l) => /^\s*LS age: (\d+)/.exec(l)?.[1] ?? [])
          .map(Number)
        return ages.length === MESH.length ? Math.min(...ages) : -1 // one router LSA per mesh member, or not at rest
      }
      expect(
        await waitFor(30_000, () => youngest() > 5),
        `an LSA in lab1's database is still ${youngest()} s old`,
      ).toBeDefined()

      sh('lab4', `kill "$(cat /run/ferry-openvpn-${tap}.pid)"`)
      const failover = await waitFor(10_000, () => banner() === 'SSH-2.0-')
      console.log(
        `deploy-mesh failover: ${failover === undefined ? 'none within 10 s' : `${(failover / 1000).toFixed(2)} s`} from killing lab4's ${tap} OpenVPN to the banner over another path`,
      )
      const seen =
        failover === undefined
          ? `; lab1 now has ${route()}${sh('lab1', "vtysh -c 'show ip ospf neighbor' -c 'show ip route ospf'")}`
          : ''
      expect(
        failover,
        `lab1 could not read ${target}'s SSH banner for 10 s after lab4's ${tap} died${seen}`,
      ).toBeDefined()
      expect(route()).not.toContain(`dev ${tap} `)

      const again = await ferry(['run', 'deploy-mesh', '-i', 'lab', '--format', 'json', '--state-dir', state])
      expect(again.code, again.stderr).toBe(0)
      const changed = Object.fromEntries(
        (JSON.parse(again.stdout).hosts as { name: string; steps: { name: string; status: string }[] }[]).map((h) => [
          h.name,
          h.steps.filter((s) => s.status === 'changed' && !WAITS.test(s.name)).map((s) => s.name),
        ]),
      )
      expect(changed).toEqual({ ...Object.fromEntries(MESH.map((h) => [h, []])), lab4: [`${tap} up`] })
      expect(
        await waitFor(
          10_000,
          () =>
            fullNeighbours('lab1').includes(routerId(inv, 'lab4')) &&
            fullNeighbours('lab4').includes(routerId(inv, 'lab1')),
        ),
        'lab1–lab4 not Full again',
      ).toBeDefined()
      expect(
        await waitFor(10_000, () => route().includes(`dev ${tap} `)),
        `lab1 does not route ${target} over ${tap} again`,
      ).toBeDefined()
    } finally {
      // By its pidfile, whatever failed above; never by pattern (lab hosts share the machine's pids).
      sh('lab4', `[ -f ${pidfile} ] && kill "$(cat ${pidfile})"; rm -f ${pidfile}`)
    }
  })
}, 180_000)

it('rolls back a host whose neighbours stay down with a wrong MD5 key, running config included', async () => {
  const inv = await loadInventory('lab')
  const good = await inv.secrets.get('ospf_md5_key')
  const verifies = ['every neighbour Full']
  const peers = linksOf(allocateLinks(inv), 'lab5')
    .map(({ remote }) => routerId(inv, remote.host))
    .sort()
  // The lab inventory in a directory of its own: ferry resolves relative paths from the inventory
  // file, so they are made absolute; only the OSPF key's source differs.
  const dir = tempDir()
  let bad = good
  while (bad === good) bad = randomBytes(12).toString('base64url').slice(0, 16)
  writeFileSync(join(dir, 'ospf_md5_key'), `${bad}\n`, { mode: 0o600 })
  const doc = parse(readFileSync(INVENTORY, 'utf8'))
  const abs = (p: string) => resolve(dirname(INVENTORY), p)
  doc.defaults.identity = abs(doc.defaults.identity)
  doc.defaults.known_hosts = abs(doc.defaults.known_hosts)
  for (const [name, source] of Object.entries<string>(doc.secrets))
    if (source.startsWith('file:')) doc.secrets[name] = `file:${abs(source.slice(5))}`
  doc.secrets.ospf_md5_key = `file:${join(dir, 'ospf_md5_key')}`
  const wrong = writeInventory(stringify(doc), dir)

  await withMesh(async ({ state }) => {
    // Hashes, not contents: a failed comparison must not print the key.
    const conf = () => sh('lab5', 'sha256sum /etc/frr/frr.conf; stat -c "%a %U:%G" /etc/frr/frr.conf')
    const before = conf()
    const run = await ferry([
      'run',
      'deploy-mesh',
      '-i',
      wrong,
      '--limit',
      'lab5',
      '--rollback',
      'host',
      '--format',
      'json',
      '--state-dir',
      state,
    ])
    // Soft: each of these says something of its own about what went wrong.
    expect.soft(run.code, 'exit code (1: a host failed and was rolled back)').toBe(1)
    const result = JSON.parse(run.stdout)
    const lab5 = (
      result.hosts as { name: string; status: string; error?: string; steps: { name: string; error?: string }[] }[]
    ).find((h) => h.name === 'lab5')
    expect.soft(lab5?.status, 'lab5 status').toBe('rolled-back')
    expect
      .soft(lab5?.error ?? '(no error)', 'lab5 error')
      .toMatch(/^every neighbour Full: not satisfied after \d+ s: .*\blab[34] \(10\.0\.0\.[34]\) is /)
    const failed = lab5?.steps.filter((s) => s.error).map((s) => s.name) ?? []
    expect.soft(failed.length, 'steps that failed').toBeGreaterThan(0)
    for (const name of failed) expect.soft(verifies, 'a failed step that is not a neighbour check').toContain(name)
    const journal = journalBytes(state, result.runId)
    for (const [which, key] of [
      ['good', good],
      ['wrong', bad],
    ] as const) {
      expect
        .soft(run.stdout.includes(key) || run.stderr.includes(key), `the ${which} key in ferry's output`)
        .toBe(false)
      expect.soft(journal.includes(key), `the ${which} key in the journal`).toBe(false)
    }

    expect.soft(conf(), 'frr.conf after rollback').toBe(before)
    // The file alone is not enough: FRR must be running with it again, the good key.
    const withBadKey = sh('lab5', 'k=$(cat); vtysh -c "show running-config" | grep -cF -- "$k" || true', bad).trim()
    expect.soft(withBadKey, "lines of FRR's running config on lab5 with the wrong key").toBe('0')
    // A neighbour stays Full for the dead interval (4 s) after its hellos stop authenticating, so
    // Full right after the run proves nothing: look once that has passed.
    await sleep(5_000)
    const back = await waitFor(10_000, () => JSON.stringify(fullNeighbours('lab5')) === JSON.stringify(peers))
    let now: string
    try {
      now = fullNeighbours('lab5').join(', ') || 'none'
    } catch (e) {
      now = (e as Error).message
    }
    expect.soft(back, `lab5's neighbours ${peers.join(', ')} Full again within 10 s; Full now: ${now}`).toBeDefined()
  })
}, 240_000)
