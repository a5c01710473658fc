// Facts about reaching an address from a host: which way its kernel routes it, and whether a TCP
// port answers there. The command and parser are the host's platform's (`net`); a runbook holds
// the host's OS, and asks by it.

import type { Os } from '../inventory/types.ts'
import { platformFor } from '../platform/platform.ts'

export type { NextHop } from '../platform/platform.ts'

export const routeTo = (os: Os, address: string) => platformFor(os).net.routeTo(address)

export const tcpOpen = (os: Os, address: string, port: number) => platformFor(os).net.tcpOpen(address, port)
