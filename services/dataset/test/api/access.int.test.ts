import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatasetAs, startHarness, type Harness } from '../support/harness.ts'

const GiB = 1024 * 1024 * 1024
const upload = (size: number, fileName = 'data.csv') => ({
  fileName,
  size,
  sha256: 'b'.repeat(64),
  format: 'csv',
})

describe('who may do what, and bad input', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ validator: 'off' })
  })
  afterAll(() => h.stop())

  it('is ready once NATS, Postgres, S3 and the catalog are', async () => {
    const ready = await h.service.app.inject({ method: 'GET', url: '/readyz' })
    expect(ready.statusCode).toBe(200)
    expect(Object.keys(JSON.parse(ready.body).checks).sort()).toEqual([
      'catalog',
      'nats',
      'postgres',
      's3',
    ])
  })

  it('refuses a file over 2 GiB with 413 before anything is created', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'too-big')
    const refused = await h.call<{ status: number; limit: number }>(
      'POST',
      `/v1/datasets/${datasetId}/uploads`,
      h.tokens.alice,
      upload(2 * GiB + 1),
    )
    expect(refused.status).toBe(413)
    expect(refused.body.limit).toBe(2 * GiB)
    const versions = await h.call<{ items: unknown[] }>(
      'GET',
      `/v1/datasets/${datasetId}/versions`,
      h.tokens.alice,
    )
    expect(versions.body.items).toEqual([])
    const accepted = await h.call(
      'POST',
      `/v1/datasets/${datasetId}/uploads`,
      h.tokens.alice,
      upload(2 * GiB),
    )
    expect(accepted.status).toBe(201)
  })

  it("answers 404 for another user's dataset, everywhere", async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'private')
    const bob = h.tokens.bob
    expect((await h.call('GET', `/v1/datasets/${datasetId}`, bob)).status).toBe(404)
    expect((await h.call('PATCH', `/v1/datasets/${datasetId}`, bob, { name: 'mine' })).status).toBe(
      404,
    )
    expect((await h.call('DELETE', `/v1/datasets/${datasetId}`, bob)).status).toBe(404)
    expect((await h.call('GET', `/v1/datasets/${datasetId}/versions`, bob)).status).toBe(404)
    expect(
      (await h.call('POST', `/v1/datasets/${datasetId}/uploads`, bob, upload(10))).status,
    ).toBe(404)
    const started = await h.call<{ uploadId: string }>(
      'POST',
      `/v1/datasets/${datasetId}/uploads`,
      h.tokens.alice,
      upload(10),
    )
    const uploadUrl = `/v1/datasets/${datasetId}/uploads/${started.body.uploadId}`
    expect((await h.call('GET', uploadUrl, bob)).status).toBe(404)
    expect((await h.call('POST', `${uploadUrl}/parts`, bob, { partNumbers: [1] })).status).toBe(404)
    expect((await h.call('DELETE', uploadUrl, bob)).status).toBe(404)

    const bobsList = await h.call<{ items: Array<{ id: string }> }>('GET', '/v1/datasets', bob)
    expect(bobsList.body.items.map((d) => d.id)).not.toContain(datasetId)
    const adminList = await h.call<{ items: Array<{ id: string }> }>(
      'GET',
      '/v1/datasets?limit=200',
      h.tokens.admin,
    )
    expect(adminList.body.items.map((d) => d.id)).toContain(datasetId)
    expect((await h.call('GET', `/v1/datasets/${datasetId}`, h.tokens.admin)).status).toBe(200)
  })

  it('lets analysts read but not write', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'readable')
    expect((await h.call('GET', `/v1/datasets/${datasetId}`, h.tokens.analyst)).status).toBe(200)
    expect((await h.call('POST', '/v1/datasets', h.tokens.analyst, { name: 'x' })).status).toBe(403)
    expect((await h.call('DELETE', `/v1/datasets/${datasetId}`, h.tokens.analyst)).status).toBe(403)
  })

  it('refuses an upload to a deleted dataset with 409', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'deleted')
    const deleted = await h.call<{ deletedAt: string; position: number }>(
      'DELETE',
      `/v1/datasets/${datasetId}`,
      h.tokens.alice,
    )
    expect(deleted.status).toBe(200)
    expect(deleted.body.deletedAt).toBeTruthy()
    const refused = await h.call(
      'POST',
      `/v1/datasets/${datasetId}/uploads`,
      h.tokens.alice,
      upload(10),
    )
    expect(refused.status).toBe(409)
    const list = await h.call<{ items: Array<{ id: string }> }>(
      'GET',
      `/v1/datasets?minPosition=${deleted.body.position}`,
      h.tokens.alice,
    )
    expect(list.body.items.map((d) => d.id)).not.toContain(datasetId)
  })

  it('keeps path tricks in the file name inside the dataset prefix', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'tricks')
    for (const fileName of ['../../../etc/passwd', '..\\..\\evil.csv', '/abs/x.csv', '..']) {
      const started = await h.call<{ uploadId: string; fileName: string }>(
        'POST',
        `/v1/datasets/${datasetId}/uploads`,
        h.tokens.alice,
        upload(10, fileName),
      )
      expect(started.status).toBe(201)
      expect(started.body.fileName).not.toMatch(/[/\\]|^\.\./)
      const events = await h.service.deps.store.load(
        `${h.names.root}.version.${started.body.uploadId}`,
      )
      const { objectKey } = events[0]!.data as { objectKey: string }
      expect(objectKey).toBe(`datasets/${datasetId}/versions/${started.body.uploadId}/data.csv`)
    }
  })

  it('names the bad field in a 400', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'fields')
    const bad = await h.call<{ errors: Array<{ field: string }> }>(
      'POST',
      `/v1/datasets/${datasetId}/uploads`,
      h.tokens.alice,
      { fileName: 'x.csv', size: -1, sha256: 'nothex', format: 'xlsx' },
    )
    expect(bad.status).toBe(400)
    expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['/format', '/sha256', '/size'])
    const noName = await h.call<{ errors: Array<{ field: string }> }>(
      'POST',
      '/v1/datasets',
      h.tokens.alice,
      {},
    )
    expect(noName.status).toBe(400)
    expect(noName.body.errors[0]!.field).toBe('/name')
    const badId = await h.call('GET', '/v1/datasets/a.b', h.tokens.alice)
    expect(badId.status).toBe(400)
  })

  it('pages through datasets filtered by name and tag', async () => {
    for (const [name, tags] of [
      ['page-a', ['x']],
      ['page-b', ['x']],
      ['page-c', ['y']],
    ] as const) {
      const created = await h.call('POST', '/v1/datasets', h.tokens.bob, { name, tags })
      expect(created.status).toBe(201)
    }
    const first = await h.call<{ items: Array<{ name: string }>; nextCursor: string }>(
      'GET',
      '/v1/datasets?tag=x&limit=1',
      h.tokens.bob,
    )
    expect(first.body.items.map((d) => d.name)).toEqual(['page-b'])
    const second = await h.call<{ items: Array<{ name: string }>; nextCursor: string | null }>(
      'GET',
      `/v1/datasets?tag=x&limit=1&cursor=${first.body.nextCursor}`,
      h.tokens.bob,
    )
    expect(second.body.items.map((d) => d.name)).toEqual(['page-a'])
    expect(second.body.nextCursor).toBeNull()
    const byName = await h.call<{ items: Array<{ name: string }> }>(
      'GET',
      '/v1/datasets?name=GE-C',
      h.tokens.bob,
    )
    expect(byName.body.items.map((d) => d.name)).toEqual(['page-c'])
  })

  it('updates a dataset and answers with the new state', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'before')
    const updated = await h.call<{ dataset: { name: string; tags: string[] } }>(
      'PATCH',
      `/v1/datasets/${datasetId}`,
      h.tokens.alice,
      { name: 'after', tags: ['b', 'a'] },
    )
    expect(updated.status).toBe(200)
    expect(updated.body.dataset).toMatchObject({ name: 'after', tags: ['a', 'b'] })
  })
})
