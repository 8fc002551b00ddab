import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { expect, it } from 'vitest'
import { validateAndProfile } from '../../src/validation/index.ts'
import { syntheticCsvChunks } from './synthetic-csv.ts'
import { expectOk } from './validation-helpers.ts'

const TOTAL_BYTES = 200 * 1024 * 1024
const MB = 1024 * 1024

// THE ONE LARGE TEST: ~200 MB of CSV generated on the fly and streamed through the validator
// (never on disk, never whole in memory), to show that memory stays flat with the file size.
// It checks memory loosely and never timing.
it('streams a generated ~200 MB CSV with flat memory', { timeout: 600_000 }, async () => {
  const hash = createHash('sha256')
  let size = 0
  for (const chunk of syntheticCsvChunks(TOTAL_BYTES)) {
    hash.update(chunk)
    size += chunk.length
  }

  const samples: { at: number; rss: number; heap: number }[] = []
  let streamed = 0
  function* sampled(): Generator<Buffer> {
    for (const chunk of syntheticCsvChunks(TOTAL_BYTES)) {
      streamed += chunk.length
      if (samples.length === 0 || streamed - samples.at(-1)!.at >= 8 * MB) {
        const { rss, heapUsed } = process.memoryUsage()
        samples.push({ at: streamed, rss, heap: heapUsed })
      }
      yield chunk
    }
  }

  const result = expectOk(
    await validateAndProfile(Readable.from(sampled()), {
      format: 'csv',
      declaredSize: size,
      declaredSha256: hash.digest('hex'),
    }),
  )
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
