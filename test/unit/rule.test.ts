// The rule step's own refusals, when the runbook is built: before any host is asked anything.
import { describe, expect, it } from 'vitest'
import { rule } from '../../src/steps/rule.ts'

describe('rule: options refused when the step is made', () => {
  it.each([
    [{ pref: 0 }, /^x: pref is a whole number from 1 to 32765: 0$/],
    [{ pref: 32766 }, /^x: pref is a whole number from 1 to 32765: 32766$/],
    [{ pref: 9.5 }, /^x: pref is a whole number from 1 to 32765: 9\.5$/],
    [{ fwmark: 0 }, /^x: fwmark is a whole number from 1 to 4294967295: 0$/],
    [{ fwmark: 2 ** 32 }, /^x: fwmark is a whole number from 1 to 4294967295: 4294967296$/],
    [{ table: 0 }, /^x: table is a whole number from 1 to 4294967295: 0$/],
    [{ iface: 'vrf2; reboot' }, /^x: not an interface name \(iface\): "vrf2; reboot"$/],
  ] as const)('%o', (bad, error) => {
    expect(() => rule('x', { pref: 900, fwmark: 2, table: 2, iface: 'vrf2', ...bad })).toThrow(error)
  })

  it('main is table 254, and a good rule is made', () => {
    expect(rule('x', { pref: 900, fwmark: 254, table: 'main', iface: 'vrf2' }).touches).toEqual([
      'rule:900:254',
      'if:vrf2',
    ])
  })
})
