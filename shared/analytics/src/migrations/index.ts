import type { AnalyticsMigration } from '../migrations.ts'
import { predictionsMigration } from './2026_12_01_00_00_00_predictions.ts'
import { feedbackMigration } from './2026_12_02_00_00_00_feedback.ts'

/**
 * Every table and view of the platform's ClickHouse database, in order. One list for all
 * contexts, because views join tables of several (feedback's labels with inference's
 * predictions); every process that writes ClickHouse runs it at start-up.
 */
export const analyticsMigrations: readonly AnalyticsMigration[] = [
  predictionsMigration,
  feedbackMigration,
]
