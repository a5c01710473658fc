// The lab's full-kernel hosts (lab/uml.ts): user-mode-linux kernels on the lab's segment, with
// what the namespace hosts' kernel lacks. These are facts about the lab, proved by packets: a GRE
// tunnel whose packets cross the bridge as ESP and never as GRE, a VRF, a dummy interface and a
// VLAN. Runs after test/lab/setup.ts has brought the lab up with uml1..uml3.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { describe, expect } from 'vitest'
import { STATE_DIR, loadState, status, up } from '../../lab/lab.ts'
import { umlPids } from '../../lab/uml.ts'
import { labIt as it, sh } from './helpers.ts'
import { LAB_UP } from './setup.ts'

const UML = ['uml1', 'uml2', 'uml3']
const address = (h: string) => loadState().uml![h]!.address
const nft = (script: string) => execFileSync('nft', ['-f', '-'], { input: script, encoding: 'utf8' })

describe('full-kernel hosts (user-mode-linux)', () => {
  it('each runs a kernel of its own, with modules, on the lab segment; a second up leaves them alone', async () => {
    // uml1..uml3; the HA gateways (ha-lab.test.ts) are UML hosts too.
    const hosts = (await status()).filter((h) => h.kind === 'uml' && /^uml\d+$/.test(h.name))
    expect(hosts.map((h) => `${h.name} ${h.alive} ${h.sshd}`)).toEqual(UML.map((h) => `${h} true true`))
    // The package's kernel, not the controller's; the module directory is named after it.
    const release = fs.readdirSync('/usr/lib/uml/modules')
    expect(release).toHaveLength(1)
    expect(execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()).not.toBe(release[0])
    for (const h of UML) {
      expect(sh(h, 'uname -r; hostname; ip -o -4 addr show dev eth0 | awk "{ print \\$4 }"')).toBe(
        `${release[0]}\n${h}\n${address(h)}/24\n`,
      )
    }
    // Each has its own root: a file made on one is on no other, nor on the controller.
    const mark = `/etc/ferry-uml-${randomBytes(4).toString('hex')}`
    sh('uml1', `touch ${mark}`)
    try {
      expect(sh('uml2', `ls ${mark} 2>/dev/null || echo absent`)).toBe('absent\n')
      expect(fs.existsSync(mark)).toBe(false)
    } finally {
      sh('uml1', `rm -f ${mark}`)
    }
    const pids = UML.map((h) => loadState().uml![h]!.pid)
    await up(LAB_UP)
    expect(UML.map((h) => loadState().uml![h]!.pid)).toEqual(pids)
  })

  it('carries GRE between two of them under transport-mode ESP: on the bridge every packet between them is ESP', async () => {
    const [a, b] = [address('uml1'), address('uml2')]
    const [enc, auth] = [randomBytes(16).toString('hex'), randomBytes(20).toString('hex')]
    // Both directions' SAs on both ends; a policy that GRE between the two must use them.
    const ipsec = (me: string, peer: string) =>
      [
        `ip xfrm state add src ${a} dst ${b} proto esp spi 0x1001 mode transport enc 'cbc(aes)' 0x${enc} auth 'hmac(sha1)' 0x${auth}`,
        `ip xfrm state add src ${b} dst ${a} proto esp spi 0x1002 mode transport enc 'cbc(aes)' 0x${enc} auth 'hmac(sha1)' 0x${auth}`,
        `ip xfrm policy add src ${me} dst ${peer} proto gre dir out tmpl proto esp mode transport`,
        `ip xfrm policy add src ${peer} dst ${me} proto gre dir in tmpl proto esp mode transport`,
        `ip link add ferry-gt type gre local ${me} remote ${peer} ttl 64`,
      ].join(' && ')
    const clean = 'ip link del ferry-gt 2>/dev/null; ip xfrm policy flush; ip xfrm state flush'
    try {
      // No IPv6 on the tunnel: its router solicitations would be counted with the pings.
      const tunnel = (addr: string) =>
        `sysctl -qw net.ipv6.conf.ferry-gt.disable_ipv6=1 && ip addr add ${addr} dev ferry-gt && ip link set ferry-gt up`
      sh('uml1', `${ipsec(a, b)} && ${tunnel('10.255.31.1/30')}`)
      sh('uml2', `${ipsec(b, a)} && ${tunnel('10.255.31.2/30')}`)
      // Counted where the taps meet the bridge, from now on: what the UML hosts send each other.
      nft(`table bridge ferry_uml_test {
  chain forward {
    type filter hook forward priority 0;
    ip saddr { ${a}, ${b} } ip daddr { ${a}, ${b} } ip protocol esp counter
    ip saddr { ${a}, ${b} } ip daddr { ${a}, ${b} } ip protocol gre counter
    ip saddr { ${a}, ${b} } ip daddr { ${a}, ${b} } counter
  }
}
`)
      const out = sh('uml1', 'ping -c 5 -i 0.2 -W 2 10.255.31.2')
      expect(out).toContain('5 packets transmitted, 5 received')
      const listed = execFileSync('nft', ['list', 'table', 'bridge', 'ferry_uml_test'], { encoding: 'utf8' })
      const [esp, gre, all] = [...listed.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]))
      // 5 echo requests and 5 replies, each one ESP packet; nothing else between the two.
      expect({ esp, gre, other: all! - esp! }).toEqual({ esp: 10, gre: 0, other: 0 })
      // The SAs count them too: uml1 sent its 5 requests through its outbound SA.
      const sa = sh('uml1', `ip -s xfrm state get src ${a} dst ${b} proto esp spi 0x1001`)
      expect(/(\d+)\(packets\)/.exec(sa)?.[1], sa).toBe('5')
    } finally {
      if (execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).includes('bridge ferry_uml_test'))
        nft('delete table bridge ferry_uml_test\n')
      for (const h of ['uml1', 'uml2']) sh(h, clean)
    }
  })

  it('has VRFs, dummy interfaces and 802.1Q VLANs', () => {
    try {
      sh(
        'uml1',
        [
          'ip link add ferry-vrf type vrf table 10',
          'ip link set ferry-vrf up',
          'ip link add ferry-d0 type dummy',
          'ip link set ferry-d0 master ferry-vrf up',
          'ip addr add 10.255.32.1/24 dev ferry-d0',
          'ip link add link eth0 name eth0.6 type vlan id 6',
          'ip addr add 10.255.6.1/24 dev eth0.6',
          'ip link set eth0.6 up',
        ].join(' && '),
      )
      sh(
        'uml2',
        'ip link add link eth0 name eth0.6 type vlan id 6 && ip addr add 10.255.6.2/24 dev eth0.6 && ip link set eth0.6 up',
      )
      // The dummy's connected route is in the VRF's table, not the main one.
      expect(sh('uml1', 'ip -4 route show vrf ferry-vrf')).toContain('10.255.32.0/24 dev ferry-d0')
      expect(sh('uml1', 'ip -4 route show table main')).not.toContain('10.255.32.0/24')
      expect(sh('uml1', 'ping -c 3 -i 0.2 -W 2 10.255.6.2')).toContain('3 packets transmitted, 3 received')
    } finally {
      sh(
        'uml1',
        'ip link del eth0.6 2>/dev/null; ip link del ferry-d0 2>/dev/null; ip link del ferry-vrf 2>/dev/null; true',
      )
      sh('uml2', 'ip link del eth0.6 2>/dev/null; true')
    }
  })

  it('a host whose kernel was killed is seen dead, and up starts it again with its key', async () => {
    const before = loadState().uml!.uml3!
    const pids = umlPids(STATE_DIR, 'uml3/')
    expect(pids).toContain(before.pid)
    for (const p of pids) process.kill(p, 'SIGKILL')
    const deadline = Date.now() + 10_000
    while (umlPids(STATE_DIR, 'uml3/').length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect((await status()).find((h) => h.name === 'uml3')).toMatchObject({ alive: false, sshd: false })
    await up(LAB_UP)
    const after = loadState().uml!.uml3!
    expect(after.pid).not.toBe(before.pid)
    // Strict host key checking: the same key as before, or this would fail.
    expect(sh('uml3', 'hostname')).toBe('uml3\n')
  })
})
