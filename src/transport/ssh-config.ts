// ~/.ssh/config is honoured by asking OpenSSH itself (`ssh -G`), so Match blocks, Include,
// wildcards and tokens behave exactly as they do for the operator's own `ssh`.

import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export interface SshConfig {
  hostname?: string
  identityFiles: string[]
  proxyJump?: string
  knownHostsFiles: string[]
  hostKeyAlias?: string
}

/**
 * `configFile` overrides ~/.ssh/config (FERRY_SSH_CONFIG does the same from the environment).
 * Without a config file to read there is nothing host-specific to learn, so we skip the spawn:
 * it costs a few milliseconds per host, which adds up over a large inventory.
 */
export async function resolveSshConfig(
  address: string,
  port: number,
  user: string,
  configFile = process.env.FERRY_SSH_CONFIG,
): Promise<SshConfig | undefined> {
  const file = configFile ?? join(homedir(), '.ssh', 'config')
  if (!existsSync(file)) return undefined
  const text = await new Promise<string | undefined>((resolve) => {
    execFile(
      'ssh',
      ['-G', '-F', file, '-p', String(port), '-l', user, '--', address],
      { timeout: 5000 },
      (err, stdout) => resolve(err ? undefined : stdout),
    )
  })
  return text === undefined ? undefined : parseSshG(text)
}

export function parseSshG(text: string): SshConfig {
  const config: SshConfig = { identityFiles: [], knownHostsFiles: [] }
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ')
    if (space < 0) continue
    const key = line.slice(0, space).toLowerCase()
    const value = line.slice(space + 1).trim()
    switch (key) {
      case 'hostname':
        config.hostname = value
        break
      case 'identityfile':
        config.identityFiles.push(expandHome(value))
        break
      case 'proxyjump':
        if (value !== 'none') config.proxyJump = value
        break
      case 'userknownhostsfile':
      case 'globalknownhostsfile':
        config.knownHostsFiles.push(
          ...value
            .split(/\s+/)
            .filter((f) => f !== 'none')
            .map(expandHome),
        )
        break
      case 'hostkeyalias':
        config.hostKeyAlias = value
        break
    }
  }
  return config
}

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path
}
