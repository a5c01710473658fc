// `ferry graph --live` on the lab's converged mesh (deploy-mesh on lab1..lab5, six OpenVPN links,
// FRR's dead interval 4 s): every link up; with lab1's end of its tunnel to lab2 down, exactly that
// link is down (neither end sees the other Full) and the others stay up. What is read is the SVG
// Graphviz draws: each link's group (id link_N) ends its label with the state. And the lab's jail,
// declared on lab2, is drawn where it runs.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { INVENTORY, LAB_JAIL, makeJail, removeJail } from '../../lab/lab.ts'
import { loadInventory } from '../../src/inventory/load.ts'
import { allocateLinks } from '../../src/mesh/links.ts'
import { ferry, labIt as it, sh, tempDir, waitFor, withReport } from './helpers.ts'

it('marks exactly the link whose tunnel is down, from both ends’ OSPF neighbours, and every other link up', async () => {
  const state = tempDir('ferry-graph-')
  const deploy = withReport(
    await ferry(['run', 'deploy-mesh', '-i', 'lab', '--format', 'json', '--state-dir', state], { timeout: 600_000 }),
  )
  expect(deploy.code, deploy.stderr).toBe(0)
  const inv = await loadInventory(INVENTORY)
  const links = allocateLinks(inv)
  const name = (l: (typeof links)[number]) => `${l.ends[0].host}-${l.ends[1].host}`
  const svg = join(state, 'mesh.svg')
  const states = async () => {
    const r = await ferry(['graph', '-i', 'lab', '--live', '-o', svg], { timeout: 120_000 })
    expect(r.code, r.stderr).toBe(0)
    const text = readFileSync(svg, 'utf8')
    return Object.fromEntries(
      links.map((l) => {
        const edge = new RegExp(`<g id="link_${l.at}" class="edge">([\\s\\S]*?)</g>`).exec(text)?.[1] ?? ''
        return [name(l), />(up|down|partial)<\/text>/.exec(edge)?.[1] ?? 'none']
      }),
    )
  }
  const cut = links.find((l) => name(l) === 'lab1-lab2')!
  const end = cut.ends.find((e) => e.host === 'lab1')!
  try {
    expect(await states()).toEqual(Object.fromEntries(links.map((l) => [name(l), 'up'])))
    sh('lab1', `ip link set ${end.ifname} down`)
    let last: Record<string, string> = {}
    await waitFor(60_000, async () => (last = await states())['lab1-lab2'] === 'down', { every: 1000 })
    expect(last).toEqual(Object.fromEntries(links.map((l) => [name(l), l === cut ? 'down' : 'up'])))
  } finally {
    sh('lab1', `ip link set ${end.ifname} up`)
    await ferry(['rollback', deploy.report.runId, '--state-dir', state], { timeout: 600_000 })
  }
}, 900_000)

it('draws a jail at the host it runs on, which --live finds, not at the host the inventory declares', async () => {
  const jail = LAB_JAIL.name
  makeJail('lab3', 1)
  try {
    const declared = await ferry(['graph', '-i', 'lab'])
    expect(declared.code, declared.stderr).toBe(0)
    expect(declared.stdout).toContain(`"lab2" -- "${jail}@lab2"`)
    const live = await ferry(['graph', '-i', 'lab', '--live'], { timeout: 120_000 })
    expect(live.code, live.stderr).toBe(0)
    expect(live.stdout).toContain(`"lab3" -- "${jail}@lab3"`)
    expect(live.stdout).not.toContain(`${jail}@lab2`)
    expect(live.stdout).not.toContain('not running')
  } finally {
    removeJail('lab3')
  }
  // Stopped everywhere: drawn at its own host, as not running.
  const gone = await ferry(['graph', '-i', 'lab', '--live'], { timeout: 120_000 })
  expect(gone.stdout).toMatch(new RegExp(`"${jail}@lab2" \\[[^\\]]*not running`))
}, 300_000)
