import type { Platform } from './platform.ts'

export const freebsd: Platform = {
  os: 'freebsd',
  kernel: 'FreeBSD',
}
