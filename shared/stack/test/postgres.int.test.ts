import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { freePort } from '../src/ports.ts'
import { startPostgres } from '../src/postgres.ts'

describe('the private PostgreSQL cluster', () => {
  // As root the server runs as the `postgres` user, which must reach the data dir by path.
  it.runIf(process.getuid?.() === 0)(
    'starts from a checkout in a directory only root may enter (as /root is), letting the postgres user alone through',
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'argmax-home-'))
      chmodSync(home, 0o700)
      const dataDir = join(home, 'argmax', '.argmax')
      const said: string[] = []
      const start = async () =>
        startPostgres({
          dataDir,
          port: await freePort(),
          ephemeral: true,
          log: (l) => said.push(l),
        })
      try {
        const server = await start()
        try {
          const client = new pg.Client({ connectionString: server.url })
          await client.connect()
          const { rows } = await client.query<{ answer: number }>('select 42 as answer')
          await client.end()
          expect(rows).toEqual([{ answer: 42 }])
        } finally {
          await server.stop()
        }
        expect(said).toEqual([
          `let the postgres user pass through ${home} (setfacl -m u:postgres:x) to reach ${dataDir}`,
        ])
        // Nobody else was let in: the directory's mode still gives others nothing, and its
        // ACL names the postgres user alone.
        expect(statSync(home).mode & 0o007).toBe(0)
        const named = execFileSync('getfacl', ['--omit-header', home])
          .toString()
          .split('\n')
          .filter((entry) => /^user:[^:]+:/.test(entry))
        expect(named).toEqual(['user:postgres:--x'])

        // The data survives, and a second start has nothing more to change.
        said.length = 0
        const again = await start()
        await again.stop()
        expect(said).toEqual([])
      } finally {
        rmSync(home, { recursive: true, force: true })
      }
    },
    60_000,
  )
})
