import type { S3Client } from '@argmax/storage'
import type { Kysely } from 'kysely'
import type { EventStore } from '@argmax/events'
import type { DatasetDatabase } from '../projections/database.ts'
import type { StreamNames } from '../streams.ts'

/** Everything the dataset use cases touch, passed in by the composition root (main.ts). */
export interface DatasetDeps {
  store: EventStore
  /** Stream and subject root of the dataset context (DATASET / `dataset`). */
  names: StreamNames
  db: Kysely<DatasetDatabase>
  s3: S3Client
  /** The bucket dataset files live in. */
  bucket: string
  now: () => Date
  /** New aggregate ids (UUIDv7 in production). */
  newId: () => string
  /** Lifetime of presigned part and download URLs. */
  presignExpirySeconds: number
}
