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

/**
 * The one way ferry writes a file (src/platform/common.ts replaceFile): a private directory
 * beside it, entered and checked; the old file reached by `ln -P` and checked there; owner and
 * mode, then the content; the validator; the backup; the rename over it.
 */
function replaced(
  path: string,
  o: { content: string; mode?: string; owner?: string; validate?: string; backup?: string; removeIfEmpty?: boolean },
): string {
  const dir = path.slice(0, path.lastIndexOf('/'))
  const name = path.slice(path.lastIndexOf('/') + 1)
  const fail = (why: string) => `{ echo "ferry: $f ${why}" >&2; exit 1; }`
  const body = [
    'umask 077',
    `n=${quote(name)}`,
    `cd -P ${dir} && d=$(pwd -P) && p=$(mktemp -d .ferry.XXXXXX) || exit 1`,
    `cd -P "$p" 2>/dev/null && set -- $(ls -nd .) && case "$1:$3:$(pwd -P)" in drwx------*":$(id -u):\${d%/}/$p") ;; *) false ;; esac || ${fail('was not written: the private directory ferry made beside it was replaced (another user is racing ferry there)')}`,
    `trap 'rm -f "./$n" "./$n.was"; cd .. && rmdir "$p" 2>/dev/null' EXIT`,
    'o=/dev/null',
    `if [ -e "../$n" ] || [ -h "../$n" ]; then [ ! -d "../$n" ] || ${fail('is a directory')}; ln -P "../$n" "./$n.was" || exit 1; [ ! -h "./$n.was" ] || ${fail('is a symbolic link: ferry replaces regular files only (give the path it points to)')}; set -- $(ls -nd "./$n.was"); [ -f "./$n.was" ] && [ "$2" -le 2 ] || ${fail('is not a regular file with one link: ferry does not write through hard links')}; o="./$n.was"; fi`,
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

/** What `file` (and `line`, which writes through it) sends: `sh -c SCRIPT`, the content on stdin. */
export function fileWrite(o: {
  path: string
  mode: string
  owner?: string
  validate?: string
  existed: boolean
}): string {
  return `sh -c ${quote(replaced(o.path, { content: 'cat', mode: o.mode, owner: o.owner, validate: o.validate, backup: o.existed ? backupOf(o.path) : undefined }))}`
}

/** `file`'s undo of a write over an existing file, as the revert job runs it: the backup goes back with the old mode and owner. */
export function fileRestoreScript(path: string, mode: string, owner: string): string {
  const b = quote(backupOf(path))
  const put = replaced(path, { content: `cat ${b}`, mode, owner })
  return `if [ -f ${b} ]; then ${put} && rm -f ${b} && { rmdir ${quote(backupOf(path).slice(0, -'/BACKUP'.length))} /var/backups/ferry 2>/dev/null || true; }; fi`
}

/** The same as `file`'s undo sends it, after a check that the backup was not pruned. */
export function fileRestore(path: string, mode: string, owner: string): string {
  const b = backupOf(path)
  const pruned = `[ ! -f ${quote(b)} ] && ls ${quote(b.slice(0, -'/BACKUP'.length))} 2>/dev/null | awk -v me=BACKUP '$0 > me { f = 1 } END { exit !f }'`
  return `sh -c ${quote(`if ${pruned}; then exit 4; fi; ${fileRestoreScript(path, mode, owner)}`)}`
}

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

/** A line probe's first line and the file, the way the `file` probe prints them. */
export const lsProbe = (perms: string, owner: string, group: string, content: string) =>
  `${perms} ${owner} ${group}\n${content}`

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
  return `sh -c ${quote(lines.join('\n'))}`
}

/** `cron`'s undo, as the revert job runs it: the backup installed, or the crontab removed if there was none. */
export function crontabRestoreScript(spool: string, user: string, existed: boolean): string {
  if (!existed) return `if [ -f ${spool}/${user} ]; then crontab -u ${user} -r </dev/null; fi`
  const b = quote(cronBackupOf(spool, user))
  return `if [ -f ${b} ]; then crontab -u ${user} - <${b} && rm -f ${b} && { rmdir ${quote(cronBackupOf(spool, user).slice(0, -'/BACKUP'.length))} /var/backups/ferry 2>/dev/null || true; }; fi`
}

/** The same as undo sends it, after the check that the backup was not pruned. */
export function crontabRestore(spool: string, user: string): string {
  const b = cronBackupOf(spool, user)
  const pruned = `[ ! -f ${quote(b)} ] && ls ${quote(b.slice(0, -'/BACKUP'.length))} 2>/dev/null | awk -v me=BACKUP '$0 > me { f = 1 } END { exit !f }'`
  return `sh -c ${quote(`if ${pruned}; then exit 4; fi; ${crontabRestoreScript(spool, user, true)}`)}`
}

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
  return `sh -c ${quote(replaced(path, { content: 'cat', mode: o.mode, owner: o.owner, backup: o.existed ? backupOf(path) : undefined, removeIfEmpty: true }))}`
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
