// FRR on Linux, as deploy-mesh and deploy-tenants both run it: the daemons file, the integrated
// /etc/frr/frr.conf, FRR's one init script, and the two handlers that apply a change to either
// file on a running FRR.
import { command, file, line, service, type Step } from 'ferry'

/** What the FRR steps need: the daemon to enable, the file's content, and how it is masked. */
export interface FrrPlan {
  daemon: 'ospfd' | 'bgpd'
  content: string
  /** Secrets in the file (vty and OSPF passwords), masked in diffs and the journal. */
  mask?: RegExp[]
}

/** frr-pythontools carries frr-reload.py, which applies a changed frr.conf as a delta. */
export const frrPackages = ['frr', 'frr-pythontools']

/** The daemon enabled, /etc/frr/frr.conf, FRR running and enabled at boot. */
export function frrSteps(p: FrrPlan): Step[] {
  return [
    line(`${p.daemon} enabled`, {
      path: '/etc/frr/daemons',
      line: `${p.daemon}=yes`,
      match: new RegExp(`^${p.daemon}=`),
      notify: 'restart frr',
    }),
    file('frr.conf', {
      path: '/etc/frr/frr.conf',
      // The daemons run as frr and read it themselves; vtysh and frr-reload.py run as root.
      mode: 0o600,
      owner: 'frr:frr',
      content: p.content,
      validate: 'vtysh -C -f %s',
      mask: p.mask,
      notify: 'reload frr',
    }),
    service('frr', { name: 'frr', enabled: true, state: 'running' }),
  ]
}

/**
 * A restart starts a daemon just enabled in /etc/frr/daemons. It is owed when FRR runs (when
 * watchfrr does: FRR's init script says "not running" while any enabled daemon is down, just the
 * case after enabling one, so a service step would skip it) and started before the daemons file
 * was last written. Not otherwise: on a first run the service step has just started FRR with that
 * file, and a needless restart is a risk, not a no-op: watchfrr loads frr.conf (vtysh -b) only
 * once every daemon is up within its startup timeout, and on a slow host (seen on the lab's UML
 * hosts under load) the restarted daemons ran with no config. Handlers run in this order: the
 * restart first, so the reload after it finds every daemon up and makes the running config the
 * file's, whatever the restart managed. A reload is undone by reloading the restored file:
 * rollback runs that handler again.
 */
export function frrHandlers(): Record<string, Step> {
  const reload = '/usr/lib/frr/frr-reload.py --reload /etc/frr/frr.conf'
  return {
    'restart frr': command('restart frr', async ({ $ }) => void (await $`service frr restart`), {
      unless: `! { read -r p < /run/frr/watchfrr.pid && kill -0 "$p"; } 2>/dev/null || [ /run/frr/watchfrr.pid -nt /etc/frr/daemons ]`,
      repeatOnRollback: true,
      revert: 'service frr restart',
    }),
    'reload frr': command('reload frr', async ({ $ }) => void (await $`sh -c ${reload}`), {
      unless: '! vtysh -c "show version"', // FRR not running: it reads the file when it starts
      repeatOnRollback: true,
      revert: reload,
    }),
  }
}
