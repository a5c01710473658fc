// Seed 000: `pkg install quagga`.
import { pkg } from '../../../src/steps/pkg.ts'
import { PROBE, type Case } from '../harness.ts'

const probeOf = (names: string) =>
  `for p in ${names}; do\nv=$(pkg -N >/dev/null 2>&1 && pkg query %v "$p" 2>/dev/null)\nprintf '%s\\t%s\\n' "$p" "\${v:--}"\ndone`

export default [
  {
    name: 'freebsd pkg: quagga absent → pkg install, removed again on undo',
    os: 'freebsd',
    step: pkg('install quagga', { name: 'quagga' }),
    probe: 'quagga\t-\n',
    after: 'quagga\t1.2.4_10\n',
    expect: {
      probe: probeOf('quagga'),
      changes: ['install quagga'],
      apply: ['ASSUME_ALWAYS_YES=yes pkg install -y quagga'],
      undo: [PROBE, 'pkg delete -y quagga'],
    },
  },
  {
    name: 'freebsd pkg: quagga installed → in sync',
    os: 'freebsd',
    step: pkg('install quagga', { name: 'quagga' }),
    probe: 'quagga\t1.2.4_10\n',
    expect: { changes: [] },
  },
  {
    name: 'freebsd pkg: state absent → pkg delete, reinstalled on undo',
    os: 'freebsd',
    step: pkg('no quagga', { name: 'quagga', state: 'absent' }),
    probe: 'quagga\t1.2.4_10\n',
    after: 'quagga\t-\n',
    expect: {
      changes: ['remove quagga 1.2.4_10'],
      apply: ['pkg delete -y quagga'],
      undo: [PROBE, 'ASSUME_ALWAYS_YES=yes pkg install -y quagga'],
    },
  },
  {
    name: 'freebsd pkg: two names, one installed → only the other; an install that failed leaves undo nothing to remove',
    os: 'freebsd',
    step: pkg('routing', { name: ['quagga', 'openvpn'] }),
    probe: 'quagga\t-\nopenvpn\t2.6.12\n',
    after: 'quagga\t-\nopenvpn\t2.6.12\n',
    expect: {
      probe: probeOf('quagga openvpn'),
      changes: ['install quagga'],
      apply: ['ASSUME_ALWAYS_YES=yes pkg install -y quagga'],
      undo: [PROBE],
    },
  },
  {
    name: 'freebsd pkg: startServices false → the plain install, which starts no service there',
    os: 'freebsd',
    step: pkg('install quagga', { name: 'quagga', startServices: false }),
    probe: 'quagga\t-\n',
    after: 'quagga\t1.2.4_10\n',
    expect: {
      changes: ['install quagga'],
      apply: ['ASSUME_ALWAYS_YES=yes pkg install -y quagga'],
      undo: [PROBE, 'pkg delete -y quagga'],
    },
  },
] satisfies Case[]
