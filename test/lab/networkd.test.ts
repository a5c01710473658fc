// deploy-mesh keeping its interfaces with systemd-networkd. The lab hosts are the kind of host
// this is for: Debian with networkd's directory, /etc/systemd/network, and no ifupdown (no
// /etc/network/interfaces.d). networkd itself does not run in the lab (no systemd there), so it
// would read the files at its next start; this test reads them from outside, and
// test/unit/route.test.ts runs Debian's own systemd-networkd on files of the same kind.
//
// The lab inventory with persist_interfaces: true (it is false there, the lab having had no way
// to keep interfaces): on Linux, deploy-mesh's only interface step is the router id on lo1, the
// tunnels being OpenVPN's own taps. A dry run names the files; the run writes them on every
// member; a second run changes nothing; a drop-in deleted by hand is found by a dry run and put
// back; rollback of both runs leaves every host as it was.
import { expect } from 'vitest'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parse, stringify } from 'yaml'
import { INVENTORY } from '../../lab/lab.ts'
import { loadInventory } from '../../src/inventory/index.ts'
import { ferry, labIt as it, sh, tempDir, writeInventory } from './helpers.ts'

const MESH = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5']
const N = '/etc/systemd/network'
const LO_NETWORK = [
  '# lo, managed by ferry: the addresses of its loopback aliases are in 50-ferry-lo.network.d',
  '[Match]',
  'Name=lo',
  '',
  '[Network]',
  'KeepConfiguration=static',
]
const lo1Conf = (loopback: string) => ['# lo1, managed by ferry', '[Address]', `Address=${loopback}`, 'Label=lo:1']

/** networkd's directory, every file in it with its mode, and lo1's live address. */
const snapshot = (host: string) =>
  sh(
    host,
    `find ${N} | LC_ALL=C sort | while read -r f; do if [ -f "$f" ]; then echo "== $f $(stat -c %a "$f")"; cat "$f"; else echo "$f/"; fi; done; ip -o -4 addr show dev lo label lo:1 | awk '{ print $4 }'`,
  )
const text = (lines: string[]) => lines.map((l) => `${l}\n`).join('')

it('deploy-mesh on hosts with /etc/systemd/network and no ifupdown keeps lo1 in .network files; a no-op; drift found; rollback removes them', async () => {
  const inv = await loadInventory('lab')
  const loopback = (h: string) => String(inv.hosts.find((x) => x.name === h)!.vars.loopback)
  for (const h of MESH)
    expect(
      sh(
        h,
        `ls -A ${N}; [ -e /etc/network/interfaces.d ] || echo 'no ifupdown'; [ -d /run/systemd/system ] || echo 'no systemd'`,
      ),
      h,
    ).toBe('no ifupdown\nno systemd\n')
  const before = Object.fromEntries(MESH.map((h) => [h, snapshot(h)]))
  for (const h of MESH) expect(before[h]).toBe(`${N}/\n`)

  // The lab inventory, its relative paths made absolute, keeping interfaces at boot.
  const doc = parse(readFileSync(INVENTORY, 'utf8'))
  const abs = (p: string) => resolve(dirname(INVENTORY), p)
  doc.defaults.identity = abs(doc.defaults.identity)
  doc.defaults.known_hosts = abs(doc.defaults.known_hosts)
  for (const [name, source] of Object.entries<string>(doc.secrets))
    if (source.startsWith('file:')) doc.secrets[name] = `file:${abs(source.slice(5))}`
  doc.groups.mesh.vars.persist_interfaces = true
  const persisting = writeInventory(stringify(doc))
  const state = tempDir()
  const run = (...flags: string[]) =>
    ferry(['run', 'deploy-mesh', '-i', persisting, '--state-dir', state, ...flags], { timeout: 170_000 })

  // The plan says where: networkd's files, not ifupdown's.
  const plan = await run('--dry-run', '--limit', 'lab1')
  expect(plan.code, plan.stderr).toBe(2)
  expect(plan.stdout).toContain(
    `lab1:       lo1 at boot: ${N}/50-ferry-lo.network, ${N}/50-ferry-lo.network.d/lo1.conf\n`,
  )
  expect(snapshot('lab1')).toBe(before.lab1)

  const first = await run('--format', 'json')
  expect(first.code, first.stderr).toBe(0)
  const firstRun = JSON.parse(first.stdout)
  let repairRun: { runId: string } | undefined
  const applied = (h: string) =>
    text([
      `${N}/`,
      `== ${N}/50-ferry-lo.network 644`,
      ...LO_NETWORK,
      `${N}/50-ferry-lo.network.d/`,
      `== ${N}/50-ferry-lo.network.d/lo1.conf 644`,
      ...lo1Conf(loopback(h)),
      loopback(h),
    ])
  try {
    for (const h of MESH) expect(snapshot(h), h).toBe(applied(h))

    const again = await run('--format', 'json')
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout).summary).toMatchObject({ ok: 5, changed: 0 })

    // Drift: lab3's drop-in deleted by hand. Its address stays (networkd is not running to notice).
    sh('lab3', `rm ${N}/50-ferry-lo.network.d/lo1.conf`)
    const drifted = snapshot('lab3')
    const dry = await run('--dry-run', '--format', 'json')
    expect(dry.code).toBe(2)
    const changed = (r: { hosts: { name: string; steps: { name: string; status: string; diff?: string }[] }[] }) =>
      r.hosts.flatMap((host) =>
        host.steps.filter((s) => s.status === 'changed').map((s) => ({ host: host.name, step: s.name, diff: s.diff })),
      )
    const conf = `${N}/50-ferry-lo.network.d/lo1.conf`
    expect(changed(JSON.parse(dry.stdout))).toEqual([
      {
        host: 'lab3',
        step: 'router id',
        diff: `--- ${conf}\n+++ ${conf}\n@@ -0,0 +1,4 @@\n${lo1Conf(loopback('lab3'))
          .map((l) => `+${l}\n`)
          .join('')}`,
      },
    ])
    expect(snapshot('lab3')).toBe(drifted)

    const repair = await run('--format', 'json')
    expect(repair.code, repair.stderr).toBe(0)
    repairRun = JSON.parse(repair.stdout)
    expect(snapshot('lab3')).toBe(applied('lab3'))
  } finally {
    for (const id of [repairRun?.runId, firstRun.runId].filter(Boolean)) {
      const undo = await ferry(['rollback', id, '--state-dir', state])
      expect(undo.code, undo.stdout + undo.stderr).toBe(0)
    }
  }
  for (const h of MESH) expect(snapshot(h), h).toBe(before[h])
}, 240_000)
