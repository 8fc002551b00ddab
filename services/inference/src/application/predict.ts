import { requireRole, type Principal } from '@argmax/auth'
import { issuePredictionId, predictionIdKey, type ModelSignature } from '@argmax/contracts'
import { ArgmaxError } from '@argmax/errors'
import type { Variant } from '../domain/traffic-split.ts'
import type { WireInput } from '../model-server/serving/infer-call.ts'
import type { Tensor } from '../model-server/tensors/tensor.ts'
import { checkRequest } from './check-inputs.ts'
import type { Forwarder } from './forwarder.ts'
import { logRows, splitRecords, type RecordHeader } from './log-records.ts'
import type { GatewayMetrics } from './metrics.ts'
import type { PredictionLog } from './prediction-log.ts'
import { createRandomPool } from './random-pool.ts'
import type { ServingState, Target } from './serving-state.ts'

export interface PredictRequest {
  model: string
  /** The version named by the path (pinned); undefined routes by the release. */
  version?: string | undefined
  /** The request's id (v2 `id`, `x-request-id`): the canary split's key and the log's request id. */
  requestId: string
  principal: Principal
  protocol: 'grpc' | 'rest'
  /**
   * The request's tensors; or, for record-shaped requests (`:predict` instances), a builder
   * that makes them for the signature of the version the request is routed to.
   */
  inputs: readonly WireInput[] | ((signature: ModelSignature) => WireInput[])
  /** Output names asked for; empty: every output of the signature. */
  outputs: readonly string[]
}

export interface PredictResult {
  model: string
  version: number
  variant: Exclude<Variant, 'shadow'>
  requestId: string
  outputs: Tensor[]
  /** One per row, in row order. */
  predictionIds: string[]
}

export interface PredictorDependencies {
  serving: ServingState
  forwarder: Forwarder
  log: PredictionLog
  metrics: GatewayMetrics
  predictionIdSecret: string
  /** Wall clock: prediction ids and record times. */
  now: () => Date
  /** Monotonic milliseconds: latencies. */
  monotonic: () => number
  shadowMaxInFlight: number
  random?: (bytes: number) => Buffer
}

export interface Predictor {
  predict(request: PredictRequest): Promise<PredictResult>
  /** Shadow copies still running (tests wait for them). */
  shadowsInFlight(): number
}

/**
 * The gateway's one use case: route a request by the model's release (or the pinned version),
 * check it against that version's signature, have a model server answer it, give every row a
 * prediction id, record it in the prediction log (waiting for JetStream in durable mode), count
 * it — and mirror it to the shadow version without making the caller wait or see the result.
 * Predicting needs the role `user`, `internal` or `admin`: analysts read, and a prediction is
 * recorded on their behalf, so it is not theirs to make.
 */
