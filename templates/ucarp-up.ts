// The script ucarp runs when a node of seed 004's Linux pair becomes master of a shared address,
// and (ucarp-down.ts) its counterpart: ifstated's part. It adds the shared address (ucarp owns
// it; ferry owns the files), labelled IF:carpN so `ip addr` tells it from the node's own. The
// first address's scripts also move conntrackd's states (the sequence of conntrackd's own
// primary-backup.sh: commit the peer's connections to the kernel on becoming master; on becoming
// backup, age its own out and ask the master for its own) and run the inventory's commands, as
// ifstated follows the first CARP interface.
import { lines, template, word } from '../src/mesh/config.ts'

export interface UcarpScriptVars {
  name: string
  carpdev: string
  /** The shared address, with its prefix length. */
  address: string
  /** conntrackd's configuration, when this script moves its states (the first address's). */
  conntrackd?: string
  commands: string[]
}

/** The address's label: IF:carpN, when that fits the kernel's 15 characters. */
const label = (v: UcarpScriptVars) => {
  const l = `${v.carpdev}:${v.name}`
  return l.length <= 15 ? ` label ${l}` : ''
}

export default template('ucarp-up', (v: UcarpScriptVars) => {
  const c = v.conntrackd && `conntrackd -C ${word('conntrackd.conf', v.conntrackd)}`
  return lines(
    '#!/bin/sh',
    `# ucarp runs this (with the interface and the address) when ${v.name} becomes master.`,
    '# Written by ferry (deploy-carp-gateway) from the inventory.',
    `ip -4 addr replace ${word('address', v.address)} dev ${word('carpdev', v.carpdev)}${label(v)}`,
    !!c && [
      "# The backup kept the master's connections; they are this node's now (conntrackd's primary-backup.sh).",
      `${c} -c`,
      `${c} -f`,
      `${c} -R`,
      `${c} -B`,
    ],
    v.commands,
    'exit 0',
  )
})
