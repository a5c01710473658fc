// Text from a host (or from a file) is data. Printed as it is, an escape sequence in a file or in
// a command's output could retitle the terminal, move the cursor, or hide lines of a diff; a
// bidirectional override could reorder one, a Unicode line separator split it. So every text
// output shows those characters escaped, on a terminal or not: output piped to a file or to
// `less -R` reaches a terminal later all the same. (JSON output needs none of this: JSON escapes
// them.)

const escape = (c: string): string => {
  const code = c.charCodeAt(0)
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`
}
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

const HIDDEN = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const HIDDEN_OR_LAYOUT = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** Tabs and newlines stay, being layout; every other control character is shown escaped. */
export function printable(s: string): string {
  return s.replace(HIDDEN, escape)
}

/** The same on one line: newlines and tabs escaped too (`\n`), for a message that must stay one. */
export function oneLine(s: string): string {
  return s.replace(HIDDEN_OR_LAYOUT, (c) => SHORT[c] ?? escape(c))
}
