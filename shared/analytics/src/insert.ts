import type { AnalyticsClient } from './client.ts'

/**
 * Inserts rows in INSERTs of at most `chunkRows` (ClickHouse wants few large inserts: each one
 * makes a part; one-row inserts manage ~500 rows/s, batches of thousands 140k–400k rows/s).
 * Not atomic across chunks: a caller that retries must write idempotently (keyed rows).
 */
export async function insertInChunks(
  client: AnalyticsClient,
  table: string,
  rows: readonly object[],
  chunkRows = 10_000,
): Promise<void> {
  for (let start = 0; start < rows.length; start += chunkRows) {
    await client.insert(table, rows.slice(start, start + chunkRows))
  }
}
