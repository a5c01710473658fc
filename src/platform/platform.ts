// A platform is the vocabulary of one OS: which command installs a package, where a sysctl is
// persisted, how a tunnel interface is created and made to survive a reboot. Steps ask the
// platform and never branch on the OS name; adding an OS means adding one file.
//
// Probe snippets print a normalised, OS-independent format, so each step parses one format
// whatever the OS. Commands are returned as complete shell lines, so golden tests can compare
// them exactly and apply() just runs them.

import type { Os } from '../inventory/types.ts'
import { freebsd } from './freebsd.ts'
import { openbsd } from './openbsd.ts'
import { linux } from './linux.ts'

export interface Platform {
  readonly os: Os
  /** What `uname -s` prints there, so one probe can confirm the inventory's `os:`. */
  readonly kernel: string
}

const PLATFORMS: Record<Os, Platform> = { freebsd, openbsd, linux }

export function platformFor(os: Os): Platform {
  return PLATFORMS[os]
}

/** Maps `uname -s` output to an OS. */
export function osFromKernel(kernel: string): Os | undefined {
  return (Object.keys(PLATFORMS) as Os[]).find((os) => PLATFORMS[os].kernel === kernel.trim())
}
