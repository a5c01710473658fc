// `ferry import ansible-inventory`: checked against Ansible itself. For each fixture, what
// `ansible-inventory --list` says of every host (its groups, its vars) must be what ferry loads
// from the imported file.
import { execFile, execFileSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { expandHostPattern } from '../../src/inventory/ansible-read.ts'
import { importAnsibleInventory } from '../../src/inventory/ansible.ts'
import { InventoryError, loadInventory, type Host, type Inventory } from '../../src/inventory/index.ts'
import { CI, hasAnsible } from './ansible-core.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const FIXTURES = join(ROOT, 'test/fixtures/ansible')
const fixture = (...p: string[]) => join(FIXTURES, ...p)

// Under CI a missing ansible-inventory is a failure, not a skip: the round trip is the proof.
const ANSIBLE = hasAnsible('ansible-inventory')

/** The imported inventory, written beside nothing and loaded as `ferry inventory` loads it. */
async function imported(file: string): Promise<{ text: string; inv: Inventory }> {
  const text = importAnsibleInventory(file)
  const out = join(mkdtempSync(join(tmpdir(), 'ferry-import-')), 'imported.yaml')
  writeFileSync(out, text)
  return { text, inv: await loadInventory(out, { unsetSecrets: 'warn' }) }
}

interface Listed {
  _meta: { hostvars: Record<string, Record<string, unknown>> }
  [group: string]: { hosts?: string[]; children?: string[] } | Listed['_meta']
}

/** Each host's groups, through children, as `ansible-inventory --list` has them. */
function groupsByHost(listed: Listed): Map<string, Set<string>> {
  const groups = listed as unknown as Record<string, { hosts?: string[]; children?: string[] }>
  const hostsOf = (g: string): string[] => [
    ...(groups[g]?.hosts ?? []),
    ...(groups[g]?.children ?? []).flatMap(hostsOf),
  ]
  const out = new Map<string, Set<string>>()
  for (const g of Object.keys(groups).filter((g) => !['_meta', 'all', 'ungrouped'].includes(g)))
    for (const h of hostsOf(g)) out.set(h, (out.get(h) ?? new Set()).add(g))
  return out
}

const isVaulted = (v: unknown) => typeof v === 'object' && v !== null && '__ansible_vault' in v
const OS: Record<string, string> = { FreeBSD: 'freebsd', OpenBSD: 'openbsd', Linux: 'linux' }

/** The ferry settings Ansible's connection vars stand for, to compare with the loaded host's. */
function expectSettings(h: Host, vars: Record<string, unknown>, inv: Inventory) {
  const local = vars.ansible_connection === 'local'
  expect(h.connection).toBe(local ? 'local' : 'ssh')
  if (!local) expect(h.address).toBe(vars.ansible_host ?? h.name)
  expect(h.port).toBe(vars.ansible_port ?? 22)
  if (vars.ansible_user !== undefined) expect(h.user).toBe(vars.ansible_user)
  const key = vars.ansible_ssh_private_key_file as string | undefined
  expect(h.identity).toEqual(key ? [key.replace(/^~/, homedir())] : [])
  const become = ['true', 'yes', '1'].includes(String(vars.ansible_become ?? false).toLowerCase())
  expect(h.become).toBe(become ? (vars.ansible_become_method ?? 'sudo') : 'none')
  if (become && vars.ansible_become_pass !== undefined) {
    expect(h.becomePassword).toBeDefined()
    expect(inv.secrets.source(h.becomePassword!)).toMatch(/^env:FERRY_SECRET_\w+$/)
  }
  const os = (vars.ansible_system ?? vars.ansible_os_family) as string | undefined
  expect(h.os).toBe(os ? OS[os] : undefined)
}

describe.skipIf(!ANSIBLE && !CI)(
  'round trip against ansible-inventory --list (skipped without it, unless CI=true)',
  () => {
    it.each(['hosts.ini', 'hosts.yml'])('%s: same hosts, groups and effective vars', async (name) => {
      if (!ANSIBLE) throw new Error('ansible-inventory is not installed (Debian: apt-get install ansible-core)')
      // Inline !vault values are listed as ciphertext without the password: none is needed.
      const listed = JSON.parse(
        execFileSync('ansible-inventory', ['-i', fixture(name), '--list'], { encoding: 'utf8', cwd: FIXTURES }),
      ) as Listed
      const { inv } = await imported(fixture(name))
      const hostvars = listed._meta.hostvars
      expect(inv.hosts.map((h) => h.name).sort()).toEqual(Object.keys(hostvars).sort())
      const membership = groupsByHost(listed)

      for (const h of inv.hosts) {
        const vars = hostvars[h.name]!
        expect(new Set(h.groups.filter((g) => g !== 'all')), h.name).toEqual(membership.get(h.name) ?? new Set())
        expectSettings(h, vars, inv)
        const plain = Object.entries(vars).filter(([k]) => !k.startsWith('ansible_'))
        for (const [k, v] of plain) {
          if (isVaulted(v)) {
            expect(h.vars, `${h.name}.${k}`).not.toHaveProperty(k)
            expect(inv.secrets.names().some((s) => s === k || s.endsWith(`_${k}`))).toBe(true)
          } else {
            expect(h.vars[k], `${h.name}.${k}`).toEqual(v)
          }
        }
        const expected = plain.filter(([, v]) => !isVaulted(v)).map(([k]) => k)
        expect(Object.keys(h.vars).sort(), h.name).toEqual(expected.sort())
      }
    })
  },
)

describe('what Ansible merges in two passes', () => {
  it('puts the value Ansible gives on the host, with a comment, where ferry would merge another', async () => {
    const { text, inv } = await imported(fixture('hosts.ini'))
    // [dc1_routers:vars] says gre; group_vars/mesh/ says openvpn and is read later.
    expect(inv.hosts.find((h) => h.name === 'r1')!.vars.tunnel).toBe('openvpn')
    expect(text).toMatch(/tunnel: openvpn # from group_vars\/mesh\/main\.yml:3: /)
    // ansible_group_priority puts dc2 after openbsd, so dc2's syslog_host wins.
    const r3 = inv.hosts.find((h) => h.name === 'r3')!
    expect(r3.groups).toEqual(['mesh', 'openbsd', 'dc2', 'dc2_routers', 'all'])
    expect(r3.vars.syslog_host).toBe('10.2.0.1')
  })

  it('names the Ansible source of each mapped setting and each dropped var', async () => {
    const { text } = await imported(fixture('hosts.ini'))
    expect(text).toContain('address: 192.0.2.11 # ansible_host (host_vars/r1.yml:1)')
    expect(text).toContain('port: 2222 # ansible_port (hosts.ini:14)')
    expect(text).toContain('dropped, Ansible-only: ansible_python_interpreter (group_vars/all.yml:4)')
    expect(text).toMatch(/os is not known for controller, edge01/)
  })
})

describe('a group value that must give way to a vaulted one', () => {
  it('moves to the hosts that keep it, so no host gets a value Ansible would not give it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-import-'))
    // r1 is in edge, whose group_vars/ file vaults x; r2 is only in routers, whose [routers:vars] sets x.
    writeFileSync(join(dir, 'hosts'), '[edge]\nr1\n[routers]\nr2\n[routers:children]\nedge\n[routers:vars]\nx=plain\n')
    const vault = readFileSync(fixture('group_vars/mesh/vault.yml'), 'utf8').replace('ospf_md5_key', 'x')
    mkdirSync(join(dir, 'group_vars'))
    writeFileSync(join(dir, 'group_vars/edge.yml'), vault)
    const { inv } = await imported(join(dir, 'hosts'))
    const [r1, r2] = inv.hosts
    expect(r1!.vars).toEqual({})
    expect(r2!.vars).toEqual({ x: 'plain' })
    expect(inv.groups.routers!.vars).toEqual({})
    expect(inv.secrets.names()).toEqual(['x'])
  })
})

