// The lab's CARP pair (lab/carp.ts, `up --carp`), which deploy-carp-gateway's Linux half runs on:
// two namespace gateways on an outside, an inside and a sync bridge, a server outside and a client
// inside. Facts about the lab itself, before any runbook: the shared addresses are the runbook's.
// Runs after test/lab/setup.ts has brought the lab up with --carp; ha-lab.test.ts proves `down`
// removes every ferry-* bridge, link and namespace.
import fs from 'node:fs'
import { describe, expect } from 'vitest'
import { CARP_NETS, planCarpEnds, planCarpGateways } from '../../lab/carp.ts'
import { INVENTORY, INVENTORY_CARP, KNOWN_HOSTS, ipJson, loadState, up } from '../../lab/lab.ts'
import { loadInventory } from '../../src/inventory/load.ts'
import { labIt as it, sh } from './helpers.ts'
import { LAB_UP } from './setup.ts'

const ports = (bridge: string) =>
  ipJson<{ ifname: string }>(['link', 'show', 'master', bridge])
    .map((l) => l.ifname.replace(/@.*/, ''))
    .sort()

/** `ADDRESS ok|no` per address: pings a second apart for up to 4 s. */
const pings = (host: string, addresses: string[]) =>
  sh(
    host,
    addresses
      .map((a) => `if ping -c 1 -w 4 ${a} >/dev/null 2>&1; then echo "${a} ok"; else echo "${a} no"; fi`)
      .join('\n'),
  )
    .trim()
    .split('\n')

describe('the CARP lab (up --carp)', () => {
  it('puts each gateway on the outside, inside and sync bridges, the server outside and the client inside, and claims nothing on the controller', () => {
    expect(ports('ferry-br21')).toEqual(['fl-cout', 'fl21-cgw1', 'fl21-cgw2'])
    expect(ports('ferry-br22')).toEqual(['fl-cin', 'fl22-cgw1', 'fl22-cgw2'])
    expect(ports('ferry-br23')).toEqual(['fl23-cgw1', 'fl23-cgw2'])
    for (const net of CARP_NETS) {
      // Only the unreachable route that keeps the lab's traffic on this machine.
      expect(ipJson<{ type?: string }>(['-4', 'route', 'show', 'table', 'all', net]).map((r) => r.type)).toEqual([
        'unreachable',
      ])
    }
    for (const br of ['ferry-br21', 'ferry-br22', 'ferry-br23'])
      expect(ipJson<{ addr_info?: unknown[] }>(['-4', 'addr', 'show', 'dev', br])[0]?.addr_info ?? []).toEqual([])
  })

  it('links the client to both gateways inside, the server to both outside, and the gateways to each other on their own link', () => {
    // From the gateways: whatever filter a runbook left on them lets their own pings and the answers through.
    for (const g of ['cgw1', 'cgw2'])
      expect(pings(g, ['198.18.22.10', '198.18.21.10'])).toEqual(['198.18.22.10 ok', '198.18.21.10 ok'])
    expect(pings('cgw1', ['198.18.23.3'])).toEqual(['198.18.23.3 ok'])
    // The client's way out is the inside shared address, which no one holds before a runbook.
    expect(sh('cin', 'ip -4 route show default')).toMatch(/^default via 198\.18\.22\.1 dev eth0/)
  })

  it('writes inventory/lab-carp.yaml for deploy-carp-gateway, keeps the gateways out of lab.yaml and their keys in known_hosts, and the passphrase in a 0600 file', async () => {
    const inv = await loadInventory(INVENTORY_CARP)
    expect(inv.hosts.map((h) => [h.name, h.address, h.groups])).toEqual([
      ['cgw1', '198.18.0.61', ['carp-gateways', 'all']],
      ['cgw2', '198.18.0.62', ['carp-gateways', 'all']],
    ])
    expect(fs.readFileSync(INVENTORY, 'utf8')).not.toMatch(/cgw/)
    const known = fs.readFileSync(KNOWN_HOSTS, 'utf8')
    for (const a of ['198.18.0.61', '198.18.0.62']) expect(known).toMatch(new RegExp(`^${a} ssh-ed25519 `, 'm'))
    const pass = inv.secrets.source('carp_pass')
    expect(pass).toMatch(/^file:\//)
    expect(fs.statSync(pass.slice(5)).mode & 0o777).toBe(0o600)
    // ucarp takes at most 19 bytes.
    expect((await inv.secrets.get('carp_pass')).trim()).toMatch(/^[0-9a-f]{16}$/)
  })

  it('leaves the gateways and the two ends alone on a second up', async () => {
    const pids = () => planCarpGateways('ferry-br0').map((g) => loadState().hosts[g.name]!.pid)
    const netns = () => planCarpEnds().map((l) => fs.statSync(`/run/netns/${l.netns}`).ino)
    const [p0, n0] = [pids(), netns()]
    await up(LAB_UP)
    expect(pids()).toEqual(p0)
    expect(netns()).toEqual(n0)
  }, 120_000)
})
