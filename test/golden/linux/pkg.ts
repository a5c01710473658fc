// FRR and OpenVPN from Debian's packages, as in the lab.
import { pkg } from '../../../src/steps/pkg.ts'
import { PROBE, type Case } from '../harness.ts'

export default [
  {
    name: 'linux pkg: frr and openvpn absent → one apt-get install, both removed on undo',
    os: 'linux',
    step: pkg('routing', { name: ['frr', 'openvpn'] }),
    probe: 'frr\t-\nopenvpn\t-\n',
    after: 'frr\t8.4.4-1.1~deb12u1\nopenvpn\t2.6.3-1+deb12u2\n',
    expect: {
      probe: `for p in frr openvpn; do\nv=$(dpkg-query -W -f='\${Status} \${Version}\\n' "$p" 2>/dev/null | awk '$3 == "installed" { print $4; exit }')\nprintf '%s\\t%s\\n' "$p" "\${v:--}"\ndone`,
      changes: ['install frr', 'install openvpn'],
      apply: ['DEBIAN_FRONTEND=noninteractive apt-get install -y frr openvpn'],
      undo: [PROBE, 'DEBIAN_FRONTEND=noninteractive apt-get remove -y frr openvpn'],
    },
  },
  {
    name: 'linux pkg: frr installed → in sync',
    os: 'linux',
    step: pkg('routing', { name: 'frr' }),
    probe: 'frr\t8.4.4-1.1~deb12u1\n',
    expect: { changes: [] },
  },
  {
    name: 'linux pkg: state absent → apt-get remove, reinstalled on undo',
    os: 'linux',
    step: pkg('no quagga', { name: 'quagga', state: 'absent' }),
    probe: 'quagga\t1.2.4-4\n',
    after: 'quagga\t-\n',
    expect: { changes: ['remove quagga 1.2.4-4'], apply: ['DEBIAN_FRONTEND=noninteractive apt-get remove -y quagga'], undo: [PROBE, 'DEBIAN_FRONTEND=noninteractive apt-get install -y quagga'] },
  },
] satisfies Case[]
