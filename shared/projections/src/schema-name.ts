import { ValidationError } from '@argmax/errors'

// Lower-case identifiers only: they never need quoting, so the name is the same in SQL, in
// search_path and in pg_namespace, and cannot smuggle anything into DDL.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export function assertSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw ValidationError.field(
      'schema',
      `'${schema}' is not a valid schema name (lower-case letters, digits and _, at most 63, not starting with a digit)`,
    )
  }
  if (schema.startsWith('pg_')) {
    throw ValidationError.field('schema', `'${schema}' is reserved by PostgreSQL (pg_ prefix)`)
  }
  return schema
}
