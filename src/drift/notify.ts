// drift --notify: a JSON summary POSTed to a webhook when drift appears or clears. Never awaited
// by the check; the process waits for the last deliveries (up to a minute) before it exits.

import { printable } from '../report/printable.ts'
import { exitCode, summarize, type DriftReport } from './report.ts'

const deliveries = new Set<Promise<void>>()

/** Sends the webhook its POST, in the background, when drift appeared or cleared since `before` (the last check's). */
export function notify(
  url: string,
  report: DriftReport,
  inventory: string,
  before: { drifted: number } | undefined,
): void {
  const drifted = report.hosts.some((h) => h.status === 'drifted')
  // By drifted hosts, not the check's status: an error elsewhere outranks drift there.
  const was = (before?.drifted ?? 0) > 0
  // Cleared means seen in sync, not merely not seen (an unreachable host, an error).
  if (drifted === was || (!drifted && exitCode(report) !== 0)) return
  const body = JSON.stringify({
    event: drifted ? 'drift-appeared' : 'drift-cleared',
    checkId: report.checkId,
    inventory,
    at: report.startedAt,
    summary: summarize(report),
    hosts: report.hosts
      .filter((h) => h.status === 'drifted')
      .map((h) => ({
        name: h.name,
        steps: h.steps.filter((s) => s.status === 'drifted').map((s) => `${s.runbook} › ${s.step}`),
      })),
  })
  const delivery = post(url, body).finally(() => deliveries.delete(delivery))
  deliveries.add(delivery)
}

async function post(url: string, body: string): Promise<void> {
  const attempts = 6
  for (let attempt = 1; ; attempt++) {
    let why: string
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(10_000),
      })
      if (res.ok) return
      why = `HTTP ${res.status}`
      // A client error will not go away by asking again.
      if (res.status < 500 && res.status !== 429) attempt = attempts
    } catch (err) {
      why = (err as Error).message
    }
    if (attempt >= attempts) {
      process.stderr.write(
        `ferry: --notify ${new URL(url).origin}/…: ${printable(why)}; gave up after ${attempt} attempt${attempt > 1 ? 's' : ''}\n`,
      )
      return
    }
    await new Promise((r) => setTimeout(r, 500 * 2 ** (attempt - 1))) // 0.5, 1, 2, 4, 8 s
  }
}

/** Waits for the deliveries still retrying, up to `ms`. */
export async function settleNotifications(ms = 60_000): Promise<void> {
  if (!deliveries.size) return
  await Promise.race([Promise.allSettled([...deliveries]), new Promise((r) => setTimeout(r, ms).unref())])
}
