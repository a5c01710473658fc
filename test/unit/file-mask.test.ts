// A key rotation must not print the old key: redaction knows only the current secrets, so a
// file's `mask` hides its secret-bearing text in diffs, old and new, whatever the values.
import { expect, it } from 'vitest'
import { file, masked } from '../../src/steps/file.ts'
import { line } from '../../src/steps/line.ts'
import { platformFor } from '../../src/platform/platform.ts'
import { quaggaSecrets } from '../../templates/ospfd.conf.ts'
import { ipsecSecrets } from '../../templates/ipsec.conf.ts'
import { openbsdOspfdSecrets } from '../../templates/ospfd-openbsd.conf.ts'
import { swanctlSecrets } from '../../templates/swanctl.conf.ts'
import type { Host } from '../../src/inventory/types.ts'

const ctx = { host: { name: 'h' } as Host, platform: platformFor('linux'), pending: new Set<string>() }
const conf = (key: string, cost: number) =>
  `hostname r1\npassword zebra-${key}\ninterface tap1\n ip ospf message-digest-key 1 md5 ${key}\n ip ospf cost ${cost}\n`

it('a rotated MD5 key: neither key is in the diff, the rest of the diff is', () => {
  const step = file('frr.conf', { path: '/etc/frr/frr.conf', content: conf('NEWKEY1234', 20), mask: quaggaSecrets })
  const [change] = step.check({ stdout: `-rw------- frr frr\n${conf('OLDKEY1234', 10)}`, code: 0 }, ctx)
  expect(change!.summary).toBe('content of /etc/frr/frr.conf')
  expect(change!.diff).not.toMatch(/OLDKEY|NEWKEY/)
  expect(change!.diff).toContain('- ip ospf cost 10\n+ ip ospf cost 20')
  expect(change!.diff).toContain(' ip ospf message-digest-key 1 md5 ********')
})

it('only the key changed: the summary says so, and still shows neither', () => {
  const step = file('frr.conf', { path: '/etc/frr/frr.conf', content: conf('NEWKEY1234', 10), mask: quaggaSecrets })
  const [change] = step.check({ stdout: `-rw------- frr frr\n${conf('OLDKEY1234', 10)}`, code: 0 }, ctx)
  expect(change!.summary).toBe('content of /etc/frr/frr.conf: a masked secret')
  expect(change!.diff).not.toMatch(/OLDKEY|NEWKEY/)
})

it("each template's secrets are masked, and nothing else", () => {
  expect(masked('password="s3cret"\nauth-md 1 $password\n', openbsdOspfdSecrets)).toBe(
    'password="********"\nauth-md 1 $password\n',
  )
  expect(masked('peer_hq = "198.51.100.1"\npeer_hq_psk = "s3cret"\n', ipsecSecrets)).toBe(
    'peer_hq = "198.51.100.1"\npeer_hq_psk = "********"\n',
  )
  expect(masked('        secret = "s3cret"\n        id-local = 1.2.3.4\n', swanctlSecrets)).toBe(
    '        secret = "********"\n        id-local = 1.2.3.4\n',
  )
  expect(masked('-----BEGIN-----\nabcd\n', [/[^\n]+/])).toBe('********\n********\n')
})

it('masks the secret itself when it equals other text of the line (a key "1" or "md5")', () => {
  for (const key of ['1', 'md5']) {
    expect(masked(` ip ospf message-digest-key 1 md5 ${key}\n`, quaggaSecrets)).toBe(
      ' ip ospf message-digest-key 1 md5 ********\n',
    )
  }
})

it('a line may hold a secret too (password = …): line takes a mask', () => {
  const step = line('db password', {
    path: '/etc/app.conf',
    line: 'password = NEW-SECRET',
    match: /^password\s*=/,
    mask: [/^password\s*=\s*(.+)$/m],
  })
  const [change] = step.check({ stdout: '-rw------- root root 0 0\nuser = app\npassword = OLD-SECRET\n', code: 0 }, ctx)
  expect(change!.summary).toBe('replace line in /etc/app.conf: a masked secret')
  expect(change!.diff).not.toMatch(/SECRET/)
})