export function createPredictor(deps: PredictorDependencies): Predictor {
  const random = deps.random ?? createRandomPool()
  // The secret as a key object once: `createHmac` with a string imports the key for every id.
  const idKey = predictionIdKey(deps.predictionIdSecret)
  let shadows = 0

  const idsFor = (model: string, version: number, rows: number, issuedAt: Date) => {
    const bytes = random(8 * rows)
    const ids = new Array<string>(rows)
    for (let row = 0; row < rows; row++) {
      ids[row] = issuePredictionId(
        idKey,
        { issuedAt, model, version },
        bytes.subarray(row * 8, row * 8 + 8),
      )
    }
    return ids
  }

  const header = (
    request: PredictRequest,
    target: { model: string; version: number; releaseSequence: number | null },
    variant: Variant,
    time: Date,
    latencyMs: number,
    error?: unknown,
  ): RecordHeader => ({
    requestId: request.requestId,
    time: time.toISOString(),
    model: target.model,
    version: target.version,
    variant,
    releaseSequence: target.releaseSequence,
    caller: request.principal.subject,
    protocol: request.protocol,
    status: error === undefined ? 'success' : 'error',
    ...(error === undefined ? {} : { error: describe(error) }),
    latencyMs,
  })

  const mirror = (request: PredictRequest, target: Target) => {
    const shadow = target.shadow!
    if (shadows >= deps.shadowMaxInFlight) {
      deps.metrics.shadow(target.model, 'skipped')
      return
    }
    shadows++
    const started = deps.monotonic()
    const shadowTarget = {
      model: target.model,
      version: shadow.version,
      releaseSequence: target.releaseSequence,
    }
    void (async () => {
      try {
        const checked = checkRequest(shadow.signature, inputsFor(request, shadow.signature), [])
        const outputs = await deps.forwarder.infer({
          model: target.model,
          version: shadow.version,
          requestId: request.requestId,
          tensors: checked.tensors,
          outputs: checked.outputs,
          signature: shadow.signature,
        })
        const time = deps.now()
        const ids = idsFor(target.model, shadow.version, checked.rows, time)
        deps.log.background(
          splitRecords(
            header(request, shadowTarget, 'shadow', time, deps.monotonic() - started),
            logRows(ids, checked.tensors, outputs),
          ),
        )
        deps.metrics.shadow(target.model, 'mirrored')
      } catch (error) {
        deps.metrics.shadow(target.model, 'failed')
        deps.log.background(
          splitRecords(
            header(request, shadowTarget, 'shadow', deps.now(), deps.monotonic() - started, error),
            [],
          ),
        )
      } finally {
        shadows--
      }
    })()
  }

  return {
    shadowsInFlight: () => shadows,
    async predict(request) {
      const started = deps.monotonic()
      requireRole(request.principal, 'user', 'internal')
      let target: Target
      try {
        target = deps.serving.resolve(request.model, request.version, request.requestId)
      } catch (error) {
        // Unknown names are not labels: a caller must not be able to grow the series.
        const known = !(error instanceof ArgmaxError && error.kind === 'not_found')
        deps.metrics.prediction(
          known ? request.model : '',
          '',
          request.principal.subject,
          false,
          (deps.monotonic() - started) / 1000,
        )
        throw error
      }
      const version = String(target.version)
      try {
        const checked = checkRequest(
          target.signature,
          inputsFor(request, target.signature),
          request.outputs,
        )
        const outputs = await deps.forwarder.infer({
          model: target.model,
          version: target.version,
          requestId: request.requestId,
          tensors: checked.tensors,
          outputs: checked.outputs,
          signature: target.signature,
        })
        const time = deps.now()
        const predictionIds = idsFor(target.model, target.version, checked.rows, time)
        const latencyMs = deps.monotonic() - started
        const records = () =>
          splitRecords(
            header(request, target, target.variant, time, latencyMs),
            logRows(predictionIds, checked.tensors, outputs),
          )
        // Durable: the answer waits for JetStream. Async: the record is not the answer's
        // business at all, so it is built and published after the answer has gone out.
        if (deps.log.mode === 'durable') await deps.log.record(records())
        else deps.log.afterAnswer(records)
        deps.metrics.prediction(
          target.model,
          version,
          request.principal.subject,
          true,
          (deps.monotonic() - started) / 1000,
        )
        if (target.shadow) mirror(request, target)
        return {
          model: target.model,
          version: target.version,
          variant: target.variant,
          requestId: request.requestId,
          outputs,
          predictionIds,
        }
      } catch (error) {
        const seconds = (deps.monotonic() - started) / 1000
        deps.metrics.prediction(target.model, version, request.principal.subject, false, seconds)
        deps.log.background(
          splitRecords(
            header(request, target, target.variant, deps.now(), seconds * 1000, error),
            [],
          ),
        )
        throw error
      }
    },
  }
}

function inputsFor(request: PredictRequest, signature: ModelSignature): readonly WireInput[] {
  return typeof request.inputs === 'function' ? request.inputs(signature) : request.inputs
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const kind = error instanceof ArgmaxError ? error.kind : 'internal'
  return `${kind}: ${message}`.slice(0, 2_000)
}
