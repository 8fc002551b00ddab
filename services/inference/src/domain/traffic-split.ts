import { createHash } from 'node:crypto'
import type { Release } from '@argmax/contracts'

/** Which part of a release answered: the contract's `variant` of a prediction log record. */
export type Variant = 'stable' | 'canary' | 'shadow' | 'pinned'

/** Split points per release: the canary's percent is honoured to a hundredth of a percent. */
const BUCKETS = 10_000

/**
 * The bucket [0, 10 000) a request key falls in. A hash of the key, so the same request id —
 * a client retrying — lands on the same version, and ids spread evenly whatever they look like
 * (UUIDs, counters, user names). MD5 here is a spreading function, not security.
 */
export function trafficBucket(requestKey: string): number {
  return createHash('md5').update(requestKey).digest().readUInt32BE(0) % BUCKETS
}

/** The version a request goes to under a release: the canary for its share of buckets. */
export function chooseVersion(
  release: Release,
  requestKey: string,
): { version: number; variant: 'stable' | 'canary' } {
  const canary = release.canary
  if (canary && canary.percent > 0) {
    if (trafficBucket(requestKey) < Math.round(canary.percent * (BUCKETS / 100))) {
      return { version: canary.version, variant: 'canary' }
    }
  }
  return { version: release.stable, variant: 'stable' }
}
