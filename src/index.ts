// What runbooks import: `import { defineRunbook, file, sysctl, … , z } from 'ferry'`.
export { z } from 'zod'
export { defineRunbook, type Runbook, type StepsContext } from './runbook.ts'
export { file } from './steps/file.ts'
export { command } from './steps/command.ts'
export { verify } from './steps/verify.ts'
export type { Step, StepContext, Change, ProbeResult } from './steps/step.ts'
export type { Host, Inventory } from './inventory/types.ts'
