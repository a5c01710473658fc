// The layers of ferry, checked by `npm test` (npm run deps): imports point one way,
//   cli → drift, journal → engine → steps → platform → shell, transport
// with inventory, report and jinja as leaves that any layer may use, and no cycles at all. Type-only
// imports of the outcome types (engine/outcome.ts) by the journal and the report are allowed:
// they describe data, they load nothing. ARCHITECTURE.md draws the same picture.
const layer = (dir) => `^src/${dir}/`
const above = {
  cli: [],
  drift: ['cli'],
  journal: ['cli', 'drift'],
  engine: ['cli', 'drift', 'journal'],
  // Runbook helpers (mesh links, facts, a jail's discovery and the stream relay) sit beside
  // the steps: they may use steps, platform and below, and nothing that runs them.
  steps: ['cli', 'drift', 'journal', 'engine'],
  'mesh|facts|jails/discovery|jails/relay': ['cli', 'drift', 'journal', 'engine'],
  platform: ['cli', 'drift', 'journal', 'engine', 'steps', 'mesh', 'jails/discovery', 'jails/relay'],
  // The jail drivers and zfs lines are what a platform has; they know only the shell.
  'jails/(driver|freebsd|linux-lab|zfs)': ['cli', 'drift', 'journal', 'engine', 'steps', 'mesh', 'facts', 'platform'],
  'shell|transport': ['cli', 'drift', 'journal', 'engine', 'steps', 'mesh', 'facts', 'jails', 'platform'],
  'inventory|report|jinja': [
    'cli',
    'drift',
    'journal',
    'engine',
    'steps',
    'mesh',
    'facts',
    'jails',
    'platform',
    'shell',
    'transport',
  ],
}

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle makes two modules one; break it by moving what both need down a layer.',
      from: {},
      to: { circular: true },
    },
    ...Object.entries(above).map(([from, higher]) => ({
      name: `${from.replace(/\W+/g, '-')}-imports-upward`,
      severity: 'error',
      comment: `${from} may not import the layers above it: ${higher.join(', ') || '(none)'}.`,
      from: { path: layer(`(${from})`) },
      to: { path: layer(`(${higher.join('|') || '$^'})`), dependencyTypesNot: ['type-only'] },
    })),
    {
      name: 'only-the-bundle-imports-cli',
      severity: 'error',
      from: { pathNot: ['^src/cli/', '^src/bundle\\.ts$'] },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|dist)' },
  },
}
