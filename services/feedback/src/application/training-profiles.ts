import type { JsonDocument } from '@argmax/contracts'
import type { EventStore } from '@argmax/events'
import type { DatasetProfile } from '../domain/psi.ts'
import { subjects, type FeedbackStreamNames } from '../streams.ts'
import { readJsonDocument, versionValidatedData } from './dataset-events.ts'
import type { StoredJson } from './signatures.ts'

/**
 * The profile of a model version's training dataset version, which drift is measured against:
 * read from the DATASET stream's `VersionValidated` of that version (its events are the
 * published record of what the validator computed; a validated version never changes, so it is
 * kept once read). The dataset context stores the profile in S3 beside the file and references
 * it from the event (older events carry it inline).
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
      const profile = await resolveProfile(deps.storedJson, validated)
      if (profile) {
        if (cache.size > 200) cache.delete(cache.keys().next().value!)
        cache.set(datasetVersionId, profile)
      }
      return profile
    },
  }
}

/** The profile a `VersionValidated` carries or references. */
export async function resolveProfile(
  storedJson: StoredJson,
  event: { schemaVersion: number; data: unknown },
): Promise<DatasetProfile | undefined> {
  const document = versionValidatedData(event).profile as JsonDocument<DatasetProfile> | undefined
  return document ? readJsonDocument(storedJson, document) : undefined
}
