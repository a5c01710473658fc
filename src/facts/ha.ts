// Facts seed 002's HA VPN gateways are verified with: which addresses a node holds, what
// Heartbeat says it holds, whether a service address answers (from the other node), the IKE SAs
// strongSwan's starter has up, and the path from the site's LAN to the others' (bgpd's
// neighbours are bgp.ts's). Each is a command and a parser; a runbook joins several into one
// verify command with `sections`.

import { quote } from '../shell/quote.ts'
import type { Fact } from './ospf.ts'

export type { Fact }

/** The IPv4 addresses on any interface, as `116.1.1.1/28`: `ip -o -4 addr show`. */
export const addresses: Fact<string[]> = {
  command: 'ip -o -4 addr show',
  parse: (out) =>
    out
      .split('\n')
      .map((l) => /\sinet (\d+\.\d+\.\d+\.\d+\/\d+)\s/.exec(l)?.[1])
      .filter((a): a is string => a !== undefined),
}

/**
 * Heartbeat's resources on this node (cl_status(1) rscstatus): `local` (the groups it is primary
 * for), `foreign` (the other node's), `all`, `none`, or `transition` while it takes or gives some.
 */
export const rscstatus: Fact<'all' | 'local' | 'foreign' | 'none' | 'transition'> = {
  command: 'cl_status rscstatus',
  parse(out) {
    const s = out.trim()
    if (s === 'all' || s === 'local' || s === 'foreign' || s === 'none' || s === 'transition') return s
    throw new Error(`Heartbeat does not answer (cl_status rscstatus: ${JSON.stringify(s.split('\n')[0] ?? '')})`)
  },
}

/** Which of these addresses answer one ping within a second: the service addresses another node holds. */
export const answering = (targets: readonly string[]): Fact<string[]> => ({
  command: `for a in ${targets.map(quote).join(' ')}; do if ping -c 1 -W 1 "$a" >/dev/null 2>&1; then echo "answers=$a"; fi; done`,
  parse: (out) =>
    out
      .split('\n')
      .filter((l) => l.startsWith('answers='))
      .map((l) => l.slice(8)),
})

/** The conns strongSwan's starter has an IKE SA ESTABLISHED for, and those with a CHILD SA INSTALLED: `ipsec status`. */
export const starterSas: Fact<{ ike: Set<string>; child: Set<string> }> = {
  command: 'ipsec status',
  parse(out) {
    const ike = new Set<string>()
    const child = new Set<string>()
    for (const l of out.split('\n')) {
      const i = /^\s*([^\s[{]+)\[\d+\]: ESTABLISHED\b/.exec(l)
      if (i) ike.add(i[1]!)
      const c = /^\s*([^\s[{]+)\{\d+\}:\s+INSTALLED\b/.exec(l)
      if (c) child.add(c[1]!)
    }
    return { ike, child }
  },
}

/**
 * From this node's address on its LAN to each other site's: the interface the kernel routes it
 * through (`ip route get`), and whether one ping comes back.
 */
export const lanPaths = (
  from: string,
  to: readonly string[],
): Fact<Map<string, { dev?: string; reaches: boolean }>> => ({
  command: to
    .map(
      (a) =>
        `printf 'path %s %s\\n' ${quote(a)} "$(ip -o route get ${quote(a)} from ${quote(from)} 2>&1)"; if ping -c 1 -W 2 -I ${quote(from)} ${quote(a)} >/dev/null 2>&1; then printf 'reaches %s\\n' ${quote(a)}; fi`,
    )
    .join('; '),
  parse(out) {
    const paths = new Map(to.map((a) => [a, { reaches: false } as { dev?: string; reaches: boolean }]))
    for (const l of out.split('\n')) {
      const [word, a, ...rest] = l.split(' ')
      const p = paths.get(a ?? '')
      if (!p) continue
      if (word === 'path') p.dev = / dev (\S+)/.exec(rest.join(' '))?.[1]
      if (word === 'reaches') p.reaches = true
    }
    return paths
  },
})

const SEPARATOR = 'ferry-fact-section'

/**
 * Several facts' commands as one, each's output its own section, stderr with its stdout. Their
 * parsers judge what they said: an exit status (`ipsec status` exits 3 while charon is stopped,
 * as on a standby) fails neither its section nor the others.
 */
export function sections(...facts: Fact<unknown>[]): string {
  return facts.map((f) => `{ ${f.command}; } 2>&1 || :`).join(`; echo ${SEPARATOR}; `)
}

/** The output of `sections`, split back into each fact's. */
export function split(out: string): string[] {
  return out.split(`${SEPARATOR}\n`)
}
