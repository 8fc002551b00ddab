import { createHash, randomUUID } from 'node:crypto'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { verifyPredictionId, type PredictionLogRecord } from '@argmax/contracts'
import { createEventStore, ensureStreams } from '@argmax/events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInferenceClient } from '../../src/client.ts'
import { LINEAR_SIGNATURE, linearExpected, writeTestModels } from '@argmax/testkit/onnx-models'
import { startGatewayHarness, type GatewayHarness } from './support/gateway-harness.ts'
import { loggedRecords } from '../../src/application/prediction-log.ts'

let h: GatewayHarness
let api: ReturnType<typeof createInferenceClient>

/** Puts a file in S3 and writes the dataset context's events of a version for it. */
async function datasetVersion(
  file: string,
  format: 'jsonl' | 'csv',
  options: { ownerId?: string; validated?: boolean } = {},
) {
  const datasetId = randomUUID()
  const versionId = randomUUID()
  const objectKey = `datasets/${datasetId}/versions/${versionId}/data.${format}`
  const bytes = Buffer.from(file)
  await h.s3.send(new PutObjectCommand({ Bucket: h.bucket, Key: objectKey, Body: bytes }))
  const store = createEventStore({ nc: h.nc })
  const subject = `${h.names.dataset.root}.version.${versionId}`
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const common = {
    versionId,
    datasetId,
    bucket: h.bucket,
    objectKey,
    format,
    size: bytes.length,
    sha256,
  }
  const events = [
    {
      type: 'UploadStarted',
      data: { ...common, ownerId: options.ownerId ?? 'alice', fileName: `data.${format}` },
    },
    {
      type: 'UploadCompleted',
      data: { ...common, partCount: 1, completedAt: new Date().toISOString() },
    },
    ...(options.validated === false
      ? []
      : [
          {
            type: 'VersionValidated',
            data: {
              versionId,
              datasetId,
              rowCount: 5,
              size: bytes.length,
              sha256,
              schema: {},
              profile: {},
            },
          },
        ]),
  ]
  await store.append(subject, events, {
    expectedLastSubjectSequence: 'any',
    meta: { actor: 'system:dataset' },
  })
  return { datasetId, versionId }
}

beforeAll(async () => {
  const models = await writeTestModels([1, 2])
  h = await startGatewayHarness({ listen: true })
  await ensureStreams(await h.nc.jetstreamManager(), [
    { name: h.names.dataset.stream, subjects: [`${h.names.dataset.root}.>`], retention: 'limits' },
  ])
  await h.registry.registerVersion('movies', 1, models.linear.get(1)!.bytes, LINEAR_SIGNATURE)
  await h.registry.registerVersion('movies', 2, models.linear.get(2)!.bytes, LINEAR_SIGNATURE)
  await h.registry.release('movies', { stable: 1 })
  await h.waitServing('movies')
  api = createInferenceClient({ baseUrl: h.gateway.url!, token: h.tokens.alice })
})
afterAll(() => h?.stop())

async function finished(batchId: string, token = h.tokens.alice) {
  const client = createInferenceClient({ baseUrl: h.gateway.url!, token })
  for (let i = 0; i < 300; i++) {
    const batch = await client.getBatchPrediction({ params: { batchId } })
    if (batch.status === 'SUCCEEDED' || batch.status === 'FAILED') return batch
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`batch ${batchId} did not finish`)
}

