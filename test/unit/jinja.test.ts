// jinja(): each template in test/fixtures/jinja/ rendered by ansible-core's template module and by
// ferry, compared byte for byte. ansible-playbook runs once for all of them (it costs seconds a
// run): one play looping the template module over the fixtures into a scratch directory.
//
// Without ansible-playbook the golden comparison is skipped, except under CI=true, where it fails:
// a skipped golden test would pass for a renderer never compared. The ipaddr helpers come from
// ansible.utils, a collection ansible-core lacks (Debian's too), so they are tested against known
// values instead.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { jinja, TemplateError } from '../../src/jinja/jinja.ts'
import { CI, hasAnsible } from './ansible-core.ts'

const FIXTURES = resolve('test/fixtures/jinja')
const TEMPLATES = readdirSync(FIXTURES).filter((f) => f.endsWith('.j2'))
const VARS = YAML.parse(readFileSync(join(FIXTURES, 'vars.yaml'), 'utf8')) as Record<string, unknown>

const ANSIBLE = hasAnsible('ansible-playbook')

describe.skipIf(!ANSIBLE && !CI)('jinja: the bytes ansible-core writes', () => {
  const out = mkdtempSync(join(tmpdir(), 'ferry-jinja-'))

  beforeAll(() => {
    if (!ANSIBLE) throw new Error('ansible-playbook is not installed: the golden comparison cannot run')
    writeFileSync(join(out, 'vars.json'), JSON.stringify(VARS))
    const loop = { ferry_fixtures: TEMPLATES.map((t) => join(FIXTURES, t)), ferry_out: out }
    writeFileSync(
      join(out, 'render.yml'),
      YAML.stringify([
        {
          hosts: 'localhost',
          gather_facts: false,
          tasks: [
            {
              template: { src: '{{ item }}', dest: '{{ ferry_out }}/{{ item | basename }}' },
              loop: '{{ ferry_fixtures }}',
            },
          ],
        },
      ]),
    )
    const started = Date.now()
    try {
      execFileSync(
        'ansible-playbook',
        [
          '-i',
          'localhost,',
          '-c',
          'local',
          join(out, 'render.yml'),
          '-e',
          `@${join(out, 'vars.json')}`,
          '-e',
          JSON.stringify(loop),
        ],
        { stdio: 'pipe', env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false' } },
      )
    } catch (err) {
      // Ansible says what failed on stdout.
      throw new Error(`ansible-playbook failed:\n${(err as { stdout?: Buffer }).stdout?.toString() ?? err}`)
    }
    console.log(`ansible-playbook rendered ${TEMPLATES.length} templates in ${Date.now() - started} ms`)
  }, 120_000)

  it.each(TEMPLATES)('%s', (template) => {
    expect(jinja(join(FIXTURES, template), VARS)).toBe(readFileSync(join(out, template), 'utf8'))
  })
})

describe('jinja: paths', () => {
  it('takes a path relative to the working directory, or a URL', () => {
    const byUrl = jinja(pathToFileURL(join(FIXTURES, 'ospfd.conf.j2')), VARS)
    expect(jinja('test/fixtures/jinja/ospfd.conf.j2', VARS)).toBe(byUrl)
    expect(byUrl).toContain('router-id 10.255.0.1\n')
  })

  it('refuses a template that is not there', () => {
    expect(() => jinja('test/fixtures/jinja/absent.j2', VARS)).toThrow(/no template at .*absent\.j2/)
  })
})

describe('jinja: errors name the file, line and column', () => {
  const broken = (name: string) => {
    try {
      jinja(`test/fixtures/jinja/broken/${name}`, VARS)
    } catch (err) {
      expect(err).toBeInstanceOf(TemplateError)
      return (err as TemplateError).message
    }
    throw new Error(`${name} rendered`)
  }

  it('an undefined variable', () => {
    expect(broken('undefined-var.j2')).toBe(`test/fixtures/jinja/broken/undefined-var.j2:2:9: 'ospf_area' is undefined`)
  })

  it('a missing attribute, in a loop', () => {
    expect(broken('undefined.j2')).toBe(
      `test/fixtures/jinja/broken/undefined.j2:3:36: 'dict object' has no attribute 'metric'`,
    )
  })

  it('an unknown filter, even in a branch never taken', () => {
    expect(broken('unknown-filter.j2')).toMatch(
      /^test\/fixtures\/jinja\/broken\/unknown-filter\.j2:3:\d+: no filter named 'ipaddrr'$/,
    )
  })

  it('a syntax error', () => {
    expect(broken('syntax.j2')).toMatch(/^test\/fixtures\/jinja\/broken\/syntax\.j2:\d+:\d+: /)
  })
})

describe('jinja: ipaddr, against known values (ansible.utils is not in ansible-core)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-jinja-ipaddr-'))
  const render = (expr: string, vars: Record<string, unknown> = {}) => {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.j2`)
    writeFileSync(file, `{{ ${expr} }}`)
    return jinja(file, vars)
  }

  it.each([
    ["'10.1.2.3/24' | ipaddr('address')", '10.1.2.3'],
    ["'10.1.2.3/24' | ipaddr('netmask')", '255.255.255.0'],
    ["'10.1.2.3/24' | ipaddr('prefix')", '24'],
    ["'10.1.2.3/24' | ipaddr('network')", '10.1.2.0'],
    ["'10.1.2.3/255.255.252.0' | ipaddr('network')", '10.1.0.0'],
    ["'10.1.2.3/255.255.252.0' | ipaddr('prefix')", '22'],
    ["'10.1.2.3' | ipaddr('prefix')", '32'],
    ["'10.1.2.3' | ipaddr('netmask')", '255.255.255.255'],
    ["'10.254.0.0/31' | ipaddr('address')", '10.254.0.0'],
    ["'10.1.2.0/24' | ipaddr('address')", ''], // a network's own address: None in ansible.utils
    ["'0.0.0.0/0' | ipaddr('netmask')", '0.0.0.0'],
    ["'10.1.2.3/24' | ipaddr", '10.1.2.3/24'],
    ["'300.1.2.3' | ipaddr", 'False'],
    ["'gre0' | ipaddr", 'False'],
    ["'10.1.2.3/33' | ipaddr", 'False'],
    ["['10.0.0.1/30', 'x', '10.0.0.5/30'] | ipaddr('address') | join(',')", '10.0.0.1,10.0.0.5'],
    ["'10.1.2.3/24' | ipv4('address')", '10.1.2.3'],
    ["'2001:db8::1' | ipv4", 'False'],
    ["['10.0.0.1', '2001:db8::1'] | ipv4 | join(',')", '10.0.0.1'],
  ])('%s → %s', (expr, want) => {
    expect(render(expr)).toBe(want)
  })

  it('refuses IPv6 and queries it does not know, rather than answering wrongly', () => {
    expect(() => render("'2001:db8::1/64' | ipaddr('address')")).toThrow(/IPv6/)
    expect(() => render("'10.1.2.3/24' | ipaddr('broadcast')")).toThrow(/does not answer 'broadcast'/)
  })
})
