// Secrets are declared by where they come from and resolved only when a runbook asks for one,
// so `ferry inventory` and dry runs of runbooks that need no secret never run a `cmd:`.
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import path from 'node:path'
import { InventoryError, type Problem } from './errors.ts'
import type { Location, SecretStore } from './types.ts'

export const REDACTED = '<secret>'

/** How long a `cmd:` secret may run: long enough to ask a vault or an agent, not forever. */
const CMD_TIMEOUT_MS = 30_000

/** `~` and `~/x` expand to the home directory; relative paths are taken from `dir`. */
export function resolvePath(p: string, dir: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(homedir(), p.slice(1))
  return path.resolve(dir, p)
}

/** Splits `env:NAME` into its scheme and the rest. The schema guarantees the scheme. */
export function parseSource(source: string): { scheme: 'env' | 'file' | 'cmd'; rest: string } {
  const i = source.indexOf(':')
  return { scheme: source.slice(0, i) as 'env' | 'file' | 'cmd', rest: source.slice(i + 1) }
}

const stripNewline = (s: string) => s.replace(/\r?\n$/, '')

// The process groups of `cmd:` secrets still running, which would outlive ferry: they do not get
// the terminal's ^C, being groups of their own.
const running = new Set<number>()

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL')
  } catch {
    /* already gone */
  }
}

process.on('exit', () => running.forEach(killGroup))

export class Secrets implements SecretStore {
  private cache = new Map<string, Promise<string>>()
  private values = new Set<string>()

  /**
   * @param sources name -> `env:…` / `file:…` / `cmd:…`
   * @param dir the inventory file's directory: `file:` paths and `cmd:` run from there
   * @param locate where the secret `name` (or the `secrets` section, for an undeclared name) is
   * @param timeout how long a `cmd:` may run, in ms
   */
  constructor(
    private readonly sources: Map<string, string>,
    private readonly dir: string,
    private readonly locate: (name?: string) => Location,
    private readonly timeout = CMD_TIMEOUT_MS,
  ) {}

  names(): string[] {
    return [...this.sources.keys()]
  }

  source(name: string): string {
    const source = this.sources.get(name)
    if (source === undefined) throw this.error(undefined, `secret "${name}" is not declared in secrets`)
    return source
  }

  get(name: string): Promise<string> {
    let value = this.cache.get(name)
    if (!value) {
      value = this.resolve(name).then((v) => {
        if (v) this.values.add(v)
        return v
      })
      // A failure is not cached: the next get() tries again (the env var may be set by then).
      value.catch(() => this.cache.delete(name))
      this.cache.set(name, value)
    }
    return value
  }

  redact(text: string): string {
    // A multi-line value (a key file) also shows up line by line, e.g. in a unified diff, so its
    // lines are redacted too; short lines like "-----" or "#" would blank out unrelated text.
    const needles = [...this.values].flatMap((v) =>
      v.includes('\n')
        ? [
            v,
            ...v
              .split(/\r?\n/)
              .map((l) => l.trim())
              .filter((l) => l.length >= 8),
          ]
        : [v],
    )
    needles.sort((a, b) => b.length - a.length)
    return needles.reduce((t, n) => t.split(n).join(REDACTED), text)
  }

  private async resolve(name: string): Promise<string> {
    const { scheme, rest } = parseSource(this.source(name))
    if (scheme === 'env') {
      const value = process.env[rest]
      if (value === undefined) throw this.error(name, `secrets.${name}: environment variable ${rest} is not set`)
      return value
    }
    if (scheme === 'file') {
      try {
        return stripNewline(await readFile(resolvePath(rest, this.dir), 'utf8'))
      } catch (e) {
        throw this.error(name, `secrets.${name}: cannot read ${rest}: ${(e as NodeJS.ErrnoException).code ?? e}`)
      }
    }
    return stripNewline(await this.run(name, rest))
  }

  /**
   * Runs a `cmd:` secret. Its output is the secret, so no error ever includes stdout or stderr. It
   * runs in a process group of its own, which a timeout, or ferry exiting, ends as a whole.
   */
  private run(name: string, command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], {
        cwd: this.dir,
        stdio: ['ignore', 'pipe', 'ignore'],
        detached: true,
      })
      const group = child.pid
      if (group !== undefined) running.add(group)
      const timer = setTimeout(() => {
        if (group !== undefined) killGroup(group)
        // Settled now: something that left the group may still hold the output open.
        child.stdout.destroy()
        reject(this.error(name, `secrets.${name}: command did not finish within ${this.timeout / 1000} s`))
      }, this.timeout)
      const settle = () => {
        clearTimeout(timer)
        if (group !== undefined) running.delete(group)
      }
      const chunks: Buffer[] = []
      child.stdout.on('data', (c: Buffer) => chunks.push(c))
      child.on('error', (e) => {
        settle()
        reject(this.error(name, `secrets.${name}: cannot run command: ${e.message}`))
      })
      child.on('close', (code, signal) => {
        settle()
        if (code === 0) resolve(Buffer.concat(chunks).toString('utf8'))
        else
          reject(
            this.error(name, `secrets.${name}: command ${signal ? `killed by ${signal}` : `exited with code ${code}`}`),
          )
      })
    })
  }

  private error(name: string | undefined, message: string): InventoryError {
    const problem: Problem = { ...this.locate(name), message }
    return new InventoryError([problem])
  }
}
