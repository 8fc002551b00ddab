import type { ServiceCredential } from '@argmax/auth'
import { UnavailableError } from '@argmax/errors'

/**
 * What a retrain pipeline asks of the inference gateway: whether the candidate version is
 * loaded on a model server yet. The gateway loads a model's `challenger` on its own (it
 * follows the registry's aliases), so the warm step only asks, through the v2 protocol's
 * version readiness (`GET /v2/models/{name}/versions/{version}/ready`) with training's
 * service credential.
 */
export interface InferencePort {
  /** Whether a gateway is configured at all (without one the warm step is skipped). */
  readonly configured: boolean
  /** Ready, or why not (the gateway's own words). */
  versionReady(model: string, version: number): Promise<{ ready: true } | { ready: false; why: string }>
}

export function createInferencePort(options: {
  baseUrl: string | undefined
  credential: ServiceCredential
  fetch?: typeof fetch
}): InferencePort {
  const doFetch = options.fetch ?? fetch
  return {
    configured: options.baseUrl !== undefined,
    async versionReady(model, version) {
      if (!options.baseUrl) {
        throw new UnavailableError('the inference gateway is not configured (ARGMAX_TRAINING_INFERENCE_URL)')
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
