// FRR's /etc/frr/frr.conf on Linux: seed 000's zebra.conf and ospfd.conf in one integrated file,
// with what the lab measured FRR needs on tunnels (DESIGN.md, "The test lab"): hello 1 s, dead
// 4 s and point-to-point, since OSPF on a shared segment stayed in Waiting. Validate with
// `vtysh -C -f FILE`, apply with `frr-reload.py --reload`.
//
// Two lines differ from the Quagga file on purpose:
// - a tunnel is made active with `no ip ospf passive` in its interface block. FRR 8 still takes
//   `no passive-interface IFNAME` under `router ospf`, but only with a deprecation warning, and it
//   writes the interface form into its running config, which frr-reload.py diffs against;
// - the area asks for `authentication message-digest`, which is what the tunnels use anyway.
// And one line the article has no need for: SPF's hold-down backs off to 1 s, not FRR's 5 s, so
// a link lost during a burst of changes (a deploy) is routed around within the dead interval plus
// a second, not plus five.
import { count, lines, template, word, vtyPassword } from '../src/mesh/config.ts'
import { interfaceBlock, type QuaggaOspfdVars } from './ospfd.conf.ts'

/** Quagga's vars; the vty password is optional, since vtysh needs none. */
export type FrrConfVars = Omit<QuaggaOspfdVars, 'password'> & { password?: string }

export default template('frr.conf', (v: FrrConfVars) => {
  const keyId = count('MD5 key id', v.keyId ?? 1, 255)
  const key = word('OSPF MD5 key', v.md5Key)
  return lines(
    `hostname ${word('hostname', v.hostname)}`,
    v.password !== undefined && [`password ${vtyPassword(v.password)}`, 'service advanced-vty'],
    '!',
    v.interfaces.flatMap((i) =>
      interfaceBlock(
        { ...i, pointToPoint: i.pointToPoint ?? true, hello: i.hello ?? 1, dead: i.dead ?? 4 },
        keyId,
        key,
        [' no ip ospf passive'],
      ),
    ),
    'router ospf',
    ` ospf router-id ${v.routerId}`,
    ' timers throttle spf 0 50 1000',
    ' passive-interface default',
    v.networks.map((n) => ` network ${n} area ${v.area}`),
    ` area ${v.area} authentication message-digest`,
    '!',
    'line vty',
    '!',
  )
})
