// What the user and group goldens share: the probes (the same on every OS but for where the
// password hash is read), spelled out literally, and the hashes the cases use.
import { createHash } from 'node:crypto'

/** `openssl passwd -6 -salt ferrygolden 'correct horse'`: what the runbooks pass. */
export const HASH =
  '$6$ferrygolden$sFUI72ltxpTa6/5YQFdJ0iSTD6HZeSpeVjPlOamz8xwHJcGh2KUSHhZGDWhKqbT5s5pW62/BpDKOXB1fj8N2g0'
/** Its SHA-256, as sha256sum prints it (f962e2…): what the probe of a host holding it shows. */
export const HASH_SUM = createHash('sha256').update(HASH).digest('hex')
/** Another hash's SHA-256: a host holding some other password. */
export const OTHER_SUM = createHash('sha256').update('$6$other$x').digest('hex')

/** The user probe: passwd, the uid's holder, groups through one awk; the home; the hash's digest. */
export function userProbe(o: { name: string; uid?: number; asked: string; home: string; digest?: string }): string {
  const awk = [
    'BEGIN { n = split(ENVIRON["W"], w, " "); for (i = 1; i <= n; i++) want[w[i]] = 1 }',
    '$1 == "p" && !p { p = 1; gid = $5; print "exists=1"; print "uid=" $4; print "gid=" $5; print "comment=" $6; print "home=" $7; print "shell=" $8 }',
    '$1 == "u" { print "uid_user=" $2 }',
    '$1 == "g" { if (p && $4 == gid && !pg) { pg = 1; print "group=" $2 } if ($2 in want) print "has=" $2; k = split($5, m, ","); for (i = 1; i <= k; i++) if (m[i] == ENVIRON["U"]) print "member=" $2 }',
  ].join('\n')
  const uid = o.uid === undefined ? '' : ` getent passwd ${o.uid} | sed 's/^/u:/';`
  return [
    `{ getent passwd ${o.name} | sed 's/^/p:/';${uid} getent group | sed 's/^/g:/'; } | U=${o.name} W=${o.asked} awk -F: '${awk}'`,
    `if [ -d ${o.home} ]; then echo home_dir=1; fi`,
    ...(o.digest ? [`echo "hash=$(${o.digest})"`] : []),
  ].join('\n')
}

/** The group probe; `primary` (for a group to remove) adds the users it is the primary group of. */
export function groupProbe(o: { name: string; gid?: number; primary?: boolean }): string {
  const awk = [
    '$1 == "g" && !g { g = 1; print "exists=1"; print "gid=" $4; k = split($5, m, ","); for (i = 1; i <= k; i++) print "member=" m[i] }',
    '$1 == "i" { print "gid_group=" $2 }',
  ].join('\n')
  const gid = o.gid === undefined ? '' : ` getent group ${o.gid} | sed 's/^/i:/';`
  return [
    `{ getent group ${o.name} | sed 's/^/g:/';${gid} } | awk -F: '${awk}'`,
    ...(o.primary
      ? [
          `g=$(getent group ${o.name} | cut -d: -f3)`,
          `if [ -n "$g" ]; then getent passwd | G="$g" awk -F: '$4 == ENVIRON["G"] { print "primary=" $1 }'; fi`,
        ]
      : []),
  ].join('\n')
}

/** What a probe prints for an existing user. */
export function account(o: {
  uid: number
  gid: number
  group: string
  comment?: string
  home: string
  shell: string
  members?: string[]
  has?: string[]
  hash?: string
}): string {
  return [
    'exists=1',
    `uid=${o.uid}`,
    `gid=${o.gid}`,
    `group=${o.group}`,
    `comment=${o.comment ?? ''}`,
    `home=${o.home}`,
    `shell=${o.shell}`,
    ...(o.members ?? []).map((g) => `member=${g}`),
    'home_dir=1',
    ...(o.has ?? []).map((g) => `has=${g}`),
    ...(o.hash ? [`hash=${o.hash}  -`] : []),
    '',
  ].join('\n')
}
