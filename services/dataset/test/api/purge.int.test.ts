import { handleCommand } from '@argmax/events'
import { listObjectKeys } from '@argmax/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { versionDecider } from '../../src/domain/index.ts'
import {
  createDatasetAs,
  sha256Hex,
  startHarness,
  uploadBytes,
  waitForOutcome,
  type Harness,
} from '../support/harness.ts'

const DAY = 24 * 3600 * 1000

describe('purging deleted datasets', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ retentionDays: 90 })
  })
  afterAll(() => h.stop())

  async function objectsUnder(prefix: string): Promise<string[]> {
    return listObjectKeys(h.service.deps.s3, { bucket: h.bucket, prefix })
  }

  async function datasetWithVersion(name: string): Promise<string> {
    const datasetId = await createDatasetAs(h, h.tokens.alice, name)
    const { versionId, position } = await uploadBytes(
      h,
      h.tokens.alice,
      datasetId,
      Buffer.from('a,b\n1,2\n'),
    )
    expect((await waitForOutcome(h, h.tokens.alice, datasetId, versionId, position)).status).toBe(
      'VALIDATED',
    )
    return datasetId
  }

  it('removes files and rows of a dataset deleted longer ago than the retention, and only those', async () => {
    const older = await datasetWithVersion('older')
    const newer = await datasetWithVersion('newer')
    const abandoned = await createDatasetAs(h, h.tokens.alice, 'abandoned')
    const started = await h.call<{ uploadId: string }>(
      'POST',
      `/v1/datasets/${abandoned}/uploads`,
      h.tokens.alice,
      { fileName: 'never.csv', size: 100, sha256: 'd'.repeat(64), format: 'csv' },
    )
    expect(started.status).toBe(201)
    await h.call('DELETE', `/v1/datasets/${older}`, h.tokens.alice)
    h.clock.advance(30 * DAY)
    const deleted = await h.call<{ position: number }>(
      'DELETE',
      `/v1/datasets/${newer}`,
      h.tokens.alice,
    )
    await h.service.waitForPosition(deleted.body.position)
    h.clock.advance(61 * DAY) // older: deleted 91 days ago; newer: 61 days ago

    // The file and its profile (stored beside it by the validator).
    expect(await objectsUnder(`datasets/${older}/`)).toHaveLength(2)
    const report = await h.service.workers.purge.runOnce()
    expect(report.failures).toEqual([])
    expect(report.purged.map((p) => p.datasetId)).toEqual([older])
    expect(report.purged[0]!.objectsDeleted).toBe(2)
    // An upload left UPLOADING for longer than a week is aborted by the same job.
    expect(report.abortedUploads).toEqual([started.body.uploadId])
    const upload = await h.call<{ status: string }>(
      'GET',
      `/v1/datasets/${abandoned}/uploads/${started.body.uploadId}`,
      h.tokens.alice,
    )
    expect(upload.body.status).toBe('ABORTED')

    expect(await objectsUnder(`datasets/${older}/`)).toEqual([])
    expect(await objectsUnder(`datasets/${newer}/`)).toHaveLength(2)
    const events = await h.service.deps.store.load(`${h.names.root}.dataset.${older}`)
    expect(events.at(-1)!.type).toBe('DatasetPurged')
    await h.service.waitForPosition(events.at(-1)!.sequence)
    expect((await h.call('GET', `/v1/datasets/${older}`, h.tokens.admin)).status).toBe(404)
    const kept = await h.call<{ deletedAt: string }>('GET', `/v1/datasets/${newer}`, h.tokens.admin)
    expect(kept.status).toBe(200)
    expect(kept.body.deletedAt).toBeTruthy()
    const keptVersions = await h.call<{ items: unknown[] }>(
      'GET',
      `/v1/datasets/${newer}/versions`,
      h.tokens.admin,
    )
    expect(keptVersions.body.items).toHaveLength(1)

    // A second run finds nothing more to do.
    const again = await h.service.workers.purge.runOnce()
    expect(again.purged).toEqual([])
    expect(again.abortedUploads).toEqual([])
  })

  it('finishes a completion its client claimed and never saw through', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'half-completed')
    const bytes = Buffer.from('a,b\n1,2\n')
    const started = await h.call<{ uploadId: string }>(
      'POST',
      `/v1/datasets/${datasetId}/uploads`,
      h.tokens.alice,
      { fileName: 'half.csv', size: bytes.length, sha256: sha256Hex(bytes), format: 'csv' },
    )
    const base = `/v1/datasets/${datasetId}/uploads/${started.body.uploadId}`
    const urls = await h.call<{ parts: Array<{ url: string }> }>(
      'POST',
      `${base}/parts`,
      h.tokens.alice,
      { partNumbers: [1] },
    )
    const put = await fetch(urls.body.parts[0]!.url, { method: 'PUT', body: bytes })
    const parts = [{ partNumber: 1, etag: put.headers.get('etag')! }]
    await h.call('POST', `${base}/parts/recorded`, h.tokens.alice, { parts })
    // The claim of a complete whose process died before it asked S3 to assemble the parts.
    const versionId = started.body.uploadId
    const claim = await handleCommand(
      h.service.deps.store,
      versionDecider,
      `${h.names.root}.version.${versionId}`,
      { type: 'CompleteUpload', data: { versionId, parts, now: h.clock.now() } },
      { actor: { subject: 'alice' } },
    )
    const claimed = await h.call<{ status: string }>('GET', base, h.tokens.alice)
    expect(claimed.body.status).toBe('UPLOADING')
    expect((await h.call('DELETE', base, h.tokens.alice)).status).toBe(409)

    // The purge finds stale uploads in the read model: let it catch up with the claim first.
    await h.service.waitForPosition(claim.position)
    h.clock.advance(8 * DAY)
    const report = await h.service.workers.purge.runOnce()
    expect(report.failures).toEqual([])
    expect(report.finishedCompletions).toEqual([versionId])
    const events = await h.service.deps.store.load(`${h.names.root}.version.${versionId}`)
    const position = events.at(-1)!.sequence
    const outcome = await waitForOutcome(h, h.tokens.alice, datasetId, versionId, position)
    expect(outcome.status).toBe('VALIDATED')
  })
})
