// FRR and OpenVPN from Debian's packages, as in the lab.
import { pkg } from '../../../src/steps/pkg.ts'
import { PROBE, type Case } from '../harness.ts'
import { HELD_PROBE, heldAptInstall } from '../scripts.ts'

/** dpkg-query alone: what undo asks before it removes or reinstalls (no simulation of an install). */
const versions = (names: string) =>
  [
    `dpkg-query -W -f='\${binary:Package}\\t\${Package}\\t\${Status}\\t\${Version}\\n' -- ${names} 2>/dev/null |`,
    `awk -F '\\t' 'BEGIN { for (i = 1; i < ARGC; i++) want[i] = ARGV[i]; n = ARGC; ARGC = 1 }`,
    '$3 ~ / installed$/ { v[$1] = $4; v[$2] = $4 }',
    `END { for (i = 1; i < n; i++) printf "%s\\t%s\\n", want[i], (want[i] in v ? v[want[i]] : "-") }' ${names}`,
  ].join('\n')

export default [
  {
    name: 'linux pkg: frr and openvpn absent → one apt-get install, both removed on undo',
    os: 'linux',
    step: pkg('routing', { name: ['frr', 'openvpn'] }),
    probe: 'frr\t-\nopenvpn\t-\n',
    after: 'frr\t8.4.4-1.1~deb12u1\nopenvpn\t2.6.3-1+deb12u2\n',
    expect: {
      probe: [
        `dpkg-query -W -f='\${binary:Package}\\t\${Package}\\t\${Status}\\t\${Version}\\n' -- frr openvpn 2>/dev/null |`,
        `awk -F '\\t' 'BEGIN { for (i = 1; i < ARGC; i++) want[i] = ARGV[i]; n = ARGC; ARGC = 1 }`,
        '$3 ~ / installed$/ { v[$1] = $4; v[$2] = $4 }',
        `END { for (i = 1; i < n; i++) printf "%s\\t%s\\n", want[i], (want[i] in v ? v[want[i]] : "-") }' frr openvpn`,
        // apt-get's simulation of the install, for the names missing only: what it would say.
        'set --',
        `for p in frr openvpn; do case $(dpkg-query -W -f='\${Status}' -- "$p" 2>/dev/null) in *' installed') ;; *) set -- "$@" "$p" ;; esac; done`,
        `if [ $# -gt 0 ] && ! e=$(LC_ALL=C apt-get install -s -q -y -- "$@" 2>&1 >/dev/null); then printf 'cannot=%s\\n' "$(printf '%s\\n' "$e" | sed -n 's/^E: //p' | head -n 1)"; fi`,
      ].join('\n'),
      changes: ['install frr', 'install openvpn'],
      apply: ['DEBIAN_FRONTEND=noninteractive apt-get install -y frr openvpn'],
      undo: [versions('frr openvpn'), 'DEBIAN_FRONTEND=noninteractive apt-get remove -y frr openvpn'],
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
    expect: {
      changes: ['remove quagga 1.2.4-4'],
      apply: ['DEBIAN_FRONTEND=noninteractive apt-get remove -y quagga'],
      undo: [PROBE, 'DEBIAN_FRONTEND=noninteractive apt-get install -y quagga'],
    },
  },
  {
    name: "linux pkg: a package apt does not know, nothing earlier changing its lists → refused with apt's reason",
    os: 'linux',
    step: pkg('routing', { name: ['frr', 'quagga'] }),
    probe: 'frr\t8.4.4-1.1~deb12u1\nquagga\t-\ncannot=Unable to locate package quagga\n',
    expect: { error: /^cannot install quagga: Unable to locate package quagga$/ },
  },
  {
    name: 'linux pkg: the same after a step that may add its repository → planned',
    os: 'linux',
    step: pkg('routing', { name: ['frr', 'quagga'] }),
    probe: 'frr\t8.4.4-1.1~deb12u1\nquagga\t-\ncannot=Unable to locate package quagga\n',
    pending: ['*'],
    expect: {
      changes: ['install quagga'],
      apply: ['DEBIAN_FRONTEND=noninteractive apt-get install -y quagga'],
      undo: [versions('frr quagga')],
    },
  },
  {
    name: 'linux pkg: state absent asks apt nothing: no simulation in the probe',
    os: 'linux',
    step: pkg('no quagga', { name: 'quagga', state: 'absent' }),
    probe: 'quagga\t-\n',
    expect: {
      probe: `dpkg-query -W -f='\${binary:Package}\\t\${Package}\\t\${Status}\\t\${Version}\\n' -- quagga 2>/dev/null |\nawk -F '\\t' 'BEGIN { for (i = 1; i < ARGC; i++) want[i] = ARGV[i]; n = ARGC; ARGC = 1 }\n$3 ~ / installed$/ { v[$1] = $4; v[$2] = $4 }\nEND { for (i = 1; i < n; i++) printf "%s\\t%s\\n", want[i], (want[i] in v ? v[want[i]] : "-") }' quagga`,
      changes: [],
    },
  },
  // Seed 002: Heartbeat runs frr and ipsec on the active gateway only, so their install starts neither.
  {
    name: 'linux pkg: startServices false → installed under a policy-rc.d answering 101, written for the install and removed after it',
    os: 'linux',
    step: pkg('ha packages', { name: ['frr', 'strongswan-starter'], startServices: false }),
    probe: 'frr\t-\nstrongswan-starter\t-\n',
    after: 'frr\t8.4.4-1.1~deb12u1\nstrongswan-starter\t5.9.8-5+deb12u6\n',
    expect: {
      probe: [HELD_PROBE],
      changes: ['install frr', 'install strongswan-starter'],
      apply: [heldAptInstall('frr strongswan-starter')],
      undo: [
        versions('frr strongswan-starter'),
        'DEBIAN_FRONTEND=noninteractive apt-get remove -y frr strongswan-starter',
      ],
    },
  },
  {
    name: "linux pkg: startServices false where an administrator's policy-rc.d lets services start → refused at plan time",
    os: 'linux',
    step: pkg('ha packages', { name: 'heartbeat', startServices: false }),
    probe:
      'heartbeat\t-\ncannot=/usr/sbin/policy-rc.d is there and lets services start (it answers 0, not 101): ferry writes its own only where there is none\n',
    expect: {
      error:
        /^cannot install heartbeat: \/usr\/sbin\/policy-rc\.d is there and lets services start \(it answers 0, not 101\)/,
    },
  },
  {
    name: 'linux pkg: startServices false, all installed → in sync, nothing asked of apt-get',
    os: 'linux',
    step: pkg('ha packages', { name: 'heartbeat', startServices: false }),
    probe: 'heartbeat\t1:3.0.6-13+b2\n',
    expect: { changes: [] },
  },
] satisfies Case[]