describe('host patterns and vars directories as Ansible reads them', () => {
  const at = { file: 'hosts.ini', line: 1, col: 1 }
  it('a range with a port: the range is expanded, the port kept (the range has colons of its own)', () => {
    expect(expandHostPattern('web[1:3]:2222', at)).toEqual({ names: ['web1', 'web2', 'web3'], port: 2222 })
    expect(expandHostPattern('r[01:02].dc1', at)).toEqual({ names: ['r01.dc1', 'r02.dc1'] })
    expect(expandHostPattern('[2001:db8::1]:22', at)).toEqual({ names: ['2001:db8::1'], port: 22 })
  })

  it('skips a dangling symlink in group_vars/, as Ansible does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-import-'))
    writeFileSync(join(dir, 'hosts.ini'), '[mesh]\nr1 ansible_host=192.0.2.1\n')
    mkdirSync(join(dir, 'group_vars'))
    writeFileSync(join(dir, 'group_vars', 'mesh.yml'), 'ospf_area: 0.0.0.0\n')
    symlinkSync(join(dir, 'nowhere.yml'), join(dir, 'group_vars', 'all.yml'))
    const { inv } = await imported(join(dir, 'hosts.ini'))
    expect(inv.hosts.find((h) => h.name === 'r1')!.vars.ospf_area).toBe('0.0.0.0')
  })
})

