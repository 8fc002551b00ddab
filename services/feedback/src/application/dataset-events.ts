import {
  DATASET_EVENTS,
  upcastVersionValidatedV1,
  type DatasetVersionValidatedData,
  type DatasetVersionValidatedDataV1,
  type JsonDocument,
} from '@argmax/contracts'
import type { StoredJson } from './signatures.ts'

/**
 * A `VersionValidated` of the DATASET stream in today's shape: schemaVersion 2 carries the schema
 * and the profile as `JsonDocument`s (inline, or stored in S3 when they would not fit the event);
 * schemaVersion 1 carried both inline and is upcast as the dataset context does.
 */
export function versionValidatedData(event: {
  schemaVersion: number
  data: unknown
}): DatasetVersionValidatedData {
  return event.schemaVersion < DATASET_EVENTS.versionValidatedSchemaVersion
    ? upcastVersionValidatedV1(event.data as DatasetVersionValidatedDataV1)
    : (event.data as DatasetVersionValidatedData)
}

/** The document itself: inline, or loaded (sha256-checked) from the object it references. */
export async function readJsonDocument<T>(
  storedJson: StoredJson,
  document: JsonDocument<T>,
): Promise<T> {
  return 'inline' in document ? document.inline : storedJson.load<T>(document.stored)
}
