import type { ColumnType, Selectable } from 'kysely'
import type { Release, StoredObject } from '@argmax/contracts'

type Timestamp = ColumnType<Date, Date | string, Date | string>
type Json<T> = ColumnType<T, T | string, T | string>
/** bigint comes back from pg as a string. */
type BigInt = ColumnType<string, number | string, number | string>

export interface ModelsTable {
  name: string
  owner_id: string
  task: string | null
  deleted_at: Timestamp | null
  release: Json<Release> | null
  released_at: Timestamp | null
  created_at: Timestamp
}

export interface ModelVersionsTable {
  model: string
  version: number
  owner_id: string
  task: string
  /** The `schema.json` object (a ModelSignature), loaded from S3 when needed. */
  signature: Json<StoredObject>
  metrics: Json<Record<string, number>>
  dataset_id: string | null
  dataset_version_id: string | null
  registered_at: Timestamp
}

export interface MonitorsTable {
  id: string
  model: string
  owner_id: string
  name: string
  rule: Json<unknown>
  webhook_url: string | null
  retrain: boolean
  is_default: boolean
  state: string
  state_since: Timestamp
  last_transition: Json<unknown> | null
  created_at: Timestamp
  updated_at: Timestamp
  deleted_at: Timestamp | null
}

export interface FeedbackDatasetsTable {
  id: string
  model: string
  owner_id: string
  requested_by: string
  selection: Json<unknown>
  format: string
  status: string
  versions: Json<number[]>
  window_from: Timestamp | null
  window_to: Timestamp | null
  object: Json<StoredObject> | null
  row_count: BigInt | null
  dataset_id: string
  dataset_version_id: string
  error: string | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface DatasetRegistrationsTable {
  version_id: string
  dataset_id: string
  /** VALIDATING, VALIDATED or REJECTED, as the dataset context decided. */
  status: string
  errors: Json<unknown>
  at: Timestamp
}

export interface PinsTable {
  model: string
  feedback_dataset_id: string | null
  dataset_id: string | null
  dataset_version_id: string | null
  pinned_by: string
  pinned_at: Timestamp
}

export interface ImportsTable {
  id: string
  requested_by: string
  dataset_id: string
  version_id: string
  mapping: Json<unknown>
  status: string
  accepted: BigInt
  rejected: BigInt
  errors: Json<unknown>
  created_at: Timestamp
  finished_at: Timestamp | null
}

export interface RetrainRequestsTable {
  id: string
  model: string
  version: number | null
  trigger: string
  monitor_id: string | null
  reason: string
  evidence: Json<Record<string, unknown>>
  requested_at: Timestamp
}

/** The feedback service's own Postgres schema (`feedback`): projections only, all rebuildable. */
export interface FeedbackDatabase {
  models: ModelsTable
  model_versions: ModelVersionsTable
  monitors: MonitorsTable
  feedback_datasets: FeedbackDatasetsTable
  dataset_registrations: DatasetRegistrationsTable
  pins: PinsTable
  imports: ImportsTable
  retrain_requests: RetrainRequestsTable
}

export type ModelRow = Selectable<ModelsTable>
export type ModelVersionRow = Selectable<ModelVersionsTable>
export type MonitorRow = Selectable<MonitorsTable>
export type FeedbackDatasetRow = Selectable<FeedbackDatasetsTable>
export type ImportRow = Selectable<ImportsTable>
