// What comes on a channel before the command's own bytes: the login shell's process group, then,
// with become, sudo's or doas's prompt and our ready marker. Both ways ferry runs commands (a
// channel per command, and the session shell that runs many) begin with it.

import { quote } from './quote.ts'
import type { BecomeConfig } from './types.ts'

export const GROUP_TAG = 'ferry-pgid:'

/** OpenBSD's doas and opendoas print `doas (user@host) password: `; PAM builds may say `Password:`. */
const DOAS_PROMPT = /(?:doas \([^)\n]*\) )?[Pp]assword: ?$/

/** sudo's prompt (ours, random) and the line the escalated shell prints once it runs. */
export function markers(token: string): { prompt: string; ready: string } {
  return { prompt: `[ferry-become-${token}]`, ready: `[ferry-ready-${token}]\n` }
}

export function escalator(become: BecomeConfig, prompt: string): string {
  if (become.method === 'sudo') return become.password ? `sudo -S -p ${quote(prompt)} -u root --` : 'sudo -n -u root --'
  return become.password ? 'doas -u root --' : 'doas -n -u root --'
}

export interface HandshakeIO {
  /** Lines a login shell's rc files printed before ours: the first command's stderr, as sshd would show them. */
  noise(bytes: Buffer): void
  /** Writes the become password down the channel (stdin, or the pty doas reads). */
  answer(password: string): void
  /** The password was refused (or none is configured and one was asked for). */
  rejected(message: string): void
}

/**
 * Reads the framed stream (latin1 text: one char per byte, so nothing splits UTF-8) until the
 * handshake is over. `expectReady`: the command prints the ready marker even without become
 * (the session shell does), so a login shell's noise can never be taken for our bytes.
 */
export class Handshake {
  readonly group: Promise<number | undefined>
  private setGroup!: (pid: number | undefined) => void
  private pending = ''
  private phase: 'group' | 'ready' | 'done' | 'failed' = 'group'
  private answered = false
  private readonly prompt: string
  private readonly ready: string

  constructor(
    private readonly become: BecomeConfig | undefined,
    token: string,
    private readonly expectReady: boolean,
    private readonly io: HandshakeIO,
  ) {
    ;({ prompt: this.prompt, ready: this.ready } = markers(token))
    this.group = new Promise((resolve) => (this.setGroup = resolve))
  }

  get done(): boolean {
    return this.phase === 'done'
  }

  /** A kept session shell: its handshake happened in an earlier run. */
  skip(group: number): void {
    this.setGroup(group)
    this.phase = 'done'
  }

  /** Feeds more of the stream; once the handshake is complete, returns what follows it. */
  push(text: string): string | undefined {
    if (this.phase === 'failed') return undefined
    this.pending += text
    if (this.phase === 'group') {
      for (;;) {
        const eol = this.pending.indexOf('\n')
        if (eol < 0) return undefined
        const line = this.pending.slice(0, eol)
        this.pending = this.pending.slice(eol + 1)
        const m = new RegExp(`^${GROUP_TAG}(\\d+)$`).exec(line)
        if (m) {
          this.setGroup(Number(m[1]))
          break
        }
        this.io.noise(Buffer.from(`${line}\n`, 'latin1'))
      }
      this.phase = this.become || this.expectReady ? 'ready' : 'done'
    }
    if (this.phase === 'ready') {
      const become = this.become
      if (become) {
        const asked = become.method === 'sudo' ? this.pending.indexOf(this.prompt) : this.pending.search(DOAS_PROMPT)
        if (asked >= 0) {
          this.pending = this.pending.slice(0, asked)
          if (this.answered || !become.password) {
            this.phase = 'failed'
            this.io.rejected(`ferry: the ${become.method} password was rejected\n`)
            return undefined
          }
          this.answered = true
          void become.password().then((pw) => this.io.answer(`${pw}\n`))
        }
      }
      const at = this.pending.indexOf(this.ready)
      if (at < 0) return undefined
      // What sudo said before the marker ("Sorry, try again." etc.) only matters if it failed.
      const rest = this.pending.slice(at + this.ready.length)
      if (!this.answered) this.io.noise(Buffer.from(this.pending.slice(0, at), 'latin1'))
      this.pending = ''
      this.phase = 'done'
      return rest
    }
    const rest = this.pending
    this.pending = ''
    return rest
  }

  /** The stream ended: whatever was held back, and no group if none came. */
  end(): string {
    this.setGroup(undefined)
    const rest = this.pending
    this.pending = ''
    return rest
  }
}
