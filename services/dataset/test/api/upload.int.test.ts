import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createDatasetAs,
  sha256Hex,
  startHarness,
  uploadBytes,
  waitForOutcome,
  type Harness,
} from '../support/harness.ts'
import { loadMovies, moviesAsJsonl } from '../validation/movies-fixture.ts'

const csv = 'id,price,city,active\n1,2.5,Paris,true\n2,3.5,Lyon,false\n3,,Paris,true\n'
const jsonl = [
  { id: 1, score: 0.5, label: 'cat', at: '2026-01-01T00:00:00Z' },
  { id: 2, score: 1.5, label: 'dog', at: '2026-01-02T00:00:00Z' },
  { id: 3, label: 'cat', at: '2026-01-03T00:00:00Z' },
]
  .map((row) => JSON.stringify(row))
  .join('\n')
  .concat('\n')

describe('uploading a version', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h.stop())

  it('turns a CSV upload into a VALIDATED version with its schema and profile', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice)
    const bytes = Buffer.from(csv)
    const { versionId, position } = await uploadBytes(h, h.tokens.alice, datasetId, bytes, {
      fileName: 'cities.csv',
    })
    const version = await waitForOutcome(h, h.tokens.alice, datasetId, versionId, position)
    expect(version.status).toBe('VALIDATED')
    expect(version.rowCount).toBe(3)
    expect(version.schema!.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['id', 'integer', false],
      ['price', 'float', true],
      ['city', 'string', false],
      ['active', 'boolean', false],
    ])
    const price = version.profile!.columns.find((c) => c.name === 'price')!
    expect(price.nulls).toBe(1)
    expect(price.numeric).toMatchObject({ min: 2.5, max: 3.5, mean: 3 })

    const listed = await h.call<{ items: Array<{ id: string; number: number }> }>(
      'GET',
      `/v1/datasets/${datasetId}/versions`,
      h.tokens.alice,
    )
    expect(listed.body.items.map((v) => [v.id, v.number])).toEqual([[versionId, 1]])
    const dataset = await h.call<{ versionCount: number }>(
      'GET',
      `/v1/datasets/${datasetId}`,
      h.tokens.alice,
    )
    expect(dataset.body.versionCount).toBe(1)
  })

  it('validates JSON Lines with the union of keys as columns', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'pets')
    const { versionId, position } = await uploadBytes(
      h,
      h.tokens.alice,
      datasetId,
      Buffer.from(jsonl),
      {
        fileName: 'pets.jsonl',
        format: 'jsonl',
      },
    )
    const version = await waitForOutcome(h, h.tokens.alice, datasetId, versionId, position)
    expect(version.status).toBe('VALIDATED')
    expect(version.rowCount).toBe(3)
    expect(Object.fromEntries(version.schema!.map((c) => [c.name, [c.type, c.nullable]]))).toEqual({
      id: ['integer', false],
      score: ['float', true],
      label: ['string', false],
      at: ['timestamp', false],
    })
  })

  it('validates the demo movies dataset (vega-datasets) as the README uploads it', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'movies')
    const bytes = Buffer.from(moviesAsJsonl(loadMovies()))
    const { versionId, position } = await uploadBytes(h, h.tokens.alice, datasetId, bytes, {
      fileName: 'movies.jsonl',
      format: 'jsonl',
    })
    const version = await waitForOutcome(h, h.tokens.alice, datasetId, versionId, position)
    expect(version.status).toBe('VALIDATED')
    expect(version.rowCount).toBe(3201)
    const imdb = version.schema!.find((c) => c.name === 'IMDB Rating')
    expect(imdb).toMatchObject({ type: 'float', nullable: true })
  })

  it('hands out a download URL whose bytes are the upload', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'download')
    const bytes = Buffer.from(csv)
    const { versionId, position } = await uploadBytes(h, h.tokens.alice, datasetId, bytes)
    await waitForOutcome(h, h.tokens.alice, datasetId, versionId, position)
    const link = await h.call<{ url: string; sha256: string; fileName: string }>(
      'GET',
      `/v1/datasets/${datasetId}/versions/${versionId}/download`,
      h.tokens.alice,
    )
    expect(link.status).toBe(200)
    const downloaded = Buffer.from(await (await fetch(link.body.url)).arrayBuffer())
    expect(sha256Hex(downloaded)).toBe(sha256Hex(bytes))
    expect(link.body.sha256).toBe(sha256Hex(bytes))
  })

  it('keeps the recorded parts for a resume and refuses to complete without all of them', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'resume')
    const MiB = 1024 * 1024
    const size = 11 * MiB
    const started = await h.call<{ uploadId: string; partCount: number }>(
      'POST',
      `/v1/datasets/${datasetId}/uploads`,
      h.tokens.alice,
      { fileName: 'big.csv', size, sha256: 'a'.repeat(64), format: 'csv', partSize: 5 * MiB },
    )
    expect(started.status).toBe(201)
    expect(started.body.partCount).toBe(3)
    const base = `/v1/datasets/${datasetId}/uploads/${started.body.uploadId}`
    const urls = await h.call<{ parts: Array<{ partNumber: number; url: string }> }>(
      'POST',
      `${base}/parts`,
      h.tokens.alice,
      { partNumbers: [1] },
    )
    const put = await fetch(urls.body.parts[0]!.url, {
      method: 'PUT',
      body: Buffer.alloc(5 * MiB, 'x'),
    })
    const etag = put.headers.get('etag')!
    const one = await h.call('POST', `${base}/parts/1/complete`, h.tokens.alice, { etag })
    expect(one.status).toBe(200)

    const status = await h.call<{
      status: string
      parts: Array<{ partNumber: number; etag: string }>
    }>('GET', base, h.tokens.alice)
    expect(status.body.status).toBe('UPLOADING')
    expect(status.body.parts).toEqual([{ partNumber: 1, etag: etag.replaceAll('"', '') }])

    // Part 2 and 3 never stored: a 400 naming them, and S3 is never asked.
    const complete = await h.call<{ detail: string }>('POST', `${base}/complete`, h.tokens.alice, {
      parts: [{ partNumber: 1, etag }],
    })
    expect(complete.status).toBe(400)
    expect(complete.body.detail).toMatch(/missing part\(s\) 2, 3 of 3/)

    const aborted = await h.call<{ status: string }>('DELETE', base, h.tokens.alice)
    expect(aborted.status).toBe(200)
    expect(aborted.body.status).toBe('ABORTED')
    const again = await h.call('POST', `${base}/parts`, h.tokens.alice, { partNumbers: [2] })
    expect(again.status).toBe(409)
  })
})
