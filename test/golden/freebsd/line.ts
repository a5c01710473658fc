// /boot/loader.conf lines: the if_tap module OpenVPN's TAP links (seed 000) need at boot.
import { line } from '../../../src/steps/line.ts'
import { PROBE, type Case } from '../harness.ts'
import { fileRestore, fileWrite, lsProbe } from '../scripts.ts'

const LOADER = '/boot/loader.conf'
const BEFORE = 'autoboot_delay="3"\nzfs_load="YES"\n'
const tapLoad = (v: string) =>
  line('load if_tap', { path: LOADER, line: `if_tap_load="${v}"`, match: /^#?if_tap_load=/ })

export default [
  {
    name: 'freebsd line: if_tap_load missing → appended, the file otherwise untouched',
    os: 'freebsd',
    step: tapLoad('YES'),
    probe: lsProbe('-rw-r--r--', 'root', 'wheel', BEFORE),
    expect: {
      // A directory at the path (3), or none to make the file in (4), before the file's own probe.
      probe: `if [ -d ${LOADER} ]; then exit 3; elif [ ! -d /boot ]; then exit 4; fi\nif [ -h ${LOADER} ]; then exit 2; elif [ -f ${LOADER} ]; then set -- $(ls -ld ${LOADER}); printf '%s %s %s\\n' "$1" "$3" "$4"; cat ${LOADER}; else exit 1; fi`,
      changes: [
        {
          summary: `add line to ${LOADER}`,
          diff: `--- ${LOADER}\n+++ ${LOADER}\n@@ -1,2 +1,3 @@\n autoboot_delay="3"\n zfs_load="YES"\n+if_tap_load="YES"\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: LOADER, mode: '0644', owner: 'root:wheel', existed: true }),
          input: `${BEFORE}if_tap_load="YES"\n`,
        },
      ],
      undo: [fileRestore(LOADER, '0644', 'root:wheel')],
    },
  },
  {
    name: 'freebsd line: a commented-out if_tap_load and a later duplicate → the first replaced in place, the duplicate dropped',
    os: 'freebsd',
    step: tapLoad('YES'),
    probe: lsProbe('-rw-r--r--', 'root', 'wheel', `#if_tap_load="YES"\n${BEFORE}if_tap_load="NO"\n`),
    expect: {
      changes: [
        {
          summary: `replace line in ${LOADER}`,
          diff: `--- ${LOADER}\n+++ ${LOADER}\n@@ -1,4 +1,3 @@\n-#if_tap_load="YES"\n+if_tap_load="YES"\n autoboot_delay="3"\n zfs_load="YES"\n-if_tap_load="NO"\n`,
        },
      ],
      apply: [
        PROBE,
        {
          cmd: fileWrite({ path: LOADER, mode: '0644', owner: 'root:wheel', existed: true }),
          input: `if_tap_load="YES"\n${BEFORE}`,
        },
      ],
      undo: [fileRestore(LOADER, '0644', 'root:wheel')],
    },
  },
  {
    name: 'freebsd line: if_tap_load="YES" already there → in sync',
    os: 'freebsd',
    step: tapLoad('YES'),
    probe: lsProbe('-rw-r--r--', 'root', 'wheel', `${BEFORE}if_tap_load="YES"\n`),
    expect: { changes: [] },
  },
  {
    name: 'freebsd line: state absent → every matching line removed',
    os: 'freebsd',
    step: line('no if_gre at boot', {
      path: LOADER,
      line: 'if_gre_load="YES"',
      match: '^if_gre_load=',
      state: 'absent',
    }),
    probe: lsProbe('-rw-r--r--', 'root', 'wheel', `if_gre_load="YES"\n${BEFORE}`),
    expect: {
      changes: [
        {
          summary: `remove line from ${LOADER}`,
          diff: `--- ${LOADER}\n+++ ${LOADER}\n@@ -1,3 +1,2 @@\n-if_gre_load="YES"\n autoboot_delay="3"\n zfs_load="YES"\n`,
        },
      ],
      apply: [
        PROBE,
        { cmd: fileWrite({ path: LOADER, mode: '0644', owner: 'root:wheel', existed: true }), input: BEFORE },
      ],
      undo: [fileRestore(LOADER, '0644', 'root:wheel')],
    },
  },
  {
    name: 'freebsd line: no loader.conf → created holding the line, removed on undo',
    os: 'freebsd',
    step: tapLoad('YES'),
    probe: { stdout: '', code: 1 },
    expect: {
      changes: [
        { summary: `create ${LOADER}`, diff: `--- /dev/null\n+++ ${LOADER}\n@@ -0,0 +1,1 @@\n+if_tap_load="YES"\n` },
      ],
      apply: [PROBE, { cmd: fileWrite({ path: LOADER, mode: '0644', existed: false }), input: 'if_tap_load="YES"\n' }],
      undo: [`rm -f ${LOADER}`],
    },
  },
  {
    name: "freebsd line: a port's config before the port (no /usr/local/etc/openvpn) → refused: line makes no directories",
    os: 'freebsd',
    step: line('openvpn verb', { path: '/usr/local/etc/openvpn/tap0.conf', line: 'verb 3', match: /^verb / }),
    probe: { stdout: '', code: 4 },
    expect: {
      error: /^cannot create \/usr\/local\/etc\/openvpn\/tap0\.conf: there is no directory \/usr\/local\/etc\/openvpn/,
    },
  },
] satisfies Case[]
