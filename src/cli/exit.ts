import { EXIT_USAGE } from '../inventory/index.ts'

export const EXIT = { ok: 0, failed: 1, pending: 2, rollbackFailed: 3, unreachable: 4, usage: EXIT_USAGE } as const

/** Thrown by commands for bad input found before any host is contacted. */
export class UsageError extends Error {}
