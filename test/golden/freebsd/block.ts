// Managed blocks on a seed-000 FreeBSD router: a Match block at the end of sshd_config, OpenVPN
// options (whose config comments are `;`), Quagga's vty passwords (`!`, masked) and loader.conf.
import { block } from '../../../src/steps/block.ts'
import { PROBE, type Case } from '../harness.ts'
import { fileRestore, fileRestoreScript, fileWrite, lsProbe, fileProbe } from '../scripts.ts'

const SSHD = '/etc/ssh/sshd_config'
// The end of FreeBSD's shipped sshd_config.
const SSHD_TAIL = `# Example of overriding settings on a per-user basis
#Match User anoncvs
#\tX11Forwarding no
#\tAllowTcpForwarding no
#\tForceCommand cvs server
`
const MATCH = 'Match Address 172.16.2.0/23\n\tPermitRootLogin prohibit-password\n'

const OVPN = '/usr/local/etc/openvpn/openvpn.conf'
const OVPN_CONF = `dev tap0
;dev tun
proto udp
port 1194
`

const ZEBRA = '/usr/local/etc/quagga/zebra.conf'
const zebra = (pw: string) =>
  `hostname server1\n! BEGIN FERRY vty passwords\npassword ${pw}\nenable password ${pw}\n! END FERRY vty passwords\n!\n`

const LOADER = '/boot/loader.conf'

export default [
  {
    name: 'freebsd block: a Match block at the end of sshd_config, checked by sshd -t -f; risky, so the revert job restores it',
    os: 'freebsd',
    step: block('mesh root logins', { path: SSHD, content: MATCH, validate: 'sshd -t -f %s' }),
    probe: lsProbe('-rw-r--r--', 'root', 'wheel', SSHD_TAIL),
    expect: {
      probe: fileProbe(SSHD),
      changes: [
        {
          summary: `add block mesh root logins to ${SSHD}`,
          diff: `--- ${SSHD}\n+++ ${SSHD}\n@@ -3,3 +3,7 @@\n #\tX11Forwarding no\n #\tAllowTcpForwarding no\n #\tForceCommand cvs server\n+# BEGIN FERRY mesh root logins\n+Match Address 172.16.2.0/23\n+\tPermitRootLogin prohibit-password\n+# END FERRY mesh root logins\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: SSHD, mode: '0644', owner: 'root:wheel', validate: 'sshd -t -f %s', existed: true }),
          input: `${SSHD_TAIL}# BEGIN FERRY mesh root logins\n${MATCH}# END FERRY mesh root logins\n`,
        },
      ],
      undo: [fileRestore(SSHD, '0644', 'root:wheel')],
      revert: [fileRestoreScript(SSHD, '0644', 'root:wheel')],
    },
  },
  {
    name: 'freebsd block: OpenVPN options after `dev tap0`, the markers `;` comments as OpenVPN writes them, checked by openvpn --version',
    os: 'freebsd',
    step: block('keepalive', {
      path: OVPN,
      comment: ';',
      content: 'keepalive 1 4\nping-timer-rem\n',
      after: '^dev tap',
      validate: 'openvpn --config %s --version',
    }),
    probe: lsProbe('-rw-------', 'root', 'wheel', OVPN_CONF),
    expect: {
      changes: [
        {
          summary: `add block keepalive to ${OVPN}`,
          diff: `--- ${OVPN}\n+++ ${OVPN}\n@@ -1,4 +1,8 @@\n dev tap0\n+; BEGIN FERRY keepalive\n+keepalive 1 4\n+ping-timer-rem\n+; END FERRY keepalive\n ;dev tun\n proto udp\n port 1194\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({
            path: OVPN,
            mode: '0600',
            owner: 'root:wheel',
            validate: 'openvpn --config %s --version',
            existed: true,
          }),
          input:
            'dev tap0\n; BEGIN FERRY keepalive\nkeepalive 1 4\nping-timer-rem\n; END FERRY keepalive\n;dev tun\nproto udp\nport 1194\n',
        },
      ],
      undo: [fileRestore(OVPN, '0600', 'root:wheel')],
      revert: [fileRestoreScript(OVPN, '0600', 'root:wheel')],
    },
  },
  {
    name: "freebsd block: only zebra.conf's masked passwords changed → the summary says so, the diff shows neither",
    os: 'freebsd',
    step: block('vty passwords', {
      path: ZEBRA,
      comment: '!',
      content: 'password n3w-zebra\nenable password n3w-zebra\n',
      mask: [/password (\S+)/],
    }),
    probe: lsProbe('-rw-------', 'quagga', 'quagga', zebra('0ld-zebra')),
    expect: {
      changes: [
        { summary: `replace block vty passwords in ${ZEBRA}: a masked secret`, diff: `--- ${ZEBRA}\n+++ ${ZEBRA}\n` },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: ZEBRA, mode: '0600', owner: 'quagga:quagga', existed: true }),
          input: zebra('n3w-zebra'),
        },
      ],
      undo: [fileRestore(ZEBRA, '0600', 'quagga:quagga')],
    },
  },
  {
    name: 'freebsd block: `after` matches no line of loader.conf → at the end, and the summary says why',
    os: 'freebsd',
    step: block('tunnel modules', { path: LOADER, content: 'if_tap_load="YES"\n', after: /^zfs_load=/ }),
    probe: lsProbe('-rw-r--r--', 'root', 'wheel', 'autoboot_delay="3"'),
    expect: {
      changes: [
        {
          summary: `add block tunnel modules to ${LOADER} (no line matches /^zfs_load=/: at the end)`,
          diff: `--- ${LOADER}\n+++ ${LOADER}\n@@ -1,1 +1,4 @@\n-autoboot_delay="3"\n\\ No newline at end of file\n+autoboot_delay="3"\n+# BEGIN FERRY tunnel modules\n+if_tap_load="YES"\n+# END FERRY tunnel modules\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: LOADER, mode: '0644', owner: 'root:wheel', existed: true }),
          input: 'autoboot_delay="3"\n# BEGIN FERRY tunnel modules\nif_tap_load="YES"\n# END FERRY tunnel modules\n',
        },
      ],
      undo: [fileRestore(LOADER, '0644', 'root:wheel')],
    },
  },
  {
    name: 'freebsd block: the same block twice in loader.conf → refused at plan time, naming the lines',
    os: 'freebsd',
    step: block('tunnel modules', { path: LOADER, content: 'if_tap_load="YES"\n' }),
    probe: lsProbe(
      '-rw-r--r--',
      'root',
      'wheel',
      '# BEGIN FERRY tunnel modules\nif_tap_load="YES"\n# END FERRY tunnel modules\n'.repeat(2),
    ),
    expect: {
      error:
        /^\/boot\/loader\.conf: the markers of block "tunnel modules" do not pair up \(# BEGIN FERRY tunnel modules: lines 1, 4; # END FERRY tunnel modules: lines 3, 6\): mend the file by hand$/,
    },
  },
] satisfies Case[]
