import type { Kysely } from 'kysely'
import type { ModelSignature } from '@argmax/contracts'
import type { RegistryDatabase } from './database.ts'

/** A cached signature by its SHA-256 (already verified against it when it was stored). */
export async function cachedSignature(
  db: Kysely<RegistryDatabase>,
  sha256: string,
): Promise<ModelSignature | undefined> {
  const row = await db
    .selectFrom('signature_cache')
    .select('body')
    .where('sha256', '=', sha256)
    .executeTakeFirst()
  return row ? (row.body as ModelSignature) : undefined
}

export async function cacheSignature(
  db: Kysely<RegistryDatabase>,
  sha256: string,
  signature: ModelSignature,
  now: Date,
): Promise<void> {
  await db
    .insertInto('signature_cache')
    .values({ sha256, body: JSON.stringify(signature), stored_at: now })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .execute()
}
