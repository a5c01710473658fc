// The shapes the rest of ferry sees once an inventory file has been loaded and validated.
// The raw YAML schema lives in schema.ts; these are the resolved, defaults-applied forms.
import type { Problem } from './errors.ts'

export type Os = 'freebsd' | 'openbsd' | 'linux'
export type Become = 'none' | 'sudo' | 'doas'

/** Where a value came from, so later errors (runbook vars, secrets) can name file:line:col. */
export interface Location {
  file: string
  line: number
  col: number
}

/** A jump hop outside the inventory, written as `user@host:port`. */
export interface ExternalJump {
  address: string
  port?: number
  user?: string
}

export interface Jail {
  address: string
  dataset: string
}

export interface Host {
  name: string
  /** `local` runs commands on the controller itself instead of over SSH. */
  connection: 'ssh' | 'local'
  address: string
  port: number
  user: string
  os?: Os
  become: Become
  /** Name of a secret holding the sudo/doas password, if one is needed. */
  becomePassword?: string
  /** Absolute paths, `~` expanded. */
  identity: string[]
  /** Absolute paths of extra known_hosts files, resolved relative to the inventory file. */
  knownHosts: string[]
  /** Connect timeout in milliseconds. */
  connectTimeout: number
  /** Group names in declaration order, always ending with `all`. */
  groups: string[]
  /** Another inventory host's name, or an external hop. */
  jump?: string | ExternalJump
  /** Effective vars: defaults.vars < each group's vars in `groups` order < host vars. */
  vars: Record<string, unknown>
  jails: Record<string, Jail>
}

export interface Link {
  a: string
  b: string
  [setting: string]: unknown
}

export interface Inventory {
  /** Absolute path of the YAML file. */
  file: string
  hosts: Host[]
  groups: Record<string, { vars: Record<string, unknown> }>
  links: Link[]
  secrets: SecretStore
  /** file:line:col of a node, by its path in the YAML document, e.g. ['hosts', 'r1', 'vars']. */
  locate(path: (string | number)[]): Location | undefined
  /** What was found but does not stop the inventory's use (LoadOptions.unsetSecrets: 'warn'). */
  warnings: Problem[]
}

export interface SecretStore {
  names(): string[]
  /** The source text, e.g. `env:FERRY_OSPF_KEY`; safe to print. */
  source(name: string): string
  /** Resolves (and caches) a secret's value. Throws an InventoryError naming the secret's line. */
  get(name: string): Promise<string>
  /** Replaces every secret value resolved so far with `<secret>`. */
  redact(text: string): string
}
