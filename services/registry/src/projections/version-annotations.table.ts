import type { Selectable } from 'kysely'
import type { BigIntColumn, JsonColumn, Timestamp } from './column-types.ts'

export interface VersionAnnotationsTable {
  model: string
  version: number
  annotation_id: string
  kind: string
  text: string
  data: JsonColumn | null
  annotated_at: Timestamp
  annotated_by: string
  /** Stream order: annotations are listed as they were made. */
  sequence: BigIntColumn
}

export type VersionAnnotationRow = Selectable<VersionAnnotationsTable>
