import type { Platform } from './platform.ts'

export const openbsd: Platform = {
  os: 'openbsd',
  kernel: 'OpenBSD',
}
