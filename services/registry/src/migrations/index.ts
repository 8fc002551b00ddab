import type { Migration } from 'kysely'

/**
 * The registry schema's own migrations, named `YYYY_MM_DD_HH_mm_ss_name`. None yet: the
 * schema's first table, `projection_checkpoints`, comes with @argmax/projections, whose
 * `migrateToLatest` runs it in every service schema. Its projections add theirs here.
 */
export const registryMigrations: Record<string, Migration> = {}
