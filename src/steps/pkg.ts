// Packages, through the platform's package manager (apt, pkg, pkg_add). An install runs
// maintainer scripts that may add users, write /etc or start services: anything a later probe
// looks at, so a package step touches ANYTHING.

import { field } from '../platform/common.ts'
import { probeNow, run } from './script.ts'
import type { Platform } from '../platform/platform.ts'
import { ANYTHING, StepError, notifyList, type CommonOptions, type ProbeResult, type Step } from './step.ts'

export interface PkgOptions extends CommonOptions {
  /** One package or several, installed (or removed) in one command. */
  name: string | string[]
  /** Default `present`. */
  state?: 'present' | 'absent'
  /**
   * Default true: as the package manager does (Debian's maintainer scripts start the services a
   * package brings). false: no service starts during the install, for services a cluster manager
   * runs (`service`'s `heldBy`); the platform says how (`heldInstall`). Removals are as ever.
   */
  startServices?: boolean
}

/** What apply does: undo removes what it installed and reinstalls what it removed. */
export interface PkgRecord {
  install: string[]
  remove: string[]
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9+._@%:-]*$/

/** Installed version per name; undefined when absent. */
function versions(probe: ProbeResult): Map<string, string | undefined> {
  return new Map(
    probe.stdout
      .split('\n')
      .filter((l) => l.includes('\t'))
      .map((l) => {
        const [n = '', v = '-'] = l.split('\t')
        return [n, v === '-' ? undefined : v]
      }),
  )
}

/**
 * Ensures packages are installed (or absent): `pkg('install quagga', { name: 'quagga' })`.
 * Exported as `pkg` because `package` is a reserved word.
 */
export function pkg(name: string, opts: PkgOptions): Step<PkgRecord> {
  const names = [opts.name].flat()
  const state = opts.state ?? 'present'
  const held = opts.startServices === false && state === 'present'
  const bad = names.find((n) => !NAME.test(n))
  if (!names.length || bad !== undefined)
    throw new StepError(`${name}: not a package name: ${JSON.stringify(bad ?? '')}`)

  const todo = (probe: ProbeResult): PkgRecord => {
    const v = versions(probe)
    return state === 'present'
      ? { install: names.filter((n) => !v.get(n)), remove: [] }
      : { install: [], remove: names.filter((n) => v.get(n)) }
  }

  // Installing, also whether the package manager could (where it can tell).
  const snippet = (platform: Platform) =>
    [
      platform.packages.probe(names),
      ...(state === 'present' && platform.packages.installable ? [platform.packages.installable(names)] : []),
      ...(held && platform.heldInstall.probe ? [platform.heldInstall.probe] : []),
    ].join('\n')

  return {
    kind: 'pkg',
    name,
    notify: notifyList(opts.notify),
    risky: opts.risky,
    previewCommands: true,
    touches: [ANYTHING, ...names.map((n) => `pkg:${n}`)],
    reads: names.map((n) => `pkg:${n}`),

    probe: snippet,

    check(probe, { pending }) {
      const v = versions(probe)
      const { install, remove } = todo(probe)
      // Unless an earlier step may change what the package manager knows (a repository added).
      const cannot = field(probe.stdout, 'cannot')
      if (install.length && cannot !== undefined && !pending.has(ANYTHING))
        throw new StepError(`cannot install ${install.join(' ')}: ${cannot || 'the package manager refuses'}`)
      return [
        ...install.map((n) => ({ summary: `install ${n}` })),
        ...remove.map((n) => ({ summary: `remove ${n} ${v.get(n)}` })),
      ]
    },

    record: (probe) => todo(probe),

    async apply({ $, platform }, _changes, record) {
      await run($, [
        ...(record.install.length
          ? [(held ? platform.heldInstall.install : platform.packages.install)(record.install)]
          : []),
        ...(record.remove.length ? [platform.packages.remove(record.remove)] : []),
      ])
    },

    async undo({ $, platform }, record) {
      // Only what apply got as far as changing: a failed install may have installed some. The
      // versions alone: whether an install could succeed (apt's simulation) is no question here.
      const now = versions(await probeNow($, platform.packages.probe(names)))
      const remove = record.install.filter((n) => now.get(n))
      const reinstall = record.remove.filter((n) => !now.get(n))
      await run($, [
        ...(remove.length ? [platform.packages.remove(remove)] : []),
        ...(reinstall.length ? [platform.packages.install(reinstall)] : []),
      ])
    },
  }
}
