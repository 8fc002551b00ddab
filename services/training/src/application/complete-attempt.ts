import type { ModelSignature, StoredObject, TrainingRunSucceededData } from '@argmax/contracts'
import { handleCommand, loadAggregate } from '@argmax/events'
import { listObjectKeys } from '@argmax/storage'
import { describeProblems, verifyArtifact } from '../artifacts/verify-artifact.ts'
import { runDecider, trainerName, type RunRecord } from '../domain/index.ts'
import { runSubject } from '../streams.ts'
import { hashObject, readObject } from './artifact-files.ts'
import type { TrainingDeps } from './dependencies.ts'
import { attemptPrefix } from './object-keys.ts'

export const SCHEDULER_ACTOR = 'system:scheduler'

/** Outputs every trainer must upload (trainers/README.md, "Outputs"). */
export const REQUIRED_ARTIFACTS = [
  'model.onnx',
  'schema.json',
  'predictions-sample.jsonl',
  'metrics.json',
]
const SMALL_FILE_LIMIT = 64 * 1024 * 1024

const CONTRACT_NAMES: Record<string, keyof TrainingRunSucceededData['artifacts']> = {
  'model.onnx': 'model',
  'schema.json': 'signature',
  'metrics.json': 'metrics',
  'model.json': 'native',
  'model.pkl': 'native',
  'predictions-sample.jsonl': 'predictionsSample',
  'holdout.jsonl': 'holdout',
  'reproducibility.json': 'reproducibility',
  'train.log': 'log',
}

type Deps = Pick<TrainingDeps, 'store' | 'names' | 's3' | 'bucket' | 'now' | 'settings'>

/**
 * An attempt's job ended with exit 0: before the run may become READY, its `model.onnx` is
 * loaded in onnxruntime-node and must reproduce the trainer's own predictions
 * (`predictions-sample.jsonl`, see artifacts/verify-artifact.ts) — built-in and custom trainers
 * alike. A missing required output or a mismatch fails the run as `artifact_mismatch` (no
 * retry: the same code would produce the same file). Otherwise `TrainingRunSucceeded` names
 * every artifact with its SHA-256 and size, the test metrics flat, the libraries and the
 * lineage: enough for the registry to register a version from this event alone.
 */
export async function completeAttempt(
  deps: Deps,
  runId: string,
  attempt: number,
  logTail: () => Promise<string>,
): Promise<'succeeded' | 'artifact_mismatch' | 'skipped'> {
  const subject = runSubject(deps.names, runId)
  const { state } = await loadAggregate(deps.store, runDecider, subject)
  if (state.status !== 'TRAINING' || state.attempt !== attempt) return 'skipped'
  const prefix = attemptPrefix(runId, attempt)
  const keys = await listObjectKeys(deps.s3, { bucket: deps.bucket, prefix, limit: 1000 })
  const names = keys.map((key) => key.slice(prefix.length))
  const missing = REQUIRED_ARTIFACTS.filter((name) => !names.includes(name))
  if (missing.length > 0) {
    return mismatch(
      deps,
      runId,
      attempt,
      `the trainer exited 0 without uploading ${missing.join(', ')} (required: ${REQUIRED_ARTIFACTS.join(', ')})`,
      await logTail(),
    )
  }
  const [model, schema, sample] = await Promise.all([
    readObject(deps.s3, deps.bucket, `${prefix}model.onnx`, deps.settings.maxArtifactBytes),
    readObject(deps.s3, deps.bucket, `${prefix}schema.json`, SMALL_FILE_LIMIT),
    readObject(deps.s3, deps.bucket, `${prefix}predictions-sample.jsonl`, SMALL_FILE_LIMIT),
  ])
  const verdict = await verifyArtifact({
    model: model.bytes,
    schema: schema.bytes.toString('utf8'),
    sample: sample.bytes.toString('utf8'),
  })
  if (!verdict.ok) {
    return mismatch(
      deps,
      runId,
      attempt,
      `model.onnx does not reproduce the trainer's predictions: ${describeProblems(verdict)}`,
      await logTail(),
    )
  }
  const [metricsFile, reproFile] = await Promise.all([
    readObject(deps.s3, deps.bucket, `${prefix}metrics.json`, SMALL_FILE_LIMIT),
    names.includes('reproducibility.json')
      ? readObject(deps.s3, deps.bucket, `${prefix}reproducibility.json`, SMALL_FILE_LIMIT)
      : undefined,
  ])
  const artifacts: Partial<Record<keyof TrainingRunSucceededData['artifacts'], StoredObject>> = {
    model: model.object,
    signature: schema.object,
    predictionsSample: sample.object,
    metrics: metricsFile.object,
    ...(reproFile ? { reproducibility: reproFile.object } : {}),
  }
  for (const name of names) {
    const field = CONTRACT_NAMES[name]
    if (field && artifacts[field] === undefined) {
      artifacts[field] = await hashObject(deps.s3, deps.bucket, `${prefix}${name}`)
    }
  }
  const signature = JSON.parse(schema.bytes.toString('utf8')) as ModelSignature
  const repro = reproFile ? (parseJson(reproFile.bytes) as Reproducibility) : {}
  const data = succeededData(state, attempt, {
    artifacts: artifacts as TrainingRunSucceededData['artifacts'],
    metrics: flatMetrics(parseJson(metricsFile.bytes)),
    signature,
    repro,
    now: deps.now(),
  })
  const outcome = await handleCommand(
    deps.store,
    runDecider,
    subject,
    { type: 'RecordSuccess', data },
    { actor: SCHEDULER_ACTOR },
  )
  return outcome.written > 0 ? 'succeeded' : 'skipped'
}

