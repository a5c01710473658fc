// The one registry of OSes: every platform ferry knows, by the inventory's `os:` and by what
// `uname -s` prints. The vocabulary itself (what a platform answers) is in types.ts.

import type { Os } from '../inventory/types.ts'
import type { JailDriver } from '../jails/driver.ts'
import type { Platform } from './types.ts'
import { freebsd } from './freebsd.ts'
import { openbsd } from './openbsd.ts'
import { linux } from './linux.ts'

export { ROUTING_SUITES } from './types.ts'
export type { Platform, RoutingSuite, Net, NextHop, Packages, ServiceAction, Services, Sysctl, IfaceKind, TunnelIfaceKind, Iface, Tunnel, IfaceState, Interfaces } from './types.ts'

const PLATFORMS: Record<Os, Platform> = { freebsd, openbsd, linux }

/** Every OS ferry knows. */
export const platforms: readonly Platform[] = Object.values(PLATFORMS)

export function platformFor(os: Os): Platform {
  return PLATFORMS[os]
}

/** Maps `uname -s` output to an OS. */
export function osFromKernel(kernel: string): Os | undefined {
  return (Object.keys(PLATFORMS) as Os[]).find((os) => PLATFORMS[os].kernel === kernel.trim())
}

/** The jail driver of a host's OS, if it has one (a host may leave its os: to the probe). */
export function jailDriver(os: Os | undefined): JailDriver | undefined {
  return os ? PLATFORMS[os].jails : undefined
}
