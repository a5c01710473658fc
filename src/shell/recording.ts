// A zx $ that runs nothing: it records each command (and its stdin) and answers from a function.
// A dry run uses it to list the commands a step would send, with no way to reach the host; the
// golden tests use it to compare those commands with the ones the seeds print.

import { EventEmitter, once } from 'node:events'
import { PassThrough } from 'node:stream'
import { $ as zx$, type Shell } from 'zx/core'
import { quote } from './quote.ts'
import type { ProbeResult } from './remote.ts'

let sequence = 0

/** Enough of a ChildProcess for zx: stdio streams, then 'exit' and 'close'. */
class FakeChild extends EventEmitter {
  // A string pid, as remote.ts gives its commands: zx's kill refuses anything but digits, so a
  // kill (or timeout) of a recorded command can never reach a real process. Given pid 1, zx
  // would signal every process the controller is allowed to.
  readonly pid: string = `recording#${++sequence}`
  readonly stdin = new PassThrough()
  readonly stdout = new PassThrough()
  readonly stderr = new PassThrough()

  constructor(answer: (input: string) => ProbeResult) {
    super()
    const input: Buffer[] = []
    this.stdin.on('data', (c: Buffer) => input.push(c))
    // zx writes a command's input right after spawn returns.
    setImmediate(async () => {
      const r = answer(Buffer.concat(input).toString())
      this.stdout.end(r.stdout)
      this.stderr.end()
      await Promise.all([once(this.stdout, 'end'), once(this.stderr, 'end')])
      this.emit('exit', r.code, null)
      this.emit('close', r.code, null)
    })
  }

  kill(): boolean {
    return true
  }
}

export function recordingShell(
  answer: (cmd: string, input: string) => ProbeResult,
  sent: (cmd: string, input: string) => void,
): Shell {
  const spawn = (cmd: string) =>
    new FakeChild((input) => {
      sent(cmd, input)
      return answer(cmd, input)
    })
  return zx$({ spawn: spawn as never, quote, prefix: '', postfix: '', quiet: true, verbose: false }) as unknown as Shell
}
