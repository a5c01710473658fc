// FreeBSD jail(8): seed 000's jails, each on its own dataset with a /32 on lo2. A jail is defined
// in /etc/jail.conf.d/NAME.conf (its `ip4.addr = "lo2|172.16.3.17/32"` puts the /32 on lo2 when
// it starts), started at boot when rc.conf's jail_list names it. No FreeBSD machine exists where
// ferry is developed: these lines are proved by golden tests, which run them against stand-ins
// for sysrc, jail, jls and zfs that print what FreeBSD's print (test/golden/standins/).

import { quote } from '../shell/quote.ts'
import { definitionProbe, parentOf, type JailDriver, type JailSpec } from './driver.ts'
import { datasetProbe, poolsProbe } from './zfs.ts'

const conf = (j: JailSpec) => `/etc/jail.conf.d/${j.name}.conf`
const running = (j: JailSpec) => `jls -j ${quote(j.name)} jid >/dev/null 2>&1`
/** A jail.conf(5) string: `$` would start a variable, and `"` and `\` need their backslash. */
const confString = (s: string) => `"${s.replace(/[\\"$]/g, '\\$&')}"`

export const freebsdJails: JailDriver = {
  kind: 'FreeBSD jail(8)',
  configPath: conf,

  // The FreeBSD Handbook's jail: its root, its name, its /32 on lo2, its own rc. No parameter
  // runs anything on the host (exec.prestart and the like) or widens what the jail may do.
  definition: (j, root) => [
    `${j.name} {`,
    `\tpath = ${confString(root)};`,
    `\thost.hostname = ${confString(j.name)};`,
    `\tip4.addr = ${confString(`lo2|${j.address}`)};`,
    '\texec.start = "/bin/sh /etc/rc";',
    '\texec.stop = "/bin/sh /etc/rc.shutdown";',
    '\texec.clean;',
    '\tmount.devfs;',
    '}',
  ],

  discover: (jails) =>
    [
      ...jails.flatMap((j) => [
        `printf 'jail\\t%s\\n' ${quote(j.name)}`,
        definitionProbe(conf(j)),
        `case " $(sysrc -n jail_list 2>/dev/null) " in *${quote(` ${j.name} `)}*) echo autostart ;; esac`,
        `if ${running(j)}; then echo running; sockstat -4 -l -q -j ${quote(j.name)} | awk '$5 ~ /^tcp/ { n = split($6, a, ":"); print "listen\\t" a[n] }'; fi`,
        datasetProbe(j.dataset, parentOf(j.dataset)),
      ]),
      poolsProbe,
      `ifconfig -a inet | awk '$1 == "inet" { print "addr\\t" $2 }'`,
      'true',
    ].join('\n'),

  // jail -c mounts nothing of ZFS's: the dataset was received unmounted.
  start: (j) =>
    [
      `[ "$(zfs get -H -o value mounted ${quote(j.dataset)})" = yes ] || zfs mount ${quote(j.dataset)}`,
      `jail -f ${quote(conf(j))} -c ${quote(j.name)}`,
    ].join('\n'),

  stop: (j) => `if ${running(j)}; then jail -f ${quote(conf(j))} -r ${quote(j.name)}; fi`,

  autostart: (j, on) => `sysrc ${quote(`jail_list${on ? '+' : '-'}=${j.name}`)}`,
}
