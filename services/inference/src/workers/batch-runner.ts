import { createHash } from 'node:crypto'
import { PassThrough, type Readable } from 'node:stream'
import { createInterface } from 'node:readline'
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { parse as parseCsv } from 'csv-parse'
import { issuePredictionId, type ModelSignature } from '@argmax/contracts'
import { UnavailableError, ValidationError, asArgmaxError } from '@argmax/errors'
import {
  handleCommand,
  loadAggregate,
  startConsumer,
  type EventStore,
  type RunningConsumer,
} from '@argmax/events'
import type { NatsConnection } from 'nats'
import { instancesToInputs, outputRows, recordFromCsv, type Instance } from '../api/instances.ts'
import { checkRequest } from '../application/check-inputs.ts'
import type { Forwarder } from '../application/forwarder.ts'
import { logRows, splitRecords } from '../application/log-records.ts'
import type { PredictionLog } from '../application/prediction-log.ts'
import type { ServingState } from '../application/serving-state.ts'
import { batchPredictionDecider } from '../domain/batch-prediction.decider.ts'
import type { BatchPredictionRequested } from '../domain/batch-prediction.events.ts'
import type { Tensor } from '../model-server/tensors/tensor.ts'
import { batchSubject, type InferenceStreamNames } from '../streams.ts'

export const BATCH_RUNNER_DURABLE = 'inference-batch-runner'

export interface BatchRunnerOptions {
  nc: NatsConnection
  store: EventStore
  names: InferenceStreamNames
  s3: S3Client
  serving: ServingState
  forwarder: Forwarder
  log: PredictionLog
  predictionIdSecret: string
  rowsPerCall: number
  now: () => Date
  logger: {
    info(fields: Record<string, unknown>, message: string): void
    warn(fields: Record<string, unknown>, message: string): void
    error(fields: Record<string, unknown>, message: string): void
  }
  parkingReplicas: number
  /** How long a job waits for its version to serve before it fails. */
  loadWaitMs?: number
  /** Progress events at most this often. */
  progressEveryMs?: number
}

const actor = 'system:inference-batch'

/**
 * Runs batch predictions: a durable consumer of `inference.batch.>` takes each
 * `BatchPredictionRequested`, streams the dataset version's file from S3 (CSV or JSON Lines,
 * never whole in memory), sends its rows to the model servers `rowsPerCall` at a time through
 * the same checks and forwarding as online requests, writes one JSON line per row to
 * `s3://<analytics bucket>/batch-predictions/<id>/predictions.jsonl` —
 * `{"row", "predictionId", "prediction", "outputs"}` or `{"row", "error"}` for a row the model's
 * signature refuses — logs the predictions to INFERENCE_LOG (durably, `batchId` set), and
 * records progress and the outcome as events. Prediction ids derive from (batch, row) and the
 * request time, so a job run again after a crash writes the same rows and ids.
 */
export function startBatchRunner(options: BatchRunnerOptions): Promise<RunningConsumer> {
  const fail = (batchId: string, reason: string) =>
    handleCommand(
      options.store,
      batchPredictionDecider,
      batchSubject(options.names, batchId),
      { type: 'FailBatchPrediction', data: { batchId, reason, now: options.now() } },
      { actor },
    )
  return startConsumer({
    nc: options.nc,
    stream: options.names.batch.stream,
    durable: BATCH_RUNNER_DURABLE,
    filterSubject: `${options.names.batch.subjectPrefix}.>`,
    ackWaitMs: 60_000,
    maxDeliver: 3,
    retryDelaysMs: [5_000, 30_000],
    parkingReplicas: options.parkingReplicas,
    log: options.logger,
    async handler(event, context) {
      if (event.type !== 'BatchPredictionRequested') return
      const request = (event as unknown as BatchPredictionRequested).data
      try {
        await runBatch(options, request, context.progress, context.signal)
      } catch (error) {
        const translated = asArgmaxError(error)
        // Outages are retried by the consumer; anything else is this batch's outcome.
        if (translated instanceof UnavailableError && !context.signal.aborted) throw translated
        if (context.signal.aborted) throw error
        await fail(request.batchId, (error as Error).message)
      }
    },
    async onParked(event, parked) {
      const data = event.data as { batchId?: string }
      if (data.batchId)
        await fail(
          data.batchId,
          `gave up after ${parked.deliveries} attempts: ${parked.error.message}`,
        )
    },
  })
}

