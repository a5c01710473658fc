// A missing param on a real terminal is asked for. tmux gives ferry a TTY; we read the screen and
// type the answer as a person would. (The no-terminal case, exit 64, is in test/unit/engine.)
// It sits with the lab tests because the lab's setup installs tmux on a fresh machine.
import { expect } from 'vitest'
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { labIt as it, screenShows, tempDir, tmux, ROOT } from './helpers.ts'

it('asks for a missing param on a terminal, and uses the answer', async () => {
  const dir = tempDir()
  const out = join(dir, 'greeting.txt')
  writeFileSync(join(dir, 'inv.yaml'), 'hosts:\n  me: { connection: local, os: linux }\n')
  writeFileSync(
    join(dir, 'ask.ts'),
    `import { defineRunbook, file, z } from 'ferry'
export default defineRunbook({
  name: 'ask', description: 'asks for a greeting',
  params: z.object({ greeting: z.string().describe('what to write') }),
  steps: ({ params }) => [file('greeting', { path: ${JSON.stringify(out)}, content: params.greeting + '\\n' })],
})
`,
  )
  const session = `ferry-prompt-${process.pid}`
  const cmd = `cd ${dir} && node ${join(ROOT, 'bin/ferry.mjs')} run ./ask.ts -i inv.yaml --state-dir ${join(dir, 'state')}; echo "EXIT=$?"; sleep 60`
  tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', cmd)
  try {
    await screenShows(session, 'greeting (what to write)')
    expect(existsSync(out)).toBe(false)
    tmux('send-keys', '-t', session, '-l', 'hello from a terminal')
    tmux('send-keys', '-t', session, 'Enter')
    const screen = await screenShows(session, 'EXIT=')
    expect(screen).toContain('EXIT=0')
    expect(readFileSync(out, 'utf8')).toBe('hello from a terminal\n')
  } finally {
    tmux('kill-session', '-t', session)
  }
})
