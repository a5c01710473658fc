// `ferry inventory`: what ferry understood from the file, after defaults and merging.
// Secrets are shown by source only; nothing here resolves one.
import { displayPath } from './errors.ts'
import { REDACTED } from './secrets.ts'
import type { Host, Inventory } from './types.ts'
import { printable } from '../report/printable.ts'

/** Renders `hosts` (usually a selection) with the groups, links and secrets that concern them. */
export function renderInventory(inv: Inventory, hosts: Host[], format: 'text' | 'json'): string {
  const names = new Set(hosts.map((h) => h.name))
  const groups = Object.entries(inv.groups).map(([name, g]) => ({
    name,
    vars: g.vars,
    hosts: hosts.filter((h) => h.groups.includes(name)).map((h) => h.name),
  }))
  const links = inv.links.filter((l) => names.has(l.a) || names.has(l.b))
  const secrets = inv.secrets.names().map((name) => ({ name, source: inv.secrets.source(name) }))

  const out =
    format === 'json'
      ? JSON.stringify(
          {
            file: inv.file,
            hosts,
            groups: Object.fromEntries(groups.map(({ name, ...g }) => [name, g])),
            links,
            secrets: Object.fromEntries(secrets.map(({ name, source }) => [name, { source, value: REDACTED }])),
          },
          null,
          2,
        )
      : printable(renderText(inv, hosts, groups, links, secrets))
  // Secrets resolved elsewhere in this process could still appear in vars typed by hand.
  return inv.secrets.redact(out)
}

type Row = [string, string]

function renderText(
  inv: Inventory,
  hosts: Host[],
  groups: { name: string; vars: Record<string, unknown>; hosts: string[] }[],
  links: Inventory['links'],
  secrets: { name: string; source: string }[],
): string {
  const out = [`inventory ${displayPath(inv.file)}`, '', `hosts (${hosts.length}):`]
  for (const h of hosts) {
    out.push(`  ${h.name}`)
    const rows: Row[] = [
      [
        'address',
        h.connection === 'local'
          ? 'local (runs on the controller)'
          : `${h.address.includes(':') ? `[${h.address}]` : h.address}:${h.port}`,
      ],
      ['user', h.user],
      ['os', h.os ?? '-'],
      ['become', h.becomePassword ? `${h.become} (password: secret ${h.becomePassword})` : h.become],
      ['groups', h.groups.join(', ')],
    ]
    if (h.jump) rows.push(['jump', typeof h.jump === 'string' ? h.jump : formatJump(h.jump)])
    Object.entries(h.jails).forEach(([name, j], i) =>
      rows.push([i ? '' : 'jails', `${name}  ${j.address}  ${j.dataset}`]),
    )
    out.push(...table(rows, '    '))
    if (Object.keys(h.vars).length) out.push('    vars', ...table(varRows(h.vars), '      '))
  }

  out.push('', `groups (${groups.length}):`)
  for (const g of groups) {
    out.push(`  ${g.name}: ${g.hosts.join(', ') || '(no hosts)'}`)
    out.push(...table(varRows(g.vars), '    '))
  }

  out.push('', `links (${links.length}):`)
  for (const { a, b, ...settings } of links) {
    const extra = Object.entries(settings)
      .map(([k, v]) => `${k}=${show(v)}`)
      .join(' ')
    out.push(`  ${a} - ${b}${extra ? `  ${extra}` : ''}`)
  }

  out.push('', `secrets (${secrets.length}):`)
  out.push(
    ...table(
      secrets.map(({ name, source }) => [`${name}:`, `${REDACTED} (${source})`]),
      '  ',
    ),
  )
  return out.join('\n') + '\n'
}

const varRows = (vars: Record<string, unknown>): Row[] => Object.entries(vars).map(([k, v]) => [k, show(v)])

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))

const formatJump = (j: { address: string; port?: number; user?: string }) =>
  `${j.user ? `${j.user}@` : ''}${j.address.includes(':') ? `[${j.address}]` : j.address}${j.port ? `:${j.port}` : ''}`

/** Two columns, the first padded to its widest entry. */
function table(rows: Row[], indent: string): string[] {
  const width = Math.max(0, ...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`.trimEnd())
}
