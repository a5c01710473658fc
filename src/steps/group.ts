// A group: present (with its gid, if given) or absent. Members are the user step's business
// (`groups`); a group ferry removes is put back on undo with its gid and its members.

import { field, fields } from '../platform/common.ts'
import { quote } from '../shell/quote.ts'
import { run } from './script.ts'
import type { Platform } from '../platform/platform.ts'
import { ANYTHING, StepError, notifyList, type CommonOptions, type ProbeResult, type Step } from './step.ts'

export interface GroupOptions extends CommonOptions {
  name: string
  /** Default: the OS picks one for a new group, and an existing group keeps its own. */
  gid?: number
  /** Default `present`. */
  state?: 'present' | 'absent'
}

/** The group as the probe saw it. */
export interface GroupRecord {
  existed: boolean
  gid?: number
  members?: string[]
}

/** Names useradd, groupadd and pw all accept: a letter or `_` first, at most 32 characters. */
export const ACCOUNT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/

/** A uid or gid: what every OS here takes. */
export function checkId(step: string, what: string, id: number | undefined): void {
  if (id !== undefined && (!Number.isInteger(id) || id < 0 || id > 4294967294))
    throw new StepError(`${step}: ${what} must be a whole number from 0 to 4294967294, got ${id}`)
}

interface GroupState extends GroupRecord {
  /** The group holding the wanted gid. */
  gidGroup?: string
  /** Users whose primary group it is. */
  primary: string[]
}

function parse(probe: ProbeResult): GroupState {
  const gid = field(probe.stdout, 'gid')
  return {
    existed: field(probe.stdout, 'exists') === '1',
    gid: gid === undefined ? undefined : Number(gid),
    members: fields(probe.stdout, 'member'),
    gidGroup: field(probe.stdout, 'gid_group'),
    primary: fields(probe.stdout, 'primary'),
  }
}

/** `group('operators', { name: 'ops', gid: 4200 })`. */
export function group(name: string, opts: GroupOptions): Step<GroupRecord> {
  const g = opts.name
  const state = opts.state ?? 'present'
  if (!ACCOUNT_NAME.test(g)) throw new StepError(`${name}: not a group name: ${JSON.stringify(g)}`)
  checkId(name, 'gid', opts.gid)
  if (state === 'absent' && opts.gid !== undefined)
    throw new StepError(`${name}: a group that is to be absent has no gid`)
  const probe = (platform: Platform) => platform.users.probeGroup(g, { gid: opts.gid, primary: state === 'absent' })

  /** The commands that put back what the record saw, whatever the host looks like: also revert's. */
  const back = (record: GroupRecord, platform: Platform): string[] => {
    const u = platform.users
    const there = `getent group ${quote(g)} >/dev/null`
    if (state === 'absent') {
      if (!record.existed) return []
      const members = record.members?.length ? ` && ${u.addMembers(g, record.members)}` : ''
      return [`if ! ${there}; then ${u.addGroup(g, record.gid)}${members}; fi`]
    }
    if (!record.existed) return [`if ${there}; then ${u.delGroup(g)}; fi`]
    return record.gid === undefined || record.gid === opts.gid ? [] : [u.modGroup(g, record.gid)]
  }

  return {
    kind: 'group',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky,
    previewCommands: true,
    touches: [`group:${g}`],
    reads: [`group:${g}`],

    probe,

    check(probe, { pending }) {
      const cur = parse(probe)
      if (state === 'absent') {
        if (!cur.existed) return []
        // groupdel refuses a group that is some user's primary group.
        const holders = cur.primary.filter((u) => !pending.has(`user:${u}`))
        if (holders.length && !pending.has(ANYTHING))
          throw new StepError(`group ${g} is the primary group of ${holders.join(', ')}: give them another first`)
        const members = cur.members?.length ? `, members ${cur.members.join(', ')}` : ''
        return [{ summary: `remove group ${g} (gid ${cur.gid}${members})` }]
      }
      if (opts.gid !== undefined && cur.gidGroup !== undefined && cur.gidGroup !== g)
        throw new StepError(`gid ${opts.gid} belongs to group ${cur.gidGroup}`)
      if (!cur.existed) return [{ summary: `create group ${g}${opts.gid === undefined ? '' : ` (gid ${opts.gid})`}` }]
      if (opts.gid !== undefined && cur.gid !== opts.gid)
        return [{ summary: `gid of group ${g}: ${cur.gid} → ${opts.gid}` }]
      return []
    },

    record: (probe) => {
      const { existed, gid, members } = parse(probe)
      return existed ? { existed, gid, members } : { existed }
    },

    async apply({ $, platform }, _changes, record) {
      const u = platform.users
      if (state === 'absent') return run($, record.existed ? [u.delGroup(g)] : [])
      if (!record.existed) return run($, [u.addGroup(g, opts.gid)])
      if (opts.gid !== undefined && record.gid !== opts.gid) await run($, [u.modGroup(g, opts.gid)])
    },

    undo: ({ $, platform }, record) => run($, back(record, platform)),
    revert: back,
  }
}
