// The cron step's own logic, without a host: what its factory refuses before anything is
// contacted, the time fields it accepts, and how it edits a crontab (the goldens show the
// commands; the lab test runs them against Debian's crontab).
import { describe, expect, it } from 'vitest'
import { cron, editCrontab, validField } from '../../src/steps/cron.ts'

describe('refused at build time', () => {
  it.each([
    ['a name on two lines', () => cron('a\nb', { job: 'true' }), /one line, without blanks/],
    ['a name with a trailing blank', () => cron('backup ', { job: 'true' }), /one line, without blanks/],
    ['no job', () => cron('x', {}), /job must be one line/],
    ['a job on two lines', () => cron('x', { job: 'true\nreboot' }), /job must be one line/],
    ['a user with a slash', () => cron('x', { user: '../root', job: 'true' }), /not a user name: "\.\.\/root"/],
    ['a cron.d name with a dot', () => cron('x', { file: 'backup.cron', job: 'true' }), /letters, digits, _ and -/],
    ['minute 60', () => cron('x', { minute: '60', job: 'true' }), /minute "60" is not cron syntax for 0-59/],
    ['day 0', () => cron('x', { day: '0', job: 'true' }), /day "0" is not cron syntax for 1-31/],
    ['a backwards range', () => cron('x', { hour: '5-1', job: 'true' }), /hour "5-1"/],
    ['a step of 0', () => cron('x', { minute: '*/0', job: 'true' }), /minute "\*\/0"/],
    ['a blank in a field', () => cron('x', { minute: '1, 2', job: 'true' }), /minute "1, 2"/],
    ['a list of names', () => cron('x', { weekday: 'mon,tue', job: 'true' }), /weekday "mon,tue"/],
    ['special and a field', () => cron('x', { special: '@daily', hour: '3', job: 'true' }), /give one or the other/],
    ['an env name with a dash', () => cron('x', { env: { 'MAIL-TO': 'a' }, job: 'true' }), /not an environment/],
    ['an env value on two lines', () => cron('x', { env: { A: '1\n* * * * * evil' }, job: 'true' }), /A: an env/],
    ['no backups kept', () => cron('x', { job: 'true', backups: 0 }), /at least 1/],
    ['a job cron would cut short', () => cron('x', { job: `echo ${'x'.repeat(995)}` }), /longer than the 999 bytes/],
  ])('%s', (_what, build, message) => {
    expect(build).toThrow(message)
  })

  it('an absent entry needs only its name; a job of 999 bytes is taken whole', () => {
    expect(() => cron('gone', { state: 'absent' })).not.toThrow()
    expect(() => cron('x', { job: `echo ${'x'.repeat(994)}` })).not.toThrow()
  })
})

it('a user created by an earlier step makes the probe stale; cron.d files and crontabs are resources of their own', () => {
  const tab = cron('x', { user: 'backup', job: 'true' })
  expect([tab.touches, tab.reads]).toEqual([['crontab:backup'], ['crontab:backup', 'user:backup']])
  const dir = cron('x', { user: 'backup', file: 'backup', job: 'true' })
  expect([dir.touches, dir.reads]).toEqual([['cron.d:backup'], ['cron.d:backup', 'user:backup']])
})

describe('time fields', () => {
  it.each([
    ['*', 0, 59],
    ['*/15', 0, 59],
    ['0-30/10', 0, 59],
    ['1,15,30-45', 0, 59],
    ['7', 0, 7],
    ['mon', 0, 7, ['sun', 'mon']],
    ['JAN', 1, 12, ['jan']],
  ] as const)('%s is cron syntax', (v, lo, hi, names?) => {
    expect(validField(v, lo, hi, names)).toBe(true)
  })

  it.each(['', '8', '*/', '1-', '-1', '1/2', '1--2', 'x', '1,,2'])('%j is not (0-7)', (v) => {
    expect(validField(v, 0, 7, ['sun'])).toBe(false)
  })
})

describe('editCrontab', () => {
  const M = '#ferry: backup'
  const ENTRY = [M, 'MAILTO=ops', '30 3 * * * backup']

  it('leaves an unchanged crontab byte for byte, odd spacing and missing final newline included', () => {
    const tab = `SHELL=/bin/sh\n\n  # a comment\n${ENTRY.join('\n')}\n1 2 * * *\tother`
    expect(editCrontab(tab, M, ENTRY)).toEqual({ content: tab, before: ENTRY, after: ENTRY })
  })

  it('appends to other lines, ending with a newline; removing it gives the crontab back', () => {
    const tab = 'SHELL=/bin/sh\n1 2 * * * other'
    const added = editCrontab(tab, M, ENTRY).content
    expect(added).toBe(`SHELL=/bin/sh\n1 2 * * * other\n${ENTRY.join('\n')}\n`)
    expect(editCrontab(added, M, []).content).toBe(`${tab}\n`)
  })

  it('takes the env and job lines under the name, commented or not, and nothing past the job', () => {
    const tab = `${M}\n#MAILTO = ops\n#0 4 * * * backup\n5 * * * * next job\n`
    expect(editCrontab(tab, M, ENTRY)).toEqual({
      content: `${ENTRY.join('\n')}\n5 * * * * next job\n`,
      before: [M, '#MAILTO = ops', '#0 4 * * * backup'],
      after: ENTRY,
    })
  })

  it('does not take a comment for a disabled job, nor another entry for its own', () => {
    const tab = `${M}\n# the backup runs at night\n#ferry: other\n1 * * * * other\n`
    expect(editCrontab(tab, M, ENTRY).content).toBe(
      `${ENTRY.join('\n')}\n# the backup runs at night\n#ferry: other\n1 * * * * other\n`,
    )
  })

  it('a name that only starts the same is another entry', () => {
    const tab = '#ferry: backup2\n1 * * * * other\n'
    expect(editCrontab(tab, M, []).content).toBe(tab)
  })
})
