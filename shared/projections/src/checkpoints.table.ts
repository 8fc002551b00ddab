import type { ColumnType, Insertable, Selectable } from 'kysely'

/**
 * One row per (projection, stream): the last stream sequence whose effects are committed.
 * `position` is a bigint; node-postgres returns int8 as a string, the repository converts it.
 */
export interface ProjectionCheckpointTable {
  name: string
  stream: string
  position: ColumnType<string, number, number>
  updated_at: ColumnType<Date, Date, Date>
}

export type ProjectionCheckpointRow = Selectable<ProjectionCheckpointTable>
export type NewProjectionCheckpoint = Insertable<ProjectionCheckpointTable>

/** Merge into a service's DB interface: `interface DB extends ProjectionsTables { … }`. */
export interface ProjectionsTables {
  projection_checkpoints: ProjectionCheckpointTable
}

/** The channel the checkpoint trigger notifies on (payload: schema, name, stream, position). */
export const CHECKPOINT_CHANNEL = 'argmax_projection_checkpoint'
