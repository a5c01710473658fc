// The CLI contract's exit codes are the engine's (engine/outcome.ts decides a run's); commands
// that end otherwise use the same names.
export { EXIT } from '../engine/outcome.ts'

/** Thrown by commands for bad input found before any host is contacted. */
export class UsageError extends Error {}
