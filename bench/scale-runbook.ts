// The scale benchmark's runbook (bench/scale.ts, test/lab/scale.test.ts): ten ordinary steps that
// a bare Debian root (a scale-lab host: sshd and nothing else) can take, every one idempotent, so
// the second run changes nothing and costs the three round trips of a no-op (connect, lock and
// probe, release). The first run creates /etc/ferry-scale with three files, adds two lines; the
// sysctls are already as wanted (a fresh netns's defaults) and only checked, live.
import { command, defineRunbook, file, line, sysctl, verify } from 'ferry'

const DIR = '/etc/ferry-scale'

export default defineRunbook({
  name: 'scale-noop',
  description:
    'Ten idempotent steps on a bare Debian host: a directory, three files, two lines, two live sysctls, two checks',
  hosts: 'all',
  steps: ({ host }) => [
    command(
      'config directory',
      async ({ $ }) => {
        await $`mkdir -p ${DIR}`
      },
      {
        creates: DIR,
        touches: [`file:${DIR}/node.conf`, `file:${DIR}/limits.conf`, `file:${DIR}/motd`],
        undo: async ({ $ }) => {
          await $`rm -rf ${DIR}`
        },
      },
    ),
    file('node.conf', {
      path: `${DIR}/node.conf`,
      content: `name=${host.name}\naddress=${host.address}\nrole=scale\n`,
    }),
    file('limits.conf', { path: `${DIR}/limits.conf`, content: 'nofile=65536\nnproc=4096\n', mode: 0o600 }),
    file('motd', { path: `${DIR}/motd`, content: `${host.name}: managed by ferry; local changes are overwritten\n` }),
    line('hosts entry', {
      path: '/etc/hosts',
      line: `${host.address} ${host.name}`,
      match: new RegExp(`\\s${host.name}$`),
    }),
    line('environment', { path: '/etc/environment', line: 'FERRY_SCALE=1', match: /^FERRY_SCALE=/ }),
    sysctl('syncookies', { key: 'net.ipv4.tcp_syncookies', value: '1', persist: false }),
    sysctl('ignore broadcast pings', { key: 'net.ipv4.icmp_echo_ignore_broadcasts', value: '1', persist: false }),
    verify('node.conf names this host', {
      command: `cat ${DIR}/node.conf`,
      timeout: 5,
      expect: (out) => out.includes(`name=${host.name}\n`) || `node.conf says ${out.split('\n')[0]}`,
    }),
    verify('host name resolves', {
      command: `getent hosts ${host.name}`,
      timeout: 5,
      expect: (out) => out.startsWith(`${host.address} `) || `getent says ${out.trim() || 'nothing'}`,
    }),
  ],
})
