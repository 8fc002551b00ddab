import { listMultipartUploads, objectExists } from '@argmax/storage'
import { s3Client } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createDatasetAs,
  sha256Hex,
  startHarness,
  waitForOutcome,
  type Harness,
} from '../support/harness.ts'

const ITERATIONS = 30

/**
 * Complete and abort sent at the same moment, many times over, against the test kit's real S3:
 * exactly one of them wins, and S3 holds what the winner says — the file of a VALIDATED
 * version, or nothing at all (no object, no multipart upload) for an ABORTED one.
 */
describe('abort racing complete', () => {
  let h: Harness
  const s3 = s3Client()
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h.stop())

  it(`has one clean winner in each of ${ITERATIONS} races`, { timeout: 240_000 }, async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'races')
    const tally = { completed: 0, aborted: 0 }
    for (let round = 0; round < ITERATIONS; round++) {
      const bytes = Buffer.from(`id,round\n1,${round}\n2,${round}\n`)
      const started = await h.call<{ uploadId: string }>(
        'POST',
        `/v1/datasets/${datasetId}/uploads`,
        h.tokens.alice,
        { fileName: 'race.csv', size: bytes.length, sha256: sha256Hex(bytes), format: 'csv' },
      )
      expect(started.status).toBe(201)
      const base = `/v1/datasets/${datasetId}/uploads/${started.body.uploadId}`
      const urls = await h.call<{ parts: Array<{ url: string }> }>(
        'POST',
        `${base}/parts`,
        h.tokens.alice,
        { partNumbers: [1] },
      )
      const put = await fetch(urls.body.parts[0]!.url, { method: 'PUT', body: bytes })
      expect(put.status).toBe(200)
      const parts = [{ partNumber: 1, etag: put.headers.get('etag')! }]
      expect(
        (await h.call('POST', `${base}/parts/recorded`, h.tokens.alice, { parts })).status,
      ).toBe(200)

      // Alternate which is sent first; both are in flight together either way.
      const complete = () =>
        h.call<{ position: number }>('POST', `${base}/complete`, h.tokens.alice, { parts })
      // The abort leaves a little later each round (0 to 30 ms): a complete takes a few more
      // round trips than an abort, so without a head start it would hardly ever win.
      const abort = async () => {
        await new Promise((resolve) => setTimeout(resolve, (round * 30) / ITERATIONS))
        return h.call('DELETE', base, h.tokens.alice)
      }
      let completed: Awaited<ReturnType<typeof complete>>
      let aborted: Awaited<ReturnType<typeof abort>>
      if (round % 2 === 0) [completed, aborted] = await Promise.all([complete(), abort()])
      else [aborted, completed] = await Promise.all([abort(), complete()])

      const statuses = `complete ${completed.status}, abort ${aborted.status}`
      const winners = [completed.status === 202, aborted.status === 200].filter(Boolean)
      expect(winners, statuses).toHaveLength(1)
      // The loser is told why: the other one got there first.
      expect(completed.status === 202 ? aborted.status : completed.status, statuses).toBe(409)

      const version = await h.call<{ uploadId: string; status: string }>(
        'GET',
        base,
        h.tokens.alice,
      )
      const key = `datasets/${datasetId}/versions/${started.body.uploadId}/`
      const ref = { bucket: h.bucket, key: `${key}data.csv` }
      const pending = await listMultipartUploads(s3, { bucket: h.bucket, prefix: key })
      expect(pending, `round ${round}: no multipart upload is left behind`).toEqual([])
      if (completed.status === 202) {
        tally.completed++
        const outcome = await waitForOutcome(
          h,
          h.tokens.alice,
          datasetId,
          started.body.uploadId,
          completed.body.position,
        )
        expect(outcome.status, `round ${round}: ${JSON.stringify(outcome.errors)}`).toBe(
          'VALIDATED',
        )
        expect(await objectExists(s3, ref), `round ${round}: the file is kept`).toBe(true)
      } else {
        tally.aborted++
        expect(version.body.status).toBe('ABORTED')
        expect(await objectExists(s3, ref), `round ${round}: no orphan object`).toBe(false)
      }
    }
    expect(tally.completed + tally.aborted).toBe(ITERATIONS)
    console.info(`abort/complete races: ${JSON.stringify(tally)}`)
  })
})
