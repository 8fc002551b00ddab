import type { S3Client } from '@argmax/storage'
import type { Kysely } from 'kysely'
import type { EventStore } from '@argmax/events'
import type { RegistryDatabase } from '../projections/database.ts'
import type { StreamNames } from '../streams.ts'
import type { Limiter } from './limiter.ts'

/** Everything the registry's use cases touch, passed in by the composition root. */
export interface RegistryDeps {
  store: EventStore
  /** Stream and subject root of the registry context (REGISTRY / `registry`). */
  names: StreamNames
  db: Kysely<RegistryDatabase>
  s3: S3Client
  /** The models bucket: uploads and declared signatures go here. */
  bucket: string
  now: () => Date
  newId: () => string
  presignExpirySeconds: number
  /** The largest ONNX file a manual registration accepts. */
  maxModelBytes: number
  /** Bounds how many uploaded files are checked in ONNX Runtime at once. */
  verifyLimiter: Limiter
}
