import { createTwoFilesPatch } from 'diff'

/** A unified diff of one file, without jsdiff's `Index:`/`====` banner and trailing tabs. */
export function unifiedDiff(oldName: string, newName: string, before: string, after: string): string {
  return createTwoFilesPatch(oldName, newName, before, after, undefined, undefined, { context: 3 })
    .split('\n')
    .filter((line) => !line.startsWith('Index: ') && !line.startsWith('===='))
    .map((line) => (line.startsWith('--- ') || line.startsWith('+++ ') ? line.trimEnd() : line))
    .join('\n')
}

// Plain ANSI codes rather than chalk: whether to colour is decided once, by useColor(), and the
// output is then the same in a test as on a terminal.
export function useColor(stream: { isTTY?: boolean } = process.stdout): boolean {
  return !process.env.NO_COLOR && stream.isTTY === true
}

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`
export const green = sgr(32, 39)
export const red = sgr(31, 39)
export const yellow = sgr(33, 39)
export const cyan = sgr(36, 39)
export const bold = sgr(1, 22)

/** Colours a unified diff line by line: headers bold, + green, - red, @@ cyan. */
export function colorDiff(text: string): string {
  return text
    .split('\n')
    .map((l) =>
      l.startsWith('+++') || l.startsWith('---')
        ? bold(l)
        : l.startsWith('+')
          ? green(l)
          : l.startsWith('-')
            ? red(l)
            : l.startsWith('@@')
              ? cyan(l)
              : l,
    )
    .join('\n')
}
