// The script ucarp runs when a node of seed 004's Linux pair becomes backup of a shared address,
// and when ucarp stops: the address removed, and for the first address conntrackd told to age out
// this node's states and to ask the master for its own, then the inventory's commands (ucarp-up.ts
// has the other half).
import { lines, template, word } from '../src/mesh/config.ts'
import type { UcarpScriptVars } from './ucarp-up.ts'

export default template('ucarp-down', (v: UcarpScriptVars) => {
  const c = v.conntrackd && `conntrackd -C ${word('conntrackd.conf', v.conntrackd)}`
  return lines(
    '#!/bin/sh',
    `# ucarp runs this (with the interface and the address) when ${v.name} becomes backup, and when it stops.`,
    '# Written by ferry (deploy-carp-gateway) from the inventory.',
    `ip -4 addr del ${word('address', v.address)} dev ${word('carpdev', v.carpdev)} 2>/dev/null`,
    !!c && [
      "# This node's own states are the master's now: age them out, and ask the master for its own.",
      `${c} -t`,
      `${c} -n`,
    ],
    v.commands,
    'exit 0',
  )
})
