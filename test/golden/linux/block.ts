// Managed blocks on Debian: the mesh's loopback names in /etc/hosts, strongSwan's pre-shared keys
// in /etc/ipsec.secrets (masked in diffs), and a prefix list in FRR's frr.conf, whose comments are `!`.
import { block } from '../../../src/steps/block.ts'
import { PROBE, type Case } from '../harness.ts'
import { fileRestore, fileRestoreScript, fileWrite, lsProbe, fileProbe } from '../scripts.ts'

const HOSTS = '/etc/hosts'
const HOSTS_SHIPPED = `127.0.0.1\tlocalhost
127.0.1.1\tlab1

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
`
const LOOPBACKS = '10.0.0.1\tlab1-lo\n10.0.0.2\tlab2-lo\n'
const WITH_BLOCK = HOSTS_SHIPPED.replace(
  'lab1\n',
  `lab1\n# BEGIN FERRY mesh loopbacks\n${LOOPBACKS}# END FERRY mesh loopbacks\n`,
)
const loopbacks = (state?: 'absent') =>
  block('mesh loopbacks', { path: HOSTS, content: LOOPBACKS, after: /^127\.0\.1\.1\s/, state })

const SECRETS = '/etc/ipsec.secrets'
const secrets = (psk: string) =>
  block('mesh psk', {
    path: SECRETS,
    content: `198.18.0.11 198.18.0.12 : PSK "${psk}"\n198.18.0.11 198.18.0.13 : PSK "${psk}"\n`,
    mask: [/PSK "([^"]*)"/],
  })

const FRR = '/etc/frr/frr.conf'
const FRR_CONF = `frr defaults traditional
hostname lab1
!
router ospf
 ospf router-id 10.0.0.1
!
line vty
!
`
const prefixList = () =>
  block('loopbacks', {
    path: FRR,
    comment: '!',
    content: 'ip prefix-list LOOPBACKS seq 5 permit 10.0.0.0/24 le 32\n',
    before: /^line vty/,
    validate: 'vtysh -C -f %s',
  })

