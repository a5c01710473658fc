// What the config templates in templates/ share: the check every value goes through, line
// joining, the checks particular formats need, and the shape of an OSPF interface, which every
// routing template (Quagga, FRR, OpenBSD ospfd) renders its own way.
//
// Secrets reach templates as plain parameters and must be written verbatim: the journal and the
// diffs redact a secret by searching for its exact value, so a template that encoded one (base64,
// hex, escaping) would leak it. Values a config format cannot carry verbatim are refused instead,
// and no refusal prints the value, which may be a secret.

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

/**
 * A template: `render` is given `vars` only once no string anywhere in them holds a control
 * character. Every config format here is line-based, so a newline in any value (a router id from
 * the inventory, a secret from the environment) would add lines of its own choosing: `line vty`,
 * a default route, a `password` that the diff's secret mask then hides. Any refusal, this one or
 * a format's own, names the template.
 */
export function template<V>(name: string, render: (vars: V) => string): (vars: V) => string {
  return (vars) => {
    try {
      refuseControls(vars)
      return render(vars)
    } catch (err) {
      throw new Error(`${name}: ${(err as Error).message}`, { cause: err })
    }
  }
}

const CONTROL = /[\x00-\x1f\x7f]/
const CONTROL_NAMES: Record<string, string> = { '\n': 'a newline', '\r': 'a carriage return', '\t': 'a tab' }

/** Throws naming the first string under `value` (by its path, e.g. `interfaces[0].description`) with a control character. */
function refuseControls(value: unknown, path = ''): void {
  if (typeof value === 'string') {
    const c = CONTROL.exec(value)?.[0]
    if (c !== undefined) {
      const code = `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`
      throw new Error(
        `${path || 'a value'} contains ${CONTROL_NAMES[c] ?? 'a control character'} (${code}), which the file cannot carry`,
      )
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => refuseControls(v, `${path}[${i}]`))
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) refuseControls(v, path ? `${path}.${k}` : k)
  }
}

/** The lines of a config file, each ending in a newline. `false` and `undefined` are left out. */
export function lines(...items: (string | false | undefined | (string | false | undefined)[])[]): string {
  return items
    .flat()
    .filter((l): l is string => typeof l === 'string')
    .map((l) => `${l}\n`)
    .join('')
}

/** A single word in a Quagga/FRR/OpenVPN line, where whitespace would split it. */
export function word(what: string, value: string): string {
  if (value === '' || /\s/.test(value)) throw new Error(`${what} must be one word, without spaces`)
  return value
}

/** A Zebra-family vty password: one word that starts with a letter or digit, or Quagga and FRR refuse the line. */
export function vtyPassword(value: string): string {
  if (!/^[A-Za-z0-9]/.test(word('zebra password', value)))
    throw new Error('zebra password must start with a letter or a digit (Quagga and FRR refuse any other)')
  return value
}

/** A value that goes inside "double quotes" (ipsec.conf and ospfd.conf macros, swanctl.conf). */
export function quotable(what: string, value: string): string {
  if (/["\\]/.test(value)) throw new Error(`${what} cannot contain a double quote or a backslash`)
  return value
}

/** A positive whole number of seconds, a cost or a key id. */
export function count(what: string, value: number, max = 65535): number {
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new Error(`${what} must be an integer from 1 to ${max}`)
  return value
}
