import { PutObjectCommand } from '@aws-sdk/client-s3'
import { listMultipartUploads, objectExists } from '@argmax/storage'
import { s3Client } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signatureS3WouldExpect } from '../../../../shared/storage/test/support/sigv4.ts'
import { validateVersion } from '../../src/application/validate-version.ts'
import {
  createDatasetAs,
  MiB,
  sha256Hex,
  startHarness,
  uploadBytes,
  waitForOutcome,
  type Harness,
} from '../support/harness.ts'

/**
 * A client that declares 8 bytes and stores gigabytes: refused by S3 itself where it checks
 * signatures (each part URL binds the part's length), and by the service wherever it does
 * not — at complete from the assembled object's length, and by the validator from the
 * object's length before it reads a byte.
 */
describe('declared sizes, enforced after the start', () => {
  let h: Harness
  const s3 = s3Client()
  beforeAll(async () => {
    // The validator is driven by hand here, to see what it reads.
    h = await startHarness({ validator: 'off' })
  })
  afterAll(() => h.stop())

  it("signs each part URL for its planned length: the full part size, the last part's rest", async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'signed')
    const started = await h.call<{ uploadId: string; partCount: number }>(
      'POST',
      `/v1/datasets/${datasetId}/uploads`,
      h.tokens.alice,
      {
        fileName: 'a.csv',
        size: 12 * MiB,
        sha256: 'a'.repeat(64),
        format: 'csv',
        partSize: 5 * MiB,
      },
    )
    expect(started.body.partCount).toBe(3)
    const urls = await h.call<{ parts: Array<{ partNumber: number; url: string }> }>(
      'POST',
      `/v1/datasets/${datasetId}/uploads/${started.body.uploadId}/parts`,
      h.tokens.alice,
      { partNumbers: [1, 2, 3] },
    )
    const planned = [5 * MiB, 5 * MiB, 2 * MiB]
    for (const { partNumber, url } of urls.body.parts) {
      const parsed = new URL(url)
      expect(parsed.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host')
      const signature = parsed.searchParams.get('X-Amz-Signature')
      const sign = (length: number) =>
        signatureS3WouldExpect(url, h.config.s3.secretAccessKey, {
          host: parsed.host,
          'content-length': String(length),
        })
      expect(sign(planned[partNumber - 1]!), `part ${partNumber}`).toBe(signature)
      expect(sign(planned[partNumber - 1]! + 1), `part ${partNumber}`).not.toBe(signature)
    }
  })

  it('refuses at complete an upload whose parts hold more than declared: 413, REJECTED, nothing kept', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'oversized')
    const declared = Buffer.from('a,b\n1,2\n')
    const started = await h.call<{ uploadId: string }>(
      'POST',
      `/v1/datasets/${datasetId}/uploads`,
      h.tokens.alice,
      { fileName: 'tiny.csv', size: declared.length, sha256: sha256Hex(declared), format: 'csv' },
    )
    const versionId = started.body.uploadId
    const base = `/v1/datasets/${datasetId}/uploads/${versionId}`
    const urls = await h.call<{ parts: Array<{ url: string }> }>(
      'POST',
      `${base}/parts`,
      h.tokens.alice,
      { partNumbers: [1] },
    )
    // s3rver does not check V4 signatures, the signed length included: it stores 6 MiB through
    // a URL signed for 8 bytes (AWS would answer 403 SignatureDoesNotMatch).
    const put = await fetch(urls.body.parts[0]!.url, {
      method: 'PUT',
      body: Buffer.alloc(6 * MiB, 'x'),
    })
    expect(put.status).toBe(200)
    const parts = [{ partNumber: 1, etag: put.headers.get('etag')! }]
    await h.call('POST', `${base}/parts/recorded`, h.tokens.alice, { parts })

    const completed = await h.call<{ status: number; detail: string }>(
      'POST',
      `${base}/complete`,
      h.tokens.alice,
      { parts },
    )
    expect(completed.status).toBe(413)
    expect(completed.body.detail).toBe(`parts is ${6 * MiB} bytes; the limit is 8 bytes`)

    const events = await h.service.deps.store.load(`${h.names.root}.version.${versionId}`)
    const version = await waitForOutcome(
      h,
      h.tokens.alice,
      datasetId,
      versionId,
      events.at(-1)!.sequence,
    )
    expect(version.status).toBe('REJECTED')
    expect(version.checksumMismatch).toBe(true)
    expect(version.errors).toEqual([
      { code: 'size_mismatch', message: `the file has ${6 * MiB} bytes but 8 were declared` },
    ])
    const ref = { bucket: h.bucket, key: `datasets/${datasetId}/versions/${versionId}/data.csv` }
    expect(await objectExists(s3, ref)).toBe(false)
    expect(await listMultipartUploads(s3, { bucket: h.bucket, prefix: ref.key })).toEqual([])

    // A retried complete is told the outcome and changes nothing.
    const again = await h.call<{ status: string }>('POST', `${base}/complete`, h.tokens.alice, {
      parts,
    })
    expect(again.status).toBe(202)
    expect(again.body.status).toBe('REJECTED')
  })

  it('has the validator reject from the stored length at once, without reading the bytes', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'swapped')
    const declared = Buffer.from('a,b\n1,2\n')
    const { versionId } = await uploadBytes(h, h.tokens.alice, datasetId, declared)
    // The object changed behind the service's back after completion (another writer on the
    // bucket, an endpoint that assembled something else): 20 MiB where 8 bytes were declared.
    const key = `datasets/${datasetId}/versions/${versionId}/data.csv`
    await s3.send(
      new PutObjectCommand({ Bucket: h.bucket, Key: key, Body: Buffer.alloc(20 * MiB, 'y') }),
    )

    let progress = 0
    const result = await validateVersion(h.service.deps, versionId, {
      onProgress: () => void progress++,
    })
    expect(result.outcome).toBe('rejected')
    expect(progress, 'no chunk of the object was read').toBe(0)
    const events = await h.service.deps.store.load(`${h.names.root}.version.${versionId}`)
    expect(events.at(-1)).toMatchObject({
      type: 'VersionRejected',
      data: {
        errors: [
          { code: 'size_mismatch', message: `the file has ${20 * MiB} bytes but 8 were declared` },
        ],
        checksumMismatch: true,
        objectDeleted: true,
      },
    })
    expect(await objectExists(s3, { bucket: h.bucket, key })).toBe(false)
  })
})
