import type { AnalyticsClient } from '@argmax/analytics'
import type { PredictionIdSecret } from '@argmax/contracts'
import type { EventStore } from '@argmax/events'
import type { S3Client } from '@argmax/storage'
import type { Kysely } from 'kysely'
import type { NatsConnection } from 'nats'
import type { FeedbackDatabase } from '../projections/tables.ts'
import type { FeedbackStreamNames } from '../streams.ts'
import type { LabelIdempotency } from './label-idempotency.ts'
import type { StoredJson } from './signatures.ts'
import type { TrainingProfiles } from './training-profiles.ts'

/** Everything the feedback use cases touch, passed in by the composition root. */
export interface FeedbackDeps {
  store: EventStore
  nc: NatsConnection
  names: FeedbackStreamNames
  db: Kysely<FeedbackDatabase>
  analytics: AnalyticsClient
  s3: S3Client
  /** The analytics bucket: archives and feedback dataset snapshots. */
  bucket: string
  now: () => Date
  newId: () => string
  /** Signatures, profiles: JSON objects stored by reference, verified and cached. */
  storedJson: StoredJson
  /** Training dataset profiles, from the DATASET stream. */
  profiles: TrainingProfiles
  idempotency: LabelIdempotency
  /** A key object made once (`predictionIdKey`): 10,000 ids a request are checked with it. */
  predictionIdSecret: PredictionIdSecret
  /** Key that each monitor's webhook signing secret derives from. */
  webhookSecret: string
  retentionDays: number
  maxLabels: number
  /** Resolves once the FEEDBACK projection has applied `position` (read-your-writes). */
  waitForFeedback(position: number): Promise<void>
}