describe('bad input names its file:line:col', () => {
  const cases: [string, string, RegExp][] = [
    [
      'unclosed section',
      'broken/unclosed-section.ini',
      /unclosed-section\.ini:4:1: section "\[dc2_routers" has no closing "\]"/,
    ],
    [
      'unknown section type',
      'broken/unknown-section.ini',
      /unknown-section\.ini:4:1: section \[dc1_routers:hostvars\] has an unknown type/,
    ],
    ['bad host range', 'broken/bad-range.ini', /bad-range\.ini:2:5: host range in "jail\[01:3\]\.dc1\.example\.net": /],
    [
      'var name not an identifier',
      'broken/bad-var-name.ini',
      /bad-var-name\.ini:6:1: "syslog-host" is not a valid variable name/,
    ],
    ['become method su', 'broken/become-su.ini', /become-su\.ini:3:48: ansible_become_method "su": /],
    ['host_vars not YAML', 'broken/host-vars-not-yaml/hosts.ini', /host_vars\/r1\.yml:\d+:\d+: not valid YAML/],
    [
      'vault-encrypted address',
      'broken/vault-address/hosts.yml',
      /vault-address\/hosts\.yml:4:7: ansible_host is vault-encrypted/,
    ],
  ]
  it.each(cases)('%s', (_, file, message) => {
    let error: unknown
    try {
      importAnsibleInventory(fixture(file))
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InventoryError)
    expect((error as InventoryError).exitCode).toBe(64)
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).not.toContain('\n')
  })
})

