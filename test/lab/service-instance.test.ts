// service's instanceOf on a Linux lab host, which has no systemd (issue 18): ferry-dummy@two, a
// second daemon run from the stand-in's init script through a link /etc/init.d/ferry-dummy@two,
// as OpenBSD's bgpd_rd1 is run from /etc/rc.d/bgpd. The moves of steps.test.ts, on this step:
// snapshot from outside (nsenter), apply, a no-op, drift by hand (the daemon stopped and its link
// removed) found by --dry-run, repaired, then `ferry rollback`, newest run first, leaving no trace:
// no link, no rc.d links, no daemon, no pidfile, and the base service untouched throughout.
import { describe, expect } from 'vitest'
import { installDummyService, labIt as it, removeDummyService, runbookRunner, sh } from './helpers.ts'

const RUNBOOK = 'test/fixtures/runbooks/service-instance.ts'
const TWO = 'ferry-dummy@two'
const CHANGES = `link /etc/init.d/${TWO} to ferry-dummy\nenable ${TWO}\nstart ${TWO}`

describe('service instanceOf', () => {
  it('ferry-dummy@two through a link to the init script: apply, no-op, drift found, repair, rollback leaves no trace', async () => {
    const h = 'lab3'
    const runner = runbookRunner(RUNBOOK, h)
    // Each run with its one step's report at hand.
    const run = async (...flags: string[]) => {
      const r = await runner.run(...flags)
      return { ...r, step: r.report.hosts[0]!.steps[0]! }
    }
    const { rollback } = runner
    // The instance's link, its rc.d links, the pidfiles of both daemons, and what each script says.
    const snapshot = () =>
      sh(
        h,
        [
          `readlink /etc/init.d/${TWO} || echo 'no link'`,
          `find /etc/rc?.d -name '[SK][0-9][0-9]${TWO}' | sort`,
          "ls /run | grep '^ferry-dummy' || echo 'no pidfile'",
          'service ferry-dummy status; echo "exit $?"',
        ].join('; '),
      )
    const pid = () => sh(h, `cat /run/${TWO}.pid`).trim()
    installDummyService(h)
    const before = snapshot()
    expect(before).toBe('no link\nno pidfile\nferry-dummy is not running\nexit 3\n')
    try {
      const first = await run()
      expect(first.code, `${first.report.hosts[0]?.error ?? ''}\n${first.stderr}`).toBe(0)
      expect(first.step).toMatchObject({ name: 'dummy two', status: 'changed', diff: CHANGES })
      const running = () => {
        const s = snapshot()
        expect(s).toMatch(/^ferry-dummy\n/) // the link, relative, to the stand-in's script
        for (const rl of [2, 3, 4, 5]) expect(s).toMatch(new RegExp(`^/etc/rc${rl}\\.d/S\\d\\d${TWO}$`, 'm'))
        // Its own pidfile only: the base service is not running, and was not started.
        expect(s).toMatch(new RegExp(`^${TWO}\\.pid\\nferry-dummy is not running\\nexit 3\\n$`, 'm'))
        expect(sh(h, `service ${TWO} status`)).toBe(`${TWO} is running\n`)
        expect(sh(h, `ps -o args= -p ${pid()}`)).toBe('sleep 100000\n')
      }
      running()

      const again = await run()
      expect(again.code).toBe(0)
      expect(again.step).toEqual({ name: 'dummy two', status: 'ok' })

      // Drift: the daemon stopped and the link taken away (its rc.d links stay, dangling).
      sh(h, `service ${TWO} stop && rm /etc/init.d/${TWO}`)
      const drifted = snapshot()
      expect(drifted).toMatch(/^no link\n/)
      const plan = await run('--dry-run')
      expect(plan.code).toBe(2)
      expect(plan.step).toMatchObject({ name: 'dummy two', status: 'changed', diff: CHANGES })
      expect(plan.step.commands!.join('\n')).toContain(`ln -s ferry-dummy /etc/init.d/${TWO}`)
      expect(snapshot()).toBe(drifted)

      const repair = await run()
      expect(repair.code).toBe(0)
      expect(repair.step).toMatchObject({ name: 'dummy two', status: 'changed', diff: CHANGES })
      running()
      const daemon = pid()

      await rollback(repair.report.runId)
      await rollback(first.report.runId)
      // Gone, or a zombie: no PID namespace here, so the machine's init reaps it, in its own time.
      expect(sh(h, `ps -o stat= -p ${daemon} | grep -v '^Z' || echo gone`)).toBe('gone\n')
      expect(snapshot()).toBe(before)
    } finally {
      sh(
        h,
        `[ ! -f /run/${TWO}.pid ] || kill "$(cat /run/${TWO}.pid)" 2>/dev/null; rm -f /run/${TWO}.pid /etc/init.d/${TWO}; update-rc.d ${TWO} remove >/dev/null 2>&1; true`,
      )
      removeDummyService(h)
    }
  })
})
