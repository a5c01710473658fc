// Commit-confirmed, as Junos and NETCONF have it: before the first risky change the host gets a
// revert job (revert-job.ts) that puts the risky steps back after the timeout unless the
// controller disarms it, over a new connection that proves the host is still reachable.
// Whatever the moment a connection dies (mid-command, before a channel opens, at the confirming
// connect, during the confirmation) the run ends as designed: the host reverts, and its outcome
// is read over a new connection once the host answers.

import { setTimeout as sleep } from 'node:timers/promises'
import { StepError, type Step } from '../steps/step.ts'
import type { Transport } from '../transport/transport.ts'
import { probeAll } from './probe.ts'
import { arm, parseSettled, revertScript, settle, settleScript, type RevertStep, type Settled } from './revert-job.ts'
import { rerunHandlers, rollback } from './rollback.ts'
import type { Session, StepRun } from './session.ts'

/** What was armed: the risky steps, and the risky handlers whose reverts the job runs too. */
interface Armed {
  steps: StepRun[]
  handlers: Set<Step>
  /** When the job fires, by the controller's clock. */
  deadline: number
}

/**
 * Arms the revert job, applies, then confirms over a new connection: the host is reachable and
 * the runbook's health checks (its verify steps) pass, or the job reverts it. The changes must be
 * confirmed before the job's timeout: a run still applying then is cut off, and the host reverts.
 */
export async function applyConfirmed(s: Session, risky: StepRun[], apply: () => Promise<void>): Promise<void> {
  refuseLongWaits(s)
  const armed = await armJob(s, risky)
  const failure = await applyWithin(s, apply)

  // Nothing more goes over the connection the risky changes may have cut. The confirmation over
  // a new one must be done by the job's deadline (a few seconds' grace): a link that died under
  // it leaves its commands hanging, and the job decides then anyway.
  let cause = failure
  let disarmAsked = false
  if (!cause) {
    const { reconnect } = s.run.confirm!
    const until = armed.deadline + 5000
    try {
      const fresh = await bounded(reconnect(), until, 'opening a new connection')
      const unhealthy = await bounded(health(s, fresh), until, 'the health check')
      if (unhealthy === undefined) {
        s.use(fresh)
        disarmAsked = true
        const settled = await bounded(settle(fresh.$, s.run.runId!, 'confirm'), until, 'disarming the revert job')
        if (settled.state === 'disarmed') return void (s.outcome.confirmed = true)
        return reverted(s, armed, settled, 'the revert job fired before the changes were confirmed')
      }
      cause = new Error(`health check over a new connection failed: ${unhealthy}`)
    } catch (err) {
      cause = new Error(
        disarmAsked
          ? `the connection died while disarming the revert job: ${(err as Error).message}`
          : `the changes could not be confirmed over a new connection: ${(err as Error).message}`,
      )
    }
  }
  // --rollback none: a failed run on a host still reachable keeps what it applied, unless the
  // job has already put it back.
  const settled = await settleWhenReachable(s, armed.deadline, s.run.rollbackOnFailure ? 'revert' : 'confirm')
  if (!settled) {
    s.outcome.status = 'unreachable'
    s.outcome.error = `${cause.message}; still unreachable after the revert job should have run`
    return
  }
  // The disarm went through before its answer was lost: the changes were confirmed after all.
  if (settled.state === 'disarmed' && disarmAsked) return void (s.outcome.confirmed = true)
  if (settled.state === 'disarmed') throw cause
  if (settled.by === 'controller') {
    // The host was still reachable, so this is a rollback like any other: the risky steps by
    // the job, fired early by the controller, the rest by undo.
    // The job's own failures are not counted: it also reverts risky steps this run never got
    // to, whose commands may fail harmlessly (an address that was never added).
    reportReverted(s, armed)
    const errors = await repeatUnrevertedHandlers(s, armed)
    if (errors.length) s.outcome.rollbackError = errors.join('; ')
    throw cause
  }
  await reverted(s, armed, settled, cause.message)
}

