// Text from a host is data. Printed as it is, an escape sequence in a file or in a command's
// output could retitle the terminal, move the cursor, or hide lines of a diff; a bidirectional
// override could reorder one. So every text output shows those characters as \xNN or \uNNNN,
// on a terminal or not: output piped to a file or to `less -R` reaches a terminal later all the
// same. Tabs and newlines stay, being layout. (JSON output needs none of this: JSON escapes them.)

const HIDDEN = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g

export function printable(s: string): string {
  return s.replace(HIDDEN, (c) => {
    const code = c.charCodeAt(0)
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`
  })
}
