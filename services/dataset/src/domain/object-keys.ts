import type { DatasetFormat } from './limits.ts'
import { extensionOf } from './file-name.ts'

/**
 * Identifiers that may appear in a storage key: UUIDs (what the service generates) or, for
 * ids a caller supplies, letters, digits, `_` and `-`. Never `/`, `.` or anything a path
 * could be built from.
 */
const KEY_SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/

export function isKeySafeId(id: string): boolean {
  return KEY_SAFE_ID.test(id)
}

function assertKeySafe(what: string, id: string): void {
  if (!isKeySafeId(id)) throw new Error(`${what} '${id}' cannot be part of a storage key`)
}

/** Everything stored for a dataset lives under this prefix (and purge deletes exactly it). */
export function datasetPrefix(datasetId: string): string {
  assertKeySafe('dataset id', datasetId)
  return `datasets/${datasetId}/`
}

/**
 * Where a version's file is stored. Built from ids and the format only: the file name the
 * client declared never reaches the key, so no name can escape the dataset's prefix.
 */
export function versionObjectKey(
  datasetId: string,
  versionId: string,
  format: DatasetFormat,
): string {
  assertKeySafe('version id', versionId)
  return `${datasetPrefix(datasetId)}versions/${versionId}/data.${extensionOf(format)}`
}

/**
 * What the validator stores beside a version's file: its profile, and its schema when too
 * large for the event (see VersionValidated). Under the dataset's prefix, so purged with it.
 */
export function versionDocumentKey(
  datasetId: string,
  versionId: string,
  document: 'profile' | 'schema',
): string {
  assertKeySafe('version id', versionId)
  return `${datasetPrefix(datasetId)}versions/${versionId}/${document}.json`
}
