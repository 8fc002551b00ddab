import type { StoredObject } from '@argmax/contracts'
import type { EventStore } from '@argmax/events'
import type { DatasetProfile } from '../domain/psi.ts'
import { subjects, type FeedbackStreamNames } from '../streams.ts'
import type { StoredJson } from './signatures.ts'

/**
 * The profile of a model version's training dataset version, which drift is measured against:
 * read from the DATASET stream's `VersionValidated` of that version (its events are the
 * published record of what the validator computed; a validated version never changes, so it is
 * kept once read). A large profile may be moved to S3 by the dataset context and referenced as
 * a `StoredObject` — inline or referenced, both are read.
 */
export interface TrainingProfiles {
  get(datasetVersionId: string): Promise<DatasetProfile | undefined>
}

export function createTrainingProfiles(deps: {
  store: EventStore
  names: FeedbackStreamNames
  storedJson: StoredJson
}): TrainingProfiles {
  const cache = new Map<string, DatasetProfile>()
  return {
    async get(datasetVersionId) {
      const cached = cache.get(datasetVersionId)
      if (cached) return cached
      const events = await deps.store.load(subjects.datasetVersion(deps.names, datasetVersionId))
      const validated = events.find((event) => event.type === 'VersionValidated')
      if (!validated) return undefined
      const profile = await resolveProfile(
        deps.storedJson,
        validated.data as Record<string, unknown>,
      )
      if (profile) {
        if (cache.size > 200) cache.delete(cache.keys().next().value!)
        cache.set(datasetVersionId, profile)
      }
      return profile
    },
  }
}

function isStoredObject(value: unknown): value is StoredObject {
  const v = value as Partial<StoredObject> | null
  return (
    typeof v === 'object' && v !== null && typeof v.uri === 'string' && typeof v.sha256 === 'string'
  )
}

function isProfile(value: unknown): value is DatasetProfile {
  return (
    typeof value === 'object' && value !== null && Array.isArray((value as DatasetProfile).columns)
  )
}

/** `profile` inline, or a StoredObject under `profile`, `profileObject` or `profileRef`. */
export async function resolveProfile(
  storedJson: StoredJson,
  data: Record<string, unknown>,
): Promise<DatasetProfile | undefined> {
  if (isProfile(data.profile)) return data.profile
  for (const key of ['profile', 'profileObject', 'profileRef']) {
    const ref = data[key]
    if (isStoredObject(ref)) {
      const loaded = await storedJson.load<unknown>(ref)
      if (isProfile(loaded)) return loaded
    }
  }
  return undefined
}
