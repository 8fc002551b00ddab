import type { StoredObject } from './artifacts.ts'

/**
 * What the dataset context publishes for others (stream `DATASET`, subject
 * `dataset.version.<versionId>`): training checks a run's dataset version and its target column
 * against `VersionValidated`, feedback compares live inputs with the version's profile. The
 * file itself — its bucket, key and format — is in the version's `UploadCompleted` on the same
 * subject. The dataset service's own events include these shapes unchanged.
 */

/**
 * JSON too large to travel in every event (NATS's payload limit is 1 MiB): either inline, or
 * stored in S3 beside the dataset's file and referenced. Readers load a stored document with
 * `readStoredObject` of `@argmax/storage`, which checks its size and SHA-256.
 */
export type JsonDocument<T> = { inline: T } | { stored: StoredObject }

export type DatasetColumnType = 'integer' | 'float' | 'boolean' | 'timestamp' | 'string'

export interface DatasetColumnSchema {
  name: string
  type: DatasetColumnType
  /** At least one row has no value. */
  nullable: boolean
  /** Why the column ended up wider than its first values (line and value that forced it). */
  widenings: Array<{ from: DatasetColumnType; to: DatasetColumnType; row: number; value: string }>
}

export interface DatasetColumnProfile {
  name: string
  type: DatasetColumnType
  /** Rows with a value. */
  count: number
  nulls: number
  /** HyperLogLog estimate of distinct non-null values (±1–2 %). */
  distinct: number
  /** Most frequent values (text, booleans), most frequent first; counts are lower bounds. */
  topValues: Array<{ value: string; count: number }>
  numeric?: {
    min: number
    max: number
    mean: number
    std: number | null
    /** Exact counts in equal-width bins over [min, max]. */
    histogram: Array<{ lower: number; upper: number; count: number }>
  }
  timestamp?: { min: string; max: string }
}

export interface DatasetProfile {
  rowCount: number
  columns: DatasetColumnProfile[]
}

/**
 * `VersionValidated`, schemaVersion 2: the version's file is valid and immutable from now on.
 * `schema` (names, types, nullability, widenings) is inline whenever it takes at most 256 KiB of
 * JSON — a few thousand columns with names of ordinary length — and stored otherwise; `profile`
 * is always stored. Events of schemaVersion 1 carried both inline: upcast them with
 * `upcastVersionValidatedV1`.
 */
export interface DatasetVersionValidatedData {
  versionId: string
  datasetId: string
  rowCount: number
  /** Bytes and SHA-256 of the file, as declared and verified. */
  size: number
  sha256: string
  columnCount: number
  schema: JsonDocument<DatasetColumnSchema[]>
  profile: JsonDocument<DatasetProfile>
  validatedAt: string
}

/** `VersionValidated` as recorded before schemaVersion 2: schema and profile inline. */
export interface DatasetVersionValidatedDataV1 {
  versionId: string
  datasetId: string
  rowCount: number
  size: number
  sha256: string
  schema: DatasetColumnSchema[]
  profile: DatasetProfile
  validatedAt: string
}

export const DATASET_EVENTS = {
  versionValidated: 'VersionValidated',
  /** The schemaVersion of `VersionValidated` written today. */
  versionValidatedSchemaVersion: 2,
} as const

export function upcastVersionValidatedV1(
  data: DatasetVersionValidatedDataV1,
): DatasetVersionValidatedData {
  const { schema, profile, ...rest } = data
  return {
    ...rest,
    columnCount: schema.length,
    schema: { inline: schema },
    profile: { inline: profile },
  }
}
