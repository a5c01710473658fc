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

const BACKUP = '/var/backups/ferry/BACKUP-'

/** What `file` (and `line`, which writes through it) sends: `sh -c SCRIPT`, the content on stdin. */
export function fileWrite(o: { path: string; mode: string; owner?: string; validate?: string; existed: boolean }): string {
  const dir = o.path.slice(0, o.path.lastIndexOf('/'))
  const check = o.validate ? o.validate.replaceAll('%s', '"$tmp"') : 'true'
  const script = `set -e
tmp=$(mktemp ${dir}/.ferry.XXXXXX)
trap 'rm -f "$tmp"' EXIT
chmod ${o.mode} "$tmp"
${o.owner ? `chown ${o.owner} "$tmp"` : ':'}
cat > "$tmp"
if ! out=$(${check} 2>&1); then printf 'validation failed: %s\\n%s\\n' ${quote(o.validate ?? '')} "$out" >&2; exit 3; fi
${o.existed ? `mkdir -p /var/backups/ferry && cp -p ${o.path} ${BACKUP}${o.path.replaceAll('/', '_')}` : ':'}
mv -f "$tmp" ${o.path}
trap - EXIT`
  return `sh -c ${quote(script)}`
}

/** `file`'s undo of a write over an existing file: the backup goes back, then mode and owner. */
export function fileRestore(path: string, mode: string, owner: string): string {
  const dir = path.slice(0, path.lastIndexOf('/'))
  const b = `${BACKUP}${path.replaceAll('/', '_')}`
  return `sh -c ${quote(`if [ -f ${b} ]; then tmp=$(mktemp ${dir}/.ferry.XXXXXX) && cp -p ${b} "$tmp" && mv -f "$tmp" ${path} && rm -f ${b}; fi && { rmdir /var/backups/ferry 2>/dev/null || true; } && chmod ${mode} ${path} && chown ${owner} ${path}`)}`
}

const KEY_AWK = 's = $0; sub(/[#;].*/, "", s); i = index(s, "="); k = substr(s, 1, i - 1); gsub(/^[ \\t]+|[ \\t]+$/, "", k)'

/** A `key=value` line set (or, with line '', removed) in place in a file under /etc. */
export function editConf(path: string, key: string, line: string): string {
  const dir = path.slice(0, path.lastIndexOf('/'))
  return `f=${path}; t=$(mktemp ${dir}/.ferry.XXXXXX) && { if [ -f "$f" ]; then cp -p "$f" "$t" && src=$f; else chmod 0644 "$t" && src=/dev/null; fi; } && K=${key} L=${line || "''"} awk '{ ${KEY_AWK} } i && k == ENVIRON["K"] { if (!done && ENVIRON["L"] != "") print ENVIRON["L"]; done = 1; next } { print } END { if (!done && ENVIRON["L"] != "") print ENVIRON["L"] }' "$src" > "$t" && if [ -s "$t" ]; then mv -f "$t" "$f"; else rm -f "$t" "$f"; fi || { rm -f "$t"; exit 1; }`
}

/** The probe half that reads a key's persisted value. */
export function confValue(path: string, key: string): string {
  return `[ ! -f ${path} ] || K=${key} awk '{ ${KEY_AWK} } i && k == ENVIRON["K"] { v = substr(s, i + 1); gsub(/^[ \\t]+|[ \\t]+$/, "", v); f = 1 } END { if (f) print "saved=" v }' ${path}`
}

/** A whole small file under /etc replaced by these lines. */
export function writeLines(path: string, mode: string, lines: string[]): string {
  const dir = path.slice(0, path.lastIndexOf('/'))
  return `f=${path}; t=$(mktemp ${dir}/.ferry.XXXXXX) && chmod ${mode} "$t" && printf '%s\\n' ${lines.map(quote).join(' ')} > "$t" && mv -f "$t" "$f" || { rm -f "$t"; exit 1; }`
}

/** A multi-line apply or undo: the platform lines run as one `set -e` script. */
export const script = (...lines: string[]) => ['set -e', ...lines].join('\n')

/** A line probe's first line and the file, the way the `file` probe prints them. */
export const lsProbe = (perms: string, owner: string, group: string, content: string) => `${perms} ${owner} ${group}\n${content}`
