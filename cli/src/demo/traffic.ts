import { createHash } from 'node:crypto'
import {
  buggyRating,
  inputsOf,
  trueRating,
  type Film,
  type ModelInput,
  type World,
} from './world.ts'

/** The labels a batch of traffic gets: the world's truth, or the broken labelling job's. */
export type Labelling = 'true' | 'buggy'

export interface TrafficStats {
  requests: number
  predictions: number
  labels: number
  /** Predictions per version that answered them. */
  byVersion: Record<string, number>
  errors: number
}

export interface TrafficClient {
  edgeUrl: string
  token: string
  model: string
  inputs: ModelInput[]
}

interface PredictAnswer {
  version: number
  requestId: string
  predictions: unknown[]
  predictionIds: string[]
}

/**
 * Sends `requests` requests of the world's drifted films through the edge's REST route (each
 * with its own request id, the canary split's key), then the labels of every answered
 * prediction in one POST /v1/feedback: what the films are now rated, or the buggy job's values.
 */
export async function sendTraffic(
  client: TrafficClient,
  world: World,
  options: { requests: number; batch: number; labelling: Labelling },
  stats: TrafficStats,
): Promise<void> {
  const samples = Array.from({ length: options.requests }, () => world.next(options.batch))
  const answers = await Promise.all(samples.map((sample) => predict(client, sample)))
  const labels: Array<{ predictionId: string; value: number }> = []
  answers.forEach((answer, i) => {
    stats.requests += 1
    if (!answer) {
      stats.errors += 1
      return
    }
    stats.predictions += answer.predictionIds.length
    stats.byVersion[answer.version] =
      (stats.byVersion[answer.version] ?? 0) + answer.predictionIds.length
    answer.predictionIds.forEach((predictionId, j) => {
      const film = samples[i]!.films[j]!
      labels.push({ predictionId, value: label(film, options.labelling) })
    })
  })
  if (labels.length === 0) return
  const key = createHash('sha256')
    .update(labels.map((l) => l.predictionId).join(','))
    .digest('hex')
  const response = await fetch(`${client.edgeUrl}/v1/feedback`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${client.token}`,
      'content-type': 'application/json',
      'idempotency-key': key,
    },
    body: JSON.stringify({ labels }),
  })
  if (!response.ok) {
    throw new Error(`POST /v1/feedback: HTTP ${response.status} ${await response.text()}`)
  }
  stats.labels += labels.length
}

function label(film: Film, labelling: Labelling): number {
  return labelling === 'buggy' ? buggyRating(film) : trueRating(film)
}

/**
 * One request; undefined when the platform answered with an error (counted, not fatal: a
 * version being loaded may briefly refuse, and the rollout judges error rates anyway).
 */
async function predict(
  client: TrafficClient,
  sample: { requestId: string; films: Film[] },
): Promise<PredictAnswer | undefined> {
  try {
    const response = await fetch(`${client.edgeUrl}/v1/models/${client.model}:predict`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${client.token}`,
        'content-type': 'application/json',
        'x-request-id': sample.requestId,
      },
      body: JSON.stringify({ instances: sample.films.map((f) => inputsOf(client.inputs, f)) }),
    })
    if (!response.ok) return undefined
    return (await response.json()) as PredictAnswer
  } catch {
    return undefined
  }
}

export function emptyStats(): TrafficStats {
  return { requests: 0, predictions: 0, labels: 0, byVersion: {}, errors: 0 }
}

/** The traffic sent between two snapshots of the stats (versions that answered none left out). */
export function statsDifference(after: TrafficStats, before: TrafficStats): TrafficStats {
  const byVersion: Record<string, number> = {}
  for (const [v, n] of Object.entries(after.byVersion)) {
    const d = n - (before.byVersion[v] ?? 0)
    if (d > 0) byVersion[v] = d
  }
  return {
    requests: after.requests - before.requests,
    predictions: after.predictions - before.predictions,
    labels: after.labels - before.labels,
    errors: after.errors - before.errors,
    byVersion,
  }
}
