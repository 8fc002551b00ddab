import { listMultipartUploads, type S3Client } from '@argmax/storage'
import type { ApiAnswer } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { datasetSubject, versionSubject } from '../../src/streams.ts'
import { createDatasetAs, sha256Hex, startHarness, type Harness } from '../support/harness.ts'

type Answer<T> = Pick<ApiAnswer<T>, 'status' | 'body'>

/**
 * A request with an Idempotency-Key (or another raw header value); its status and body, which a
 * repeat must answer again (its headers, such as the date, are its own).
 */
async function send<T = Record<string, unknown>>(
  h: Harness,
  url: string,
  token: string,
  body: unknown,
  key?: string,
): Promise<Answer<T>> {
  const headers: Record<string, string> = key !== undefined ? { 'idempotency-key': key } : {}
  const { status, body: answer } = await h.call<T>('POST', url, token, body, headers)
  return { status, body: answer }
}

/** Counts the CreateMultipartUpload calls a client makes (observing the real calls). */
function countMultipartStarts(s3: S3Client): { readonly count: number; stop(): void } {
  let count = 0
  const name = `count-starts-${Math.random()}`
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'CreateMultipartUploadCommand') count++
      return next(args)
    },
    { step: 'initialize', name },
  )
  return {
    get count() {
      return count
    },
    stop: () => void s3.middlewareStack.remove(name),
  }
}

const csv = 'a,b\n1,2\n'
const file = { fileName: 'data.csv', size: csv.length, sha256: sha256Hex(csv), format: 'csv' }

