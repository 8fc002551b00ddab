import { createServer } from 'node:net'
import { createVerifier } from '@argmax/auth'
import { createEventStore } from '@argmax/events'
import { createServiceApp } from '@argmax/http'
import { markedPool } from '@argmax/projections'
import { createS3Client } from '@argmax/storage'
import { createLogger } from '@argmax/telemetry'
import { connectNats } from '@argmax/testkit'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerDatasetApi } from '../../src/api/index.ts'
import type { DatasetDeps } from '../../src/application/dependencies.ts'
import type { DatasetDatabase } from '../../src/projections/database.ts'
import { createDatasetAs, startHarness, type Harness } from '../support/harness.ts'

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

const upload = { fileName: 'a.csv', size: 8, sha256: 'c'.repeat(64), format: 'csv' }

describe('statuses: failed dependencies are 503, access is checked before waiting', () => {
  let h: Harness
  const opened: Array<() => Promise<unknown>> = []
  beforeAll(async () => {
    h = await startHarness({ validator: 'off' })
  })
  afterAll(async () => {
    for (const close of opened) await close()
    await h.stop()
  })

  /** The dataset API on its own app, with some of the service's dependencies replaced. */
  async function apiWith(replaced: Partial<DatasetDeps>) {
    const app = await createServiceApp({
      service: 'dataset',
      logger: createLogger({ service: 'dataset-test', level: 'silent' }),
      verifier: createVerifier(h.config.auth),
      ready: async () => true,
    })
    registerDatasetApi(app, { ...h.service.deps, ...replaced }, h.service.waitForPosition)
    opened.push(() => app.close())
    return async (method: 'GET' | 'POST', url: string, body?: object) => {
      const response = await app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${h.tokens.alice}` },
        ...(body ? { payload: body } : {}),
      })
      return { status: response.statusCode, headers: response.headers, text: response.body }
    }
  }

  function expectUnavailable(
    answer: { status: number; headers: Record<string, unknown>; text: string },
    dependency: string,
    secrets: string[],
  ) {
    expect(answer.status, answer.text).toBe(503)
    expect(answer.headers['retry-after']).toBe('2')
    expect(answer.headers['content-type']).toContain('application/problem+json')
    const problem = JSON.parse(answer.text) as { dependency: string; detail: string }
    expect(problem.dependency).toBe(dependency)
    expect(problem.detail).toMatch(new RegExp(`^${dependency} is unavailable`))
    for (const secret of secrets) expect(answer.text).not.toContain(secret)
  }

  it('answers 503 naming S3 when the object store does not answer, and starts nothing', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 's3-down')
    const port = await closedPort()
    const s3 = createS3Client({ ...h.config.s3, endpoint: `http://127.0.0.1:${port}` })
    opened.push(async () => s3.destroy())
    const call = await apiWith({ s3 })
    const answer = await call('POST', `/v1/datasets/${datasetId}/uploads`, upload)
    expectUnavailable(answer, 's3', [String(port), h.config.s3.secretAccessKey])
    const versions = await h.call<{ items: unknown[] }>(
      'GET',
      `/v1/datasets/${datasetId}/versions`,
      h.tokens.alice,
    )
    expect(versions.body.items).toEqual([])
  })

  it('answers 503 naming postgres when the database does not answer', async () => {
    const port = await closedPort()
    const password = 'not-a-real-password'
    const pool = new pg.Pool({
      connectionString: `postgres://argmax:${password}@127.0.0.1:${port}/argmax`,
    })
    const db = new Kysely<DatasetDatabase>({
      dialect: new PostgresDialect({ pool: markedPool(pool) }),
    })
    opened.push(() => db.destroy())
    const call = await apiWith({ db })
    expectUnavailable(await call('GET', '/v1/datasets'), 'postgres', [String(port), password])
  })

  it('answers 503 naming nats when the connection to NATS is closed', async () => {
    const nc = await connectNats()
    const store = createEventStore({ nc })
    await nc.close()
    const call = await apiWith({ store })
    expectUnavailable(await call('POST', '/v1/datasets', { name: 'nats-down' }), 'nats', [])
  })

  it('refuses a caller without access at once, not after waiting for minPosition', async () => {
    const datasetId = await createDatasetAs(h, h.tokens.alice, 'private-wait')
    const started = await h.call<{ uploadId: string }>(
      'POST',
      `/v1/datasets/${datasetId}/uploads`,
      h.tokens.alice,
      upload,
    )
    // A position the catalog will never reach: waiting first would end in 503, not 404.
    const never = 1_000_000_000
    for (const url of [
      `/v1/datasets/${datasetId}?minPosition=${never}`,
      `/v1/datasets/${datasetId}/versions?minPosition=${never}`,
      `/v1/datasets/${datasetId}/versions/${started.body.uploadId}?minPosition=${never}`,
      `/v1/datasets/no-such-dataset?minPosition=${never}`,
    ]) {
      expect((await h.call('GET', url, h.tokens.bob)).status, url).toBe(404)
    }
  })
})
