// What several commands share: the inventory and --persist options, parsers for counts and
// durations, and the defaults of the safety settings.
import { InvalidArgumentError, Option } from '@commander-js/extra-typings'
import { defaultStateDir } from '../journal/journal.ts'
import { checkStateDir } from '../transport/keeper.ts'
import type { ConnectorOptions } from '../transport/connect.ts'
import { printable } from '../report/printable.ts'
import { UsageError } from './exit.ts'

/** Shared by every command that reads an inventory. */
export function inventoryOptions() {
  return [
    new Option(
      '-i, --inventory <name|path>',
      'inventory name (inventory/NAME.yaml) or path to a YAML file',
    ).makeOptionMandatory(),
    new Option(
      '-l, --limit <pattern>',
      "hosts, groups or globs (*, ?, [a-z], [!a-z]), comma-separated; '!x' excludes, '&x' intersects; none may be empty",
    ),
  ] as const
}

export function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1')
  return n
}

// Node's timers hold at most 2^31 - 1 ms (24.8 days): one set for longer fires after 1 ms instead,
// so a --confirm-timeout of 25 days reverted the apply at once. Longer durations are refused.
export const MAX_SECONDS = Math.floor(0x7fffffff / 1000)
export const TOO_LONG = `at most ${MAX_SECONDS} s (24 days)`

/** An option's parser for a whole number of seconds, from `min` up to MAX_SECONDS. */
export function seconds(min: 0 | 1): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!/^\d+$/.test(value) || n < min || n > MAX_SECONDS)
      throw new InvalidArgumentError(
        `expected a whole number of seconds from ${min} to ${MAX_SECONDS} (24 days), e.g. 30`,
      )
    return n
  }
}

/** `30s`, `10m`, `1h`, or 0 for off. */
function duration(value: string): number {
  if (/^0+$/.test(value.trim())) return 0
  const m = /^(\d+)(s|m|h)$/.exec(value.trim())
  if (!m) throw new InvalidArgumentError('expected a duration such as 30s, 10m or 1h, or 0 for off')
  const n = Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h']
  if (n > MAX_SECONDS) throw new InvalidArgumentError(`${value} is too long: ${TOO_LONG}`)
  return n
}

export function persistOption() {
  return new Option(
    '--persist <duration>',
    "keep the SSH connections open this long after the command (30s, 10m, 1h) for the next ferry command to reuse, as OpenSSH's ControlPersist does; 0 closes them with the command",
  )
    .env('FERRY_PERSIST')
    .argParser(duration)
}

/** The Connector's `persist` setting for a command's options. */
export function persistFor(opts: { persist?: number; stateDir?: string }): Pick<ConnectorOptions, 'persist' | 'warn'> {
  if (!opts.persist) return {}
  try {
    const socket = checkStateDir(opts.stateDir ?? defaultStateDir())
    return {
      persist: { socket, idleMs: opts.persist * 1000 },
      warn: (line) => process.stderr.write(`ferry: ${printable(line)}\n`),
    }
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/** Commit-confirmed and host-lock settings of a run that does not set them (`drift --fix`). */
export const SAFETY_DEFAULTS = { confirmTimeout: 120, lockWait: 0, breakLock: false }
