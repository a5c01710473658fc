// Every way a host can be out of reach gets its own reason, because the operator's next move
// differs: fix keys, fix known_hosts (or investigate an attack), fix DNS, or wait for the network.

export type UnreachableReason =
  | 'auth'
  | 'hostkey-mismatch'
  | 'hostkey-unknown'
  | 'hostkey-revoked'
  | 'refused'
  | 'timeout'
  | 'dns'
  | 'network'
  | 'config'

export class UnreachableError extends Error {
  override name = 'UnreachableError'
  constructor(
    readonly host: string,
    readonly reason: UnreachableReason,
    /** The reason in words, without the host name (output already groups by host). */
    readonly detail: string,
  ) {
    super(`${host}: ${detail}`)
  }
}

/** Maps a socket or ssh2 error to a reason and a sentence an operator can act on. */
export function classify(
  host: string,
  target: string,
  err: Error & { code?: string; level?: string },
): UnreachableError {
  if (err instanceof UnreachableError) return err
  switch (err.code) {
    case 'ECONNREFUSED':
      return new UnreachableError(host, 'refused', `connection refused by ${target} (is sshd running on that port?)`)
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new UnreachableError(host, 'dns', `cannot resolve ${target.replace(/:\d+$/, '')} (DNS lookup failed)`)
    case 'ETIMEDOUT':
      return new UnreachableError(host, 'timeout', `timed out connecting to ${target}`)
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new UnreachableError(host, 'network', `no route to ${target}`)
  }
  if (err.level === 'client-authentication')
    return new UnreachableError(host, 'auth', `authentication failed for ${target}`)
  if (err.level === 'client-timeout')
    return new UnreachableError(host, 'timeout', `timed out waiting for the SSH handshake with ${target}`)
  return new UnreachableError(host, 'network', `${target}: ${err.message}`)
}
