// deploy-mesh's gre and gre-ipsec links, proved by packets on the lab's full-kernel hosts
// (lab/uml.ts): one OSPF area made of OpenVPN TAP links between namespace hosts (lab1, lab2, and
// lab2 to uml1) and a triangle of GRE links between UML hosts, two of them under strongSwan's
// ESP. The UML hosts have no systemd, so strongSwan runs from strongswan-starter (ipsec_daemon:
// starter).
//
// Counted on the controller's bridge, where the hosts' interfaces meet: between the two ends of
// a gre-ipsec link every packet is ESP; between the ends of the plain gre link, GRE (the positive
// control that the counters see what crosses). Then: the SAs, the PSK in no output or journal, a
// no-op second run, a cut link rerouted, and rollback leaving no tunnel, SA or daemon behind.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { expect } from 'vitest'
import { INVENTORY, KNOWN_HOSTS, STATE_DIR, loadState } from '../../lab/lab.ts'
import { ADDRESSES, ferry, journalBytes, labIt as it, sh, tempDir, waitFor, writeInventory } from './helpers.ts'

const UML = ['uml1', 'uml2', 'uml3']
const HOSTS = ['lab1', 'lab2', ...UML]
const address = (h: string) => ADDRESSES[h] ?? loadState().uml![h]!.address
const rid = (h: string) => (h.startsWith('uml') ? `10.0.0.${30 + Number(h.slice(3))}` : `10.0.0.${h.slice(3)}`)
// gre-ipsec: uml1–uml2 and uml2–uml3; plain gre: uml1–uml3.
const ENCRYPTED = [
  ['uml1', 'uml2'],
  ['uml2', 'uml3'],
] as const
const PLAIN = ['uml1', 'uml3'] as const

const inventory = () =>
  writeInventory(
    [
      'defaults:',
      '  user: root',
      `  identity: ${STATE_DIR}/id_ed25519`,
      `  known_hosts: ${KNOWN_HOSTS}`,
      '  os: linux',
      'groups:',
      '  mesh:',
      '    vars: { ospf_area: 0.0.0.0, link_pool: 172.16.6.0/24, tunnel: openvpn, persist_interfaces: false, ipsec_daemon: starter, converge_timeout: 300 }',
      'hosts:',
      ...HOSTS.map(
        (h) =>
          `  ${h}: { address: ${address(h)}, groups: [mesh], vars: { router_id: ${rid(h)}, loopback: ${rid(h)}/32 } }`,
      ),
      'links:',
      '  - { a: lab1, b: lab2 }',
      '  - { a: lab2, b: uml1 }',
      ...ENCRYPTED.map(([a, b]) => `  - { a: ${a}, b: ${b}, tunnel: gre-ipsec }`),
      `  - { a: ${PLAIN[0]}, b: ${PLAIN[1]}, tunnel: gre }`,
      'secrets:',
      ...['ospf_md5_key', 'zebra_password', 'openvpn_key', 'ipsec_psk'].map((s) => `  ${s}: file:${STATE_DIR}/${s}`),
      '',
    ].join('\n'),
  )

/** What deploy-mesh touches on a host, read from outside: files, tunnels, SAs, daemons. */
const snapshot = (h: string) =>
  sh(
    h,
    [
      'for f in $(find /etc/frr /etc/swanctl /etc/strongswan.d /etc/openvpn -type f 2>/dev/null | LC_ALL=C sort); do echo "$f $(stat -c %a "$f") $(md5sum < "$f")"; done',
      "ip -o link | awk '{ print $2 }' | grep -E '^(gre-|tap)' || true",
      'echo "xfrm states $(ip xfrm state | grep -c ^src) policies $(ip xfrm policy | grep -c ^src)"',
      'sysctl net.ipv4.ip_forward',
      // Pidfiles, not pidof: the namespace hosts share the controller's process table.
      'for p in /run/frr/watchfrr.pid /run/charon.pid /run/starter.charon.pid /run/ferry-openvpn-*.pid; do [ -s "$p" ] && kill -0 "$(cat "$p")" 2>/dev/null && echo "running: $p"; done; true',
    ].join('; '),
  )

