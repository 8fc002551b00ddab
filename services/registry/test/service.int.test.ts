import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import { connectNats, freshSchema, stackEndpoints } from '@argmax/testkit'
import { createLogger } from '@argmax/telemetry'
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { loadRegistryConfig } from '../src/config.ts'
import { startRegistryService } from '../src/service.ts'
import { REGISTRY_STREAM } from '../src/streams.ts'

const secret = generateDevSecret()
const quietLogger = createLogger({
  service: 'registry',
  destination: new Writable({ write: (_c, _e, done) => done() }),
})

function env(overrides: Record<string, string> = {}): Record<string, string> {
  const endpoints = stackEndpoints()
  return {
    ARGMAX_NATS_URL: endpoints.natsUrl,
    ARGMAX_POSTGRES_URL: endpoints.postgresUrl,
    ARGMAX_JWT_SECRET: secret,
    ARGMAX_HTTP_PORT: '0',
    ...overrides,
  }
}

describe('registry service shell', () => {
  it('ensures its stream, migrates its schema and serves health, readiness, metrics and auth', async () => {
    const { schema, pool } = await freshSchema('registry')
    const service = await startRegistryService({
      config: loadRegistryConfig(env()),
      logger: quietLogger,
      metrics: async () => '# HELP up\n',
      schema,
    })
    try {
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200)
      const ready = await fetch(`${service.url}/readyz`)
      expect(ready.status).toBe(200)
      expect(await ready.json()).toMatchObject({
        checks: { nats: { ok: true }, postgres: { ok: true } },
      })
      expect(await (await fetch(`${service.url}/metrics`)).text()).toContain('# HELP up')

      expect((await fetch(`${service.url}/v1/models`)).status).toBe(401)
      const token = await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 60 })
      const authorized = await fetch(`${service.url}/v1/models`, {
        headers: { authorization: `Bearer ${token}` },
      })
      expect(authorized.status).toBe(404)

      const jsm = await (await connectNats()).jetstreamManager()
      const stream = await jsm.streams.info(REGISTRY_STREAM)
      expect(stream.config.subjects).toEqual(['registry.>'])

      const { rows } = await pool.query(
        `select table_name from information_schema.tables where table_schema = $1 order by table_name`,
        [schema],
      )
      expect(rows.map((r: { table_name: string }) => r.table_name)).toContain(
        'projection_checkpoints',
      )
    } finally {
      await service.stop()
    }

    // Started again on the same schema: migrations already applied, nothing runs twice.
    const { rows: before } = await pool.query(
      `select count(*)::int as n from "${schema}".kysely_migration`,
    )
    const again = await startRegistryService({
      config: loadRegistryConfig(env()),
      logger: quietLogger,
      metrics: async () => '',
      schema,
    })
    await again.stop()
    const { rows: after } = await pool.query(
      `select count(*)::int as n from "${schema}".kysely_migration`,
    )
    expect(after).toEqual(before)
  })

  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))

  it('names every missing setting and exits 1', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env['PATH'] ?? '' },
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code).toBe(1)
    for (const variable of [
      'ARGMAX_NATS_URL',
      'ARGMAX_POSTGRES_URL',
      'ARGMAX_JWT_SECRET',
      'ARGMAX_HTTP_PORT',
    ]) {
      expect(stderr).toContain(variable)
    }
  })

  it('runs as a process and shuts down cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, ...env() },
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout })
        lines.on('line', (line) => {
          const entry = JSON.parse(line) as { msg?: string; url?: string }
          if (entry.msg === 'registry service ready' && entry.url) resolve(entry.url)
        })
        child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready`)))
      })
      expect((await fetch(`${url}/readyz`)).status).toBe(200)
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      child.kill('SIGKILL')
    }
  })
})
