/**
 * Feedback: how fast ground truth gets from the API into ClickHouse, and what live quality and
 * drift cost over many logged predictions. Starts its own NATS, PostgreSQL, ClickHouse and S3
 * (`@argmax/stack`) and the feedback service in this process on a real port.
 *
 *   npx tsx bench/feedback.bench.ts [--labels 100000] [--predictions 1000000] [--scale 10000000] [--runs 3]
 *     [--scale-runs 3] [--sink-batch 20] [--only labels|quality]
 *
 * 1. Labels/s end to end: `--labels` labels for signed prediction ids, POSTed to /v1/feedback in
 *    batches of 10,000 (4 in flight) until the last is counted in ClickHouse's `feedback` view (current labels)
 *    (through FEEDBACK_LOG and the batch sink). Baseline: the same receipts inserted straight
 *    into a ClickHouse table of the same columns (JSONEachRow, 10,000 a request, 4 in flight).
 * 2. Quality and drift over `--predictions` logged predictions (70 % labelled) of one model in
 *    the last hour: GET /v1/quality/{model}?window=1d and GET /v1/quality/{model}/drift (a day's
 *    window, so rows made before a long 10M step stay inside it), medians of `--runs` after a
 *    warm-up, against a bare ClickHouse aggregate over the same rows (MAE, RMSE, R² of
 *    predictions joined to labels, no FINAL, no window, no series). Then the same at `--scale`
 *    rows (0 skips it; `--scale-runs` runs there).
 * Prints a table on stderr and ONE line of JSON on stdout.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { createAnalyticsClient } from '@argmax/analytics'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import {
  issuePredictionId,
  REGISTRY_EVENTS,
  s3Uri,
  type ModelSignature,
  type StoredObject,
} from '@argmax/contracts'
import { createEventStore, ensureStreams } from '@argmax/events'
import { startFeedbackService, type FeedbackConfig } from '@argmax/feedback-service'
import { startStack } from '@argmax/stack'
import { createS3Client } from '@argmax/storage'
import { createLogger } from '@argmax/telemetry'
import { connect } from 'nats'

const { values: args } = parseArgs({
  options: {
    labels: { type: 'string', default: '100000' },
    predictions: { type: 'string', default: '1000000' },
    scale: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '3' },
    /** Runs at `--scale` rows (each a minute or more there on a busy small machine). */
    'scale-runs': { type: 'string' },
    'sink-batch': { type: 'string', default: '20' },
    /** One part alone (e.g. to compare the label path of two builds); both by default. */
    only: { type: 'string' },
  },
})
const LABELS = Number(args.labels)
const PREDICTIONS = Number(args.predictions)
const SCALE = Number(args.scale)
const RUNS = Number(args.runs)
const SCALE_RUNS = Number(args['scale-runs'] ?? args.runs)
const SINK_BATCH = Number(args['sink-batch'])
const ONLY = args.only
if (ONLY !== undefined && ONLY !== 'labels' && ONLY !== 'quality')
  throw new Error('--only takes labels or quality')
const log = (line: string) => process.stderr.write(`${line}\n`)
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await run()
  return performance.now() - start
}

/** Runs `tasks` with at most `limit` in flight. */
async function pool(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) await tasks[next++]!()
    }),
  )
}