async function runBatch(
  options: BatchRunnerOptions,
  request: BatchPredictionRequested['data'],
  progress: () => void,
  signal: AbortSignal,
): Promise<void> {
  const subject = batchSubject(options.names, request.batchId)
  const { state } = await loadAggregate(options.store, batchPredictionDecider, subject)
  if (state.status === 'SUCCEEDED' || state.status === 'FAILED') return
  const signature = await waitForVersion(options, request, progress, signal)
  const issuedAt = new Date(request.requestedAt)

  const body = new PassThrough()
  const hash = createHash('sha256')
  let bytes = 0
  const write = (line: string) => {
    const chunk = Buffer.from(line + '\n')
    hash.update(chunk)
    bytes += chunk.length
    return body.write(chunk)
      ? Promise.resolve()
      : new Promise<void>((resolve) => body.once('drain', () => resolve()))
  }
  const upload = new Upload({
    client: options.s3,
    params: {
      Bucket: request.output.bucket,
      Key: request.output.key,
      Body: body,
      ContentType: 'application/x-ndjson',
    },
  })
  const uploaded = upload.done()
  uploaded.catch(() => undefined)

  let rowsDone = 0
  let rowsFailed = 0
  let lastProgress = Date.now()
  const every = options.progressEveryMs ?? 5_000
  const idOf = (row: number) =>
    issuePredictionId(
      options.predictionIdSecret,
      { issuedAt, model: request.model, version: request.version },
      createHash('sha256')
        .update(`${options.predictionIdSecret}\u0000${request.batchId}\u0000${row}`)
        .digest()
        .subarray(0, 8),
    )

  const runChunk = async (
    chunk: Array<{ row: number; instance: Instance | undefined; error?: string }>,
  ) => {
    const good: Array<{ row: number; instance: Instance }> = []
    const lines = new Map<number, string>()
    const refuse = (row: number, error: string) => {
      lines.set(row, JSON.stringify({ row, error }))
      rowsFailed++
    }
    for (const item of chunk) {
      if (item.error !== undefined || !item.instance) refuse(item.row, item.error ?? 'not a record')
    }
    const candidates = chunk.filter((item) => item.error === undefined && item.instance) as Array<{
      row: number
      instance: Instance
    }>
    const check = (items: Array<{ instance: Instance }>) =>
      checkRequest(
        signature,
        instancesToInputs(
          signature,
          items.map((i) => i.instance),
        ),
        [],
      )
    let checked: ReturnType<typeof checkRequest> | undefined
    try {
      checked = candidates.length > 0 ? check(candidates) : undefined
      good.push(...candidates)
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      // Something in the chunk is refused: find which rows, one at a time.
      for (const item of candidates) {
        try {
          check([item])
          good.push(item)
        } catch (rowError) {
          if (!(rowError instanceof ValidationError)) throw rowError
          refuse(item.row, rowError.message)
        }
      }
      checked = good.length > 0 ? check(good) : undefined
    }
    if (checked && good.length > 0) {
      const outputs = await options.forwarder.infer({
        model: request.model,
        version: request.version,
        requestId: `${request.batchId}:${good[0]!.row}`,
        tensors: checked.tensors,
        outputs: checked.outputs,
        signature,
      })
      const goodRows = good.map((item) => item.row)
      const predictionIds = goodRows.map(idOf)
      const logged = logRows(predictionIds, checked.tensors, outputs, goodRows)
      await options.log.record(
        splitRecords(
          {
            requestId: `${request.batchId}:${good[0]!.row}`,
            time: request.requestedAt,
            model: request.model,
            version: request.version,
            variant: 'pinned',
            releaseSequence: null,
            caller: request.ownerId,
            protocol: 'rest',
            status: 'success',
            latencyMs: 0,
            batchId: request.batchId,
          },
          logged,
        ),
      )
      const main = mainOutput(outputs)
      const perRow = outputs.map((output) => [output.name, outputRows(output)] as const)
      const mainRows = main ? outputRows(main) : []
      good.forEach((item, i) => {
        lines.set(
          item.row,
          JSON.stringify({
            row: item.row,
            predictionId: predictionIds[i],
            prediction: mainRows[i] ?? null,
            outputs: Object.fromEntries(perRow.map(([name, values]) => [name, values[i]])),
          }),
        )
      })
      rowsDone += good.length
    }
    for (const line of [...lines.entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => l))
      await write(line)
    progress()
    if (Date.now() - lastProgress >= every) {
      lastProgress = Date.now()
      await handleCommand(
        options.store,
        batchPredictionDecider,
        subject,
        {
          type: 'RecordBatchProgress',
          data: { batchId: request.batchId, rowsDone, rowsFailed, now: options.now() },
        },
        { actor },
      )
    }
  }

  try {
    let chunk: Array<{ row: number; instance: Instance | undefined; error?: string }> = []
    for await (const item of readRows(options.s3, request, signature)) {
      if (signal.aborted) throw signal.reason
      chunk.push(item)
      if (chunk.length >= options.rowsPerCall) {
        await runChunk(chunk)
        chunk = []
      }
    }
    if (chunk.length > 0) await runChunk(chunk)
    body.end()
    await uploaded
  } catch (error) {
    body.destroy()
    await upload.abort().catch(() => undefined)
    throw error
  }
  const head = await options.s3.send(
    new HeadObjectCommand({ Bucket: request.output.bucket, Key: request.output.key }),
  )
  if ((head.ContentLength ?? -1) !== bytes) {
    throw new UnavailableError(
      `the batch output holds ${head.ContentLength} bytes, not ${bytes}; writing it again`,
      { dependency: 's3' },
    )
  }
  await handleCommand(
    options.store,
    batchPredictionDecider,
    subject,
    {
      type: 'CompleteBatchPrediction',
      data: {
        batchId: request.batchId,
        rowsDone,
        rowsFailed,
        output: {
          uri: `s3://${request.output.bucket}/${request.output.key}`,
          sha256: hash.digest('hex'),
          size: bytes,
        },
        now: options.now(),
      },
    },
    { actor },
  )
  options.logger.info({ batchId: request.batchId, rowsDone, rowsFailed }, 'batch prediction done')
}