describe('vault', () => {
  /** Every line of ciphertext in the fixtures. */
  const ciphertext = (dir: string): string[] =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .map((f) => join(dir, f))
      .filter((f) => statSync(f).isFile())
      .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
      .map((l) => l.trim())
      .filter((l) => /^[0-9a-f]{32,}$/.test(l))

  it('has ciphertext in the fixtures to look for', () => {
    expect(ciphertext(FIXTURES).length).toBeGreaterThan(10)
  })

  it.each(['hosts.ini', 'hosts.yml', 'vault-file/hosts.ini'])(
    '%s: no ciphertext in the output; each vaulted value is a secret to fill in',
    async (name) => {
      const { text, inv } = await imported(fixture(name))
      expect(text).not.toContain('$ANSIBLE_VAULT')
      for (const line of ciphertext(FIXTURES)) expect(text).not.toContain(line)
      expect(inv.secrets.names().length).toBeGreaterThan(0)
      for (const s of inv.secrets.names()) expect(inv.secrets.source(s)).toMatch(/^env:FERRY_SECRET_/)
      expect(text).toMatch(/ # was vault-encrypted in group_vars\/|vault-encrypted whole/)
    },
  )

  it('a vault-encrypted group_vars file becomes one secret; its vars are not guessed', async () => {
    const { text, inv } = await imported(fixture('vault-file/hosts.ini'))
    expect(inv.secrets.names()).toEqual(['mesh_vault'])
    expect(text).toContain('group_vars/mesh/vault.yml:1 was vault-encrypted whole')
    expect(inv.hosts[0]!.vars).toEqual({ ospf_area: '0.0.0.0' })
  })

  it('an error about a vaulted value quotes none of it', () => {
    expect(() => importAnsibleInventory(fixture('broken/vault-address/hosts.yml'))).toThrow(/vault-encrypted/)
    try {
      importAnsibleInventory(fixture('broken/vault-address/hosts.yml'))
    } catch (e) {
      for (const line of ciphertext(fixture('broken/vault-address'))) expect((e as Error).message).not.toContain(line)
      expect((e as Error).message).not.toContain('$ANSIBLE_VAULT')
    }
  })
})

describe('dynamic inventories are refused', () => {
  it.each(['dynamic/ec2.py', 'dynamic/netbox.sh', 'dynamic/aws_ec2.yml'])('%s', (file) => {
    expect(() => importAnsibleInventory(fixture(file))).toThrow(/:1:1: .*dynamic inventory: ferry imports static/)
  })

  it('an executable file, whatever its name', () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'ferry-import-')), 'inventory')
    copyFileSync(fixture('hosts.ini'), copy)
    chmodSync(copy, 0o755)
    expect(() => importAnsibleInventory(copy)).toThrow(/:1:1: is executable, so Ansible runs it as a dynamic inventory/)
  })
})

function ferry(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(
      process.execPath,
      [join(ROOT, 'bin/ferry.mjs'), ...args],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
    ),
  )
}

// Real processes: from the sources through jiti when the bundle is older, a few seconds each.
describe('ferry import ansible-inventory', { timeout: 60_000 }, () => {
  it('--help teaches: what is mapped, what is refused, examples', async () => {
    const r = await ferry(['import', 'ansible-inventory', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Usage: ferry import ansible-inventory/m)
    expect(r.stdout).toContain('ansible_host -> address')
    expect(r.stdout).toContain('Refused: dynamic inventories')
    expect(r.stdout).toContain('Examples:')
  })

  it('prints to stdout; --out writes a file ferry inventory accepts, and refuses to overwrite it', async () => {
    const printed = await ferry(['import', 'ansible-inventory', fixture('hosts.ini')])
    expect(printed.code, printed.stderr).toBe(0)
    expect(printed.stdout).toContain('hosts:')

    const out = join(mkdtempSync(join(tmpdir(), 'ferry-import-')), 'mesh.yaml')
    const written = await ferry(['import', 'ansible-inventory', fixture('hosts.yml'), '--out', out])
    expect(written.code, written.stderr).toBe(0)
    expect(readFileSync(out, 'utf8')).toBe(importAnsibleInventory(fixture('hosts.yml')))
    const shown = await ferry(['inventory', '-i', out, '--json'])
    expect(shown.code, shown.stderr).toBe(0)
    expect(JSON.parse(shown.stdout).hosts).toHaveLength(10)

    writeFileSync(out, 'hosts: {}\n')
    const again = await ferry(['import', 'ansible-inventory', fixture('hosts.ini'), '--out', out])
    expect(again.code).toBe(64)
    expect(again.stderr).toMatch(/exists; --force overwrites it/)
    expect(readFileSync(out, 'utf8')).toBe('hosts: {}\n')
    const forced = await ferry(['import', 'ansible-inventory', fixture('hosts.ini'), '--out', out, '--force'])
    expect(forced.code, forced.stderr).toBe(0)
    expect(readFileSync(out, 'utf8')).toContain('hosts:')
  })

  it('bad input is exit 64 with file:line:col, and no stack trace', async () => {
    const r = await ferry(['import', 'ansible-inventory', fixture('broken/bad-range.ini')])
    expect(r.code).toBe(64)
    expect(r.stderr).toMatch(
      new RegExp(`^ferry: ${relative(ROOT, fixture('broken/bad-range.ini')).replaceAll('.', '\\.')}:2:5: host range`),
    )
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})
