// Commit-confirmed, as Junos and NETCONF have it, for any POSIX host. Before the first risky
// change, the host gets a revert script (the risky steps' `revert` commands, newest first, then
// the reloads that make daemons reread what was put back) and a detached job that runs it after
// the timeout. Only the controller, over a new connection that proves the host is still
// reachable, can disarm it. Arming and disarming race through one atomic rename of `armed`:
// whoever renames it first (the controller to `disarmed`, the job to `firing`) wins. The files
// stay until the run's last command, so a settle whose answer was lost can be asked again.
//
// Everything lives in one directory per run under /var/run, created under umask 077 so the files
// get their mode before their content, and nothing in it holds a secret: file backups stay where
// the file step keeps them, and the script names commands by their step, not their text.

import type { Shell } from 'zx/core'
import type { Platform } from '../platform/platform.ts'
import { quote } from '../shell/quote.ts'

// Under /var/run, where only root writes: in a world-writable /var/tmp, anyone could make the
// directory first and swap in a revert.sh that root's job then runs.
export const REVERT_ROOT = '/var/run/ferry-revert'

export interface RevertStep {
  name: string
  commands: string[]
}

/** `by`: whether the job fired on its own, at its timeout, or the controller fired it early. */
export type Settled = { state: 'disarmed' } | { state: 'reverted'; by: 'job' | 'controller'; ok: boolean; log: string }

export const revertDir = (runId: string, root = REVERT_ROOT): string => `${root}/${runId}`

/** The revert script: every command runs, failed or not, and the script fails if any did. */
export function revertScript(steps: RevertStep[], header: string): string {
  const lines = ['#!/bin/sh', `# ${header.replace(/\n/g, ' ')}`, 'status=0']
  for (const step of steps) {
    for (const command of step.commands) {
      lines.push(`( ${command}\n) || { echo ${quote(`ferry revert: ${step.name}: a command failed`)} >&2; status=1; }`)
    }
  }
  lines.push('exit $status', '')
  return lines.join('\n')
}

/** Writes the revert script (from stdin) and starts the job that runs it in `seconds`. */
export function armScript(platform: Platform, runId: string, seconds: number, root = REVERT_ROOT): string {
  const d = revertDir(runId, root)
  const job = [
    `d=${quote(d)}`,
    "trap '' HUP",
    `sleep ${Math.ceil(seconds)}`,
    'mv "$d/armed" "$d/firing" 2>/dev/null || exit 0',
    'sh "$d/revert.sh" > "$d/revert.log" 2>&1',
    'echo $? > "$d/reverted.new" && mv "$d/reverted.new" "$d/reverted"',
  ].join('\n')
  return [
    'set -e',
    'umask 077',
    `d=${quote(d)}`,
    `mkdir -p ${quote(root)}`,
    'rm -rf "$d"',
    'mkdir "$d"',
    'cat > "$d/revert.sh"',
    `printf '%s\\n' ${quote(job)} > "$d/job.sh"`,
    ': > "$d/armed"',
    platform.detach('sh "$d/job.sh"'),
  ].join('\n')
}

/**
 * Ends the revert job one way or the other, and says which: `confirm` disarms it if it has not
 * fired yet; `revert` fires it now if it has not yet (then `fired` is said). A job caught firing
 * is waited for. It can be asked again and says the same (the connection may die before the
 * answer arrives): the directory stays until `clearScript`, which the run's last command sends.
 */
export function settleScript(runId: string, how: 'confirm' | 'revert', root = REVERT_ROOT): string {
  return [
    `d=${quote(revertDir(runId, root))}`,
    how === 'confirm'
      ? 'if mv "$d/armed" "$d/disarmed" 2>/dev/null || [ -f "$d/disarmed" ]; then echo disarmed; exit 0; fi'
      : 'if [ -f "$d/disarmed" ]; then echo disarmed; exit 0; elif mv "$d/armed" "$d/firing" 2>/dev/null; then : > "$d/by-controller"; sh "$d/revert.sh" > "$d/revert.log" 2>&1; echo $? > "$d/reverted.new" && mv "$d/reverted.new" "$d/reverted"; fi',
    // The job may be mid-revert: give it five minutes to finish.
    'i=0; while [ -f "$d/firing" ] && [ ! -f "$d/reverted" ] && [ $i -lt 300 ]; do sleep 1; i=$((i + 1)); done',
    'if [ -f "$d/reverted" ]; then if [ -f "$d/by-controller" ]; then echo fired; fi; echo "reverted=$(cat "$d/reverted")"; cat "$d/revert.log"; exit 0; fi',
    `if [ -f "$d/firing" ]; then echo 'the revert job is still running after five minutes'; else echo 'no revert job for this run on the host'; fi`,
  ].join('\n')
}

/** Removes the run's revert directory, once the run is done with it. */
export function clearScript(runId: string, root = REVERT_ROOT): string {
  return `rm -rf ${quote(revertDir(runId, root))}`
}

export function parseSettled(stdout: string): Settled {
  if (stdout.startsWith('disarmed')) return { state: 'disarmed' }
  const m = /^(fired\n)?reverted=(\d+)\n?([^]*)$/.exec(stdout)
  if (m) return { state: 'reverted', by: m[1] ? 'controller' : 'job', ok: m[2] === '0', log: m[3]!.trim() }
  throw new Error(stdout.trim() || 'the revert job left no trace')
}

export async function arm($: Shell, platform: Platform, runId: string, seconds: number, script: string): Promise<void> {
  await $({ input: script })`sh -c ${armScript(platform, runId, seconds)}`
}

export async function settle($: Shell, runId: string, how: 'confirm' | 'revert'): Promise<Settled> {
  return parseSettled((await $`sh -c ${settleScript(runId, how)}`).stdout)
}
