// deploy-mesh: every mesh member to a converged OSPF mesh over its links' tunnels (seed 000's
// setup: OpenVPN TAP point-to-point links, OSPF with MD5 on each, the router id on a loopback).
//
// So far this is the Linux path (FRR), proved in the lab. FreeBSD (Quagga, seed 000) and OpenBSD
// (ospfd, GRE over IPsec, seed 003) are refused with a clear message until their plans land.
import { defineRunbook, file, line, sysctl, pkg, service, iface, command, verify, planMesh, linksOf, z, StepError, type Step } from 'ferry'
import frrConf from '../templates/frr.conf.ts'
import openvpnTap from '../templates/openvpn-tap.conf.ts'

const OVPN = '/etc/openvpn/ferry'

export default defineRunbook({
  name: 'deploy-mesh',
  description: 'Tunnels, forwarding and OSPF on every mesh member, then waits for every neighbour to be Full and every loopback routed',
  hosts: 'mesh',
  vars: z.object({
    router_id: z.string(),
    loopback: z.string(),
    ospf_area: z.string().default('0.0.0.0'),
    link_pool: z.string(),
    /** Networks announced besides the links and the loopback (jail prefixes, say). */
    ospf_networks: z.array(z.string()).default([]),
    /** Write boot configuration for interfaces (false where nothing would read it, as in the lab). */
    persist_interfaces: z.boolean().default(true),
  }),
  steps: async ({ host, vars, inventory, secret }) => {
    if (host.os !== 'linux') throw new StepError(`${host.name}: deploy-mesh has a Linux (FRR) plan only so far; ${host.os ?? 'this OS'} is not done yet`)
    const plan = planMesh(inventory)
    const mine = linksOf(plan, host.name)
    const md5 = await secret('ospf_md5_key')
    const key = await secret('openvpn_key')
    const peer = (name: string) => inventory.hosts.find((h) => h.name === name)!

    // One OpenVPN instance per link; a changed config takes effect when its instance restarts.
    const tunnels: Step[] = mine.flatMap(({ link, local, remote, keyDirection }) => {
      if (link.kind !== 'openvpn') throw new StepError(`${host.name}: link to ${remote.host} is ${link.kind}; the Linux plan has OpenVPN only so far`)
      const conf = `${OVPN}/${local.ifname}.conf`
      const pid = `/run/ferry-openvpn-${local.ifname}.pid`
      const start = `openvpn --config ${conf} --daemon ferry-${local.ifname} --writepid ${pid}`
      return [
        file(`${local.ifname} config`, {
          path: conf,
          mode: 0o600,
          content: openvpnTap({ dev: local.ifname, description: `TAP to ${remote.host}`, local: host.address, remote: peer(remote.host).address, port: link.port!, address: local.cidr, keyFile: `${OVPN}/mesh.key`, keyDirection }),
          validate: 'openvpn --config %s --version',
        }),
        command(`${local.ifname} up`, async ({ $ }) => void (await $`sh -c ${start}`), {
          unless: `kill -0 "$(cat ${pid} 2>/dev/null)"`,
          touches: [`if:${local.ifname}`],
          undo: async ({ $ }) => void (await $`sh -c ${`kill "$(cat ${pid})"; rm -f ${pid}`}`),
        }),
      ]
    })

    return [
      // frr-pythontools carries frr-reload.py, which applies a changed frr.conf as a delta.
      pkg('routing packages', { name: ['frr', 'frr-pythontools', 'openvpn'] }),
      sysctl('forwarding', { key: 'net.ipv4.ip_forward', value: '1' }),
      iface('router id', { name: 'lo1', kind: 'loopback', addresses: [vars.loopback], persist: vars.persist_interfaces }),
      ...(mine.length
        ? [
            command('openvpn dir', async ({ $ }) => void (await $`mkdir -p -m 700 ${OVPN}`), { creates: OVPN, touches: [], undo: async ({ $ }) => void (await $`rmdir ${OVPN}`) }),
            file('openvpn key', { path: `${OVPN}/mesh.key`, content: `${key}\n`, mode: 0o600 }),
          ]
        : []),
      ...tunnels,
      line('ospfd enabled', { path: '/etc/frr/daemons', line: 'ospfd=yes', match: /^ospfd=/, notify: 'restart frr' }),
      file('frr.conf', {
        path: '/etc/frr/frr.conf',
        mode: 0o640,
        owner: 'frr:frr',
        content: frrConf({
          hostname: host.name,
          password: await secret('zebra_password'),
          routerId: vars.router_id,
          area: vars.ospf_area,
          interfaces: mine.map(({ local, link }) => ({ name: local.ifname, cost: link.cost })),
          networks: [...mine.map(({ link }) => link.subnet), vars.loopback, ...vars.ospf_networks],
          md5Key: md5,
        }),
        validate: 'vtysh -C -f %s',
        notify: 'reload frr',
      }),
      service('frr', { name: 'frr', enabled: true, state: 'running' }),
      ...mine.map(({ remote }) =>
        verify(`neighbour ${remote.host} Full`, {
          command: 'vtysh -c "show ip ospf neighbor json"',
          timeout: 60,
          expect: (out) => {
            const rid = String(peer(remote.host).vars.router_id)
            let neighbors: Record<string, { nbrState?: string }[]>
            try {
              neighbors = JSON.parse(out).neighbors ?? {}
            } catch {
              return `vtysh answered: ${out.trim().split('\n')[0] || '(nothing)'}` // ospfd not (yet) running
            }
            const states = neighbors[rid] ?? []
            return states.some((n) => n.nbrState?.startsWith('Full')) || `${rid} is ${states.map((n) => n.nbrState).join(', ') || 'not a neighbour'}`
          },
        }),
      ),
      verify('every loopback routed', {
        command: 'ip -4 route show proto ospf',
        timeout: 60,
        expect: (out) => {
          const missing = inventory.hosts
            .filter((h) => h.name !== host.name && h.groups.includes('mesh') && h.vars.loopback)
            .map((h) => String(h.vars.loopback).replace(/\/32$/, ''))
            .filter((lo) => !out.split('\n').some((l) => l.startsWith(`${lo} `)))
          return missing.length === 0 || `no route to ${missing.join(', ')}`
        },
      }),
    ]
  },
  handlers: {
    // A reload leaves nothing to undo: rolling back frr.conf and reloading again is the undo.
    'reload frr': command('reload frr', async ({ $ }) => void (await $`/usr/lib/frr/frr-reload.py --reload /etc/frr/frr.conf`), { undo: async () => {} }),
    'restart frr': service('restart frr', { name: 'frr', state: 'restarted' }),
  },
})
