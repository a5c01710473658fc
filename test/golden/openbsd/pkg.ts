// ospfd, isakmpd and ipsecctl are in base; OpenVPN (seed 000's links) is a package.
import { pkg } from '../../../src/steps/pkg.ts'
import { PROBE, type Case } from '../harness.ts'

export default [
  {
    name: 'openbsd pkg: openvpn absent → pkg_add, pkg_delete on undo',
    os: 'openbsd',
    step: pkg('install openvpn', { name: 'openvpn' }),
    probe: 'openvpn\t-\n',
    after: 'openvpn\t2.6.12\n',
    expect: {
      probe: `for p in openvpn; do\nv=-\nfor d in /var/db/pkg/"$p"-[0-9]*; do [ -d "$d" ] && v=\${d#/var/db/pkg/"$p"-}; done\nprintf '%s\\t%s\\n' "$p" "$v"\ndone`,
      changes: ['install openvpn'],
      apply: ['pkg_add -I openvpn'],
      undo: [PROBE, 'pkg_delete -I openvpn'],
    },
  },
  {
    name: 'openbsd pkg: openvpn installed → in sync',
    os: 'openbsd',
    step: pkg('install openvpn', { name: 'openvpn' }),
    probe: 'openvpn\t2.6.12\n',
    expect: { changes: [] },
  },
  {
    name: 'openbsd pkg: state absent → pkg_delete, pkg_add again on undo',
    os: 'openbsd',
    step: pkg('no openvpn', { name: 'openvpn', state: 'absent' }),
    probe: 'openvpn\t2.6.12\n',
    after: 'openvpn\t-\n',
    expect: {
      changes: ['remove openvpn 2.6.12'],
      apply: ['pkg_delete -I openvpn'],
      undo: [PROBE, 'pkg_add -I openvpn'],
    },
  },
  {
    name: 'openbsd pkg: startServices false → the plain install, which starts no service there',
    os: 'openbsd',
    step: pkg('install quagga', { name: 'quagga', startServices: false }),
    probe: 'quagga\t-\n',
    after: 'quagga\t1.2.4p3\n',
    expect: {
      changes: ['install quagga'],
      apply: ['pkg_add -I quagga'],
      undo: [PROBE, 'pkg_delete -I quagga'],
    },
  },
] satisfies Case[]
