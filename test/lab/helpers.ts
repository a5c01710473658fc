// What the lab tests share: a way to run the real CLI, and throwaway inventories pointing at lab
// hosts with whatever twist a test needs (another key, another user, a bad port).
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { it } from 'vitest'

export const ROOT = resolve(import.meta.dirname, '../..')
export const LAB_KEY = '/run/ferry-lab/id_ed25519'
export const LAB_KNOWN_HOSTS = join(ROOT, 'inventory/lab.known_hosts')
export const ADDRESSES: Record<string, string> = {
  lab1: '198.18.0.11', lab2: '198.18.0.12', lab3: '198.18.0.13', lab4: '198.18.0.14', lab5: '198.18.0.15', far1: '198.18.1.21',
}

/** `it`, skipped only outside CI when the lab cannot run here (setup.ts decides; in CI it throws). */
export const labIt = it.skipIf(process.env.FERRY_LAB_SKIP === '1')

export interface Run { code: number; stdout: string; stderr: string }

export function ferry(args: string[], opts: { env?: NodeJS.ProcessEnv; wrap?: string[] } = {}): Promise<Run> {
  const argv = [...(opts.wrap ?? []), process.execPath, join(ROOT, 'bin/ferry.mjs'), ...args]
  return new Promise((done) => {
    execFile(argv[0]!, argv.slice(1), { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...opts.env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

export function tempDir(prefix = 'ferry-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Writes an inventory into a fresh directory and returns its path. */
export function writeInventory(yaml: string, dir = tempDir()): string {
  const file = join(dir, 'inventory.yaml')
  writeFileSync(file, yaml)
  return file
}

/** YAML for some lab hosts with the lab's key and known_hosts, plus extra `defaults` lines. */
export function labYaml(hosts: string[], extra: { defaults?: string; hostLines?: Record<string, string>; tail?: string } = {}): string {
  const lines = [
    'defaults:',
    `  identity: ${LAB_KEY}`,
    `  known_hosts: ${LAB_KNOWN_HOSTS}`,
    '  connect_timeout: 5',
    ...(extra.defaults ? [extra.defaults] : []),
    'hosts:',
    ...hosts.map((h) => `  ${h}: { address: ${ADDRESSES[h]}${h === 'far1' ? ', jump: lab1' : ''}${extra.hostLines?.[h] ?? ''} }`),
  ]
  return `${lines.join('\n')}\n${extra.tail ?? ''}`
}

export function labKnownHostsLine(host: string): string {
  const line = readFileSync(LAB_KNOWN_HOSTS, 'utf8').split('\n').find((l) => l.startsWith(`${ADDRESSES[host]} `))
  if (!line) throw new Error(`no known_hosts line for ${host}`)
  return line
}
