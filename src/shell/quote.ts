// POSIX shell quoting. zx's default quote produces $'…', which only bash understands: under dash
// `x'; echo INJECTED; #` escapes it and runs the injected command. Single quotes are the one form
// every Bourne shell (sh, dash, ksh, mksh, bash, zsh) reads literally, with no escapes inside.

const SAFE = /^[A-Za-z0-9_\/.,:=@%+-]+$/

export function quote(arg: string): string {
  // A NUL cannot exist in an argv string; refusing beats the shell silently truncating at it.
  if (arg.includes('\0')) throw new Error('cannot pass a NUL byte to a shell command')
  // Bare words stay bare so logged commands read naturally; quoting them would not change argv.
  if (SAFE.test(arg)) return arg
  return `'${arg.replaceAll("'", `'\\''`)}'`
}

/** Joins argv into one shell command line. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quote).join(' ')
}
