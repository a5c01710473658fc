// The templates' output through the validators the runbooks will use: `vtysh -C -f` for FRR and
// `openvpn --config F --version` for OpenVPN. With the lab tests because the lab's setup is what
// installs frr and openvpn on a fresh machine.
import { expect } from 'vitest'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import frrConf from '../../templates/frr.conf.ts'
import openvpnTap from '../../templates/openvpn-tap.conf.ts'
import { labIt as it, tempDir } from './helpers.ts'

function scratch(name: string, text: string): string {
  const file = join(tempDir('ferry-validate-'), name)
  writeFileSync(file, text, { mode: 0o600 })
  return file
}

it('frr.conf passes vtysh -C -f, and a broken one does not', () => {
  const good = frrConf({
    hostname: 'lab1',
    password: 'zebra-pass',
    routerId: '10.0.0.1',
    area: '0.0.0.0',
    md5Key: 'sixteen-chars-ok',
    interfaces: [{ name: 'tap-lab2' }, { name: 'tap-lab3', cost: 20 }],
    networks: ['172.16.2.0/23', '10.0.0.1/32'],
  })
  execFileSync('vtysh', ['-C', '-f', scratch('frr.conf', good)], { stdio: 'pipe' })
  expect(() =>
    execFileSync('vtysh', ['-C', '-f', scratch('bad.conf', good.replace('router ospf', 'router ospff'))], {
      stdio: 'pipe',
    }),
  ).toThrow()
})

it('openvpn-tap.conf passes openvpn --config F --version, and a broken one does not', () => {
  const vars = {
    dev: 'tap2',
    description: 'TAP to server2',
    remote: '198.18.0.12',
    port: 1194,
    address: '172.16.2.1/30',
    keyFile: '/etc/openvpn/mesh.key',
    keyDirection: 0 as const,
  }
  execFileSync('openvpn', ['--config', scratch('tap2.conf', openvpnTap(vars)), '--version'], { stdio: 'pipe' })
  expect(() =>
    execFileSync('openvpn', ['--config', scratch('bad.conf', `${openvpnTap(vars)}no-such-option 1\n`), '--version'], {
      stdio: 'pipe',
    }),
  ).toThrow()
})
