// OpenBSD's /etc/ifstated.conf for seed 004's pair: two states that follow the first CARP
// interface (its link is up when it is master, down when backup), each running the runbook's
// commands as it is entered. ifstated's grammar wants every action in a block on a line of its own
// (`init { run "x" }` on one line does not parse), and its strings have no escapes: a command may
// not hold a double quote. Check with `ifstated -n -f FILE`, which needs the CARP interface to
// exist (it resolves the name as it reads).
import { lines, template, word } from '../src/mesh/config.ts'

export interface IfstatedConfVars {
  /** The CARP interface the states follow, e.g. carp0. */
  carp: string
  /** Commands run on becoming master, and on becoming backup. */
  master: string[]
  backup: string[]
}

const run = (c: string) => {
  if (/["\\]/.test(c)) throw new Error('an ifstated command cannot contain a double quote or a backslash')
  return `\t\trun "${c}"`
}

export default template('ifstated.conf', (v: IfstatedConfVars) => {
  const carp = word('CARP interface', v.carp)
  const state = (name: string, commands: string[], test: string, next: string) => [
    `state ${name} {`,
    ...(commands.length ? ['\tinit {', ...commands.map(run), '\t}'] : []),
    `\tif ${test}`,
    `\t\tset-state ${next}`,
    '}',
  ]
  return lines(
    '# /etc/ifstated.conf: written by ferry (deploy-carp-gateway) from the inventory',
    // Backup first: a node that has not yet heard its peer is not master until CARP says so.
    'init-state backup',
    '',
    state('backup', v.backup, `${carp}.link.up`, 'master'),
    '',
    state('master', v.master, `! ${carp}.link.up`, 'backup'),
  )
})