const dataDir = mkdtempSync(join(tmpdir(), 'argmax-bench-feedback-'))
const stack = await startStack({ dataDir, ephemeral: true })
const e = stack.endpoints
const nc = await connect({ servers: e.natsUrl })
try {
  const s3 = createS3Client({ ...e.s3, forcePathStyle: true })
  for (const bucket of ['bench-analytics', 'bench-models'])
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  const names = {
    feedback: { stream: 'FEEDBACK', root: 'feedback' },
    log: { stream: 'FEEDBACK_LOG', root: 'feedbacklog' },
    registry: { stream: 'REGISTRY', root: 'registry' },
    dataset: { stream: 'DATASET', root: 'dataset' },
    training: { stream: 'TRAINING', root: 'training' },
  }
  await ensureStreams(await nc.jetstreamManager(), [
    { name: 'REGISTRY', subjects: ['registry.>'], retention: 'limits' },
    { name: 'DATASET', subjects: ['dataset.>'], retention: 'limits' },
    { name: 'TRAINING', subjects: ['training.>'], retention: 'limits' },
  ])
  const secret = generateDevSecret()
  const predictionIdSecret = randomBytes(32).toString('base64url')
  const config: FeedbackConfig = {
    nats: { url: e.natsUrl, streamReplicas: 1 },
    postgres: { url: e.postgresUrl },
    s3: { ...e.s3, forcePathStyle: true },
    clickhouse: { url: e.clickhouseUrl, user: e.clickhouseUser, password: e.clickhousePassword },
    analytics: { database: e.clickhouseDatabase },
    auth: { mode: 'hs256', secret },
    http: { host: '127.0.0.1', port: 0 },
    feedback: {
      predictionIdSecret,
      webhookSecret: undefined,
      retentionDays: 30,
      retentionIntervalMs: 0,
      maxLabels: 10_000,
      idempotencyTtlMs: 24 * 3600_000,
      bucket: 'bench-analytics',
      // The service's defaults (config.ts), but for the batch size when --sink-batch says so.
      sink: { mode: 'embedded', maxBatch: SINK_BATCH, maxWaitMs: 100, ackWaitMs: 30_000 },
      eventsSink: 'off',
      evaluationIntervalMs: 0,
      queryTimeoutMs: 900_000,
      gaugeWindow: '1h',
      webhook: { timeoutMs: 5_000, maxDeliver: 8 },
      schema: 'feedback',
      idempotencyBucket: 'FEEDBACK_IDEMPOTENCY',
      names,
    },
  }
  const service = await startFeedbackService({
    config,
    logger: createLogger({ service: 'feedback-bench', level: 'warn' }),
    nc,
    listen: true,
  })
  // The bench's own client: generating millions of rows takes longer than a service request may.
  const ch = createAnalyticsClient(config.clickhouse, {
    database: e.clickhouseDatabase,
    requestTimeoutMs: 900_000,
  })
  const token = await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 3600 })
  let retries = 0
  const api = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Record<string, unknown>> => {
    const answer = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    })
    // What a well-behaved client does with a 503: wait as told, retry (the same key).
    if (answer.status === 503) {
      retries++
      await sleep(Number(answer.headers.get('retry-after') ?? '1') * 1000)
      return api(method, path, body, headers)
    }
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${await answer.text()}`)
    return answer.json() as Promise<Record<string, unknown>>
  }

  // Two regression models of alice's: `ingest` takes the labels of part 1, `movies` the logged
  // traffic of part 2 (trained on dataset version dv1, whose profile drift compares against).
  const store = createEventStore({ nc })
  const modelSignature: ModelSignature = {
    task: 'regression',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1], nullable: true, column: 'x' }],
    outputs: [{ name: 'predictions', datatype: 'FP32', shape: [-1], nullable: false, column: 'y' }],
  }
  const signatureBytes = Buffer.from(JSON.stringify(modelSignature))
  await s3.send(
    new PutObjectCommand({
      Bucket: 'bench-models',
      Key: 'models/schema.json',
      Body: signatureBytes,
    }),
  )
  const signature: StoredObject = {
    uri: s3Uri('bench-models', 'models/schema.json'),
    sha256: createHash('sha256').update(signatureBytes).digest('hex'),
    size: signatureBytes.length,
  }

  const artifact: StoredObject = {
    uri: s3Uri('bench-models', 'none'),
    sha256: '0'.repeat(64),
    size: 0,
  }
  const at = new Date().toISOString()
  const bins = (count: number) =>
    Array.from({ length: 10 }, (_, i) => ({ lower: i, upper: i + 1, count: count / 10 }))
  await store.append(
    'dataset.version.dv1',
    [
      {
        type: 'VersionValidated',
        schemaVersion: 2,
        data: {
          versionId: 'dv1',
          datasetId: 'd1',
          rowCount: 10_000,
          profile: {
            inline: {
              rowCount: 10_000,
              columns: [
                {
                  name: 'x',
                  type: 'float',
                  count: 10_000,
                  nulls: 0,
                  topValues: [],
                  numeric: { histogram: bins(10_000) },
                },
                {
                  name: 'y',
                  type: 'float',
                  count: 10_000,
                  nulls: 0,
                  topValues: [],
                  numeric: {
                    histogram: bins(10_000).map((b) => ({
                      ...b,
                      lower: 3 + b.lower / 2,
                      upper: 3 + b.upper / 2,
                    })),
                  },
                },
              ],
            },
          },
          validatedAt: at,
        },
      },
    ],
    { expectedLastSubjectSequence: 'any', meta: { actor: 'system:dataset' } },
  )
  for (const model of ['ingest', 'movies']) {
    await store.append(
      `registry.model.${model}`,
      [
        {
          type: REGISTRY_EVENTS.modelCreated,
          data: {
            model,
            ownerId: 'alice',
            task: 'regression',
            description: '',
            tags: [],
            origin: 'user',
            createdAt: at,
          },
        },
        {
          type: REGISTRY_EVENTS.versionRegistered,
          data: {
            model,
            version: 1,
            ownerId: 'alice',
            task: 'regression',
            artifact,
            signature,
            metrics: { mae: 0.25 },
            source: { kind: 'upload' },
            lineage: { datasetId: 'd1', datasetVersionId: 'dv1' },
            registeredAt: at,
          },
        },
      ],
      { expectedLastSubjectSequence: 'any', meta: { actor: 'system:registry' } },
    )
    await store.append(
      `registry.release.${model}`,
      [
        {
          type: REGISTRY_EVENTS.releaseChanged,
          data: { model, release: { stable: 1 }, previous: null, reason: 'bench', changedAt: at },
        },
      ],
      { expectedLastSubjectSequence: 'any', meta: { actor: 'alice' } },
    )
  }
  // The registry projection has followed the events once quality answers for both.
  for (let i = 0; ; i++) {
    try {
      await api('GET', '/v1/quality/ingest')
      await api('GET', '/v1/quality/movies')
      break
    } catch (error) {
      if (i > 200) throw error
      await sleep(100)
    }
  }

  let labelFigures: Record<string, number> = {}
  if (ONLY !== 'quality') {
    // ── 1. labels/s end to end ────────────────────────────────────────────────────────────────
    const now = new Date()
    const labels = Array.from({ length: LABELS }, (_, i) => ({
      predictionId: issuePredictionId(
        predictionIdSecret,
        { issuedAt: new Date(now.getTime() - 1000), model: 'ingest', version: 1 },
        randomBytes(8),
      ),
      value: 3 + (i % 50) / 10,
    }))
    const batches = Array.from({ length: Math.ceil(LABELS / 10_000) }, (_, b) =>
      labels.slice(b * 10_000, (b + 1) * 10_000),
    )
    // Baseline: the receipts as the sink writes them, straight into ClickHouse.
    await ch.command(
      'CREATE TABLE bare_receipts AS feedback_receipts ENGINE = MergeTree() PARTITION BY date ORDER BY (model, prediction_id, label_id)',
    )
    const day = now.toISOString().slice(0, 10)
    const stamp = now.toISOString().slice(0, 19).replace('T', ' ')
    const receipts = batches.map((batch, b) =>
      batch.map((label, i) => ({
        label_id: `l${b}-${i}`,
        prediction_id: label.predictionId,
        model: 'ingest',
        version: 1,
        prediction_time: stamp,
        date: day,
        received_at: stamp,
        received_ms: 0,
        revision: 1,
        value_number: label.value,
        value_class: null,
        source: 'api',
        actor: 'alice',
        request_id: `r${b}`,
      })),
    )
    const bareMs = await timed(() =>
      pool(
        receipts.map((rows) => () => ch.insert('bare_receipts', rows)),
        4,
      ),
    )
    const countIn = async (table: string) =>
      Number(
        (
          await ch.query<{ n: string }>(`SELECT count() AS n FROM ${table} WHERE model = 'ingest'`)
        )[0]!.n,
      )
    if ((await countIn('bare_receipts')) !== LABELS) throw new Error('baseline lost rows')
    let acceptedMs = 0
    const oursMs = await timed(async () => {
      const start = performance.now()
      await pool(
        batches.map(
          (batch, b) => async () =>
            void (await api(
              'POST',
              '/v1/feedback',
              { labels: batch },
              { 'idempotency-key': `bench-${b}` },
            )),
        ),
        4,
      )
      acceptedMs = performance.now() - start
      while ((await countIn('feedback')) < LABELS) await sleep(20)
    })
    if ((await countIn('feedback')) !== LABELS || (await countIn('feedback_history')) !== LABELS)
      throw new Error('labels lost or doubled')
    const labelsPerS = Math.round(LABELS / (oursMs / 1000))
    const bareLabelsPerS = Math.round(LABELS / (bareMs / 1000))
    const acceptedPerS = Math.round(LABELS / (acceptedMs / 1000))
    log(
      `labels: ${LABELS} — bare ClickHouse insert ${bareLabelsPerS}/s, ours accepted (202) ${acceptedPerS}/s, end to end ${labelsPerS}/s (sink batch ${SINK_BATCH})`,
    )
    labelFigures = {
      labels: LABELS,
      bare_insert_labels_per_s: bareLabelsPerS,
      sink_batch: SINK_BATCH,
      retried_503: retries,
      accepted_labels_per_s: acceptedPerS,
      labels_per_s: labelsPerS,
      labels_ratio: ratio(labelsPerS, bareLabelsPerS),
    }
  }

  let qualityFigures: Record<string, number> = {}
  if (ONLY !== 'labels') {
    // ── 2. quality and drift over logged predictions ─────────────────────────────────────────
    const nowSec = Math.floor(Date.now() / 1000)
    async function logTraffic(from: number, count: number) {
      // Generated in ClickHouse: x in [0, 10), prediction x/2 + 3 ± 0.5, 70 % labelled with x/2 + 3,
      // spread over the last 50 minutes.
      const rows = `SELECT number AS n, intHash32(n) % 10000 / 1000 AS x, toDateTime(${nowSec} - 60 - n % 3000) AS t
        FROM system.numbers LIMIT ${count} OFFSET ${from}`
      await ch.command(`INSERT INTO predictions SELECT concat('p', toString(n)), '', t, 0, toDate(t),
        'movies', 1, 'stable', NULL, 'app', 'rest', 'success', '', 1.5,
        concat('{"x":', toString(x), '}'), '{}', x / 2 + 3 + (intHash32(n + 1) % 1000 / 1000 - 0.5), NULL, 'bench', 0
        FROM (${rows})`)
      for (const table of ['feedback_labels', 'feedback_receipts'])
        await ch.command(`INSERT INTO ${table} SELECT concat('l', toString(n)), concat('p', toString(n)),
          'movies', 1, t, toDate(t), t + 60, 0, 1, x / 2 + 3, NULL, 'api', 'alice', ''
          FROM (${rows}) WHERE intHash32(n + 2) % 10 < 7`)
    }
    const bare = `SELECT avg(abs(y - p)) AS mae, sqrt(avg((y - p) * (y - p))) AS rmse,
        1 - avg((y - p) * (y - p)) / varPop(y) AS r2
      FROM (SELECT prediction_id, prediction AS p FROM predictions WHERE model = 'movies')
      ANY INNER JOIN (SELECT prediction_id, value_number AS y FROM feedback_labels WHERE model = 'movies')
      USING prediction_id`
    async function measure(rows: number, runs: number) {
      const quality = async () => {
        const view = (await api('GET', '/v1/quality/movies?window=1d')) as {
          versions: Array<{ labelled: number; metrics: { mae: number } }>
        }
        return view.versions[0]!
      }
      const drift = () => api('GET', '/v1/quality/movies/drift?window=1d')
      await ch.query(bare)
      await quality()
      await drift()
      const bareTimes: number[] = []
      const qualityTimes: number[] = []
      const driftTimes: number[] = []
      for (let r = 0; r < runs; r++) {
        bareTimes.push(await timed(() => ch.query(bare)))
        qualityTimes.push(await timed(quality))
        driftTimes.push(await timed(drift))
      }
      const [reference] = await ch.query<{ mae: number }>(bare)
      const served = await quality()
      if (Math.abs(served.metrics.mae - reference!.mae) > 1e-9)
        throw new Error(
          `quality MAE ${served.metrics.mae} differs from the bare aggregate's ${reference!.mae}`,
        )
      const result = {
        rows,
        labelled: served.labelled,
        bare_ms: Math.round(median(bareTimes)),
        quality_ms: Math.round(median(qualityTimes)),
        drift_ms: Math.round(median(driftTimes)),
      }
      log(
        `${rows} predictions (${served.labelled} labelled): bare aggregate ${result.bare_ms} ms, quality ${result.quality_ms} ms, drift ${result.drift_ms} ms`,
      )
      return result
    }
    await logTraffic(0, PREDICTIONS)
    const small = await measure(PREDICTIONS, RUNS)
    let large: Awaited<ReturnType<typeof measure>> | undefined
    if (SCALE > PREDICTIONS) {
      await logTraffic(PREDICTIONS, SCALE - PREDICTIONS)
      large = await measure(SCALE, SCALE_RUNS)
    }
    qualityFigures = {
      predictions: small.rows,
      bare_aggregate_ms: small.bare_ms,
      quality_ms: small.quality_ms,
      drift_ms: small.drift_ms,
      quality_ratio: ratio(small.quality_ms, small.bare_ms),
      quality_and_drift_ratio: ratio(small.quality_ms + small.drift_ms, small.bare_ms),
      ...(large
        ? {
            scale_predictions: large.rows,
            scale_bare_aggregate_ms: large.bare_ms,
            scale_quality_ms: large.quality_ms,
            scale_drift_ms: large.drift_ms,
            scale_quality_ratio: ratio(large.quality_ms, large.bare_ms),
            bare_growth: ratio(large.bare_ms, small.bare_ms),
            quality_growth: ratio(large.quality_ms, small.quality_ms),
            drift_growth: ratio(large.drift_ms, small.drift_ms),
          }
        : {}),
    }
  }
  await ch.close()
  await service.stop()
  console.log(JSON.stringify({ bench: 'feedback', ...labelFigures, ...qualityFigures }))
} finally {
  await nc.close()
  await stack.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
