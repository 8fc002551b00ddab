/**
 * The large streaming test's measured part, in a process of its own (`large-stream.unit.test.ts`
 * runs it): ~200 MB of CSV generated on the fly and streamed through the validator, with the
 * process's memory sampled every 8 MB. Its own process, so that what the test bounds is the
 * validator's memory, not whatever else a test worker holds. Prints one line of JSON.
 */
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { validateAndProfile, type ValidationResult } from '../../src/validation/index.ts'
import { syntheticCsvChunks } from './synthetic-csv.ts'

/** The line this process prints: the stream's size, the validator's result, memory samples. */
export interface LargeStreamMeasurement {
  size: number
  result: ValidationResult
  samples: { at: number; rss: number; heap: number }[]
}

const totalBytes = Number(process.argv[2])
const MB = 1024 * 1024

const hash = createHash('sha256')
let size = 0
for (const chunk of syntheticCsvChunks(totalBytes)) {
  hash.update(chunk)
  size += chunk.length
}

const samples: LargeStreamMeasurement['samples'] = []
let streamed = 0
function* sampled(): Generator<Buffer> {
  for (const chunk of syntheticCsvChunks(totalBytes)) {
    streamed += chunk.length
    if (samples.length === 0 || streamed - samples.at(-1)!.at >= 8 * MB) {
      const { rss, heapUsed } = process.memoryUsage()
      samples.push({ at: streamed, rss, heap: heapUsed })
    }
    yield chunk
  }
}

const result = await validateAndProfile(Readable.from(sampled()), {
  format: 'csv',
  declaredSize: size,
  declaredSha256: hash.digest('hex'),
})
const measurement: LargeStreamMeasurement = { size, result, samples }
console.log(JSON.stringify(measurement))
