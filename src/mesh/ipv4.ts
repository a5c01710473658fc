// The little IPv4 arithmetic the link allocation and the templates need: addresses as 32-bit numbers.
import { isIPv4 } from 'node:net'

export function toInt(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0)
}

export function toDotted(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.')
}

/** `172.16.2.0/24` → base and prefix; undefined unless it is a network address (no host bits). */
export function parseNetwork(cidr: string): { base: number; prefix: number } | undefined {
  const parts = cidrParts(cidr)
  if (!parts) return undefined
  const base = toInt(parts.address)
  const { prefix } = parts
  return base % 2 ** (32 - prefix) === 0 ? { base, prefix } : undefined
}

/** 30 → `255.255.255.252`, as OpenVPN's `ifconfig` wants it. */
export function dottedMask(prefix: number): string {
  return toDotted(2 ** 32 - 2 ** (32 - prefix))
}

/** `172.16.2.1/30` → `172.16.2.1` and 30. Throws on anything else: templates get plan output. */
export function splitCidr(cidr: string): { address: string; prefix: number } {
  const parts = cidrParts(cidr)
  if (!parts) throw new Error(`not an IPv4 address with a prefix length: ${cidr}`)
  return parts
}

/** `A.B.C.D/N` with a valid address and N ≤ 32, split; undefined for anything else. */
export function cidrParts(cidr: string): { address: string; prefix: number } | undefined {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr)
  if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32) return undefined
  return { address: m[1]!, prefix: Number(m[2]) }
}

/** `116.1.1.1/28` → `116.1.1.0/28`: the network an address with its prefix lies in. */
export function networkOf(cidr: string): string {
  const { address, prefix } = splitCidr(cidr)
  const size = 2 ** (32 - prefix)
  return `${toDotted(Math.floor(toInt(address) / size) * size)}/${prefix}`
}