export default [
  {
    name: 'linux block: mesh loopbacks in /etc/hosts → inserted after the 127.0.1.1 line, between markers',
    os: 'linux',
    step: loopbacks(),
    probe: lsProbe('-rw-r--r--', 'root', 'root', HOSTS_SHIPPED),
    expect: {
      probe: fileProbe(HOSTS),
      changes: [
        {
          summary: `add block mesh loopbacks to ${HOSTS}`,
          diff: `--- ${HOSTS}\n+++ ${HOSTS}\n@@ -1,5 +1,9 @@\n 127.0.0.1\tlocalhost\n 127.0.1.1\tlab1\n+# BEGIN FERRY mesh loopbacks\n+10.0.0.1\tlab1-lo\n+10.0.0.2\tlab2-lo\n+# END FERRY mesh loopbacks\n \n # The following lines are desirable for IPv6 capable hosts\n ::1     localhost ip6-localhost ip6-loopback\n`,
        },
      ],
      apply: [
        PROBE,
        { cmd: fileWrite({ path: HOSTS, mode: '0644', owner: 'root:root', existed: true }), input: WITH_BLOCK },
      ],
      undo: [fileRestore(HOSTS, '0644', 'root:root')],
    },
  },
  {
    name: 'linux block: a line inside the block edited by hand → the block replaced where it stands, the rest untouched',
    os: 'linux',
    step: loopbacks(),
    probe: lsProbe('-rw-r--r--', 'root', 'root', WITH_BLOCK.replace('10.0.0.2\tlab2-lo', '10.0.0.9\tlab2-lo')),
    expect: {
      changes: [
        {
          summary: `replace block mesh loopbacks in ${HOSTS}`,
          diff: `--- ${HOSTS}\n+++ ${HOSTS}\n@@ -2,7 +2,7 @@\n 127.0.1.1\tlab1\n # BEGIN FERRY mesh loopbacks\n 10.0.0.1\tlab1-lo\n-10.0.0.9\tlab2-lo\n+10.0.0.2\tlab2-lo\n # END FERRY mesh loopbacks\n \n # The following lines are desirable for IPv6 capable hosts\n`,
        },
      ],
      apply: [
        PROBE,
        { cmd: fileWrite({ path: HOSTS, mode: '0644', owner: 'root:root', existed: true }), input: WITH_BLOCK },
      ],
      undo: [fileRestore(HOSTS, '0644', 'root:root')],
    },
  },
  {
    name: 'linux block: the block as wanted → in sync',
    os: 'linux',
    step: loopbacks(),
    probe: lsProbe('-rw-r--r--', 'root', 'root', WITH_BLOCK),
    expect: { changes: [] },
  },
  {
    name: 'linux block: state absent → the block and its markers removed',
    os: 'linux',
    step: loopbacks('absent'),
    probe: lsProbe('-rw-r--r--', 'root', 'root', WITH_BLOCK),
    expect: {
      changes: [
        {
          summary: `remove block mesh loopbacks from ${HOSTS}`,
          diff: `--- ${HOSTS}\n+++ ${HOSTS}\n@@ -1,9 +1,5 @@\n 127.0.0.1\tlocalhost\n 127.0.1.1\tlab1\n-# BEGIN FERRY mesh loopbacks\n-10.0.0.1\tlab1-lo\n-10.0.0.2\tlab2-lo\n-# END FERRY mesh loopbacks\n \n # The following lines are desirable for IPv6 capable hosts\n ::1     localhost ip6-localhost ip6-loopback\n`,
        },
      ],
      apply: [
        PROBE,
        { cmd: fileWrite({ path: HOSTS, mode: '0644', owner: 'root:root', existed: true }), input: HOSTS_SHIPPED },
      ],
      undo: [fileRestore(HOSTS, '0644', 'root:root')],
    },
  },
  {
    name: 'linux block: a rotated PSK in ipsec.secrets (0600) → neither key in the diff, the new one only on stdin',
    os: 'linux',
    step: secrets('new-psk-2'),
    probe: lsProbe(
      '-rw-------',
      'root',
      'root',
      '# ipsec.secrets\n# BEGIN FERRY mesh psk\n198.18.0.11 198.18.0.12 : PSK "old-psk-1"\n# END FERRY mesh psk\n',
    ),
    expect: {
      changes: [
        {
          summary: `replace block mesh psk in ${SECRETS}`,
          diff: `--- ${SECRETS}\n+++ ${SECRETS}\n@@ -1,4 +1,5 @@\n # ipsec.secrets\n # BEGIN FERRY mesh psk\n 198.18.0.11 198.18.0.12 : PSK "********"\n+198.18.0.11 198.18.0.13 : PSK "********"\n # END FERRY mesh psk\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: SECRETS, mode: '0600', owner: 'root:root', existed: true }),
          input:
            '# ipsec.secrets\n# BEGIN FERRY mesh psk\n198.18.0.11 198.18.0.12 : PSK "new-psk-2"\n198.18.0.11 198.18.0.13 : PSK "new-psk-2"\n# END FERRY mesh psk\n',
        },
      ],
      undo: [fileRestore(SECRETS, '0600', 'root:root')],
    },
  },
  {
    name: 'linux block: a prefix list in frr.conf, `!` markers before `line vty`, checked by vtysh -C; risky, so revertible',
    os: 'linux',
    step: prefixList(),
    probe: lsProbe('-rw-r-----', 'frr', 'frr', FRR_CONF),
    expect: {
      changes: [
        {
          summary: `add block loopbacks to ${FRR}`,
          diff: `--- ${FRR}\n+++ ${FRR}\n@@ -4,5 +4,8 @@\n router ospf\n  ospf router-id 10.0.0.1\n !\n+! BEGIN FERRY loopbacks\n+ip prefix-list LOOPBACKS seq 5 permit 10.0.0.0/24 le 32\n+! END FERRY loopbacks\n line vty\n !\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: FRR, mode: '0640', owner: 'frr:frr', validate: 'vtysh -C -f %s', existed: true }),
          input: FRR_CONF.replace(
            'line vty',
            '! BEGIN FERRY loopbacks\nip prefix-list LOOPBACKS seq 5 permit 10.0.0.0/24 le 32\n! END FERRY loopbacks\nline vty',
          ),
        },
      ],
      undo: [fileRestore(FRR, '0640', 'frr:frr')],
      revert: [fileRestoreScript(FRR, '0640', 'frr:frr')],
    },
  },
  {
    name: 'linux block: a BEGIN marker whose END was deleted → refused at plan time, naming the lines',
    os: 'linux',
    step: loopbacks(),
    probe: lsProbe('-rw-r--r--', 'root', 'root', WITH_BLOCK.replace('# END FERRY mesh loopbacks\n', '')),
    expect: {
      error:
        /^\/etc\/hosts: the markers of block "mesh loopbacks" do not pair up \(# BEGIN FERRY mesh loopbacks: line 3; # END FERRY mesh loopbacks: none\): mend the file by hand$/,
    },
  },
] satisfies Case[]
