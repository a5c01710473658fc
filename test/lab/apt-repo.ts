// Real packages for lab hosts, which reach no registry (DESIGN.md, "Packages"): .debs fetched on
// the controller with `apt-get download`, indexed with dpkg-scanpackages, copied into a host and
// served to its apt as a local file-based repository.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { exec } from '../../lab/lab.ts'
import { sh, tempDir } from './helpers.ts'

/** Where a host's repository lives, and the list and apt.conf snippets that make it its only source. */
export const REPO_DIR = '/srv/ferry-debs'
const LIST = '/etc/apt/sources.list.d/ferry-lab.list'
const CONF = '/etc/apt/apt.conf.d/99ferry-lab'
// apt names a source's index after its URI: file:/srv/ferry-debs ./ → _srv_ferry-debs_._Packages…
const INDEX_GLOB = '/var/lib/apt/lists/_srv_ferry-debs_*'

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }

let cached: { dir: string; names: string } | undefined

/**
 * The .debs of `names` (no dependencies fetched: pick packages whose dependencies every Debian
 * host has) plus a Packages index, in a controller directory. Downloaded once per test process.
 */
export function debs(names: string[]): string {
  const key = [...names].sort().join(' ')
  if (cached?.names === key) return cached.dir
  const dir = tempDir('ferry-debs-')
  // Sandbox::User: _apt cannot write into a root-only temp dir, and apt warns when it falls back.
  const download = () =>
    execFileSync('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', ...names], {
      cwd: dir,
      env: APT_ENV,
      stdio: 'pipe',
    })
  try {
    download()
  } catch {
    // A fresh machine may have no package lists yet (or stale ones naming files the mirror dropped).
    execFileSync('apt-get', ['update', '-q'], { env: APT_ENV, stdio: 'pipe' })
    download()
  }
  if (!hasCommand('dpkg-scanpackages')) {
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'dpkg-dev'], {
      env: APT_ENV,
      stdio: 'pipe',
    })
  }
  const index = execFileSync('dpkg-scanpackages', ['--multiversion', '.'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  execFileSync('sh', ['-c', 'cat > Packages'], { cwd: dir, input: index })
  cached = { dir, names: key }
  return dir
}

/** The downloaded .deb of one package, e.g. `debFile(dir, 'ifupdown')`. */
export function debFile(dir: string, name: string): string {
  const f = readdirSync(dir).find((n) => n.startsWith(`${name}_`) && n.endsWith('.deb'))
  if (!f) throw new Error(`no ${name}_*.deb in ${dir}`)
  return join(dir, f)
}

/** Copies a controller file into a host, byte for byte (base64 on stdin: exec's input is text). */
export function copyInto(host: string, from: string, to: string): void {
  exec(host, ['sh', '-c', 'mkdir -p "$(dirname "$1")" && base64 -d > "$1"', 'sh', to], {
    input: readFileSync(from).toString('base64'),
  })
}

/**
 * Serves `dir` to the host's apt as its only source. The apt.conf snippet hides the Debian
 * sources from every apt command, not just the update: otherwise `apt-get install` (ferry's
 * own) sees the same version on deb.debian.org too, tries it first and waits for each attempt to
 * fail. List-Cleanup=0 keeps the Debian package lists on disk for when the snippet is gone.
 */
export function addRepo(host: string, dir: string): void {
  for (const f of readdirSync(dir)) copyInto(host, join(dir, f), `${REPO_DIR}/${f}`)
  sh(
    host,
    [
      `echo 'deb [trusted=yes] file:${REPO_DIR} ./' > ${LIST}`,
      `printf '%s\\n' 'Dir::Etc::SourceList "${LIST}";' 'Dir::Etc::SourceParts "-";' > ${CONF}`,
      'apt-get update -q -o APT::Get::List-Cleanup=0 >/dev/null',
    ].join(' && '),
  )
}

/** Undoes addRepo: the host's apt sees Debian's sources again, as it did before. */
export function removeRepo(host: string): void {
  sh(host, `rm -rf ${LIST} ${CONF} ${REPO_DIR} ${INDEX_GLOB}`)
}

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
