// One run at a time per host: a lock directory on the host (mkdir is atomic everywhere), holding
// who took it. It is taken in the same round trip as the first probe, ahead of it, so a run plans
// only against a host nobody else is changing, and a no-op run still costs three round trips:
// connect, lock and probe, release.

import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { quote } from '../shell/quote.ts'

export const LOCK_DIR = '/var/run/ferry.lock'

export interface LockOwner {
  run: string
  controller: string
  pid: number
  since: string
}

export function ownerOf(runId: string): LockOwner {
  return { run: runId, controller: hostname(), pid: process.pid, since: new Date().toISOString() }
}

/**
 * Takes the lock, or prints who holds it and fails. The run holding it may take it again: two
 * inventory names can be one machine (connection: local, say). With `breakIt`, a held lock is
 * taken over, after printing `broken` and its holder.
 */
export function lockScript(owner: LockOwner, breakIt: boolean, dir = LOCK_DIR): string {
  const l = quote(dir)
  const text = `run=${owner.run}\ncontroller=${owner.controller}\npid=${owner.pid}\nsince=${owner.since}\n`
  return [
    ...(breakIt ? [`if [ -d ${l} ]; then echo broken; cat ${l}/owner 2>/dev/null; rm -rf ${l}; fi`] : []),
    `if mkdir ${l} 2>/dev/null; then printf '%s' ${quote(text)} > ${l}/owner; elif ! grep -qx ${quote(`run=${owner.run}`)} ${l}/owner 2>/dev/null; then cat ${l}/owner 2>/dev/null; exit 1; fi`,
  ].join('\n')
}

/** Releases the lock if this run still holds it. */
export function unlockScript(runId: string, dir = LOCK_DIR): string {
  const l = quote(dir)
  return `if grep -qx ${quote(`run=${runId}`)} ${l}/owner 2>/dev/null; then rm -rf ${l}; fi`
}

/** The holder as the lock printed it; fields it lacks (a lock half-written) stay empty. */
export function parseOwner(text: string): LockOwner {
  const get = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1] ?? ''
  return { run: get('run'), controller: get('controller'), pid: Number(get('pid')) || 0, since: get('since') }
}

/** A lock is stale when its holder ran on this controller and that process is gone. */
export function isStale(owner: LockOwner): boolean {
  if (owner.controller !== hostname() || !owner.pid) return false
  try {
    process.kill(owner.pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

export function describeOwner(owner: LockOwner): string {
  return `run ${owner.run || '?'} (controller ${owner.controller || '?'}, pid ${owner.pid || '?'}, since ${owner.since || '?'})`
}

export class LockedError extends Error {
  constructor(
    host: string,
    readonly owner: LockOwner,
    waited: number,
  ) {
    const stale = isStale(owner)
    super(
      `${host} is locked by ${describeOwner(owner)}` +
        (stale
          ? ': that process no longer runs on this controller, so the lock is stale; --break-lock removes it'
          : `${waited ? ` (waited ${waited} s)` : ''}; wait for it with --lock-wait SECONDS, or if you know it is stale, --break-lock`),
    )
  }
}

/**
 * Tries `take` (a round trip gated by `lockScript`) until the lock is had, once a second for up to
 * `wait` seconds (`--lock-wait`); then refuses the host, naming the holder.
 */
export async function whenLocked<T extends { refused?: boolean; said: string }>(
  host: string,
  wait: number,
  take: () => Promise<T>,
  progress?: (line: string) => void,
): Promise<T> {
  const started = Date.now()
  for (;;) {
    const r = await take()
    if (!r.refused) {
      if (r.said.startsWith('broken')) progress?.(`broke the lock of ${describeOwner(parseOwner(r.said))}`)
      return r
    }
    const waited = Math.round((Date.now() - started) / 1000)
    if (waited >= wait) throw new LockedError(host, parseOwner(r.said), waited)
    progress?.(`waiting for the lock of ${describeOwner(parseOwner(r.said))}`)
    await sleep(1000)
  }
}
