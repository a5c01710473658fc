// The var types the runbooks share (kept out of runbooks/ itself, where every file is a runbook
// that `ferry drift` loads). Every var ends up in a config file or a command, and a value that is
// not what it claims to be is refused with its inventory line before any host is contacted.
import { isIPv4 } from 'node:net'
import { z } from 'ferry'
import { cidrParts, parseNetwork } from '../../src/mesh/ipv4.ts'
import { IFNAME_RE } from '../../src/mesh/links.ts'

export const ipv4 = z.string().refine(isIPv4, 'must be an IPv4 address, e.g. 10.0.0.1')
export const withPrefix = z
  .string()
  .refine((s) => cidrParts(s) !== undefined, 'must be an IPv4 address with a prefix length, e.g. 10.0.0.1/32')
export const network = z
  .string()
  .refine((s) => parseNetwork(s) !== undefined, 'must be an IPv4 network with no host bits set, e.g. 172.16.3.0/24')
export const ifname = z
  .string()
  .regex(IFNAME_RE, 'must be an interface name: a letter, then letters, digits, "_", "." or "-"; at most 15')
