// drift --every: croner's `protect` skips a tick while the last check still runs, so checks never
// overlap; SIGTERM or SIGINT stop the schedule and abort a check in flight (it only reads).

import { Cron } from 'croner'
import { printable } from '../report/printable.ts'

/**
 * A schedule that cannot be kept as given: a bad invocation (64), as the CLI's UsageError is,
 * which src/drift does not import (imports point from the CLI to here).
 */
export class ScheduleError extends Error {}

/**
 * Runs `check` every `seconds`, the first one at once, or else on the cron expression `every`,
 * until SIGTERM or SIGINT.
 */
export async function schedule(
  every: string,
  seconds: number | undefined,
  check: (signal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  const abort = new AbortController()
  let running: Promise<unknown> | undefined
  let job: Cron
  try {
    job =
      seconds === undefined
        ? new Cron(every, { protect: true }, tick)
        : new Cron('* * * * * *', { interval: seconds, protect: true }, tick)
  } catch (err) {
    throw new ScheduleError(`--every ${every}: ${(err as Error).message} (expected 30s, 15m, 1h or a cron expression)`)
  }
  async function tick(): Promise<void> {
    running = check(abort.signal).catch((err) => {
      process.stderr.write(`ferry: drift check failed: ${printable((err as Error).message)}\n`)
    })
    await running
  }
  process.stderr.write(
    `ferry: checking ${seconds ? `every ${every}` : `on "${every}"`}; next at ${job.nextRun()?.toISOString()}; SIGTERM stops\n`,
  )
  if (seconds !== undefined) void job.trigger() // the first check now, not after one interval
  await new Promise<void>((stop) => {
    const onSignal = () => {
      job.stop()
      abort.abort()
      stop()
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
  })
  // A check in flight is read-only: it ends quickly once aborted, and is not waited for long.
  await Promise.race([running, new Promise((r) => setTimeout(r, 1500).unref())])
}
