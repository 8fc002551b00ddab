import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  MiB,
  createDatasetAs,
  startHarness,
  uploadThroughApi,
  waitForOutcome,
  type Harness,
} from '../support/harness.ts'

const GROUPS = ['north', 'south', 'east', 'west']
// Row `id` is `${id},${(id % 1000) / 8},${GROUPS[id % 4]},${id % 3 === 0}`: all but the id
// repeats every lcm(1000, 4, 3) = 3000 rows, so those cells are built once, not 16 million times.
const TAILS = Array.from(
  { length: 3000 },
  (_, r) => `,${(r % 1000) / 8},${GROUPS[r % 4]},${r % 3 === 0}\n`,
)

/**
 * A deterministic CSV of `rows` rows, produced in 8 MiB parts on the fly: the test never holds
 * the file, only one part at a time (generated twice: once to hash it, once to upload it).
 */
function* csvParts(rows: number, partSize: number): Generator<Buffer> {
  let pending: Buffer[] = [Buffer.from('id,value,group,flag\n')]
  let pendingBytes = pending[0]!.length
  for (let start = 0; start < rows; start += 10_000) {
    let text = ''
    for (let id = start; id < Math.min(rows, start + 10_000); id++) text += id + TAILS[id % 3000]!
    const chunk = Buffer.from(text, 'latin1')
    pending.push(chunk)
    pendingBytes += chunk.length
    while (pendingBytes >= partSize) {
      const all = Buffer.concat(pending)
      yield all.subarray(0, partSize)
      pending = [all.subarray(partSize)]
      pendingBytes = pending[0]!.length
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending)
}

describe('a 200 MB file', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h.stop())

  // The one large test of the suite: ~200 MB through presigned parts and the validator.
  it('is uploaded in parts and validated by streaming', { timeout: 240_000 }, async () => {
    const rows = 8_000_000
    const partSize = 8 * MiB
    const hash = createHash('sha256')
    let size = 0
    for (const part of csvParts(rows, partSize)) {
      hash.update(part)
      size += part.length
    }
    expect(size).toBeGreaterThan(200_000_000)
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'large')
    const { versionId, position } = await uploadThroughApi(h, h.tokens.alice, datasetId, {
      fileName: 'large.csv',
      format: 'csv',
      size,
      sha256: hash.digest('hex'),
      partSize,
      parts: () => csvParts(rows, partSize),
    })
    const version = await waitForOutcome(h, h.tokens.alice, datasetId, versionId, position, 200_000)
    expect(version.errors).toEqual([])
    expect(version.status).toBe('VALIDATED')
    expect(version.rowCount).toBe(rows)
    expect(version.schema!.map((c) => c.type)).toEqual(['integer', 'float', 'string', 'boolean'])
  })
})
