// OpenBSD: no policy-routing rules. pf's `match … rtable N` moves a lookup to another table, which
// is how deploy-tenants does it there. A rule step is refused before anything runs.
import { rule } from '../../../src/steps/rule.ts'
import type { Case } from '../harness.ts'

const REFUSED =
  /^OpenBSD has no policy-routing rules: its packet filter moves a lookup to another table \(pf's rtable\)$/

export default [
  {
    name: 'openbsd rule: kept with an interface → refused, naming what does it there',
    os: 'openbsd',
    step: rule('x', { pref: 900, fwmark: 254, table: 'main', iface: 'vrf2' }),
    probe: '',
    expect: { error: REFUSED },
  },
  {
    name: 'openbsd rule: live only → refused, naming what does it there',
    os: 'openbsd',
    step: rule('x', { pref: 900, fwmark: 2, table: 2, persist: false }),
    probe: '',
    expect: { error: REFUSED },
  },
  {
    name: 'openbsd rule: to be removed → refused, naming what does it there',
    os: 'openbsd',
    step: rule('x', { pref: 900, fwmark: 2, table: 2, state: 'absent', persist: false }),
    probe: '',
    expect: { error: REFUSED },
  },
] satisfies Case[]