describe('creates are safe to retry with an Idempotency-Key', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ validator: 'off' })
  })
  afterAll(() => h.stop())

  const eventsOf = async (subject: string) => (await h.service.deps.store.load(subject)).length

  it('answers a repeated create with the first answer and creates one dataset', async () => {
    const body = { name: 'retried', tags: ['x'] }
    const first = await send<{ id: string }>(h, '/v1/datasets', h.tokens.alice, body, 'key-1')
    expect(first.status).toBe(201)
    // The same request with other key order is the same request (canonical JSON).
    const again = await send(
      h,
      '/v1/datasets',
      h.tokens.alice,
      { tags: ['x'], name: 'retried' },
      'key-1',
    )
    expect(again).toEqual(first)
    expect(await eventsOf(datasetSubject(h.names, first.body.id))).toBe(1)
    const listed = await h.call<{ items: Array<{ id: string }> }>(
      'GET',
      '/v1/datasets?name=retried',
      h.tokens.alice,
    )
    expect(listed.body.items.map((d) => d.id)).toEqual([first.body.id])
  })

  it('refuses the key with another body (422 naming the header) and writes nothing', async () => {
    const first = await send<{ id: string }>(
      h,
      '/v1/datasets',
      h.tokens.alice,
      { name: 'a' },
      'key-2',
    )
    expect(first.status).toBe(201)
    const other = await send<{ status: number; errors: Array<{ field: string }> }>(
      h,
      '/v1/datasets',
      h.tokens.alice,
      { name: 'b' },
      'key-2',
    )
    expect(other.status).toBe(422)
    expect(other.body.errors.map((e) => e.field)).toEqual(['header/idempotency-key'])
    expect(await eventsOf(datasetSubject(h.names, first.body.id))).toBe(1)
    const dataset = await h.call<{ name: string }>(
      'GET',
      `/v1/datasets/${first.body.id}`,
      h.tokens.alice,
    )
    expect(dataset.body.name).toBe('a')
  })

  it('creates one dataset for concurrent identical requests', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        send<{ id: string }>(h, '/v1/datasets', h.tokens.alice, { name: 'raced' }, 'key-3'),
      ),
    )
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(201))
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1)
    expect(await eventsOf(datasetSubject(h.names, answers[0]!.body.id))).toBe(1)
  })

  it("does not let one user's key meet another's", async () => {
    const alice = await send<{ id: string; dataset: { ownerId: string } }>(
      h,
      '/v1/datasets',
      h.tokens.alice,
      { name: 'mine' },
      'shared-key',
    )
    const bob = await send<{ id: string; dataset: { ownerId: string } }>(
      h,
      '/v1/datasets',
      h.tokens.bob,
      { name: 'mine' },
      'shared-key',
    )
    expect([alice.status, bob.status]).toEqual([201, 201])
    expect(bob.body.id).not.toBe(alice.body.id)
    expect(bob.body.dataset.ownerId).toBe('bob')
  })

  it('creates as before without a key, and refuses a malformed key naming the header', async () => {
    const one = await send<{ id: string }>(h, '/v1/datasets', h.tokens.alice, { name: 'plain' })
    const two = await send<{ id: string }>(h, '/v1/datasets', h.tokens.alice, { name: 'plain' })
    expect([one.status, two.status]).toEqual([201, 201])
    expect(one.body.id).not.toBe(two.body.id)
    for (const bad of ['', 'has space', 'x'.repeat(256), '"unterminated']) {
      const refused = await send<{ errors: Array<{ field: string }> }>(
        h,
        '/v1/datasets',
        h.tokens.alice,
        { name: 'bad-key' },
        bad,
      )
      expect(refused.status, bad).toBe(400)
      expect(refused.body.errors[0]!.field).toBe('header/idempotency-key')
    }
  })

  it('answers a repeated upload start with the same upload and starts one S3 upload', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'upload-retry')
    const url = `/v1/datasets/${datasetId}/uploads`
    const starts = countMultipartStarts(h.service.deps.s3)
    try {
      const first = await send<{ uploadId: string }>(h, url, h.tokens.alice, file, 'up-1')
      const again = await send(h, url, h.tokens.alice, file, 'up-1')
      expect(first.status).toBe(201)
      expect(again).toEqual(first)
      expect(starts.count).toBe(1)
      const other = await send<{ errors: Array<{ field: string }> }>(
        h,
        url,
        h.tokens.alice,
        { ...file, fileName: 'other.csv' },
        'up-1',
      )
      expect(other.status).toBe(422)
      expect(other.body.errors[0]!.field).toBe('header/idempotency-key')
      expect(starts.count).toBe(1)
      expect(await eventsOf(versionSubject(h.names, first.body.uploadId))).toBe(1)
      // The same key on another dataset is another upload.
      const elsewhere = await createDatasetAs(h, h.tokens.alice, 'upload-retry-2')
      const second = await send<{ uploadId: string }>(
        h,
        `/v1/datasets/${elsewhere}/uploads`,
        h.tokens.alice,
        file,
        'up-1',
      )
      expect(second.status).toBe(201)
      expect(second.body.uploadId).not.toBe(first.body.uploadId)
    } finally {
      starts.stop()
    }
  })

  it('leaves one version and no orphan S3 upload when identical starts race', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'upload-race')
    const url = `/v1/datasets/${datasetId}/uploads`
    const starts = countMultipartStarts(h.service.deps.s3)
    let answers: Array<Answer<{ uploadId: string }>>
    try {
      answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          send<{ uploadId: string }>(h, url, h.tokens.alice, file, 'race'),
        ),
      )
    } finally {
      starts.stop()
    }
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201))
    const uploadIds = new Set(answers.map((a) => a.body.uploadId))
    expect(uploadIds.size).toBe(1)
    const [uploadId] = [...uploadIds] as [string]
    // The requests did race: more than one reached S3 before one of them was recorded.
    expect(starts.count).toBeGreaterThan(1)

    const versions = await h.call<{ items: unknown[] }>(
      'GET',
      `/v1/datasets/${datasetId}/versions?minPosition=${await h.service.deps.store.lastSequenceOf(versionSubject(h.names, uploadId))}`,
      h.tokens.alice,
    )
    expect(versions.body.items).toHaveLength(1)
    const [started] = await h.service.deps.store.load(versionSubject(h.names, uploadId))
    const recorded = (started!.data as { s3UploadId: string }).s3UploadId
    // S3 itself: only the recorded multipart upload is left; every loser aborted its own.
    const left = await listMultipartUploads(h.service.deps.s3, {
      bucket: h.bucket,
      prefix: `datasets/${datasetId}/`,
    })
    expect(left.map((u) => u.uploadId)).toEqual([recorded])
  })
})
