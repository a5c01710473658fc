// vitest globalSetup for the `lab` project: a freshly built lab before any lab test runs.
// The lab is left up afterwards (reruns are then fast, and a CI machine is thrown away anyway)
// unless FERRY_LAB_KEEP=0.
import { execFileSync } from 'node:child_process'
import { down, up } from '../../lab/lab.ts'

/** The lab every lab test file may assume: a file that takes the lab down puts this back. */
export const LAB_UP = { n: 5, zfs: true, uml: 3, ha: true, carp: true } as const

function whyNoLab(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root'
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' })
  } catch {
    return '`ip netns` is unavailable'
  }
  return undefined
}

/** CI is set unless empty, `false` or `0` (CI services set `true`, some `1`; .ci/run sets `true`). */
function inCi(): boolean {
  const ci = (process.env.CI ?? '').trim().toLowerCase()
  return ci !== '' && ci !== 'false' && ci !== '0'
}

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  // Only this setup decides: a FERRY_LAB_SKIP inherited from the caller's environment must not
  // skip a lab that can run (nor, in CI, one that cannot).
  delete process.env.FERRY_LAB_SKIP
  const why = whyNoLab()
  if (why) {
    // In CI the lab must run: a skipped lab test would pass for a lab that was never tested.
    if (inCi()) throw new Error(`lab tests cannot run: ${why}`)
    process.env.FERRY_LAB_SKIP = '1' // workers inherit this; lab tests use it.skipIf
    console.warn(`lab tests skipped: ${why}`)
    return undefined
  }
  // Fresh hosts, whatever an earlier session or `npm run demo` left on them (a deployed mesh):
  // tests run in no fixed order and each assumes bare hosts. Rebuilding takes about a second.
  await down()
  await up({ ...LAB_UP, log: (line) => console.log(`lab: ${line}`) })
  return async () => {
    if (process.env.FERRY_LAB_KEEP === '0') await down()
  }
}
