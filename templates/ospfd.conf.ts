// Quagga's /usr/local/etc/quagga/ospfd.conf in seed 000's shape, line for line: the vty header,
// one block per tunnel with MD5 authentication, then `router ospf` with every interface passive
// except the tunnels, the network statements and the area's authentication.
//
// `area … authentication` is the article's line. It asks for simple passwords area-wide, but the
// per-interface `ip ospf authentication message-digest` wins on the tunnels, the only interfaces
// that speak OSPF. Quagga keeps only the first 16 characters of an MD5 key (the article's key is
// 24): give keys of at most 16 so they mean the same to FRR and OpenBSD ospfd, which refuses more.
import { count, lines, template, word, type OspfInterface, vtyPassword } from '../src/mesh/config.ts'

export interface QuaggaOspfdVars {
  hostname: string
  /** The zebra_password secret: the article uses the same password in both daemons. */
  password: string
  routerId: string
  area: string
  /** The tunnels: each gets MD5 authentication and `no passive-interface`. */
  interfaces: OspfInterface[]
  /** Prefixes announced as `network P area A`, e.g. the link pool, jails, loopbacks. */
  networks: string[]
  /** The ospf_md5_key secret. */
  md5Key: string
  /** Default 1, as in the article. */
  keyId?: number
}

/** One tunnel's block with MD5, as Quagga and FRR both write it; `extra` lines go last. */
export function interfaceBlock(i: OspfInterface, keyId: number, key: string, extra: string[] = []): (string | false)[] {
  return [
    `interface ${word('interface', i.name)}`,
    i.description !== undefined && ` description ${i.description}`,
    ' ip ospf authentication message-digest',
    ` ip ospf message-digest-key ${keyId} md5 ${key}`,
    !!i.pointToPoint && ' ip ospf network point-to-point',
    i.hello !== undefined && ` ip ospf hello-interval ${count('hello interval', i.hello)}`,
    i.dead !== undefined && ` ip ospf dead-interval ${count('dead interval', i.dead)}`,
    i.cost !== undefined && ` ip ospf cost ${count('cost', i.cost)}`,
    ...extra,
    '!',
  ]
}

export default template('ospfd.conf', (v: QuaggaOspfdVars) => {
  const keyId = count('MD5 key id', v.keyId ?? 1, 255)
  const key = word('OSPF MD5 key', v.md5Key)
  return lines(
    `hostname ${word('hostname', v.hostname)}`,
    `password ${vtyPassword(v.password)}`,
    'service advanced-vty',
    '!',
    v.interfaces.flatMap((i) => interfaceBlock(i, keyId, key)),
    'router ospf',
    ` ospf router-id ${v.routerId}`,
    ' passive-interface default',
    v.interfaces.map((i) => ` no passive-interface ${i.name}`),
    v.networks.map((n) => ` network ${n} area ${v.area}`),
    ` area ${v.area} authentication`,
    '!',
    'line vty',
    '!',
  )
})

/** Where the file holds secrets, for the file step's `mask` (frr.conf too). */
export const quaggaSecrets = [/^password (\S+)$/m, /message-digest-key \d+ md5 (\S+)/]
