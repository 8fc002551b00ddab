import type { ColumnType, Insertable, Selectable } from 'kysely'
import type { StoredObject } from '@argmax/contracts'

type Timestamp = ColumnType<Date, Date | string, Date | string>
/** pg returns bigint as a string; readers convert with Number() (values < 2^53). */
type BigInt = ColumnType<string, number | string, number | string>
type Json<T = unknown> = ColumnType<T, string, string>

/** One row per run: what every query of the runs API and the scheduler's queue read. */
export interface RunsTable {
  id: string
  owner_id: string
  model: string
  status: string
  task: string
  trainer: Json
  dataset_id: string
  version_id: string
  dataset_sha256: string
  target: string
  features: Json<string[]>
  params: Json<Record<string, unknown>>
  priority: string
  queue_priority: string
  resources: Json
  timeout_seconds: number
  seed: BigInt
  attempt: number
  attempts_allowed: number
  runner: string | null
  queued_at: Timestamp
  waiting_since: Timestamp
  not_before: Timestamp
  first_started_at: Timestamp | null
  attempt_started_at: Timestamp | null
  deadline: Timestamp | null
  finished_at: Timestamp | null
  failure: Json | null
  metrics: Json<Record<string, number>> | null
  artifacts: Json | null
  updated_at: Timestamp
  /** The TRAINING stream sequence of the run's last event applied. */
  position: BigInt
}

export interface RunAttemptsTable {
  run_id: string
  attempt: number
  runner: string
  priority: string
  started_at: Timestamp
  ended_at: Timestamp | null
  /** running | retried | failed | dead_lettered | succeeded | cancelled */
  outcome: string
  reason: string | null
  message: string | null
  exit_code: number | null
}

/** The metrics history of runs: the newest heartbeat of each iteration of each attempt. */
export interface RunMetricsTable {
  run_id: string
  attempt: number
  iteration: number
  total_iterations: number
  metrics: Json<Record<string, number | null>>
  message: string | null
  received_at: Timestamp
}

export interface QuotaAdmissionsTable {
  user_id: string
  run_id: string
  reason: string
  admitted_at: Timestamp
  released_at: Timestamp | null
  release_reason: string | null
}

export interface QuotaOverridesTable {
  user_id: string
  override: Json<Record<string, number>>
  set_by: string
  set_at: Timestamp
}

/** Training's own copy of what it needs of dataset versions, from the DATASET stream. */
export interface DatasetVersionsTable {
  version_id: string
  dataset_id: string
  owner_id: string
  status: string
  format: string
  bucket: string
  object_key: string
  size: BigInt
  sha256: string
  row_count: BigInt | null
  schema: Json | null
  dataset_deleted: boolean
}

/** The training service's own Postgres schema (`training`): projections only, all rebuildable. */
/** One row per model with a retrain pipeline: its configuration and its current (or last) run. */
export interface PipelinesTable {
  model: string
  owner_id: string
  config: Json<Record<string, unknown>>
  pin: Json<{ feedbackDatasetId: string; datasetVersionId: string } | null> | null
  runs: number
  /** The run in progress or the last one, as the decider folds it. */
  current: Json<Record<string, unknown> | null> | null
  run_status: string | null
  created_at: Timestamp
  updated_at: Timestamp
  position: BigInt
}

/** The registry's versions, from its events: what a pipeline scores the serving version with. */
export interface RegistryVersionsTable {
  model: string
  version: number
  task: string
  artifact: Json<StoredObject>
  signature: Json<StoredObject>
  metrics: Json<Record<string, number>>
  run_id: string | null
  /** The first dataset version it was trained on (uploads: null). */
  dataset_version_id: string | null
  /** Its training seed (uploads: null). */
  seed: BigInt | null
  registered_at: Timestamp
}

/** Each model's stable version (null: nothing serves), from the registry's `ReleaseChanged`. */
export interface RegistryReleasesTable {
  model: string
  stable: number | null
  changed_at: Timestamp
}

export interface TrainingDatabase {
  pipelines: PipelinesTable
  registry_versions: RegistryVersionsTable
  registry_releases: RegistryReleasesTable
  runs: RunsTable
  run_attempts: RunAttemptsTable
  run_metrics: RunMetricsTable
  quota_admissions: QuotaAdmissionsTable
  quota_overrides: QuotaOverridesTable
  dataset_versions: DatasetVersionsTable
}

export type RunRow = Selectable<RunsTable>
export type NewRunRow = Insertable<RunsTable>
export type RunAttemptRow = Selectable<RunAttemptsTable>
export type RunMetricsRow = Selectable<RunMetricsTable>
export type DatasetVersionRow = Selectable<DatasetVersionsTable>
