import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'
import { Transform } from 'node:stream'
import { parseS3Uri, type ModelSignature, type StoredObject } from '@argmax/contracts'
import { openObjectStream, readStoredObject, StoredObjectMismatchError } from '@argmax/storage'
import { InferenceSession } from 'onnxruntime-node'
import { HoldoutError, scoreHoldout, type ScoredModel } from '../artifacts/score-holdout.ts'
import type { EvaluationHoldout } from '../domain/index.ts'
import type { TrainingDeps } from './dependencies.ts'

const SIGNATURE_LIMIT = 64 * 1024 * 1024

/**
 * The evaluation cannot be made with these objects (a model that does not load, a holdout whose
 * bytes are not the ones referenced or that the models cannot take): retrying gives the same
 * answer, so the pipeline run fails with this message. Anything else (S3 unreachable …) is
 * thrown as it is and the step is retried.
 */
export class EvaluationFailure extends Error {
  override name = 'EvaluationFailure'
}

export interface ModelObjects {
  /** How messages name it: `the candidate (run …)`, `version 3`. */
  label: string
  model: StoredObject
  signature: StoredObject
}

export interface HoldoutEvaluation {
  holdout: EvaluationHoldout
  candidate: Record<string, number>
  serving: Record<string, number>
}

/**
 * Scores the candidate and the serving version on the candidate's holdout: both `model.onnx`
 * loaded in onnxruntime-node (the runtime the model servers use), the holdout streamed from S3
 * in chunks and checked against its SHA-256 and size, each chunk fed to both models, metrics by
 * one implementation (domain/holdout-metrics.ts). Deterministic: a step re-run after a restart
 * computes the same numbers.
 */
export async function evaluateOnHoldout(
  deps: Pick<TrainingDeps, 's3' | 'settings'>,
  input: { holdout: StoredObject; candidate: ModelObjects; serving: ModelObjects },
): Promise<HoldoutEvaluation> {
  const models: ScoredModel[] = []
  try {
    for (const side of [input.candidate, input.serving]) models.push(await loadModel(deps, side))
    const { rows, metrics } = await scoreStream(deps, input.holdout, models)
    if (rows === 0) throw new EvaluationFailure(`the holdout ${input.holdout.uri} holds no rows`)
    return {
      holdout: { object: input.holdout, rows },
      candidate: metrics[0]!,
      serving: metrics[1]!,
    }
  } catch (error) {
    if (error instanceof HoldoutError || error instanceof StoredObjectMismatchError) {
      throw new EvaluationFailure(error.message)
    }
    throw error
  } finally {
    await Promise.all(models.map((m) => m.session.release()))
  }
}

async function loadModel(
  deps: Pick<TrainingDeps, 's3' | 'settings'>,
  side: ModelObjects,
): Promise<ScoredModel> {
  const unloadable = (what: string, why: string) =>
    new EvaluationFailure(`${side.label}: ${what} cannot be loaded: ${why}`)
  let signature: ModelSignature
  let bytes: Buffer
  try {
    signature = JSON.parse(
      (await readStoredObject(deps.s3, side.signature, { maxBytes: SIGNATURE_LIMIT })).toString(
        'utf8',
      ),
    ) as ModelSignature
    bytes = await readStoredObject(deps.s3, side.model, {
      maxBytes: deps.settings.maxArtifactBytes,
    })
  } catch (error) {
    if (isMissing(error)) {
      throw unloadable('its artifact', `${side.model.uri} or ${side.signature.uri} does not exist`)
    }
    if (error instanceof StoredObjectMismatchError || error instanceof SyntaxError) {
      throw unloadable('its artifact', error.message)
    }
    throw error
  }
  try {
    return { signature, session: await InferenceSession.create(bytes) }
  } catch (error) {
    throw unloadable(`model.onnx (${side.model.uri})`, (error as Error).message)
  }
}

async function scoreStream(
  deps: Pick<TrainingDeps, 's3'>,
  holdout: StoredObject,
  models: ScoredModel[],
) {
  const ref = parseS3Uri(holdout.uri)
  if (!ref) throw new EvaluationFailure(`the holdout ${holdout.uri} is not an s3:// URI`)
  let body
  try {
    ;({ body } = await openObjectStream(deps.s3, ref))
  } catch (error) {
    if (isMissing(error)) throw new EvaluationFailure(`the holdout ${holdout.uri} does not exist`)
    throw error
  }
  const hash = createHash('sha256')
  let size = 0
  const measured = body.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length
        if (size > holdout.size) {
          done(
            new StoredObjectMismatchError(
              holdout.uri,
              `more than the ${holdout.size} bytes referenced`,
            ),
          )
          return
        }
        hash.update(chunk)
        done(null, chunk)
      },
    }),
  )
  body.on('error', (error) => measured.destroy(error))
  try {
    const scores = await scoreHoldout(
      createInterface({ input: measured, crlfDelay: Infinity }),
      models,
    )
    const sha256 = hash.digest('hex')
    if (size !== holdout.size || sha256 !== holdout.sha256) {
      throw new StoredObjectMismatchError(
        holdout.uri,
        `its bytes (${size}, SHA-256 ${sha256}) are not the ones referenced`,
      )
    }
    return scores
  } finally {
    body.destroy()
  }
}

function isMissing(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket'
}
