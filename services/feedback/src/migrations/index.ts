import type { Migration } from 'kysely'
import { feedbackTables } from './2026_12_02_00_00_00_feedback.ts'

/**
 * The feedback schema's migrations, named `YYYY_MM_DD_HH_mm_ss_name`, applied in name order at
 * start-up (`projection_checkpoints` comes with @argmax/projections).
 */
export const feedbackMigrations: Record<string, Migration> = {
  '2026_12_02_00_00_00_feedback': feedbackTables,
}