async function resultLines(batchId: string) {
  const result = await api.getBatchPredictionResult({ params: { batchId } })
  const text = await (await fetch(result.url)).text()
  expect(createHash('sha256').update(text).digest('hex')).toBe(result.sha256)
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe('batch predictions', () => {
  it('predicts every row of a JSON Lines dataset version, refusing bad rows one by one', async () => {
    const rows = [
      { x1: 1, x2: 1, y: 9 },
      { x1: null, x2: 2 },
      { x1: 3 }, // x2 is not nullable
      'not json',
      ...Array.from({ length: 150 }, (_, i) => ({ x1: i, x2: 1 })),
    ]
    const file =
      rows.map((row) => (typeof row === 'string' ? row : JSON.stringify(row))).join('\n') + '\n'
    const dataset = await datasetVersion(file, 'jsonl')
    const key = randomUUID()
    const requested = await api.requestBatchPrediction({
      body: { model: 'movies', alias: 'stable', dataset },
      idempotencyKey: key,
    })
    expect(requested).toMatchObject({
      status: 'QUEUED',
      model: 'movies',
      version: 1,
      alias: 'stable',
      ownerId: 'alice',
    })
    const again = await api.requestBatchPrediction({
      body: { model: 'movies', alias: 'stable', dataset },
      idempotencyKey: key,
    })
    expect(again.id).toBe(requested.id)

    const batch = await finished(requested.id)
    expect(batch).toMatchObject({ status: 'SUCCEEDED', rowsDone: 152, rowsFailed: 2, error: null })
    const lines = await resultLines(requested.id)
    expect(lines).toHaveLength(154)
    expect(lines.map((l) => l['row'])).toEqual(Array.from({ length: 154 }, (_, i) => i))
    expect(lines[0]).toMatchObject({
      row: 0,
      prediction: linearExpected(1, 1, 1),
      outputs: { y: linearExpected(1, 1, 1) },
    })
    expect(lines[1]).toMatchObject({ prediction: linearExpected(Number.NaN, 2, 1) })
    expect(lines[2]!['error']).toContain('inputs/x2: row 0 is missing')
    expect(lines[3]).toEqual({ row: 3, error: 'the line is not JSON' })
    expect(lines[153]).toMatchObject({ prediction: linearExpected(149, 1, 1) })
    const id = lines[0]!['predictionId'] as string
    expect(verifyPredictionId(h.predictionIdSecret, id)).toMatchObject({
      ok: true,
      fields: { model: 'movies', version: 1 },
    })

    // Logged too, with the batch id and each row's index in the file.
    const jsm = await h.nc.jetstreamManager()
    const info = await jsm.streams.info(h.names.log.stream)
    const records: PredictionLogRecord[] = []
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const message = await jsm.streams.getMessage(h.names.log.stream, { seq })
      const envelope = JSON.parse(new TextDecoder().decode(message.data)) as {
        type: string
        data: unknown
      }
      records.push(...loggedRecords(envelope.type, envelope.data))
    }
    const mine = records.filter((r) => r.batchId === requested.id)
    expect(
      mine
        .flatMap((r) => r.rows)
        .map((r) => r.row)
        .sort((a, b) => a! - b!),
    ).toEqual(lines.filter((l) => l['predictionId']).map((l) => l['row']))
    expect(mine.flatMap((r) => r.rows)[0]!.predictionId).toBe(id)
  })

  it('reads CSV, and runs a version the release does not serve (loaded on demand)', async () => {
    const dataset = await datasetVersion('x1,x2,name\n1,2,a\n,3,b\n', 'csv')
    const requested = await api.requestBatchPrediction({
      body: { model: 'movies', version: 2, dataset },
    })
    const batch = await finished(requested.id)
    expect(batch).toMatchObject({ status: 'SUCCEEDED', version: 2, rowsDone: 2, rowsFailed: 0 })
    const lines = await resultLines(requested.id)
    expect(lines.map((l) => l['prediction'])).toEqual([
      linearExpected(1, 2, 2),
      linearExpected(Number.NaN, 3, 2),
    ])
  })

  it('refuses what it cannot run, and shows batches only to their owner, admins and analysts', async () => {
    const dataset = await datasetVersion('{"x1":1,"x2":1}\n', 'jsonl')
    const bob = createInferenceClient({ baseUrl: h.gateway.url!, token: h.tokens.bob, retries: 0 })
    await expect(
      bob.requestBatchPrediction({ body: { model: 'movies', alias: 'stable', dataset } }),
    ).rejects.toMatchObject({ status: 404 })
    const requested = await api.requestBatchPrediction({
      body: { model: 'movies', alias: 'stable', dataset },
    })
    await expect(
      bob.getBatchPrediction({ params: { batchId: requested.id } }),
    ).rejects.toMatchObject({ status: 404 })
    const analyst = createInferenceClient({
      baseUrl: h.gateway.url!,
      token: h.tokens.analyst,
      retries: 0,
    })
    expect((await analyst.getBatchPrediction({ params: { batchId: requested.id } })).id).toBe(
      requested.id,
    )
    await expect(
      analyst.requestBatchPrediction({ body: { model: 'movies', alias: 'stable', dataset } }),
    ).rejects.toMatchObject({ status: 403 })
    const admin = createInferenceClient({ baseUrl: h.gateway.url!, token: h.tokens.admin })
    expect((await admin.getBatchPrediction({ params: { batchId: requested.id } })).id).toBe(
      requested.id,
    )

    const unvalidated = await datasetVersion('{"x1":1,"x2":1}\n', 'jsonl', { validated: false })
    const strict = createInferenceClient({
      baseUrl: h.gateway.url!,
      token: h.tokens.alice,
      retries: 0,
    })
    await expect(
      strict.requestBatchPrediction({
        body: { model: 'movies', alias: 'stable', dataset: unvalidated },
      }),
    ).rejects.toMatchObject({ status: 409 })
    await expect(
      strict.requestBatchPrediction({ body: { model: 'movies', alias: 'canary', dataset } }),
    ).rejects.toMatchObject({ status: 409 })
    await expect(
      strict.requestBatchPrediction({ body: { model: 'nope', version: 1, dataset } }),
    ).rejects.toMatchObject({ status: 404 })
    await expect(
      strict.requestBatchPrediction({ body: { model: 'movies', version: 9, dataset } }),
    ).rejects.toMatchObject({ status: 404 })
    await expect(
      strict.requestBatchPrediction({
        body: { model: 'movies', version: 1, alias: 'stable', dataset },
      }),
    ).rejects.toMatchObject({ status: 400 })
    await expect(
      strict.getBatchPredictionResult({ params: { batchId: randomUUID() } }),
    ).rejects.toMatchObject({ status: 404 })
    await finished(requested.id)
  })

  it("lets an admin (a retrain pipeline) request one on a user's behalf, over that user's datasets only", async () => {
    const alices = await datasetVersion('{"x1":1,"x2":1}\n', 'jsonl')
    const bobs = await datasetVersion('{"x1":1,"x2":1}\n', 'jsonl', { ownerId: 'bob' })
    const admin = createInferenceClient({
      baseUrl: h.gateway.url!,
      token: h.tokens.admin,
      retries: 0,
    })
    const forAlice = await admin.requestBatchPrediction({
      body: { model: 'movies', version: 2, dataset: alices, ownerId: 'alice' },
    })
    expect(forAlice.ownerId).toBe('alice')
    expect((await api.getBatchPrediction({ params: { batchId: forAlice.id } })).ownerId).toBe(
      'alice',
    )
    // Alice could not read Bob's dataset herself: nor can a batch on her behalf.
    await expect(
      admin.requestBatchPrediction({
        body: { model: 'movies', version: 2, dataset: bobs, ownerId: 'alice' },
      }),
    ).rejects.toMatchObject({ status: 404 })
    const strict = createInferenceClient({
      baseUrl: h.gateway.url!,
      token: h.tokens.alice,
      retries: 0,
    })
    await expect(
      strict.requestBatchPrediction({
        body: { model: 'movies', version: 2, dataset: alices, ownerId: 'bob' },
      }),
    ).rejects.toMatchObject({ status: 403 })
    await finished(forAlice.id)
  })
})
