import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import {
  ensureCheckpoint,
  listCheckpoints,
  lockCheckpoint,
  readCheckpoint,
  saveCheckpoint,
  type AnyDatabase,
} from '../src/checkpoints.repository.ts'
import { exampleDatabase } from './support.ts'

const key = { name: 'p', stream: 'S' }

async function showSynchronousCommit(db: AnyDatabase): Promise<string | undefined> {
  const { rows } = await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(db)
  return rows[0]?.synchronous_commit
}

describe('checkpoint repository', () => {
  it('creates a checkpoint at 0 once, then reads and moves it', async () => {
    const { db } = await exampleDatabase()
    expect(await readCheckpoint(db, key)).toBeUndefined()
    expect(await ensureCheckpoint(db, key, new Date())).toBe(0)
    await saveCheckpoint(db, key, 42, new Date('2026-02-01T00:00:00Z'))
    expect(await ensureCheckpoint(db, key, new Date())).toBe(42)
    expect(await listCheckpoints(db, 'p')).toEqual([
      { stream: 'S', position: 42, updatedAt: new Date('2026-02-01T00:00:00Z') },
    ])
  })

  it('turns off the WAL flush wait for the locking transaction only', async () => {
    const { db } = await exampleDatabase()
    await ensureCheckpoint(db, key, new Date())
    // One session throughout, flushing by default (the test cluster itself runs without).
    const [inside, after] = await db.connection().execute(async (session) => {
      await sql`set synchronous_commit = on`.execute(session)
      const inside = await session.transaction().execute(async (trx) => {
        await lockCheckpoint(trx, key, { asyncCommit: true })
        return showSynchronousCommit(trx)
      })
      return [inside, await showSynchronousCommit(session)]
    })
    expect(inside).toBe('off')
    expect(after).toBe('on')
  })

  it('refuses a negative position', async () => {
    const { db } = await exampleDatabase()
    await expect(saveCheckpoint(db, key, -1, new Date())).rejects.toThrow(/check constraint/)
  })
})
