// What `npm run build` bundles into dist/ferry.cjs: the CLI and the API that runbooks import as
// 'ferry', as one module graph, so a runbook's steps and StepError are the engine's own.
import { useBundledApi } from './engine/load.ts'

export * from './index.ts'
export { main } from './cli/main.ts'

useBundledApi(import.meta.url)
