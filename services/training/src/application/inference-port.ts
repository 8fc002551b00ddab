import type { ServiceCredential } from '@argmax/auth'
import { UnavailableError } from '@argmax/errors'
import { createInferenceClient, type BatchPredictionView } from '@argmax/inference-service/client'

/**
 * What a retrain pipeline asks of the inference service, with training's service credential:
 * whether the candidate version is loaded on a model server yet (the gateway loads a model's
 * `challenger` on its own, following the registry's aliases, so the warm step only asks,
 * through the v2 protocol's `GET /v2/models/{name}/versions/{version}/ready`); and the
 * re-score step's batch prediction, requested on the pipeline owner's behalf under an
 * Idempotency-Key derived from the pipeline run (a restarted step gets the same batch).
 */
export interface InferencePort {
  /** Whether a gateway is configured at all (without one the warm step is skipped). */
  readonly configured: boolean
  /** Ready, or why not (the gateway's own words). */
  versionReady(
    model: string,
    version: number,
  ): Promise<{ ready: true } | { ready: false; why: string }>
  requestBatch(input: {
    model: string
    version: number
    dataset: { datasetId: string; versionId: string }
    ownerId: string
    idempotencyKey: string
  }): Promise<BatchPredictionView>
  batch(batchId: string): Promise<BatchPredictionView>
}

export function createInferencePort(options: {
  baseUrl: string | undefined
  credential: ServiceCredential
  fetch?: typeof fetch
}): InferencePort {
  const doFetch = options.fetch ?? fetch
  const client = async () => {
    if (!options.baseUrl) {
      throw new UnavailableError(
        'the inference service is not configured (ARGMAX_TRAINING_INFERENCE_URL): a pipeline cannot re-score a dataset',
      )
    }
    return createInferenceClient({
      baseUrl: options.baseUrl,
      token: await options.credential.token(),
      fetch: doFetch,
    })
  }
  return {
    configured: options.baseUrl !== undefined,
    requestBatch: async ({ model, version, dataset, ownerId, idempotencyKey }) =>
      (await client()).requestBatchPrediction({
        idempotencyKey,
        body: { model, version, dataset, ownerId },
      }),
    batch: async (batchId) => (await client()).getBatchPrediction({ params: { batchId } }),
    async versionReady(model, version) {
      if (!options.baseUrl) {
        throw new UnavailableError(
          'the inference gateway is not configured (ARGMAX_TRAINING_INFERENCE_URL)',
        )
      }
      const url = new URL(
        `v2/models/${encodeURIComponent(model)}/versions/${version}/ready`,
        options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`,
      )
      let answer: Response
      try {
        answer = await doFetch(url, {
          headers: { authorization: `Bearer ${await options.credential.token()}` },
          signal: AbortSignal.timeout(10_000),
        })
      } catch (error) {
        throw new UnavailableError(`the inference gateway did not answer: ${String(error)}`)
      }
      if (answer.status === 200) return { ready: true }
      const body = await answer.text()
      // 503: known but not loaded yet; 404: the gateway has not read the version's registration.
      if (answer.status === 503 || answer.status === 404) {
        return { ready: false, why: problemDetail(body) ?? `the gateway answers ${answer.status}` }
      }
      throw new UnavailableError(
        `the inference gateway answers ${answer.status} to ${url.pathname}: ${problemDetail(body) ?? body.slice(0, 200)}`,
      )
    },
  }
}

function problemDetail(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { detail?: unknown }
    return typeof parsed.detail === 'string' ? parsed.detail : undefined
  } catch {
    return undefined
  }
}