/**
 * A run with a verify step that may by itself wait as long as the job gives the whole run would
 * be reverted by design when it does: the job fires while it still waits (as deploy-ha-vpn's did
 * under the 120 s default, waiting for Heartbeat's initdead and the takeover). Refused before
 * anything is armed or applied, with the figure to give. Only the longest counts: the others
 * mostly pass at once after it (deploy-mesh's neighbours Full, then its routes).
 */
function refuseLongWaits(s: Session): void {
  const { timeout } = s.run.confirm!
  const pending = s.runs.filter((r) => r.step.waits && (r.changes.length || r.step.holdAfterChange))
  const longest = pending.reduce<StepRun | undefined>(
    (l, r) => (l && l.step.waits! >= r.step.waits! ? l : r),
    undefined,
  )
  if (!longest || longest.step.waits! < timeout) return
  const waits = longest.step.waits!
  throw new StepError(
    `--confirm-timeout ${timeout} s is too short: the risky changes are confirmed after the verify steps, and ${longest.step.name} alone may wait ${waits} s; give --confirm-timeout ${Math.ceil((waits + 60) / 60) * 60} or more`,
  )
}

/**
 * Writes the job: every risky step's revert commands, newest first, then the reloads they
 * notified, so daemons reread what was put back; a risky handler always, since only its revert
 * undoes what it did with the changed files. Each risky step's undo record is taken now: the job
 * restores from it, so apply must use the same.
 */
async function armJob(s: Session, risky: StepRun[]): Promise<Armed> {
  const { handlers, confirm, runId, host, events } = s.run
  const notified = new Set(risky.flatMap((r) => r.step.notify))
  const reloads = Object.entries(handlers)
    .filter(([name, h]) => notified.has(name) && (h.repeatOnRollback || h.risky))
    .map(([, h]) => h)
  const missing = [...risky.map((r) => r.step), ...reloads.filter((h) => h.risky)].find((step) => !step.revert)
  if (missing)
    throw new StepError(
      `${missing.name}: it is risky, but a ${missing.kind} step has no revert commands for the commit-confirmed job${missing.kind === 'command' ? ' (give it `revert:`)' : ''}`,
    )
  const reverts: RevertStep[] = risky
    .map((r) => {
      // Taken before any step applies, so against the plan's probe: what the earlier steps will
      // change is pending for it, as it was for its check (a directory an earlier step makes is
      // not this step's to remove on undo).
      r.record = r.step.record(r.probe, s.checkContext(r.pending))
      r.armed = true
      return { name: r.step.name, commands: r.step.revert!(r.record, s.platform) }
    })
    .reverse()
  for (const h of reloads) if (h.revert) reverts.push({ name: h.name, commands: h.revert(undefined, s.platform) })
  const armedAt = Date.now()
  s.jobArmed = true
  await arm(
    s.$,
    s.platform,
    runId!,
    confirm!.timeout,
    revertScript(reverts, `ferry run ${runId} on ${host.name}: revert job for ${risky.length} risky step(s)`),
  )
  events?.progress?.(`revert job armed: ${host.name} reverts in ${confirm!.timeout} s unless confirmed`)
  return {
    steps: risky,
    handlers: new Set(reloads.filter((h) => h.risky)),
    deadline: armedAt + confirm!.timeout * 1000,
  }
}

/**
 * Applies, but a second short of the job (half a short timeout): past that the apply is cut off,
 * its commands killed and no further step started, so the host is left to the job. Returns the
 * failure, if any.
 */
async function applyWithin(s: Session, apply: () => Promise<void>): Promise<Error | undefined> {
  const timeout = s.run.confirm!.timeout
  const cutoff = Math.max(timeout * 1000 - 1000, timeout * 500)
  const timer = setTimeout(() => s.cutOff.abort(), cutoff)
  const applying = apply().then(
    () => undefined,
    (err: Error) => err,
  )
  const cut = new Promise<'cut'>((resolve) =>
    s.cutOff.signal.addEventListener('abort', () => resolve('cut'), { once: true }),
  )
  const failure = await Promise.race([applying, cut])
  clearTimeout(timer)
  if (failure !== 'cut') return failure
  // A command on a connection the change cut cannot even be killed: give it a moment, then
  // move on; the reconnect that follows drops that connection.
  await Promise.race([applying, sleep(3000)])
  return new Error(`not confirmed within --confirm-timeout ${timeout} s`)
}

