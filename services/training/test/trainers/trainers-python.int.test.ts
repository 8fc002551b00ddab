import { spawnSync } from 'node:child_process'
import { expect, test } from 'vitest'
import { PYTHON, TRAINERS_DIR } from './support.ts'

// The trainers' own unit tests (parameters, type inference, split, resume from a checkpoint),
// run with Debian's interpreter as the runners run the trainers.
test('the Python unit tests of the built-in trainers pass', { timeout: 300_000 }, () => {
  const result = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], {
    cwd: TRAINERS_DIR,
    encoding: 'utf8',
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
  })
  expect(result.stderr).toMatch(/\nOK\s*$/)
  expect(result.status).toBe(0)
})