/** Counts, on the bridge, the packets between each pair of hosts: ESP, GRE, IKE (UDP 500 and 4500) and all. */
function countOnBridge() {
  const pairs = [...ENCRYPTED, PLAIN].map(([a, b]) => `{ ${address(a)}, ${address(b)} }`)
  execFileSync('nft', ['-f', '-'], {
    input: `table bridge ferry_uml_mesh {
  chain forward {
    type filter hook forward priority 0;
${pairs.map((p) => `    ip saddr ${p} ip daddr ${p} ip protocol esp counter\n    ip saddr ${p} ip daddr ${p} ip protocol gre counter\n    ip saddr ${p} ip daddr ${p} udp dport { 500, 4500 } counter\n    ip saddr ${p} ip daddr ${p} counter`).join('\n')}
  }
}
`,
  })
  return {
    read: () => {
      const n = [
        ...execFileSync('nft', ['list', 'table', 'bridge', 'ferry_uml_mesh'], { encoding: 'utf8' }).matchAll(
          /counter packets (\d+)/g,
        ),
      ].map((m) => Number(m[1]))
      return [0, 1, 2].map((k) => ({ esp: n[4 * k]!, gre: n[4 * k + 1]!, ike: n[4 * k + 2]!, all: n[4 * k + 3]! }))
    },
    remove: () => dropTable('ferry_uml_mesh'),
  }
}

function dropTable(name: string): void {
  if (execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).includes(`bridge ${name}`))
    execFileSync('nft', ['delete', 'table', 'bridge', name])
}

