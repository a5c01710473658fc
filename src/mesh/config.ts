// What the config templates in templates/ share: line joining, value checks, and the shape of an
// OSPF interface, which every routing template (Quagga, FRR, OpenBSD ospfd) renders its own way.
//
// Secrets reach templates as plain parameters and must be written verbatim: the journal and the
// diffs redact a secret by searching for its exact value, so a template that encoded one (base64,
// hex, escaping) would leak it. Values a config format cannot carry verbatim are refused instead.

/** One OSPF-speaking interface, normally a tunnel. Both ends of a link must agree on the timers. */
export interface OspfInterface {
  name: string
  description?: string
  /** OSPF cost; left out when undefined, which is the daemon's default (10 on a tap or gre). */
  cost?: number
  /** Hello interval, seconds. */
  hello?: number
  /** Dead interval, seconds. */
  dead?: number
  /** Treat the interface as point-to-point (no DR election). */
  pointToPoint?: boolean
}

/** The lines of a config file, each ending in a newline. `false` and `undefined` are left out. */
export function lines(...items: (string | false | undefined | (string | false | undefined)[])[]): string {
  return items.flat().filter((l): l is string => typeof l === 'string').map((l) => `${l}\n`).join('')
}

/** A single word in a Quagga/FRR/OpenVPN line, where whitespace would split it. */
export function word(what: string, value: string): string {
  if (value === '' || /\s/.test(value)) throw new Error(`${what} must be one word, without spaces or newlines`)
  return value
}

/** A Zebra-family vty password: one word that starts with a letter or digit, or Quagga and FRR refuse the line. */
export function vtyPassword(value: string): string {
  if (!/^[A-Za-z0-9]/.test(word('zebra password', value))) throw new Error('zebra password must start with a letter or a digit (Quagga and FRR refuse any other)')
  return value
}

/** Free text on one line, such as an interface description. */
export function oneLine(what: string, value: string): string {
  if (/[\n\r]/.test(value)) throw new Error(`${what} cannot contain a newline`)
  return value
}

/** A value that goes inside "double quotes" (ipsec.conf and ospfd.conf macros, swanctl.conf). */
export function quotable(what: string, value: string): string {
  if (/["\\\n\r]/.test(value)) throw new Error(`${what} cannot contain a double quote, a backslash or a newline`)
  return value
}

/** A positive whole number of seconds, a cost or a key id. */
export function count(what: string, value: number, max = 65535): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${what} must be an integer from 1 to ${max}`)
  return value
}
