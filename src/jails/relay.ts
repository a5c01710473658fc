// A zfs stream relayed by the controller from one host's `zfs send` to another's `zfs receive`:
// two SSH channels and a pipe between them. No temporary files, and the hosts need not trust each
// other. Node's pipe stops reading the sender's channel whenever the receiver's window is full,
// and SSH's flow control carries that back to `zfs send`, so memory stays flat however big the
// stream.

import type { Transport } from '../transport/transport.ts'
import { StepError } from '../steps/step.ts'

export interface RelayProgress {
  bytes: number
  /** Bytes per second since the start. */
  rate: number
}

export interface RelayOptions {
  /** Called at most every `every` ms while bytes flow, and once at the end. */
  progress?(p: RelayProgress): void
  every?: number
  /** Stops the transfer (^C): both sides end as they would if the other failed. */
  signal?: AbortSignal
}

/** Returns the bytes relayed. Either side failing stops the other, and the error says which and why. */
export async function relay(
  from: Transport,
  send: string,
  to: Transport,
  receive: string,
  opts: RelayOptions = {},
): Promise<number> {
  const started = Date.now()
  // Both channels open at once: a round trip less, which a cut-over spends with the jail down.
  const [receiving, sending] = await Promise.allSettled([to.stream(receive), from.stream(send)])
  if (receiving.status === 'rejected' || sending.status === 'rejected') {
    // An empty stream: zfs receive creates nothing. A sender with no reader gets EPIPE.
    if (receiving.status === 'fulfilled') receiving.value.stdin.end()
    if (sending.status === 'fulfilled') sending.value.abort()
    throw receiving.status === 'rejected' ? receiving.reason : (sending as PromiseRejectedResult).reason
  }
  const receiver = receiving.value
  const sender = sending.value
  receiver.stdout.resume()

  let bytes = 0
  let reported = 0
  const report = () => opts.progress?.({ bytes, rate: bytes / Math.max((Date.now() - started) / 1000, 0.001) })
  sender.stdout.on('data', (chunk: Buffer) => {
    bytes += chunk.length
    if (Date.now() - reported >= (opts.every ?? 500)) {
      reported = Date.now()
      report()
    }
  })
  sender.stdout.pipe(receiver.stdin)

  // Whichever ends badly first stops the other, without a signal: zfs send holds its snapshots
  // while it runs and releases them when it exits on its own (here, on EPIPE once its channel
  // is gone); killed, it leaves them held (zfs-fuse), and they cannot be destroyed. A receiver
  // whose input ends early discards the truncated stream and exits.
  const stop = {
    'zfs send': () => {
      sender.stdout.unpipe()
      sender.stdout.resume()
      sender.abort()
    },
    'zfs receive': () => receiver.stdin.end(),
  }
  const sides = [
    { name: 'zfs send' as const, host: from.name, ex: sender, stderr: tail(sender.stderr) },
    { name: 'zfs receive' as const, host: to.name, ex: receiver, stderr: tail(receiver.stderr) },
  ]
  let cause: ((typeof sides)[number] & { status: { code: number | null; signal: string | null } }) | undefined
  const interrupt = () => {
    stop['zfs send']()
    stop['zfs receive']()
  }
  if (opts.signal?.aborted) interrupt()
  opts.signal?.addEventListener('abort', interrupt, { once: true })
  await Promise.all(
    sides.map(async (side, i) => {
      const status = await side.ex.exited
      if (status.code !== 0 && !cause) {
        cause = { ...side, status }
        stop[sides[1 - i]!.name]()
      }
    }),
  )
  opts.signal?.removeEventListener('abort', interrupt)
  report()
  if (opts.signal?.aborted) throw new StepError(`interrupted after ${bytes} bytes`)
  if (!cause) return bytes
  const { name, host, status, stderr } = cause
  const said = stderr()
  const other = sides.find((s) => s.name !== name)!
  throw new StepError(
    `transfer failed after ${bytes} bytes: ${name} on ${host} ${status.code !== null ? `exited ${status.code}` : `was killed (${status.signal ?? 'channel closed'})`}${said ? `: ${said}` : ''}; ${other.name} on ${other.host} was stopped`,
  )
}

/** The last few lines a stream printed, for the error message. */
function tail(stream: NodeJS.ReadableStream): () => string {
  let text = ''
  stream.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-2000)
  })
  return () => text.trim().split('\n').slice(-3).join(' / ')
}
