import { createHash } from 'node:crypto'
import { startDatasetService, type RunningDatasetService } from '@argmax/dataset-service'
import { datasetTestConfig } from '@argmax/dataset-service/testing'
import { createLogger } from '@argmax/telemetry'
import { eventually, freshBucket, injectedApi, stackEnv, uniqueName } from '@argmax/testkit'
import { expect } from 'vitest'
import { type Harness } from './harness.ts'

/**
 * The real dataset service in this process, on the feedback harness's DATASET stream, NATS
 * connection and JWT secret: uploads validated and profiled for real, and (with feedback's
 * stream names) registering the versions feedback datasets become.
 */
export async function startDataset(h: Harness): Promise<{
  service: RunningDatasetService
  bucket: string
  call: Harness['call']
  uploadCsv(
    token: string,
    name: string,
    csv: string,
  ): Promise<{ datasetId: string; versionId: string }>
}> {
  const { bucket } = await freshBucket('datasets')
  const service = await startDatasetService({
    config: datasetTestConfig({
      stackEnv: stackEnv(),
      secret: h.secret,
      bucket,
      schema: uniqueName('dataset').toLowerCase(),
      names: { stream: h.names.dataset.stream, root: h.names.dataset.root },
      feedback: { stream: h.names.feedback.stream, root: h.names.feedback.root },
      dataset: { validatorWorkers: 0 },
    }),
    logger: createLogger({ service: 'dataset-test', level: 'warn' }),
    nc: h.nc,
    listen: false,
  })
  const call = injectedApi(service.app)
  return {
    service,
    bucket,
    call,
    async uploadCsv(token, name, csv) {
      const created = await call<{ id: string }>('POST', '/v1/datasets', token, { name })
      expect(created.status).toBe(201)
      const datasetId = created.body.id
      const bytes = Buffer.from(csv)
      const started = await call<{ uploadId: string }>(
        'POST',
        `/v1/datasets/${datasetId}/uploads`,
        token,
        {
          fileName: `${name}.csv`,
          size: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          format: 'csv',
        },
      )
      expect(started.status, JSON.stringify(started.body)).toBe(201)
      const base = `/v1/datasets/${datasetId}/uploads/${started.body.uploadId}`
      const urls = await call<{ parts: Array<{ url: string }> }>('POST', `${base}/parts`, token, {
        partNumbers: [1],
      })
      const put = await fetch(urls.body.parts[0]!.url, { method: 'PUT', body: bytes })
      expect(put.status).toBe(200)
      const parts = [{ partNumber: 1, etag: put.headers.get('etag')! }]
      expect((await call('POST', `${base}/parts/recorded`, token, { parts })).status).toBe(200)
      expect((await call('POST', `${base}/complete`, token, { parts })).status).toBe(202)
      const versionId = started.body.uploadId
      await eventually(
        async () => {
          const version = await call<{ status: string }>(
            'GET',
            `/v1/datasets/${datasetId}/versions/${versionId}`,
            token,
          )
          if (version.body.status === 'REJECTED') throw new Error(JSON.stringify(version.body))
          return version.body.status === 'VALIDATED' ? true : undefined
        },
        30_000,
        'the version validated',
      )
      return { datasetId, versionId }
    },
  }
}
