import path from 'node:path'

/**
 * A template that cannot render: `path/to/file.j2:LINE:COL: reason`, as the inventory's problems
 * are written (src/inventory/errors.ts), on one line: a reason may quote a value from the file.
 */
export class TemplateError extends Error {
  override name = 'TemplateError'

  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly reason: string,
  ) {
    super(
      `${displayPath(file)}:${line}:${col}: ${reason}`.replace(/[\x00-\x1f\x7f]/g, (c) =>
        JSON.stringify(c).slice(1, -1),
      ),
    )
  }
}

/** The path relative to the working directory when the file is inside it, else as given. */
function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file)
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file
}
