// The long command lines golden cases expect, spelled out once here rather than in every case.
// They are written out literally, not built by the code under test: not even the quoting, so a
// change to src/shell/quote.ts shows up in the goldens.

/**
 * POSIX single quoting as ferry does it, restated: a word of only letters, digits and
 * `_ / . , : = @ % + -` stays bare; anything else (the empty word too) goes in single quotes, with
 * each `'` written `'\''`.
 */
function quote(word: string): string {
  return /^[A-Za-z0-9_/.,:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

/** Where `file` keeps PATH's old copy, as the golden harness names it. */
const backupOf = (path: string) => `/var/backups/ferry/${path.replaceAll('/', '%2F')}/BACKUP`

const fail = (why: string) => `{ echo "ferry: $f ${why}" >&2; exit 1; }`

/** The private directory beside PATH, made, entered and checked, that every write in PATH's directory begins with. */
function beside(path: string, what: string): string[] {
  const dir = path.slice(0, path.lastIndexOf('/'))
  const name = path.slice(path.lastIndexOf('/') + 1)
  return [
    'umask 077',
    `n=${quote(name)}`,
    `cd -P ${dir} && d=$(pwd -P) && p=$(mktemp -d .ferry.XXXXXX) || exit 1`,
    `cd -P "$p" 2>/dev/null && set -- $(ls -nd .) && case "$1:$3:$(pwd -P)" in drwx--[-S]---*":$(id -u):\${d%/}/$p") ;; *) false ;; esac || ${fail(`was not ${what}: the private directory ferry made beside it was replaced (another user is racing ferry there)`)}`,
  ]
}

/** The old file hard-linked into the private directory and checked there. */
const LINK_OLD = `ln -P "../$n" "./$n.was" || exit 1; [ ! -h "./$n.was" ] || ${fail('is a symbolic link: ferry replaces regular files only (give the path it points to)')}; set -- $(ls -nd "./$n.was"); [ -f "./$n.was" ] && [ "$2" -le 2 ] || ${fail('is not a regular file with one link: ferry does not write through hard links')}`

/**
 * The one way ferry writes a file (src/platform/common.ts replaceFile): a private directory
 * beside it, entered and checked; the old file reached by `ln -P` and checked there; owner and
 * mode, then the content; the validator; the backup; the rename over it.
 */
function replaced(
  path: string,
  o: { content: string; mode?: string; owner?: string; validate?: string; backup?: string; removeIfEmpty?: boolean },
): string {
  const body = [
    ...beside(path, 'written'),
    `trap 'rm -f "./$n" "./$n.was"; cd .. && rmdir "$p" 2>/dev/null' EXIT`,
    'o=/dev/null',
    `if [ -e "../$n" ] || [ -h "../$n" ]; then [ ! -d "../$n" ] || ${fail('is a directory')}; ${LINK_OLD}; o="./$n.was"; fi`,
    o.mode === undefined
      ? 'if [ "$o" = /dev/null ]; then : > "./$n" && chmod 0644 "./$n"; else cp -p "$o" "./$n"; fi || exit 1'
      : `: > "./$n" && ${o.owner ? `chown ${o.owner} "./$n" && ` : ''}chmod ${o.mode} "./$n" || exit 1`,
    `{ ${o.content}; } > "./$n" || exit 1`,
    ...(o.validate
      ? [
          `if ! out=$(${o.validate.replaceAll('%s', '"./$n"')} 2>&1); then printf 'validation failed: %s\\n%s\\n' ${quote(o.validate)} "$out" >&2; exit 3; fi`,
        ]
      : []),
    ...(o.backup
      ? [
          `if [ "$o" != /dev/null ]; then mkdir -p ${quote(o.backup.slice(0, o.backup.lastIndexOf('/')))} && cat "$o" > ${quote(o.backup)} || exit 1; fi`,
        ]
      : []),
    o.removeIfEmpty ? 'if [ -s "./$n" ]; then mv -f "./$n" ..; else rm -f "../$n"; fi' : 'mv -f "./$n" ..',
  ]
  return `f=${path}; ( ${body.join('; ')} )`
}

/** What `file` (and `line`, which writes through it) sends: the script, the content on stdin. */
export function fileWrite(o: {
  path: string
  mode: string
  owner?: string
  validate?: string
  existed: boolean
  /** Parents made first (outermost first), with their mode and owner. */
  parents?: { dirs: string[]; mode: string; owner?: string }
}): string {
  const write = replaced(o.path, {
    content: 'cat',
    mode: o.mode,
    owner: o.owner,
    validate: o.validate,
    backup: o.existed ? backupOf(o.path) : undefined,
  })
  return o.parents ? `${madeParents(o.parents.dirs, o.parents.mode, o.parents.owner)} || exit 1; ${write}` : write
}

/** What `file` with `state: 'absent'` sends: an empty file that replaces nothing, so the old one is kept and removed. */
export function fileRemove(path: string): string {
  return replaced(path, { content: ':', mode: '0600', backup: backupOf(path), removeIfEmpty: true })
}

/** The file step's probe: the parents' lines (unless absent), the owners' lines, a directory refused, the file. */
export function fileProbe(path: string, o: { parents?: boolean; owners?: string[] } = {}): string {
  const dir = path.slice(0, path.lastIndexOf('/'))
  return [
    ...(o.parents === false ? [] : [parentsProbe(dir)]),
    ...(o.owners ?? []),
    `if [ -d ${path} ] && [ ! -h ${path} ]; then exit 3; fi`,
    `if [ -h ${path} ]; then exit 2; elif [ -f ${path} ]; then set -- $(ls -ld ${path}); m=$1 u=$3 g=$4; set -- $(ls -ldn ${path}); printf '%s %s %s %s %s\\n' "$m" "$u" "$g" "$3" "$4"; cat ${path}; else exit 1; fi`,
  ].join('\n')
}

/** Walks up from DIR to the first directory that exists, printing each missing one, then where they would go. */
export function parentsProbe(dir: string): string {
  return `d=${dir}; m=; while [ ! -d "$d" ]; do if [ -e "$d" ] || [ -h "$d" ]; then printf 'notdir=%s\\n' "$d"; m=; break; fi; printf 'missing=%s\\n' "$d"; m=1; d=\${d%/*}; d=\${d:-/}; done; if [ -n "$m" ]; then set -- $(ls -nd "$d/."); printf 'base=%s %s\\nme=%s\\n' "$1" "$3" "$(id -u)"; fi`
}

/** The probe line that looks a user up. */
export const userProbe = (u: string) =>
  `if u=$(id -u ${u} 2>/dev/null); then printf 'uid=%s %s\\n' ${u} "$u"; else printf 'nouser=%s\\n' ${u}; fi`

/** The probe line that looks a group up. */
export const groupProbe = (g: string) => `getent group ${g} >/dev/null 2>&1; [ $? != 2 ] || printf 'nogroup=%s\\n' ${g}`

/** What a probe prints for missing parents (innermost first, as the walk up finds them) and where they would go. */
export const missingLines = (dirs: string[], base = 'drwxr-xr-x 0', me = '0') =>
  `${[...dirs]
    .reverse()
    .map((d) => `missing=${d}\n`)
    .join('')}base=${base}\nme=${me}\n`

const chownChmod = (mode: string, owner: string | undefined, name: string) =>
  `${owner ? `chown ${owner} ${name} && ` : ''}chmod ${mode} ${name}`

/**
 * Missing parents made by path, outermost first, each left if it exists by now, each only where
 * no one else may write (a failure names the one not made). Directory modes are five digits,
 * `00755`, which GNU chmod needs to clear a setgid bit.
 */
export function madeParents(dirs: string[], mode: string, owner?: string): string {
  const made = dirs.map(
    (d) =>
      `if [ ! -d ${d} ]; then f=${d}; set -- $(ls -nd ${d.slice(0, d.lastIndexOf('/')) || '/'}/.); case "$1" in ?????w*|????????w*) false ;; esac && [ "$3" = "$u" ] || ${fail('was not made: a directory above it may be written by another user')}; mkdir ${d} && ${chownChmod(mode, owner, d)} || exit 1; fi`,
  )
  return `( umask 077; u=$(id -u); ${made.join('; ')} )`
}

/** Those parents removed again, innermost first, each only if empty. */
export const removedParents = (dirs: string[]) => `{ rmdir ${[...dirs].reverse().join(' ')} 2>/dev/null || true; }`

/** A directory made in a private directory beside it and renamed into place (filled from a tar with `from`). */
export function dirMade(path: string, mode: string, owner?: string, from?: string): string {
  const body = [
    ...beside(path, 'made'),
    `trap 'rm -rf "./$n"; cd .. && rmdir "$p" 2>/dev/null' EXIT`,
    `mkdir "./$n" && ${from ? `tar -xpf ${from} -C "./$n" && ` : ''}${chownChmod(mode, owner, '"./$n"')} && mv "./$n" ..`,
  ]
  return `f=${path}; ( ${body.join('; ')} )`
}

/** An existing directory's mode (and owner) set through `.`, once inside and checked to be the probed inode. */
export function dirAttrsSet(path: string, inode: string, mode: string, owner?: string): string {
  const dir = path.slice(0, path.lastIndexOf('/'))
  const name = path.slice(path.lastIndexOf('/') + 1)
  const body = [
    `n=${quote(name)}`,
    `cd -P ${dir} && d=$(pwd -P) && cd -P "./$n" || exit 1`,
    `[ "$(pwd -P)" = "\${d%/}/$n" ] && set -- $(ls -di .) && [ "$1" = ${inode} ] || ${fail('was not changed: it is no longer the directory ferry looked at (replaced, or a link)')}`,
    chownChmod(mode, owner, '.'),
  ]
  return `f=${path}; ( ${body.join('; ')} )`
}

/** A directory moved into a private directory, archived at `backup`, removed. */
export function dirRemoved(path: string, backup: string): string {
  const body = [
    ...beside(path, 'removed'),
    `trap 'if [ -e "./$n" ] || [ -h "./$n" ]; then mv "./$n" ..; fi; cd .. && rmdir "$p" 2>/dev/null' EXIT`,
    'mv "../$n" "./$n" || exit 1',
    `[ -d "./$n" ] && [ ! -h "./$n" ] || ${fail('is not a directory')}`,
    `mkdir -p ${backup.slice(0, backup.lastIndexOf('/'))} && tar -cf ${backup} -C "./$n" . || { rm -f ${backup}; exit 1; }`,
    'rm -rf "./$n"',
  ]
  return `f=${path}; ( ${body.join('; ')} )`
}

/** Where a directory's tar goes, as the golden harness names it. */
export const dirBackupOf = (path: string) => `${backupOf(path)}.tar`

/** A directory unpacked from its tar where it was, if the tar is there; the tar then goes (as the revert job runs it). */
export function dirRestored(path: string, mode: string, owner: string): string {
  const b = dirBackupOf(path)
  return `if [ -f ${b} ]; then ${dirMade(path, mode, owner, b)} && rm -f ${b} && { rmdir ${b.slice(0, -'/BACKUP.tar'.length)} /var/backups/ferry 2>/dev/null || true; }; fi`
}

/** The same as undo sends it, after a check that the tar was not pruned. */
export const dirRestore = (path: string, mode: string, owner: string) =>
  unlessPruned(dirBackupOf(path), dirRestored(path, mode, owner))

/** A symbolic link made beside PATH and renamed over it; a regular file in the way kept at its backup, or refused. */
export function linkReplaced(path: string, target: string, keepFile = false): string {
  const file = keepFile
    ? `${LINK_OLD}; mkdir -p ${quote(backupOf(path).slice(0, -'/BACKUP'.length))} && cat "./$n.was" > ${quote(backupOf(path))} || exit 1`
    : fail('is a regular file: ferry replaces one by a link only when told to (force)')
  const body = [
    ...beside(path, 'written'),
    `trap 'rm -f "./$n" "./$n.was"; cd .. && rmdir "$p" 2>/dev/null' EXIT`,
    `if [ -h "../$n" ]; then :; elif [ -d "../$n" ]; then ${fail('is a directory')}; elif [ -e "../$n" ]; then ${file}; fi`,
    `ln -s ${quote(target)} "./$n" && mv -f "./$n" ..`,
  ]
  return `f=${path}; ( ${body.join('; ')} )`
}

/** `file`'s undo of a write over an existing file, as the revert job runs it: the backup goes back with the old mode and owner. */
export function fileRestoreScript(path: string, mode: string, owner: string): string {
  const b = quote(backupOf(path))
  const put = replaced(path, { content: `cat ${b}`, mode, owner })
  return `if [ -f ${b} ]; then ${put} && rm -f ${b} && { rmdir ${quote(backupOf(path).slice(0, -'/BACKUP'.length))} /var/backups/ferry 2>/dev/null || true; }; fi`
}

/** `restore` as undo sends it: after a check that `backup` was not pruned (missing, with newer ones beside it). */
function unlessPruned(backup: string, restore: string): string {
  const [dir, name] = [backup.slice(0, backup.lastIndexOf('/')), backup.slice(backup.lastIndexOf('/') + 1)]
  const pruned = `[ ! -f ${quote(backup)} ] && ls ${quote(dir)} 2>/dev/null | awk -v me=${name} '$0 > me { f = 1 } END { exit !f }'`
  return `sh -c ${quote(`if ${pruned}; then exit 4; fi; ${restore}`)}`
}

/** The same as `file`'s undo sends it, after a check that the backup was not pruned. */
export const fileRestore = (path: string, mode: string, owner: string) =>
  unlessPruned(backupOf(path), fileRestoreScript(path, mode, owner))

/** `link`'s undo where it replaced a file, as the revert job runs it: the link goes only if the backup is there to put back. */
export const linkFileRestoreScript = (path: string, mode: string, owner: string) => [
  `[ ! -f ${quote(backupOf(path))} ] || [ ! -h ${path} ] || rm -f ${path}`,
  fileRestoreScript(path, mode, owner),
]

/** The same as undo sends it, after a check that the backup was not pruned. */
export const linkFileRestore = (path: string, mode: string, owner: string) =>
  unlessPruned(backupOf(path), linkFileRestoreScript(path, mode, owner).join(' && '))

const KEY_AWK =
  's = $0; sub(/[#;].*/, "", s); i = index(s, "="); k = substr(s, 1, i - 1); gsub(/^[ \\t]+|[ \\t]+$/, "", k)'

/** A `key=value` line set (or, with line '', removed) in place in a file under /etc. */
export function editConf(path: string, key: string, line: string): string {
  const awk = `{ ${KEY_AWK} } i && k == ENVIRON["K"] { if (!done && ENVIRON["L"] != "") print ENVIRON["L"]; done = 1; next } { print } END { if (!done && ENVIRON["L"] != "") print ENVIRON["L"] }`
  return replaced(path, { content: `K=${key} L=${line || "''"} awk '${awk}' "$o"`, removeIfEmpty: true })
}

/** The probe half that reads a key's persisted value. */
export function confValue(path: string, key: string): string {
  return `[ ! -f ${path} ] || K=${key} awk '{ ${KEY_AWK} } i && k == ENVIRON["K"] { v = substr(s, i + 1); gsub(/^[ \\t]+|[ \\t]+$/, "", v); f = 1 } END { if (f) print "saved=" v }' ${path}`
}

/** A whole small file under /etc replaced by these lines. */
export function writeLines(path: string, mode: string, lines: string[]): string {
  return replaced(path, { content: `printf '%s\\n' ${lines.map(quote).join(' ')}`, mode })
}

/** A multi-line apply or undo: the platform lines run as one `set -e` script. */
export const script = (...lines: string[]) => ['set -e', ...lines].join('\n')

/** The uids and gids the golden fixtures' hosts give the users and groups they name. */
const IDS: Record<string, string> = { root: '0', wheel: '0', frr: '101', quagga: '92' }

/** A line probe's first line (mode, owner by name and by number) and the file, the way the `file` probe prints them. */
export function lsProbe(perms: string, owner: string, group: string, content: string): string {
  const id = (name: string) => IDS[name] ?? (/^\d+$/.test(name) ? name : `<no id for ${name}>`)
  return `${perms} ${owner} ${group} ${id(owner)} ${id(group)}\n${content}`
}

// cron: a user's crontab goes through crontab(1), whole, the old one kept in a backup on the host.

/** Where `cron` keeps a user's old crontab: named after the spool file. */
const cronBackupOf = (spool: string, user: string) => backupOf(`${spool}/${user}`)

/** `cron`'s apply on a user's crontab: the old one backed up (if any), the new one on stdin (or none). */
export function crontabWrite(spool: string, user: string, o: { existed: boolean; remove?: boolean }): string {
  const b = cronBackupOf(spool, user)
  const lines = [
    'set -e',
    'umask 077',
    ...(o.existed
      ? [
          `mkdir -p ${quote(b.slice(0, -'/BACKUP'.length))}`,
          `${replaced(b, { content: `crontab -u ${user} -l`, mode: '0600' })} </dev/null`,
        ]
      : []),
    o.remove ? `crontab -u ${user} -r </dev/null` : `crontab -u ${user} -`,
  ]
  return lines.join('\n')
}

/** `cron`'s undo, as the revert job runs it: the backup installed, or the crontab removed if there was none. */
export function crontabRestoreScript(spool: string, user: string, existed: boolean): string {
  if (!existed) return `if [ -f ${spool}/${user} ]; then crontab -u ${user} -r </dev/null; fi`
  const b = quote(cronBackupOf(spool, user))
  return `if [ -f ${b} ]; then crontab -u ${user} - <${b} && rm -f ${b} && { rmdir ${quote(cronBackupOf(spool, user).slice(0, -'/BACKUP'.length))} /var/backups/ferry 2>/dev/null || true; }; fi`
}

/** The same as undo sends it, after the check that the backup was not pruned. */
export const crontabRestore = (spool: string, user: string) =>
  unlessPruned(cronBackupOf(spool, user), crontabRestoreScript(spool, user, true))

/** The probe of a user's crontab. */
export function crontabProbe(spool: string, user: string): string {
  return [
    `if id ${user} >/dev/null 2>&1; then echo user=1; else echo user=0; fi`,
    'if ! command -v crontab >/dev/null 2>&1; then echo crontab=0',
    `elif [ -f ${spool}/${user} ]; then echo crontab=1; echo tab=1; crontab -u ${user} -l || exit 3`,
    'else echo crontab=1; echo tab=0; fi',
  ].join('\n')
}

/** `cron`'s write of a cron.d file: as `line` writes one, but gone when it ends up empty. */
export function cronFileWrite(path: string, o: { mode: string; owner?: string; existed: boolean }): string {
  return replaced(path, {
    content: 'cat',
    mode: o.mode,
    owner: o.owner,
    backup: o.existed ? backupOf(path) : undefined,
    removeIfEmpty: true,
  })
}

/** Where the user step keeps NAME's old password hash, as the golden harness names it. */
export const hashBackupOf = (user: string) => `/var/backups/ferry/user%3A${user}/BACKUP`

/** The user step's copy of a password hash: `printHash` into a 0600 file, through replaceFile. */
export function keepHash(user: string, printHash: string): string {
  const b = hashBackupOf(user)
  return `(umask 077 && mkdir -p ${b.slice(0, -'/BACKUP'.length)}) && ${replaced(b, { content: printHash, mode: '0600' })}`
}

/** The user step's undo of a hash: `put` (which sets it from the backup), then the backup goes. */
export function restoreHash(user: string, put: string): string {
  const b = hashBackupOf(user)
  return `if [ -f ${b} ]; then ${put} && rm -f ${b} && { rmdir ${b.slice(0, -'/BACKUP'.length)} /var/backups/ferry 2>/dev/null || true; }; fi`
}

/** A file under /etc rewritten by a script that reads the old one (`"$o"`), mode and owner kept unless given. */
export function editInPlace(path: string, content: string, mode?: string): string {
  return replaced(path, { content, mode })
}

/** The directory step's probe: parents and owners (present), then the directory, and whether it is empty (absent). */
export function dirProbe(path: string, o: { absent?: boolean; owners?: string[] } = {}): string {
  const dir = path.slice(0, path.lastIndexOf('/'))
  return [
    ...(o.absent ? [] : [parentsProbe(dir)]),
    ...(o.owners ?? []),
    `if [ -h ${path} ]; then exit 2; elif [ -d ${path} ]; then set -- $(ls -ldi ${path}); i=$1 m=$2 u=$4 g=$5; set -- $(ls -ldn ${path}); printf 'dir=%s %s %s %s %s %s\\n' "$m" "$u" "$g" "$3" "$4" "$i";`,
    ...(o.absent ? [`if [ -n "$(ls -A ${path} | head -n 1)" ]; then echo empty=0; else echo empty=1; fi;`] : []),
    `elif [ -e ${path} ]; then exit 3; else exit 1; fi`,
  ].join('\n')
}

/** The link step's probe: parents, what is at PATH, whether the target exists (a relative one from PATH's directory). */
export function linkProbe(path: string, target: string, resolved?: string): string {
  const dir = path.slice(0, path.lastIndexOf('/'))
  return [
    parentsProbe(dir),
    `if [ -h ${path} ]; then printf 'link=%s\\n' "$(readlink ${path})"; elif [ -d ${path} ]; then echo isdir=1; elif [ -e ${path} ]; then set -- $(ls -ld ${path}); printf 'file=%s %s %s\\n' "$1" "$3" "$4"; fi`,
    resolved
      ? `if ( cd -P ${dir} 2>/dev/null && [ -e ${quote(target)} ] ) || [ -e ${resolved} ]; then echo target=1; fi`
      : `if [ -e ${quote(target)} ]; then echo target=1; fi`,
  ].join('\n')
}

/**
 * Debian's install with no service started (pkg's startServices: false): an administrator's
 * /usr/sbin/policy-rc.d (not ferry's, whose second line names it) is used as it is; else ferry's,
 * answering 101 while this command's sh runs, is written for the install and removed after it.
 */
export function heldAptInstall(names: string): string {
  const theirs = `{ [ -e /usr/sbin/policy-rc.d ] || [ -h /usr/sbin/policy-rc.d ]; } && ! sed -n 2p /usr/sbin/policy-rc.d 2>/dev/null | grep -qx '# ferry: held install'`
  const install = `DEBIAN_FRONTEND=noninteractive apt-get install -y ${names}`
  const own = replaced('/usr/sbin/policy-rc.d', {
    content: `printf '%s\\n' '#!/bin/sh' '# ferry: held install' "kill -0 $$ 2>/dev/null && exit 101" 'exit 0'`,
    mode: '0755',
  })
  return `( if ${theirs}; then ${install}; else { ${own}; } || exit 1; trap 'f=/usr/sbin/policy-rc.d; rm -f "$f"' EXIT; ${install}; fi )`
}

/** The probe's half that asks an administrator's policy-rc.d whether it forbids starts. */
export const HELD_PROBE = [
  `if { [ -e /usr/sbin/policy-rc.d ] || [ -h /usr/sbin/policy-rc.d ]; } && ! sed -n 2p /usr/sbin/policy-rc.d 2>/dev/null | grep -qx '# ferry: held install'; then`,
  '/usr/sbin/policy-rc.d ferry start >/dev/null 2>&1; s=$?',
  `[ "$s" -eq 101 ] || echo "cannot=/usr/sbin/policy-rc.d is there and lets services start (it answers $s, not 101): ferry writes its own only where there is none"`,
  'fi',
].join('\n')
