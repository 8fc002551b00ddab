import { z } from 'zod'
import { envString } from '@argmax/config'

/**
 * The ClickHouse database the platform's tables live in (`argmax`; the analyst may read only
 * it). A piece of its own beside @argmax/config's `clickhouseSettings` (URL and writer
 * credentials), so tests can point a process at a fresh database.
 */
export const analyticsDatabaseSettings = z
  .object({
    ARGMAX_CLICKHOUSE_DATABASE: envString()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier: letters, digits, _')
      .default('argmax'),
  })
  .transform((env) => ({ database: env.ARGMAX_CLICKHOUSE_DATABASE }))
export type AnalyticsDatabaseSettings = z.output<typeof analyticsDatabaseSettings>
