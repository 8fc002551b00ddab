import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { launchArgs } from '@argmax/testkit'
import { expect, it } from 'vitest'
import type { LargeStreamMeasurement } from './large-stream.child.ts'
import { expectOk } from './validation-helpers.ts'

const TOTAL_BYTES = 200 * 1024 * 1024
const MB = 1024 * 1024
const child = fileURLToPath(new URL('./large-stream.child.ts', import.meta.url))

// THE ONE LARGE TEST: ~200 MB of CSV generated on the fly and streamed through the validator
// (never on disk, never whole in memory), to show that memory stays flat with the file size.
// It checks memory loosely and never timing. The stream runs in a process of its own
// (large-stream.child.ts), so the bounds are the validator's, not the test worker's.
it('streams a generated ~200 MB CSV with flat memory', { timeout: 600_000 }, async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...launchArgs(child), String(TOTAL_BYTES)],
    { maxBuffer: 16 * MB },
  )
  const measured = JSON.parse(stdout) as LargeStreamMeasurement
  const { size, samples } = measured
  const result = expectOk(measured.result)
  expect(result.size).toBe(size)
  expect(result.rowCount).toBeGreaterThan(2_500_000)
  expect(result.schema.map((c) => c.type)).toEqual([
    'integer',
    'integer',
    'float',
    'string',
    'boolean',
    'timestamp',
    'float',
  ])

  // Past the first tenth (JIT, sketches warmed up) memory may wobble with GC but must not
  // follow the ~180 MB still to come.
  const settled = samples.filter((s) => s.at >= TOTAL_BYTES / 10)
  const first = settled[0]!
  const peakRss = Math.max(...settled.map((s) => s.rss))
  const peakHeap = Math.max(...settled.map((s) => s.heap))
  expect(samples.length).toBeGreaterThan(20)
  expect(peakRss - first.rss).toBeLessThan(96 * MB)
  expect(peakHeap).toBeLessThan(256 * MB)
})