/**
 * Reads how the revert job ended (or fires it early: `revert`), over a new connection. A host
 * that does not answer is waited for: the job brings it back at the deadline, if the change
 * cut it off. A connection that dies again mid-way is dialled again: settling says the same
 * when asked twice. Undefined when the host never answers.
 */
async function settleWhenReachable(
  s: Session,
  deadline: number,
  how: 'confirm' | 'revert',
): Promise<Settled | undefined> {
  const { confirm, runId, host, events } = s.run
  for (let tries = 0; tries < 12; tries++) {
    const fresh = await confirm!.reconnect().catch(() => undefined)
    if (fresh) {
      // Settling may wait up to five minutes for a job caught mid-revert. Only a connection
      // that fails is tried again; what the host answers is the answer.
      const out = await bounded(
        fresh.$`sh -c ${settleScript(runId!, how)}`.nothrow(),
        Date.now() + 330_000,
        'settling the revert job',
      ).catch(() => undefined)
      if (out?.exitCode === 0) {
        s.use(fresh)
        return parseSettled(out.stdout)
      }
    } else if (Date.now() < deadline + 2000) {
      // Cut off: the host reverts by itself at the deadline, and must then take a connection.
      events?.progress?.(`${host.name} does not answer: waiting for its revert job (${confirm!.timeout} s from arming)`)
      await sleep(deadline + 2000 - Date.now())
      continue
    }
    await sleep(3000)
  }
  return undefined
}

/** Reachability (a command ran over the new connection) and the runbook's health checks. */
async function health(s: Session, t: Transport): Promise<string | undefined> {
  const checks = s.run.steps.filter((step) => step.healthCheck)
  const results = await probeAll(t.probe$, ['true', ...checks.map((step) => step.probe(s.platform))])
  if (results[0]!.code !== 0) return 'the host did not run `true`'
  for (const [k, step] of checks.entries()) {
    const changes = step.check(results[k + 1]!, s.checkContext())
    if (changes.length) return `${step.name}: ${changes.map((c) => c.summary).join('; ')}`
  }
  return undefined
}

/** The job has put the risky steps back; the rest of what was applied is undone as a rollback would. */
async function reverted(s: Session, armed: Armed, settled: Settled, why: string): Promise<void> {
  reportReverted(s, armed)
  if (s.run.rollbackOnFailure && s.applied.length) await rollback(s)
  const errors = await repeatUnrevertedHandlers(s, armed)
  s.outcome.status = 'reverted'
  const job =
    settled.state === 'reverted' && !settled.ok
      ? `; the revert job reported: ${settled.log.split('\n').slice(-3).join(' / ')}`
      : ''
  s.outcome.error = `${why}${job}${errors.length ? `; ${errors.join('; ')}` : ''}`
}

/** The job put the risky steps back: they are rolled back, and undo must not do them again. */
function reportReverted(s: Session, armed: Armed): void {
  s.jobReverted = true
  for (let k = s.applied.length - 1; k >= 0; k--) {
    const r = s.applied[k]!
    if (!r.armed && !armed.handlers.has(r.step)) continue
    s.applied.splice(k, 1)
    s.run.events?.undone?.(r.outcome.index)
    s.report(r, 'rolled-back', r.outcome.changes, r.outcome.error)
  }
}

/** The reloads the job could not repeat (handlers with no revert commands), repeated now. */
function repeatUnrevertedHandlers(s: Session, armed: Armed): Promise<string[]> {
  const notified = new Set(armed.steps.flatMap((r) => r.step.notify))
  const unrepeated = Object.fromEntries(Object.entries(s.run.handlers).filter(([, h]) => !h.revert))
  return rerunHandlers(s.context(false), s.probe$, unrepeated, notified)
}

/**
 * `work`, or an error once `until` (a time) has passed. A command on a connection whose link
 * died would wait for TCP to give up; the work left behind is dropped with that connection.
 */
function bounded<T>(work: Promise<T>, until: number, what: string): Promise<T> {
  work.catch(() => {})
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in time`)), Math.max(0, until - Date.now()))
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}