async function mismatch(
  deps: Deps,
  runId: string,
  attempt: number,
  message: string,
  logTail: string,
): Promise<'artifact_mismatch' | 'skipped'> {
  const outcome = await handleCommand(
    deps.store,
    runDecider,
    runSubject(deps.names, runId),
    {
      type: 'RecordAttemptFailure',
      data: {
        runId,
        attempt,
        reason: 'artifact_mismatch',
        message,
        logTail,
        exitCode: 0,
        now: deps.now(),
        retry: deps.settings.retry,
      },
    },
    { actor: SCHEDULER_ACTOR },
  )
  return outcome.written > 0 ? 'artifact_mismatch' : 'skipped'
}

interface Reproducibility {
  seed?: number
  params?: { params?: Record<string, unknown>; features?: string[] }
  code?: { sha256?: string; commit?: string | null; image?: string | null }
  libraries?: Record<string, string>
}

function succeededData(
  run: RunRecord,
  attempt: number,
  found: {
    artifacts: TrainingRunSucceededData['artifacts']
    metrics: Record<string, number>
    signature: ModelSignature
    repro: Reproducibility
    now: Date
  },
): TrainingRunSucceededData {
  const q = run.queued
  const { repro } = found
  const image = q.trainer.kind === 'image' ? q.trainer.image : (repro.code?.image ?? undefined)
  const features = found.signature.inputs.map((input) => input.column ?? input.name)
  const libraries = Object.fromEntries(
    Object.entries(repro.libraries ?? {}).filter(([, v]) => typeof v === 'string'),
  )
  return {
    runId: q.runId,
    attempt,
    model: q.model,
    ownerId: q.ownerId,
    task: q.task,
    trainer: {
      name: trainerName(q.trainer),
      ...(image ? { image } : {}),
      codeVersion: repro.code?.commit ?? repro.code?.sha256 ?? 'unknown',
    },
    target: q.target,
    features,
    params: repro.params?.params ?? q.params,
    seed: typeof repro.seed === 'number' ? repro.seed : q.seed,
    ...(q.extraDatasets
      ? {
          extraDatasets: q.extraDatasets.map((d) => ({
            datasetId: d.datasetId,
            versionId: d.versionId,
            sha256: d.sha256,
          })),
        }
      : {}),
    dataset: {
      datasetId: q.dataset.datasetId,
      versionId: q.dataset.versionId,
      sha256: q.dataset.sha256,
    },
    artifacts: found.artifacts,
    metrics: found.metrics,
    libraries,
    succeededAt: found.now.toISOString(),
  }
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown
  } catch {
    return {}
  }
}

/**
 * The test split's metrics and their baselines, flat (`rmse`, `baseline_rmse` …, `test_rows`,
 * `baseline_value` — the constant the baseline predicts) as the contract carries them; a
 * custom trainer's flat `{name: number}` is taken as it is.
 */
export function flatMetrics(metrics: unknown): Record<string, number> {
  const out: Record<string, number> = {}
  if (typeof metrics !== 'object' || metrics === null) return out
  const m = metrics as Record<string, unknown>
  const numbers = (value: unknown, prefix: string) => {
    if (typeof value !== 'object' || value === null) return
    for (const [name, v] of Object.entries(value)) {
      if (typeof v === 'number' && Number.isFinite(v)) out[`${prefix}${name}`] = v
    }
  }
  if ('test' in m) {
    numbers(m['test'], '')
    numbers(m['baseline'], 'baseline_')
    // Counts, not metrics: how many test rows (the baseline's are the same rows).
    if ('rows' in out) {
      out['test_rows'] = out['rows']!
      delete out['rows']
    }
    delete out['baseline_rows']
  } else {
    numbers(m, '')
  }
  return out
}
