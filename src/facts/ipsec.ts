// Facts about a host's IPsec: the ESP SAs its kernel holds, each with its endpoints, SPI and the
// packets it has carried, read from the IKE daemon's own listing (strongSwan on Linux, isakmpd's
// SAD through ipsecctl on OpenBSD). A read-only command plus a parser, as the OSPF facts, so the
// parsers are tested against output rebuilt from each tool's printf formats, without a host.

import type { Fact } from './ospf.ts'

export type { Fact }

/** One ESP SA: one direction of one tunnel, `from` the sender's address to the receiver's. */
export interface EspSa {
  from: string
  to: string
  /** As the tool prints it, without `0x`: unique per receiver, so a rekeyed SA is a new one. */
  spi: string
  /** Packets it has carried (sent, or received). */
  packets: number
}

/**
 * strongSwan's `swanctl --list-sas --pretty`: the vici messages themselves, one `key = value` per
 * line, sections as `name {` … `}`, lists as `key = [` … `]`. Its keys are the vici protocol's
 * (list-sas in src/libcharon/plugins/vici/vici_query.c), which hold from 5.x to 6.x, where the
 * plain listing's columns moved between 5.9 and 6.0 (a `cpu` field). A value is the rest of its
 * line: vici prints a value with a newline in it as hex.
 */
export const strongswanSas: Fact<EspSa[]> = {
  command: 'swanctl --list-sas --pretty',
  parse(stdout) {
    const sas: EspSa[] = []
    for (const message of viciMessages(stdout))
      for (const ike of Object.values(sections(message))) {
        const local = text(ike['local-host'])
        const remote = text(ike['remote-host'])
        for (const child of Object.values(sections(ike['child-sas']))) {
          // Only an SA in the kernel carries packets: not one being set up, nor one deleted.
          if (text(child.protocol) !== 'ESP' || !LIVE_CHILD.includes(text(child.state))) continue
          for (const [dir, from, to] of [
            ['in', remote, local],
            ['out', local, remote],
          ] as const) {
            const spi = text(child[`spi-${dir}`])
            if (spi) sas.push({ from, to, spi, packets: Number(text(child[`packets-${dir}`]) || 0) })
          }
        }
      }
    return sas
  },
}

/** CHILD_SA states whose SAs are installed (child_sa_state_names in src/libcharon/sa/child_sa.c). */
const LIVE_CHILD = ['INSTALLED', 'REKEYING', 'REKEYED']

type Vici = { [key: string]: Vici | string[] | string }

const sections = (v: Vici[string] | undefined): Record<string, Vici> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Vici>) : {}
const text = (v: Vici[string] | undefined): string => (typeof v === 'string' ? v : '')

/**
 * vici's pretty dump as trees, one per message: each `list-sa event` holds one IKE_SA by its name
 * (two IKE_SAs of one connection come as two events), and `list-sas reply` ends the listing.
 */
function viciMessages(stdout: string): Vici[] {
  const messages: Vici[] = []
  const stack: Vici[] = []
  let list: string[] | undefined
  for (const raw of stdout.split('\n')) {
    const line = raw.trim()
    if (!line) continue
    if (list) {
      if (line === ']') list = undefined
      else list.push(line)
      continue
    }
    const top = stack.at(-1)
    let m: RegExpExecArray | null
    if (line === '}' && top) {
      stack.pop()
    } else if (top && (m = /^([\w-]+) = \[$/.exec(line))) {
      top[m[1]!] = list = []
    } else if (top && (m = /^([\w-]+) = (.*)$/.exec(line))) {
      top[m[1]!] = m[2]!
    } else if ((m = /^(.*) \{$/.exec(line))) {
      const section: Vici = {}
      if (top) top[m[1]!] = section
      else messages.push(section)
      stack.push(section)
    } else {
      // swanctl says what failed on stderr, and exits non-zero; this is not its listing.
      throw new Error(`swanctl printed a line that is not vici's: ${line}`)
    }
  }
  return messages
}

/**
 * OpenBSD's `ipsecctl -vv -s sa`. Plain `-s sa` prints one line per SA, `esp tunnel from A to B spi
 * 0x… auth … enc …` (ipsecctl_print_sa in sbin/ipsecctl/ipsecctl.c), and no counters. One `-v`
 * adds the SA's PF_KEY extensions (pfkey_print_sa in sbin/ipsecctl/pfkdump.c), the `counter:` one
 * among them, but prints a count only when it is not zero; `-vv` prints every count, zero too, so
 * an SA that carried nothing says `0 input packets` instead of saying nothing. The price is an
 * `@0 ` before each SA line (the rule number, 0 for every SA). Keys are left out without `-k`.
 * Each SA is one direction and counts only its own: input packets on one we receive with, output
 * packets on one we send with.
 */
export const openbsdSas: Fact<EspSa[]> = {
  command: 'ipsecctl -vv -s sa',
  parse(stdout) {
    const sas: { sa: EspSa; live: boolean }[] = []
    let at: { sa: EspSa; live: boolean } | undefined
    for (const line of stdout.split('\n')) {
      const head = /^(?:@\d+ )?(\w+) (?:(?:tunnel|transport) )?from (\S+) to (\S+) spi 0x([0-9a-f]+)\b/.exec(line)
      if (head) {
        at =
          head[1] === 'esp'
            ? { sa: { from: head[2]!, to: head[3]!, spi: head[4]!, packets: 0 }, live: true }
            : undefined
        if (at) sas.push(at)
        continue
      }
      if (!at) continue
      const state = /^\t\tstate (\w+)/.exec(line)
      // A larval SA is an SPI reserved while isakmpd negotiates; a dead one is on its way out.
      if (state) at.live = state[1] === 'mature' || state[1] === 'dying'
      const count = /^\t\t(\d+) (?:input|output) packets?$/.exec(line)
      if (count) at.sa.packets += Number(count[1])
    }
    return sas.filter((s) => s.live).map((s) => s.sa)
  },
}

/** The SAs between this host's address and a peer's, by direction. */
export const between = (sas: EspSa[], me: string, peer: string) => ({
  in: sas.filter((s) => s.from === peer && s.to === me),
  out: sas.filter((s) => s.from === me && s.to === peer),
})

/**
 * Whether traffic passed between two looks at the same direction: an SA carried more packets than
 * it had, or one that was not there before (a rekey) carried any.
 */
export const moved = (before: EspSa[], now: EspSa[]) =>
  now.some((s) => s.packets > (before.find((b) => b.spi === s.spi)?.packets ?? 0))
