// OpenBSD's /etc/ospfd.conf in seed 003's shape: the key in a macro, MD5 ("crypt") auth as a
// global default, and one area listing the tunnels, which speak OSPF, and the internal
// interfaces, which are only announced (`passive`). Validate with `ospfd -n -f FILE`.
//
// The article's lines are flush left (its web page lost the indentation); this indents the area's
// body with a tab, which ospfd ignores. ospfd refuses MD5 keys over 16 characters, and so does
// this template, before the file ever reaches the host.
import { count, lines, quotable, template, word, type OspfInterface } from '../src/mesh/config.ts'

export interface OpenbsdOspfdVars {
  /** The ospf_md5_key secret, at most 16 characters. */
  md5Key: string
  /** Default 1, as in the article. */
  keyId?: number
  /** Left out in the article: ospfd then takes the lowest address. */
  routerId?: string
  area: string
  /** The tunnels, e.g. gre0. */
  interfaces: OspfInterface[]
  /** Announced but silent, e.g. the internal vr1 and the loopback lo1. */
  passive?: string[]
}

const MD5_KEY_MAX = 16

export default template('ospfd-openbsd.conf', (v: OpenbsdOspfdVars) => {
  if (v.md5Key.length > MD5_KEY_MAX)
    throw new Error(`the OSPF MD5 key has ${v.md5Key.length} characters; OpenBSD ospfd takes at most ${MD5_KEY_MAX}`)
  const keyId = count('MD5 key id', v.keyId ?? 1, 255)
  return lines(
    // The macro is pasted back into the input where $password stands, so it must be one word.
    `password="${quotable('OSPF MD5 key', word('OSPF MD5 key', v.md5Key))}"`,
    v.routerId !== undefined && `router-id ${v.routerId}`,
    `auth-md ${keyId} $password`,
    'auth-type crypt',
    `auth-md-keyid ${keyId}`,
    `area ${v.area} {`,
    v.interfaces.flatMap((i) => block(i.name, options(i))),
    (v.passive ?? []).flatMap((name) => block(name, ['passive'])),
    '}',
  )
})

/** ospfd.conf's names for the shared OSPF interface settings. */
function options(i: OspfInterface): string[] {
  return [
    i.cost !== undefined && `metric ${count('cost', i.cost)}`,
    i.hello !== undefined && `hello-interval ${count('hello interval', i.hello)}`,
    i.dead !== undefined && `router-dead-time ${count('dead interval', i.dead)}`,
    i.pointToPoint && 'type p2p',
  ].filter((o): o is string => typeof o === 'string')
}

/** `interface gre0 { }` and `interface vr1 { passive }` as in the article; more options one per line. */
function block(name: string, opts: string[]): string[] {
  const head = `\tinterface ${word('interface', name)}`
  if (opts.length <= 1) return [`${head} { ${opts.map((o) => `${o} `).join('')}}`]
  return [`${head} {`, ...opts.map((o) => `\t\t${o}`), '\t}']
}

/** Where the file holds secrets, for the file step's `mask`. */
export const openbsdOspfdSecrets = [/^password="([^"]*)"$/m]
