// command and verify know no OS: they run what the runbook says. Their cases are the same shape
// on every OS, with each OS's own commands, from the seeds where there is one.
import { command } from '../../src/steps/command.ts'
import { verify } from '../../src/steps/verify.ts'
import type { Os } from '../../src/inventory/types.ts'
import type { Case } from './harness.ts'

const COMMANDS: Record<Os, { run: string; undo: string; unless: string; creates: string; wait: string; full: string }> =
  {
    // seed 000: Quagga started by rc; seed 003: IPsec flows loaded by ipsecctl.
    freebsd: {
      run: 'service quagga start',
      undo: 'service quagga stop',
      unless: 'service quagga status',
      creates: '/var/run/quagga/zebra.pid',
      wait: 'vtysh -c "show ip ospf neighbor"',
      full: 'Full/',
    },
    openbsd: {
      run: 'ipsecctl -f /etc/ipsec.conf',
      undo: 'ipsecctl -F',
      unless: 'ipsecctl -s sa | grep -q esp',
      creates: '/var/run/isakmpd.pid',
      wait: 'ospfctl show neighbor',
      full: 'FULL/',
    },
    linux: {
      run: '/usr/lib/frr/frrinit.sh start',
      undo: '/usr/lib/frr/frrinit.sh stop',
      unless: 'pgrep -x zebra',
      creates: '/run/frr/zebra.pid',
      wait: 'vtysh -c "show ip ospf neighbor json"',
      full: 'Full/-',
    },
  }

export function commonCases(os: Os): Case[] {
  const c = COMMANDS[os]
  const [bin, ...args] = c.run.split(' ')
  const [ubin, ...uargs] = c.undo.split(' ')
  const start = (opts: Parameters<typeof command>[2]) =>
    command('start routing', async ({ $ }) => void (await $`${bin} ${args}`), {
      ...opts,
      undo: async ({ $ }) => void (await $`${ubin} ${uargs}`),
    })
  return [
    {
      name: `${os} command: unless guard fails → runs, undo runs its undo`,
      os,
      step: start({ unless: c.unless }),
      probe: { stdout: '', code: 1 },
      expect: {
        probe: `{ ( ${c.unless} ); } >/dev/null 2>&1`,
        changes: ['run: start routing'],
        apply: [c.run],
        undo: [c.undo],
      },
    },
    {
      name: `${os} command: creates path exists → in sync`,
      os,
      step: start({ creates: c.creates }),
      probe: { stdout: '', code: 0 },
      expect: { probe: `{ ( test -e ${c.creates} ); } >/dev/null 2>&1`, changes: [] },
    },
    {
      name: `${os} command: both guards, neither holds → runs`,
      os,
      step: start({ creates: c.creates, unless: c.unless }),
      probe: { stdout: '', code: 1 },
      expect: {
        probe: `{ ( test -e ${c.creates} ) || ( ${c.unless} ); } >/dev/null 2>&1`,
        changes: ['run: start routing'],
        apply: [c.run],
        undo: [c.undo],
      },
    },
    {
      name: `${os} command: no guard → always runs`,
      os,
      step: start({}),
      probe: { stdout: '', code: 1 },
      expect: { probe: 'exit 1', changes: ['run: start routing'], apply: [c.run], undo: [c.undo] },
    },
    {
      name: `${os} verify: neighbour already Full → nothing to wait for`,
      os,
      step: verify('ospf full', { command: c.wait, expect: (out) => out.includes(c.full) || 'no Full neighbour' }),
      probe: `10.0.0.2 1 ${c.full}DR 3.2s 172.16.2.2 tap0\n`,
      expect: { probe: c.wait, changes: [] },
    },
    {
      name: `${os} verify: command fails → waits, polling it through sh -c (stderr only explains a failure)`,
      os,
      step: verify('ospf full', { command: c.wait, timeout: 1 }),
      probe: { stdout: 'connection refused\n', code: 1 },
      expect: {
        changes: [`wait until ospf full (now: \`${c.wait}\` exited 1: connection refused)`],
        apply: [`sh -c '${c.wait.replaceAll("'", `'\\''`)}'`],
        undo: [],
      },
    },
    {
      name: `${os} verify: not Full yet → polls until the timeout, then says what is missing`,
      os,
      step: verify('ospf full', {
        command: c.wait,
        timeout: 0.5,
        interval: 1,
        expect: (out) => out.includes(c.full) || 'no Full neighbour',
      }),
      probe: '10.0.0.2 1 Init 3.2s\n',
      expect: {
        changes: ['wait until ospf full (now: no Full neighbour)'],
        apply: [`sh -c '${c.wait.replaceAll("'", `'\\''`)}'`],
        applyError: /^not satisfied after 0.5 s: no Full neighbour$/,
      },
    },
  ]
}
