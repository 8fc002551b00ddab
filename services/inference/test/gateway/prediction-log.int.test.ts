import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { connectNats, uniqueName } from '@argmax/testkit'
import { ensureStreams } from '@argmax/events'
import {
  PREDICTION_LOG_SCHEMA_VERSION,
  predictionLogRow,
  type PredictionLogRecord,
} from '@argmax/contracts'
import type { NatsConnection } from 'nats'
import { LINEAR_SIGNATURE, linearExpected, writeTestModels } from '@argmax/testkit/onnx-models'
import {
  createPredictionLog,
  loggedRecords,
  PREDICTIONS_LOGGED,
} from '../../src/application/prediction-log.ts'
import { INFERENCE_STREAM_NAMES, type InferenceStreamNames } from '../../src/streams.ts'
import { startGatewayHarness, type GatewayHarness } from './support/gateway-harness.ts'

let h: GatewayHarness

beforeAll(async () => {
  const models = await writeTestModels([1])
  h = await startGatewayHarness({ sink: true })
  await h.registry.registerVersion('movies', 1, models.linear.get(1)!.bytes, LINEAR_SIGNATURE)
  await h.registry.release('movies', { stable: 1 })
  await h.waitServing('movies')
})
afterAll(() => h?.stop())

async function waitForRows(sql: string, expected: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const [row] = await h.clickhouse!.query<{ n: string }>(sql)
    if (Number(row?.n) >= expected) return
    if (Date.now() > deadline) throw new Error(`${sql}: ${row?.n} rows, expected ${expected}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('the prediction log reaches ClickHouse', () => {
  it('writes one row per prediction id with the columns feedback joins on', async () => {
    const rest = await h.rest<{ parameters: { prediction_ids: string } }>(
      'POST',
      '/v2/models/movies/infer',
      h.tokens.alice,
      {
        id: 'ch-1',
        inputs: [
          { name: 'x1', datatype: 'FP32', shape: [2], data: [1, null] },
          { name: 'x2', datatype: 'FP32', shape: [2], data: [2, 3] },
        ],
      },
    )
    expect(rest.status).toBe(200)
    const grpc = await h.grpc.call<{ parameters: Record<string, { string_param: string }> }>(
      'ModelInfer',
      {
        model_name: 'movies',
        id: 'ch-2',
        inputs: [
          { name: 'x1', datatype: 'FP32', shape: [1], contents: { fp32_contents: [4] } },
          { name: 'x2', datatype: 'FP32', shape: [1], contents: { fp32_contents: [5] } },
        ],
      },
    )
    const ids = [
      ...rest.body.parameters.prediction_ids.split(','),
      grpc.parameters['prediction_ids']!.string_param,
    ]
    await waitForRows(
      `SELECT count() AS n FROM inference_log WHERE request_id IN ('ch-1', 'ch-2')`,
      3,
    )
    const rows = await h.clickhouse!.query<Record<string, unknown>>(
      `SELECT * FROM inference_log WHERE request_id IN ('ch-1', 'ch-2') ORDER BY request_id, row_index`,
    )
    expect(rows.map((r) => r['prediction_id'])).toEqual(ids)
    expect(rows[0]).toMatchObject({
      request_id: 'ch-1',
      model: 'movies',
      version: 1,
      variant: 'stable',
      caller: 'alice',
      protocol: 'rest',
      status: 'success',
      error: '',
      row_index: 0,
      batch_id: '',
      predicted_class: null,
    })
    expect(rows[0]!['prediction']).toBeCloseTo(linearExpected(1, 2, 1), 5)
    expect(JSON.parse(rows[1]!['inputs'] as string)).toEqual({ x1: null, x2: 3 })
    expect(rows[1]!['row_index']).toBe(1)
    expect(rows[2]).toMatchObject({ request_id: 'ch-2', protocol: 'grpc' })
    expect(String(rows[0]!['release_sequence'])).toMatch(/^\d+$/)
    expect(rows[0]!['date']).toBe(new Date().toISOString().slice(0, 10))
  })

  it('records a refused request as one error row', async () => {
    const answer = await h.rest('POST', '/v2/models/movies/infer', h.tokens.bob, {
      id: 'ch-bad',
      inputs: [{ name: 'x1', datatype: 'FP32', shape: [1], data: [1] }],
    })
    expect(answer.status).toBe(400)
    await waitForRows(`SELECT count() AS n FROM inference_log WHERE request_id = 'ch-bad'`, 1)
    const [row] = await h.clickhouse!.query<Record<string, string>>(
      `SELECT prediction_id, status, error, caller FROM inference_log WHERE request_id = 'ch-bad'`,
    )
    expect(row!['prediction_id']).toMatch(/^error:/)
    expect(row).toMatchObject({ status: 'error', caller: 'bob' })
    expect(row!['error']).toContain('validation: invalid request: inputs/x2: is required')
  })

  it('counts a record delivered twice once in what analysts read', async () => {
    const jsm = await h.nc.jetstreamManager()
    const info = await jsm.streams.info(h.names.log.stream)
    const last = await jsm.streams.getMessage(h.names.log.stream, { seq: info.state.last_seq })
    const envelope = JSON.parse(new TextDecoder().decode(last.data)) as {
      type: string
      data: unknown
    }
    // The same envelope again under another message id: JetStream keeps both, the sink inserts both.
    await h.nc
      .jetstream()
      .publish(last.subject, last.data, { msgID: `again-${info.state.last_seq}` })
    const requestId = loggedRecords(envelope.type, envelope.data)[0]!.requestId
    await waitForRows(`SELECT count() AS n FROM predictions WHERE request_id = '${requestId}'`, 2)
    const [view] = await h.clickhouse!.query<{ n: string }>(
      `SELECT count() AS n FROM inference_log WHERE request_id = '${requestId}'`,
    )
    expect(Number(view!.n)).toBe(1)
  })
})

describe('async mode', () => {
  it('logs an answered request after its answer: its ids, inputs and outputs, by gRPC and REST', async () => {
    const models = await writeTestModels([1])
    const a = await startGatewayHarness({ logMode: 'async', modelServers: 1 })
    try {
      await a.registry.registerVersion('movies', 1, models.linear.get(1)!.bytes, LINEAR_SIGNATURE)
      await a.registry.release('movies', { stable: 1 })
      await a.waitServing('movies')
      const grpc = await a.grpc.call<{ parameters: Record<string, { string_param: string }> }>(
        'ModelInfer',
        {
          model_name: 'movies',
          id: 'later-grpc',
          inputs: [
            { name: 'x1', datatype: 'FP32', shape: [1], contents: { fp32_contents: [4] } },
            { name: 'x2', datatype: 'FP32', shape: [1], contents: { fp32_contents: [5] } },
          ],
        },
      )
      const rest = await a.rest<{ parameters: { prediction_ids: string } }>(
        'POST',
        '/v2/models/movies/infer',
        a.tokens.alice,
        {
          id: 'later-rest',
          inputs: [
            { name: 'x1', datatype: 'FP32', shape: [2], data: [1, 2] },
            { name: 'x2', datatype: 'FP32', shape: [2], data: [3, 4] },
          ],
        },
      )
      expect(rest.status).toBe(200)
      const deadline = Date.now() + 10_000
      let logged: PredictionLogRecord[] = []
      while (logged.length < 2 && Date.now() < deadline) {
        logged = await recordsIn(a.nc, a.names.log.stream)
        if (logged.length < 2) await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const byId = new Map(logged.map((record) => [record.requestId, record]))
      expect(byId.get('later-grpc')).toMatchObject({
        status: 'success',
        protocol: 'grpc',
        rows: [
          {
            predictionId: grpc.parameters['prediction_ids']!.string_param,
            inputs: JSON.stringify({ x1: 4, x2: 5 }),
            outputs: JSON.stringify({ y: linearExpected(4, 5, 1) }),
          },
        ],
      })
      expect(byId.get('later-rest')!.rows.map((row) => row.predictionId)).toEqual(
        rest.body.parameters.prediction_ids.split(','),
      )
      expect(byId.get('later-rest')!.rows.map((row) => JSON.parse(row.inputs))).toEqual([
        { x1: 1, x2: 3 },
        { x1: 2, x2: 4 },
      ])
    } finally {
      await a.stop()
    }
  })

  it('sheds records beyond the buffer while JetStream cannot take them, counts them, and publishes the rest once it can', async () => {
    const nc = await connectNats()
    const names = logStreamNames('shed')
    const warnings: string[] = []
    const log = createPredictionLog({
      js: nc.jetstream(),
      names,
      mode: 'async',
      bufferRecords: 100,
      maxInFlight: 8,
      retryDelaysMs: [50],
      publishTimeoutMs: 500,
      log: { warn: (_fields, message) => warnings.push(message) },
    })
    // No stream captures the subjects yet: every publish fails (no responders) and is retried.
    for (let i = 0; i < 150; i++) await log.record([logRecord('movies', `r${i}`)])
    expect(log.stats().dropped).toBe(50)
    expect(log.stats().buffered + log.stats().inFlight).toBeLessThanOrEqual(100)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(log.stats().published).toBe(0)
    expect(warnings).toContain('publishing a prediction log record failed; retrying')

    await createLogStream(nc, names)
    await log.stop(20_000)
    expect(log.stats()).toMatchObject({ published: 100, dropped: 50, buffered: 0 })
    // Records queued behind others share messages: every kept record is in the stream once.
    const logged = await recordsIn(nc, names.log.stream)
    expect(logged.map((r) => r.requestId).sort()).toEqual(
      Array.from({ length: 100 }, (_, i) => `r${i}`).sort(),
    )
  })
  it("builds an answered request's records after the answer, holding its place in the buffer from the call", async () => {
    const nc = await connectNats()
    const names = logStreamNames('later')
    await createLogStream(nc, names)
    const log = createPredictionLog({
      js: nc.jetstream(),
      names,
      mode: 'async',
      bufferRecords: 100,
      log: { warn: () => undefined },
    })
    let built = 0
    for (let i = 0; i < 150; i++) {
      log.afterAnswer(() => {
        built++
        return [logRecord('movies', `l${i}`)]
      })
    }
    // Nothing is built in the caller's turn; the places are held: 50 shed at once, unbuilt.
    expect(built).toBe(0)
    expect(log.stats()).toMatchObject({ buffered: 100, dropped: 50 })
    await log.stop(20_000)
    expect(built).toBe(100)
    expect(log.stats()).toMatchObject({ published: 100, dropped: 50, buffered: 0 })
    const logged = await recordsIn(nc, names.log.stream)
    expect(logged.map((r) => r.requestId).sort()).toEqual(
      Array.from({ length: 100 }, (_, i) => `l${i}`).sort(),
    )
    await nc.close()
  })
  it('publishes the records of answers that came within its linger together, in one message', async () => {
    const nc = await connectNats()
    const names = logStreamNames('linger')
    const jsm = await createLogStream(nc, names)
    const log = createPredictionLog({
      js: nc.jetstream(),
      names,
      mode: 'async',
      bufferRecords: 100,
      lingerMs: 500,
      log: { warn: () => undefined },
    })
    // One request at a time, a few milliseconds apart: a quiet gateway's traffic.
    for (let i = 0; i < 10; i++) {
      const record = logRecord('movies', `g${i}`)
      log.afterAnswer(() => [record])
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await vi.waitFor(() => expect(log.stats().published).toBe(10), { timeout: 10_000 })
    const info = await jsm.streams.info(names.log.stream)
    expect(info.state.messages).toBe(1)
    const logged = await recordsIn(nc, names.log.stream)
    expect(logged.map((r) => r.requestId)).toEqual(Array.from({ length: 10 }, (_, i) => `g${i}`))
    await log.stop()
    await nc.close()
  })
})

describe('durable mode', () => {
  it('resolves each record only once JetStream holds it, grouping concurrent records of a model into fewer messages', async () => {
    const nc = await connectNats()
    const names = logStreamNames('group')
    const jsm = await createLogStream(nc, names)
    const log = createPredictionLog({
      js: nc.jetstream(),
      names,
      mode: 'durable',
      bufferRecords: 10,
      log: { warn: () => undefined },
    })
    const records = Array.from({ length: 200 }, (_, i) =>
      logRecord(i % 2 === 0 ? 'movies' : 'books', `d${i}`),
    )
    const settled: string[] = []
    await Promise.all(
      records.map(async (record) => {
        await log.record([record])
        settled.push(record.requestId)
      }),
    )
    expect(settled).toHaveLength(200)
    const info = await jsm.streams.info(names.log.stream)
    const logged = await recordsIn(nc, names.log.stream)
    expect(logged.map((r) => r.requestId).sort()).toEqual(records.map((r) => r.requestId).sort())
    // 200 requests in the same round of microtasks (as those one merged call to a model server
    // answers): one message per model, their 100 records of ~300 bytes well within 64 KiB.
    expect(info.state.messages).toBe(2)
    // Never two models in one message.
    for (const message of await messagesIn(nc, names.log.stream)) {
      const models = new Set(message.records.map((r) => r.model))
      expect([...models]).toEqual([message.subject.split('.').at(-1)])
    }
    expect(log.stats()).toMatchObject({ published: 200, dropped: 0 })
  })

  it('fails every waiting request when JetStream cannot take the records', async () => {
    const nc = await connectNats()
    const names = logStreamNames('none')
    const log = createPredictionLog({
      js: nc.jetstream(),
      names,
      mode: 'durable',
      bufferRecords: 10,
      publishTimeoutMs: 500,
      log: { warn: () => undefined },
    })
    // No stream captures the subject: no record can be acknowledged.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => log.record([logRecord('movies', `f${i}`)])),
    )
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected')
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ kind: 'unavailable' })
    }
    expect(log.stats().published).toBe(0)
  })
})

describe('the sink reads grouped messages', () => {
  // What TabSeparated reserves, in a text column and inside the JSON of another.
  const awkward = 'tab\there\nnew line\rreturn \\ backslash \\N'
  const publish = async (id: string, schemaVersion: number, data: unknown) => {
    const envelope = {
      id,
      type: PREDICTIONS_LOGGED,
      schemaVersion,
      stream: h.names.log.stream,
      subject: `${h.names.log.subjectPrefix}.movies`,
      occurredAt: new Date().toISOString(),
      actor: 'system:inference',
      correlationId: id,
      causationId: null,
      data,
    }
    await h.nc
      .jetstream()
      .publish(envelope.subject, new TextEncoder().encode(JSON.stringify(envelope)), { msgID: id })
  }
  const failedRecord = (id: string) => ({
    ...logRecord('movies', `${id}-err`),
    status: 'error' as const,
    error: awkward,
    rows: [],
  })
  const written = async (id: string) => {
    await waitForRows(
      `SELECT count() AS n FROM inference_log WHERE request_id IN ('${id}-ok', '${id}-err')`,
      2,
    )
    return h.clickhouse!.query<Record<string, string>>(
      `SELECT request_id, prediction_id, status, error, inputs, outputs, prediction, predicted_class FROM inference_log WHERE request_id IN ('${id}-ok', '${id}-err') ORDER BY request_id`,
    )
  }
  const expected = (id: string) => [
    {
      request_id: `${id}-err`,
      prediction_id: `error:${id}/1`,
      status: 'error',
      error: awkward,
      inputs: '{}',
      outputs: '{}',
      prediction: null,
      predicted_class: null,
    },
    {
      request_id: `${id}-ok`,
      prediction_id: `p-${id}-ok`,
      status: 'success',
      error: '',
      inputs: JSON.stringify({ text: awkward }),
      outputs: JSON.stringify({ label: awkward, probabilities: [0.25, 0.75] }),
      prediction: null,
      predicted_class: awkward,
    },
  ]

  it('writes every record of a PredictionsLogged message, error records keyed by message id and index', async () => {
    const id = `batch-${Date.now()}`
    const ok = {
      ...logRecord('movies', `${id}-ok`),
      rows: [
        predictionLogRow(
          `p-${id}-ok`,
          { text: awkward },
          { label: awkward, probabilities: [0.25, 0.75] },
        ),
      ],
    }
    await publish(id, PREDICTION_LOG_SCHEMA_VERSION, { records: [ok, failedRecord(id)] })
    expect(await written(id)).toEqual(expected(id))
  })

  it('writes the same rows from a message of schemaVersion 1 (rows with inputs and outputs as objects), left in the stream by an older gateway', async () => {
    const id = `v1-${Date.now()}`
    const ok = {
      ...logRecord('movies', `${id}-ok`),
      rows: [
        {
          predictionId: `p-${id}-ok`,
          inputs: { text: awkward },
          outputs: { label: awkward, probabilities: [0.25, 0.75] },
        },
      ],
    }
    await publish(id, 1, { records: [ok, failedRecord(id)] })
    expect(await written(id)).toEqual(expected(id))
  })
})

/** Log stream names of a test's own (the stream itself: `createLogStream`). */
function logStreamNames(prefix: string): InferenceStreamNames {
  return {
    ...INFERENCE_STREAM_NAMES,
    log: { stream: uniqueName('INFERENCE_LOG'), subjectPrefix: `${uniqueName(prefix)}.log` },
  }
}

async function createLogStream(nc: NatsConnection, names: InferenceStreamNames) {
  const jsm = await nc.jetstreamManager()
  await ensureStreams(jsm, [
    { name: names.log.stream, subjects: [`${names.log.subjectPrefix}.>`], retention: 'limits' },
  ])
  return jsm
}

function logRecord(model: string, requestId: string): PredictionLogRecord {
  return {
    requestId,
    time: new Date().toISOString(),
    model,
    version: 1,
    variant: 'stable',
    releaseSequence: 1,
    caller: 'alice',
    protocol: 'grpc',
    status: 'success',
    latencyMs: 1,
    rows: [predictionLogRow(`p-${requestId}`, { x1: 1 }, { predictions: 2 })],
  }
}

/** Every message of a stream with the records it carries. */
async function messagesIn(
  nc: NatsConnection,
  stream: string,
): Promise<{ subject: string; records: PredictionLogRecord[] }[]> {
  const jsm = await nc.jetstreamManager()
  const last = (await jsm.streams.info(stream)).state.last_seq
  const messages = []
  for (let seq = 1; seq <= last; seq++) {
    const message = await jsm.streams.getMessage(stream, { seq })
    const envelope = JSON.parse(new TextDecoder().decode(message.data)) as {
      type: string
      data: unknown
    }
    messages.push({
      subject: message.subject,
      records: loggedRecords(envelope.type, envelope.data),
    })
  }
  return messages
}

async function recordsIn(nc: NatsConnection, stream: string): Promise<PredictionLogRecord[]> {
  return (await messagesIn(nc, stream)).flatMap((message) => message.records)
}
