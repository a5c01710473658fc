// The client side of --persist against a stand-in keeper on a Unix socket (no SSH): frames split
// anywhere, stdin, stdout and stderr with a slow reader, exit statuses, a lost keeper, refusals.
// test/lab/persist.test.ts runs the real keeper against lab hosts.
import { afterEach, describe, expect, it } from 'vitest'
import { createServer, type Server, type Socket } from 'node:net'
import { chmodSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  FRAMES,
  KeeperClient,
  KeptConnection,
  checkStateDir,
  dialFor,
  errorPayload,
  frame,
  frameReader,
} from '../../src/transport/keeper.ts'
import { UnreachableError } from '../../src/transport/errors.ts'
import type { Host, Inventory } from '../../src/inventory/types.ts'

const host: Host = {
  name: 'r1',
  connection: 'ssh',
  address: '198.18.0.99',
  port: 22,
  user: 'root',
  become: 'none',
  identity: ['/k'],
  knownHosts: [],
  connectTimeout: 5000,
  groups: ['all'],
  vars: { secretish: 'not for the keeper' },
  jails: {},
  becomePassword: 'pw',
}
const inventory = {
  file: '/x.yaml',
  hosts: [host],
  groups: {},
  links: [],
  secrets: { names: () => [], source: () => '', get: async () => '', redact: (s: string) => s },
  locate: () => undefined,
  warnings: [],
} as Inventory

const servers: Server[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.close()
})

/** A keeper stand-in: `serve` gets each request and its socket, and the frames that follow. */
async function standIn(
  serve: (request: Record<string, unknown>, sock: Socket, frames: [string, Buffer][]) => void,
): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'ferry-keeper-')), 'k.sock')
  const server = createServer((sock) => {
    let request: Record<string, unknown> | undefined
    const frames: [string, Buffer][] = []
    sock.on(
      'data',
      frameReader((type, payload) => {
        if (!request) serve((request = JSON.parse(payload.toString())), sock, frames)
        else frames.push([type, Buffer.from(payload)])
      }),
    )
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(path, r))
  return path
}

const connection = (path: string) =>
  new KeptConnection(host, new KeeperClient(path), dialFor(host, inventory, false), inventory)

describe('frames', () => {
  it('come out whole however the bytes are split', () => {
    const bytes = Buffer.concat([frame('1', 'hello'), frame('2', Buffer.alloc(70_000, 7)), frame('X', '{"code":0}')])
    for (const size of [1, 3, 5, 4096, bytes.length]) {
      const seen: string[] = []
      const read = frameReader((t, p) => seen.push(`${t}:${p.length}:${p[0]}`))
      for (let i = 0; i < bytes.length; i += size) read(bytes.subarray(i, i + size))
      expect(seen, `chunks of ${size}`).toEqual(['1:5:104', '2:70000:7', 'X:10:123'])
    }
  })
})

describe('a kept connection', () => {
  it("sends only the endpoint to the keeper, runs the command, passes stdin, and reads 4 MB of output at a slow reader's pace", async () => {
    let request: Record<string, unknown> = {}
    let stdin = ''
    const path = await standIn((req, sock, frames) => {
      request = req
      sock.write(frame(FRAMES.OPENED))
      // stdin until its end, then 4 MB of stdout in 64 KiB frames, a line of stderr, exit 3.
      const poll = setInterval(() => {
        if (!frames.some(([t]) => t === FRAMES.STDIN_END)) return
        clearInterval(poll)
        stdin = Buffer.concat(frames.filter(([t]) => t === FRAMES.STDIN).map(([, p]) => p)).toString()
        for (let i = 0; i < 64; i++) sock.write(frame(FRAMES.STDOUT, Buffer.alloc(65_536, 97 + (i % 26))))
        sock.write(frame(FRAMES.STDERR, 'warning\n'))
        sock.end(frame(FRAMES.EXIT, JSON.stringify({ code: 3, signal: null })))
      }, 5)
    })
    const ex = await connection(path).execute('cat > /dev/null', {})
    ex.stdin.end('the probe script\n')
    const chunks: Buffer[] = []
    let stderr = ''
    ex.stderr.on('data', (d: Buffer) => (stderr += d))
    for await (const chunk of ex.stdout) {
      chunks.push(chunk as Buffer)
      await sleep(1) // a reader slower than the socket: the client pauses it, nothing is lost
    }
    expect(await ex.exited).toEqual({ code: 3, signal: null })
    const out = Buffer.concat(chunks)
    expect(out.length).toBe(64 * 65_536)
    for (let i = 0; i < 64; i++) expect(out[i * 65_536]).toBe(97 + (i % 26))
    expect(stderr).toBe('warning\n')
    expect(stdin).toBe('the probe script\n')
    expect(request).toMatchObject({
      op: 'exec',
      command: 'cat > /dev/null',
      dial: { host: { name: 'r1', address: '198.18.0.99', become: 'none', vars: {} }, via: [] },
    })
    expect(JSON.stringify(request)).not.toMatch(/not for the keeper|becomePassword/)
  })

  it('is refused as the keeper says: an unreachable host stays an UnreachableError with its reason', async () => {
    const path = await standIn((_req, sock) =>
      sock.end(
        frame(
          FRAMES.FAILED,
          errorPayload(new UnreachableError('r1', 'hostkey-mismatch', 'HOST KEY MISMATCH for 198.18.0.99')),
        ),
      ),
    )
    const err = await connection(path)
      .execute('true')
      .catch((e: Error) => e)
    expect(err).toBeInstanceOf(UnreachableError)
    expect(err).toMatchObject({
      host: 'r1',
      reason: 'hostkey-mismatch',
      message: 'r1: HOST KEY MISMATCH for 198.18.0.99',
    })
  })

  it('ends with no exit status when the keeper goes away mid-command, as a dropped SSH connection does', async () => {
    const path = await standIn((_req, sock) => {
      sock.write(frame(FRAMES.OPENED))
      sock.write(frame(FRAMES.STDOUT, 'partial'))
      setTimeout(() => sock.destroy(), 20)
    })
    const ex = await connection(path).execute('sleep 100')
    let out = ''
    ex.stdout.on('data', (d: Buffer) => (out += d))
    expect(await ex.exited).toEqual({ code: null, signal: null })
    expect(out).toBe('partial')
  })

  it('refuses a command that is not a probe on a read-only (dry-run) connection, before asking the keeper', async () => {
    let asked = false
    const path = await standIn(() => (asked = true))
    const readOnly = new KeptConnection(host, new KeeperClient(path), dialFor(host, inventory, false), inventory, true)
    await expect(readOnly.execute('rm -rf /etc/x')).rejects.toThrow(/dry run: refusing/)
    expect(asked).toBe(false)
  })
})

describe('the state dir', () => {
  it('must be private: writable by others is refused; the socket path must fit a Unix socket', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-state-'))
    expect(checkStateDir(dir)).toBe(join(dir, 'keeper-2.sock'))
    chmodSync(dir, 0o777)
    expect(() => checkStateDir(dir)).toThrow(/writable by others \(mode 777\)/)
    expect(() => checkStateDir(join(dir, 'x'.repeat(120)))).toThrow(/too long for a Unix socket/)
  })

  it('with no keeper running, a client that may not start one says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-state-'))
    await expect(new KeeperClient(join(dir, 'keeper-2.sock')).request({ op: 'list' })).rejects.toThrow(
      /no connection keeper is running/,
    )
  })
})