/** Pins the version (loading it on demand) and waits until it serves. */
async function waitForVersion(
  options: BatchRunnerOptions,
  request: BatchPredictionRequested['data'],
  progress: () => void,
  signal: AbortSignal,
): Promise<ModelSignature> {
  const deadline = Date.now() + (options.loadWaitMs ?? 5 * 60_000)
  for (;;) {
    try {
      return options.serving.resolve(request.model, String(request.version), request.batchId)
        .signature
    } catch (error) {
      if (!(error instanceof UnavailableError) || Date.now() > deadline || signal.aborted)
        throw error
      progress()
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
}

function mainOutput(outputs: Tensor[]): Tensor | undefined {
  return (
    outputs.find((o) => o.name === 'predictions') ??
    outputs.find((o) => o.name === 'label') ??
    outputs[0]
  )
}

/** The input file's records in order, each a record or why it is not one. */
async function* readRows(
  s3: S3Client,
  request: BatchPredictionRequested['data'],
  signature: ModelSignature,
): AsyncGenerator<{ row: number; instance: Instance | undefined; error?: string }> {
  const object = await s3.send(
    new GetObjectCommand({ Bucket: request.input.bucket, Key: request.input.objectKey }),
  )
  const source = object.Body as Readable
  const wanted = new Set(signature.inputs.map((spec) => spec.name))
  const project = (record: Record<string, unknown>): Instance =>
    Object.fromEntries(Object.entries(record).filter(([key]) => wanted.has(key)))
  let row = 0
  if (request.input.format === 'jsonl') {
    for await (const line of createInterface({ input: source, crlfDelay: Infinity })) {
      if (line.trim() === '') continue
      try {
        const record = JSON.parse(line) as unknown
        if (typeof record !== 'object' || record === null || Array.isArray(record)) {
          yield { row: row++, instance: undefined, error: 'the line is not a JSON object' }
        } else {
          // The dataset holds more columns than the model takes (the target, say): only its inputs go.
          yield { row: row++, instance: project(record as Record<string, unknown>) }
        }
      } catch {
        yield { row: row++, instance: undefined, error: 'the line is not JSON' }
      }
    }
    return
  }
  const fromCsv = recordFromCsv(signature)
  const parser = source.pipe(parseCsv({ columns: true, bom: true, relax_column_count: true }))
  for await (const record of parser as AsyncIterable<Record<string, string>>) {
    yield { row: row++, instance: fromCsv(record) }
  }
}
