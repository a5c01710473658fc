// FreeBSD: no policy-routing rules. Its packet filters move a lookup to another fib (pf's rtable,
// ipfw's setfib). A rule step is refused before anything runs.
import { rule } from '../../../src/steps/rule.ts'
import type { Case } from '../harness.ts'

const REFUSED =
  /^FreeBSD has no policy-routing rules: its packet filter moves a lookup to another table \(pf's rtable\)$/

export default [
  {
    name: 'freebsd rule: kept with an interface → refused, naming what does it there',
    os: 'freebsd',
    step: rule('x', { pref: 900, fwmark: 254, table: 'main', iface: 'vrf2' }),
    probe: '',
    expect: { error: REFUSED },
  },
  {
    name: 'freebsd rule: live only → refused, naming what does it there',
    os: 'freebsd',
    step: rule('x', { pref: 900, fwmark: 2, table: 2, persist: false }),
    probe: '',
    expect: { error: REFUSED },
  },
  {
    name: 'freebsd rule: to be removed → refused, naming what does it there',
    os: 'freebsd',
    step: rule('x', { pref: 900, fwmark: 2, table: 2, state: 'absent', persist: false }),
    probe: '',
    expect: { error: REFUSED },
  },
] satisfies Case[]
