// Whether Debian's ansible-core is here, for the tests that compare ferry with Ansible itself.
// Without it they are skipped, except under CI=true, where a skip would hide the comparison: there
// they run and fail, saying what is missing (`npm test` installs it as root: lab/lab.ts PACKAGES).
import { execFileSync } from 'node:child_process'

export function hasAnsible(command: 'ansible-inventory' | 'ansible-playbook'): boolean {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export const CI = (process.env.CI ?? '').trim().toLowerCase() === 'true'
