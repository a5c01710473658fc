// Coming from Ansible, end to end: an Ansible INI inventory of two lab hosts and a play with one
// template task. Ansible (Debian's ansible-core) runs the play over SSH; ferry imports the same
// inventory and runs a runbook whose file step renders the same .j2 with jinja(). On each host the
// two files are the same bytes and mode; a second ferry run changes nothing; a template with an
// undefined variable stops the run before any host is changed, naming the template's line.
import { execFileSync } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { parseDocument } from 'yaml'
import { ADDRESSES, LAB_KEY, LAB_KNOWN_HOSTS, ROOT, ferry, labIt as it, sh, tempDir, withReport } from './helpers.ts'

const FIXTURES = join(ROOT, 'test/fixtures/from-ansible')
const RUNBOOK = join(ROOT, 'test/fixtures/runbooks/from-ansible.ts')
const HOSTS = ['lab1', 'lab2'] as const
const OUT = '/var/tmp/ferry-from-ansible'

// INI values as Ansible reads them: shlex words, then Python literals where they parse (the quotes
// keep the list's own quotes for literal_eval; unquoted, shlex strips them and the value is text).
const ANSIBLE_INVENTORY = `[mesh]
lab1 ansible_host=${ADDRESSES.lab1} router_id=10.0.0.1
lab2 ansible_host=${ADDRESSES.lab2} router_id=10.0.0.2 passive_interfaces="['lo1', 'eth0']"

[mesh:vars]
ansible_user=root
ansible_ssh_private_key_file=${LAB_KEY}
ansible_ssh_common_args='-o UserKnownHostsFile=${LAB_KNOWN_HOSTS} -o StrictHostKeyChecking=yes'
ansible_python_interpreter=/usr/bin/python3
ospf_area=0.0.0.0
ospf_networks=['172.16.2.0/24','10.0.0.0/24']
reference_bandwidth=10000
`

it('an Ansible inventory and template: ferry imports the one and renders the other to the bytes Ansible writes on the same hosts', async () => {
  const dir = tempDir('ferry-from-ansible-')
  writeFileSync(join(dir, 'hosts.ini'), ANSIBLE_INVENTORY)
  for (const f of ['ospfd.conf.j2', 'site.yml']) copyFileSync(join(FIXTURES, f), join(dir, f))
  for (const h of HOSTS) sh(h, `rm -rf ${OUT}; mkdir -p ${OUT}`)

  // Ansible, as the operator ran it (without ControlPersist: no ssh master outlives the test).
  execFileSync('ansible-playbook', ['-i', 'hosts.ini', 'site.yml', '-e', `out_dir=${OUT}`], {
    cwd: dir,
    env: { ...process.env, ANSIBLE_SSH_ARGS: '', ANSIBLE_NOCOLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: '0' },
    stdio: 'pipe',
    timeout: 180_000,
  })

  // ferry: the imported inventory, plus the one thing Ansible's had in ssh arguments.
  const imported = await ferry(['import', 'ansible-inventory', join(dir, 'hosts.ini'), '--out', join(dir, 'inv.yaml')])
  expect(imported.code, imported.stderr).toBe(0)
  const inv = join(dir, 'inv.yaml')
  const doc = parseDocument(readFileSync(inv, 'utf8'))
  expect(doc.getIn(['hosts', 'lab2', 'address'])).toBe(ADDRESSES.lab2)
  doc.setIn(['defaults', 'known_hosts'], LAB_KNOWN_HOSTS)
  writeFileSync(inv, doc.toString())

  const state = tempDir()
  const run = async (template: string, out = OUT) =>
    withReport(
      await ferry([
        'run',
        RUNBOOK,
        '-i',
        inv,
        '--format',
        'json',
        '--state-dir',
        state,
        '--param',
        `template=${template}`,
        '--param',
        `out_dir=${out}`,
      ]),
    )
  const first = await run(join(dir, 'ospfd.conf.j2'))
  expect(first.code, first.stderr).toBe(0)
  try {
    for (const h of HOSTS) {
      const [ansible, ferried] = ['ansible', 'ferry'].map((who) => `${OUT}/${who}-${h}.conf`)
      const theirs = sh(h, `cat ${ansible}`)
      expect(theirs).toContain(`ospf router-id 10.0.0.${h.slice(-1)}`)
      expect(sh(h, `cat ${ferried}`)).toBe(theirs)
      expect(sh(h, `stat -c %a ${ferried} ${ansible}`)).toBe('644\n644\n')
    }
    expect(sh('lab2', `cat ${OUT}/ferry-lab2.conf`)).toContain(' passive-interface lo1 eth0\n')
    expect(sh('lab1', `cat ${OUT}/ferry-lab1.conf`)).not.toContain('passive-interface')

    const again = await run(join(dir, 'ospfd.conf.j2'))
    expect(again.code, again.stderr).toBe(0)
    expect(again.report.summary.changed).toBe(0)

    // An undefined variable: refused at plan time, at the template's line, with nothing written.
    const broken = join(dir, 'broken.j2')
    writeFileSync(broken, `${readFileSync(join(dir, 'ospfd.conf.j2'), 'utf8')} redistribute {{ redistribute_from }}\n`)
    const refused = await ferry([
      'run',
      RUNBOOK,
      '-i',
      inv,
      '--state-dir',
      state,
      '--param',
      `template=${broken}`,
      '--param',
      `out_dir=${OUT}/broken`,
    ])
    expect(refused.code).toBe(64)
    expect(refused.stderr).toMatch(/broken\.j2:11:\d+: .*redistribute_from/)
    for (const h of HOSTS) expect(sh(h, `ls ${OUT}`)).toBe(`ansible-${h}.conf\nferry-${h}.conf\n`)
  } finally {
    const undo = await ferry(['rollback', first.report.runId, '--state-dir', state])
    expect(undo.code, undo.stdout + undo.stderr).toBe(0)
  }
  for (const h of HOSTS) expect(sh(h, `ls ${OUT}`)).toBe(`ansible-${h}.conf\n`)
}, 300_000)
