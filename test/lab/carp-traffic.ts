// A long-lived TCP connection through the CARP lab's pair (lab/carp.ts), for its lab test and
// its benchmark: an echo server on the outside (cout), and a client on the inside (cin) that sends
// a line every 50 ms through the shared inside address and the pair's NAT, and reports how the
// connection fared: lines echoed, the longest wait for an echo, and whether it broke or stalled.
// Python, which the lab's hosts have, in the two bare namespaces; nothing but the lab's addresses.
import { spawn, type ChildProcess } from 'node:child_process'
import { CARP_CLIENT, CARP_SERVER } from '../../lab/carp.ts'

export const PORT = 7000
const server = `
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((${JSON.stringify(CARP_SERVER.cidr.split('/')[0])}, ${PORT})); s.listen(8)
def echo(c):
    with c:
        while (b := c.recv(4096)): c.sendall(b)
while True:
    c, _ = s.accept(); threading.Thread(target=echo, args=(c,), daemon=True).start()
`
// Gaps are measured between echoes; a wait of STALL s with none is a stalled connection.
const client = `
import json, socket, sys, time
seconds, stall = float(sys.argv[1]), float(sys.argv[2])
out = {"echoed": 0, "maxGap": 0.0, "gapAt": 0.0, "error": None}
try:
    c = socket.create_connection((${JSON.stringify(CARP_SERVER.cidr.split('/')[0])}, ${PORT}), timeout=5)
    c.settimeout(stall)
    print("connected", flush=True)
    end = time.time() + seconds; last = time.time(); buf = b""
    while time.time() < end:
        c.sendall(b"x" * 31 + b"\\n")
        while b"\\n" not in buf:
            b = c.recv(4096)
            if not b: raise ConnectionError("closed by the far end")
            buf += b
        buf = buf.split(b"\\n", 1)[1]
        now = time.time(); out["echoed"] += 1
        if now - last > out["maxGap"]: out["maxGap"], out["gapAt"] = now - last, last
        last = now
        time.sleep(0.05)
except socket.timeout:
    out["error"] = "stalled: no echo for %.0f s" % stall
except OSError as e:
    out["error"] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(out), flush=True)
`

/** What the client saw: lines echoed, the longest wait for one (s) and when it began (epoch s), any error. */
export interface Fared {
  echoed: number
  maxGap: number
  gapAt: number
  error: string | null
}

const inNetns = (name: string, args: string[]) =>
  spawn('nsenter', [`--net=/run/netns/ferry-${name}`, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })

/** Starts the echo server on cout; stop it with .kill(). */
export function startServer(): ChildProcess {
  return inNetns(CARP_SERVER.name, ['python3', '-c', server])
}

/**
 * Starts the client on cin for `seconds`; `connected` resolves once it is through, `fared` with
 * its report at the end. A wait of `stall` s for an echo ends it as stalled.
 */
export function startClient(seconds: number, stall = 10): { connected: Promise<void>; fared: Promise<Fared> } {
  const p = inNetns(CARP_CLIENT.name, ['python3', '-c', client, String(seconds), String(stall)])
  let out = ''
  let err = ''
  let onConnect: () => void = () => {}
  const connected = new Promise<void>((resolve) => (onConnect = resolve))
  p.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
    if (out.startsWith('connected\n')) onConnect()
  })
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const fared = new Promise<Fared>((resolve, reject) =>
    p.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? ''
      try {
        resolve(JSON.parse(last) as Fared)
      } catch {
        reject(new Error(`the client exited ${code}: ${out}${err}`))
      }
    }),
  )
  return { connected, fared }
}