it('a mixed area: TAP links between namespace hosts and to a UML host, GRE and GRE over IPsec between UML hosts: converged, only ESP between IPsec ends, a cut link rerouted, rollback leaves nothing', async () => {
  const inv = inventory()
  const state = tempDir()
  const psk = readFileSync(`${STATE_DIR}/ipsec_psk`, 'utf8').trim()
  expect(psk.length).toBeGreaterThan(16)
  const before = Object.fromEntries(HOSTS.map((h) => [h, snapshot(h)]))
  // UML hosts are slow (every process they start costs a host process): the first run takes
  // them minutes, more than the default 120 s in which a run must confirm, and the namespace
  // hosts' verify waits for them longer than its default 60 s (converge_timeout above).
  const run = (...flags: string[]) =>
    ferry(['run', 'deploy-mesh', '-i', inv, '--state-dir', state, '--confirm-timeout', '400', ...flags], {
      timeout: 480_000,
    })
  const outputs: string[] = []
  let runId = ''
  try {
    // A dry run writes nothing.
    const dry = await run('--dry-run')
    outputs.push(dry.stdout + dry.stderr)
    expect(dry.code, dry.stderr).toBe(2)
    expect(dry.stdout).toMatch(/^uml1: .*\/etc\/swanctl\/conf.d\/ferry-mesh.conf/m)
    for (const h of HOSTS) expect(snapshot(h), h).toBe(before[h])

    const t0 = performance.now()
    const first = await run('--format', 'json')
    outputs.push(first.stdout + first.stderr)
    expect(first.code, first.stderr + first.stdout.slice(-3000)).toBe(0)
    const converged = (performance.now() - t0) / 1000
    const applied = JSON.parse(first.stdout)
    runId = applied.runId
    // Every host waited for its neighbours to be Full and its loopbacks routed; IPsec ends also
    // saw their ESP SAs' counters move.
    for (const h of applied.hosts) {
      expect(h.status, h.name).toBe('changed')
      const verified = h.steps.filter((s: { name: string }) => s.name.startsWith('every '))
      expect(verified.map((s: { name: string }) => s.name)).toEqual([
        'every neighbour Full',
        'every loopback routed',
        ...(UML.includes(h.name) ? ['every IPsec link encrypted'] : []),
      ])
      // Where FRR was not running, the run started it with its daemons file: no restart after
      // (one on a slow host left the daemons without frr.conf: watchfrr applies it only after a
      // timely startup).
      const restart = h.steps.find((s: { name: string }) => s.name === 'restart frr (handler)')
      if (!before[h.name]!.includes('running: /run/frr/watchfrr.pid'))
        expect(restart?.status ?? 'not notified', h.name).not.toBe('changed')
    }

    // On the wire: 10 s of a converged mesh (hellos every second on every link).
    const bridge = countOnBridge()
    let counted
    try {
      await new Promise((r) => setTimeout(r, 10_000))
      counted = bridge.read()
    } finally {
      bridge.remove()
    }
    const [a, b, plain] = counted
    for (const pair of [a!, b!]) {
      expect(pair.all).toBeGreaterThan(10)
      // IKE may speak in the window too (a duplicate IKE_SA deleted when both ends initiated at
      // once, a DPD): key exchange, not the traffic it protects.
      expect(pair, 'every packet between the ends of a gre-ipsec link is ESP, or IKE').toEqual({
        esp: pair.all - pair.ike,
        gre: 0,
        ike: pair.ike,
        all: pair.all,
      })
    }
    // The plain gre link: GRE in clear, as it should be, and seen by the same counters.
    expect(plain!.gre).toBeGreaterThan(10)
    expect(plain!.esp).toBe(0)
    console.log(
      `uml mesh: converged in ${converged.toFixed(1)} s (whole first run); ESP share on gre-ipsec links ${a!.esp}/${a!.all} and ${b!.esp}/${b!.all}; plain gre link ${plain!.gre} GRE of ${plain!.all}`,
    )

    // strongSwan has its SAs: uml2 with both of its IPsec peers.
    const sas = sh('uml2', 'swanctl --list-sas 2>/dev/null')
    for (const peer of ['uml1', 'uml3']) expect(sas).toMatch(new RegExp(`${address(peer).replace(/\./g, '\\.')}`))
    // One CHILD SA per peer at least: two when both ends' traps fired at once (strongSwan keeps
    // the duplicate until it rekeys).
    expect(sas.match(/INSTALLED, TUNNEL/g)?.length).toBeGreaterThanOrEqual(2)

    // A second run changes nothing.
    const again = await run('--format', 'json')
    outputs.push(again.stdout + again.stderr)
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout).summary).toMatchObject({ ok: 5, changed: 0 })

    // Cut uml1–uml2 (drop their ESP on the bridge): uml1 routes uml2's loopback through uml3.
    const via = () => sh('uml1', `ip route get ${rid('uml2')}`)
    expect(via()).toMatch(/dev gre-/)
    const direct = /dev (\S+)/.exec(via())![1]
    execFileSync('nft', ['-f', '-'], {
      input: `table bridge ferry_uml_cut {
  chain forward {
    type filter hook forward priority 0;
    ip saddr { ${address('uml1')}, ${address('uml2')} } ip daddr { ${address('uml1')}, ${address('uml2')} } drop
  }
}
`,
    })
    try {
      const rerouted = await waitFor(10_000, () => !via().includes(`dev ${direct} `), { every: 250 })
      console.log(
        `uml mesh: reroute ${rerouted === undefined ? 'none within 10 s' : `${(rerouted / 1000).toFixed(2)} s`} after cutting uml1–uml2`,
      )
      expect(rerouted, 'uml1 routes around the cut link within 10 s').toBeDefined()
      expect(via()).toMatch(/dev gre-/)
    } finally {
      dropTable('ferry_uml_cut')
    }
  } finally {
    if (runId) {
      const undo = await ferry(['rollback', runId, '--state-dir', state], { timeout: 480_000 })
      outputs.push(undo.stdout + undo.stderr)
      expect(undo.code, undo.stdout + undo.stderr).toBe(0)
    }
  }
  // Rollback: every host as before, without tunnels, SAs or daemons the run started.
  for (const h of HOSTS) expect(snapshot(h), h).toBe(before[h])
  for (const o of outputs) expect(o).not.toContain(psk)
  expect(journalBytes(state, runId).includes(psk)).toBe(false)
  expect(readFileSync(INVENTORY, 'utf8')).toContain('ipsec_psk') // the lab inventory names it too
}, 1_200_000)
