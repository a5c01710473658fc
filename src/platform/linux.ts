import type { Platform } from './platform.ts'

export const linux: Platform = {
  os: 'linux',
  kernel: 'Linux',
}
