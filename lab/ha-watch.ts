// Watching a failover on the HA sites (lab/ha.ts): a LAN-to-LAN probe every 100 ms, whose gaps
// are the outage, and where the new active node's time went, from its Heartbeat log. The lab test
// (test/lab/ha-vpn.test.ts) and the benchmark (bench/ha.ts) both time takeovers with them.
import { spawn } from 'node:child_process'

export interface Probe {
  /** Receive times of the replies so far, epoch seconds (ping -D). */
  replies(): number[]
  /** The longest time without a reply from `since` (epoch seconds) to the last reply. */
  longestGap(since: number): number
  stop(): void
}

/** A ping every 100 ms from a LAN namespace (`lan1`) to an address. */
export function probe(from: string, to: string): Probe {
  const child = spawn('ip', ['netns', 'exec', `ferry-${from}`, 'ping', '-D', '-n', '-i', '0.1', '-W', '1', to], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  let out = ''
  child.stdout.on('data', (b: Buffer) => (out += b.toString()))
  const replies = () => [...out.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Number(m[1]))
  return {
    replies,
    longestGap(since) {
      const t = [since, ...replies().filter((x) => x > since)]
      return t.slice(1).reduce((g, x, i) => Math.max(g, x - t[i]!), 0)
    },
    stop: () => void child.kill('SIGINT'),
  }
}

/** One takeover in a Heartbeat log: seconds of the day (the node's clock, whole seconds) of each mark. */
export interface Takeover {
  dead: number
  /** ResourceManager starts acquiring the group. */
  group?: number
  /** Each resource's start, in order: its argument (an address) or its name. */
  starts: { name: string; at: number }[]
  /** mach_down takeover complete. */
  complete?: number
}

const secondOfDay = (l: string) => {
  const m = /(\d\d):(\d\d):(\d\d)/.exec(l)
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : NaN
}

/** The last takeover in a node's ha-log (ha.cf's logfile), or undefined when it has none. */
export function lastTakeover(log: string): Takeover | undefined {
  const lines = log.split('\n')
  const dead = lines.reduce((last, l, i) => (/ is dead$/.test(l) ? i : last), -1)
  if (dead < 0) return undefined
  const t: Takeover = { dead: secondOfDay(lines[dead]!), starts: [] }
  for (const l of lines.slice(dead + 1)) {
    const start = /Running \S+\/(\S+) +(?:(\S+) \S+ )?start$/.exec(l)
    if (start) t.starts.push({ name: start[2] ?? start[1]!, at: secondOfDay(l) })
    else if (/Acquiring resource group/.test(l)) t.group ??= secondOfDay(l)
    else if (/mach_down takeover complete\.$/.test(l)) t.complete ??= secondOfDay(l)
  }
  return t
}

/** The takeover as one line: each mark's seconds after "is dead". */
export function describeTakeover(t: Takeover | undefined): string {
  if (!t) return 'no "is dead" in ha-log'
  const after = (s: number | undefined) => (s === undefined ? '?' : `+${s - t.dead}`)
  return `after "is dead": group ${after(t.group)}, ${t.starts.map((s) => `${s.name} ${after(s.at)}`).join(', ')}, complete ${after(t.complete)} s`
}
