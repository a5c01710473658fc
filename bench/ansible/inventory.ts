// The Ansible side of the deploy-mesh benchmark: writes an Ansible YAML inventory for the mesh
// hosts of a ferry inventory (default: the lab's, inventory/lab.yaml), with every per-host value
// bench/ansible/deploy-mesh.yml and its templates need. Link addresses, tap names, ports, key
// directions, OSPF interfaces and networks come from ferry's own code (allocateLinks, linksOf and
// runbooks/mesh/common.ts), so both tools configure exactly the same links.
//
// Secrets are not written: only where they are (ferry_secrets: name → file on the controller),
// which the playbook reads with lookup('file', …) under no_log.
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { loadInventory, type Host, type Inventory } from '../../src/inventory/index.ts'
import { parseSource, resolvePath } from '../../src/inventory/secrets.ts'
import { DEFAULT_COST, linksOf, allocateLinks } from '../../src/mesh/links.ts'
import { dottedMask, splitCidr } from '../../src/mesh/ipv4.ts'
import { networks, ospfInterfaces, vars as meshVars, type Member } from '../../runbooks/mesh/common.ts'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
/** The secrets deploy-mesh's Linux plan reads (zebra_password only when declared). */
const SECRETS = ['ospf_md5_key', 'openvpn_key', 'zebra_password']

export interface AnsibleInventoryOptions {
  /** A ferry inventory name or path, as `ferry -i` takes it. Default `lab`. */
  inventory?: string
  /** Where a bare name resolves from (NAME → inventory/NAME.yaml). Default: the repository. */
  cwd?: string
}

/** Writes `<outDir>/hosts.yml`. Throws where the playbook could not do what ferry would. */
export async function writeAnsibleInventory(outDir: string, opts: AnsibleInventoryOptions = {}): Promise<void> {
  const inventory = await loadInventory(opts.inventory ?? 'lab', { cwd: opts.cwd ?? REPO })
  await mkdir(outDir, { recursive: true })
  await writeFile(path.join(outDir, 'hosts.yml'), renderAnsibleInventory(inventory))
}

/** The inventory's YAML text. */
export function renderAnsibleInventory(inventory: Inventory): string {
  const mesh = inventory.hosts.filter((h) => h.groups.includes('mesh'))
  if (!mesh.length) throw new Error(`${inventory.file}: no host in group mesh`)
  const plan = allocateLinks(inventory)
  const byName = new Map(inventory.hosts.map((h) => [h.name, h]))

  const hosts: Record<string, Record<string, unknown>> = {}
  for (const host of mesh) {
    if (host.os !== 'linux')
      throw new Error(
        `${host.name}: the Ansible playbook only does deploy-mesh's Linux plan (os is ${host.os ?? 'unset'})`,
      )
    const v = meshVars.parse(host.vars)
    const m: Member = {
      host,
      vars: v,
      inventory,
      links: linksOf(plan, host.name),
      peer: (name) => byName.get(name)!,
      secret: () => Promise.reject(new Error('no secrets here')),
    }
    const other = m.links.find((l) => l.link.kind !== 'openvpn')
    if (other)
      throw new Error(
        `${host.name}: the ${other.link.kind} link to ${other.remote.host}: the Ansible playbook only builds OpenVPN links`,
      )
    const peers = m.links.map((l) => m.peer(l.remote.host))
    hosts[host.name] = {
      ...connection(host),
      frr_hostname: host.name,
      router_id: v.router_id,
      loopback: v.loopback,
      ospf_area: v.ospf_area,
      // As frrConf gets them (its defaults applied): one block per tunnel.
      ospf_interfaces: ospfInterfaces(m).map((i) => ({
        name: i.name,
        ...(i.description !== undefined ? { description: i.description } : {}),
        point_to_point: i.pointToPoint ?? true,
        hello: i.hello ?? 1,
        dead: i.dead ?? 4,
        ...(i.cost !== undefined ? { cost: i.cost } : {}),
      })),
      ospf_networks: networks(m),
      // verifyMesh: hold Full for the dead interval plus a second after a change.
      ospf_hold: (v.ospf_dead ?? 4) + 1,
      links: m.links.map((l) => {
        const { address, prefix } = splitCidr(l.local.cidr)
        return {
          ifname: l.local.ifname,
          cidr: l.local.cidr,
          address,
          netmask: dottedMask(prefix),
          subnet: l.link.subnet,
          local: host.address,
          remote: m.peer(l.remote.host).address,
          port: l.link.port!,
          key_direction: l.keyDirection,
          peer: l.remote.host,
          description: `TAP to ${l.remote.host}`,
          ...(l.link.cost !== DEFAULT_COST ? { cost: l.link.cost } : {}),
        }
      }),
      // What verifyMesh waits for: every link's neighbour Full, every other member's loopback routed.
      mesh_neighbours: peers.map((p) => ({ name: p.name, router_id: String(p.vars.router_id) })),
      other_loopbacks: inventory.hosts
        .filter((h) => h.name !== host.name && h.groups.includes('mesh') && h.vars.loopback)
        .map((h) => ({ name: h.name, address: String(h.vars.loopback).replace(/\/32$/, '') })),
    }
  }

  const doc = {
    all: {
      children: {
        mesh: {
          vars: {
            ferry_secrets: secretFiles(inventory),
            frr_vty_password: inventory.secrets.names().includes('zebra_password'),
          },
          hosts,
        },
      },
    },
  }
  const header = `# Generated by bench/ansible/inventory.ts from ${path.relative(REPO, inventory.file)}; no secrets, only their files.\n`
  return header + stringify(doc, { lineWidth: 0 })
}

function connection(host: Host): Record<string, unknown> {
  if (host.connection !== 'ssh') throw new Error(`${host.name}: connection ${host.connection} is not supported here`)
  if (host.jump !== undefined) throw new Error(`${host.name}: jump hosts are not supported here`)
  if (host.become !== 'none') throw new Error(`${host.name}: become ${host.become} is not supported here`)
  const args = [
    ...(host.knownHosts.length ? [`-o UserKnownHostsFile=${sshWords(host.knownHosts)}`] : []),
    '-o StrictHostKeyChecking=yes',
    ...host.identity.slice(1).map((id) => `-o IdentityFile=${sshWords([id])}`),
  ]
  return {
    ansible_host: host.address,
    ...(host.port !== 22 ? { ansible_port: host.port } : {}),
    ansible_user: host.user,
    ...(host.identity.length ? { ansible_ssh_private_key_file: host.identity[0] } : {}),
    ansible_ssh_common_args: args.join(' '),
  }
}

/** Paths as one ssh option value: quoted when there are several or one has a space. */
const sshWords = (paths: string[]) =>
  paths.length > 1 || paths.some((p) => /\s/.test(p)) ? `"${paths.join(' ')}"` : paths[0]!

/** Name → absolute path on the controller, for the secrets the plan reads. */
function secretFiles(inventory: Inventory): Record<string, string> {
  const dir = path.dirname(inventory.file)
  const out: Record<string, string> = {}
  for (const name of SECRETS) {
    if (!inventory.secrets.names().includes(name)) {
      if (name === 'zebra_password') continue
      throw new Error(`${inventory.file}: secret ${name} is not declared`)
    }
    const { scheme, rest } = parseSource(inventory.secrets.source(name))
    if (scheme !== 'file')
      throw new Error(`${inventory.file}: secret ${name} is ${scheme}:, the playbook reads only file: secrets`)
    out[name] = resolvePath(rest, dir)
  }
  return out
}
