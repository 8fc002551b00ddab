import { createHash } from 'node:crypto'

/**
 * Which model servers hold a version: rendezvous (highest-random-weight) hashing of the version
 * over the configured endpoints, `replicas` of them (0: all). The same inputs give the same
 * answer in every gateway replica without coordination; adding or removing one endpoint moves
 * only the versions that scored it highest. A restarted model server has the same address and
 * so gets the same versions back.
 */
export function placeVersion(
  endpoints: readonly string[],
  model: string,
  version: number,
  replicas: number,
): string[] {
  if (replicas <= 0 || replicas >= endpoints.length) return [...endpoints]
  return endpoints
    .map((endpoint) => ({
      endpoint,
      score: createHash('sha256').update(`${endpoint}\u0000${model}\u0000${version}`).digest(),
    }))
    .sort((a, b) => Buffer.compare(b.score, a.score))
    .slice(0, replicas)
    .map((scored) => scored.endpoint)
}
