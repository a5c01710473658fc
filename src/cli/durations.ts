// Node's timers hold at most 2^31 - 1 ms (24.8 days): one set for longer fires after 1 ms instead,
// so a --confirm-timeout of 25 days reverted the apply at once. Longer durations are refused.
import { InvalidArgumentError } from '@commander-js/extra-typings'

export const MAX_SECONDS = Math.floor(0x7fffffff / 1000)
export const TOO_LONG = `at most ${MAX_SECONDS} s (24 days)`

/** An option's parser for a whole number of seconds, from `min` up to MAX_SECONDS. */
export function seconds(min: 0 | 1): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!/^\d+$/.test(value) || n < min || n > MAX_SECONDS) throw new InvalidArgumentError(`expected a whole number of seconds from ${min} to ${MAX_SECONDS} (24 days), e.g. 30`)
    return n
  }
}
