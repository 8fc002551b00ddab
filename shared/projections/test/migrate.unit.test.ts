import { ValidationError } from '@argmax/errors'
import type { Migration } from 'kysely'
import { describe, expect, it } from 'vitest'
import { MigrationFailedError } from '../src/errors.ts'
import { mergeMigrations } from '../src/migrate.ts'
import { projectionMigrations } from '../src/migrations/index.ts'
import { assertSchemaName } from '../src/schema-name.ts'

const noop: Migration = { up: async () => undefined }

describe('mergeMigrations', () => {
  it("adds the package's own migrations to the service's", () => {
    const merged = mergeMigrations({ '2026_12_01_00_00_00_runs': noop })
    expect(Object.keys(merged).sort()).toEqual([
      ...Object.keys(projectionMigrations),
      '2026_12_01_00_00_00_runs',
    ])
  })

  it('accepts the package migrations passed in again', () => {
    expect(mergeMigrations({ ...projectionMigrations })).toEqual(projectionMigrations)
  })

  it('refuses a name that would not sort by time', () => {
    expect(() => mergeMigrations({ create_runs: noop })).toThrow(MigrationFailedError)
    expect(() => mergeMigrations({ create_runs: noop })).toThrow(/create_runs/)
  })

  it('refuses to replace a package migration', () => {
    const [name] = Object.keys(projectionMigrations)
    expect(() => mergeMigrations({ [name!]: noop })).toThrow(/taken by @argmax\/projections/)
  })
})

describe('assertSchemaName', () => {
  it.each(['training', 'svc_1', '_x'])('accepts %s', (name) => {
    expect(assertSchemaName(name)).toBe(name)
  })

  it.each(['Training', '1svc', 'a-b', 'a;drop', '', 'pg_x', 'x'.repeat(64)])(
    'refuses %j',
    (name) => {
      expect(() => assertSchemaName(name)).toThrow(ValidationError)
    },
  )
})
