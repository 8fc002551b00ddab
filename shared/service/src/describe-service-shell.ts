// The test every service shell owes: its own wiring, proven against the test kit's servers.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import { createLogger } from '@argmax/telemetry'
import { connectNats, freshSchema, launchArgs, stackEndpoints } from '@argmax/testkit'
import { describe, expect, it } from 'vitest'
import type { Env } from '@argmax/config'
import { loadShellConfig, type ShellConfig } from './shell-config.ts'
import type { ServiceStartOptions } from './service-shell.ts'

export interface ServiceShellSpec<Config extends ShellConfig = ShellConfig> {
  service: string
  start: (
    options: ServiceStartOptions<Config>,
  ) => Promise<{ url: string | undefined; stop(): Promise<void> }>
  /** How the service reads its settings (default: the shell's `loadShellConfig`). */
  loadConfig?: (env: Env) => Config
  /** Settings beyond the shell's (S3, a fresh bucket, stream names), made once per test. */
  env?: () => Promise<Record<string, string>>
  /** Settings beyond the shell's that a process without them must name. */
  requiredSettings?: string[]
  /** The stream /readyz checks and the subjects it must capture. */
  stream: string
  subjects: string[]
  /** Further stream settings the service relies on (e.g. retention). */
  streamConfig?: Record<string, unknown>
  /** /readyz checks beyond `nats` and `postgres` (S3, each projection). */
  readinessChecks?: string[]
  /** A path of the service's API: 401 without a token, `authorizedStatus` (404) with one. */
  apiPath: string
  authorizedStatus?: number
  /** Series the process's /metrics must carry (e.g. its projections'). */
  metrics?: string[]
  /** The service's main.ts, run as a process. */
  mainFile: string
}

export function describeServiceShell<Config extends ShellConfig = ShellConfig>(
  spec: ServiceShellSpec<Config>,
): void {
  const secret = generateDevSecret()
  const quietLogger = createLogger({
    service: spec.service,
    destination: new Writable({ write: (_c, _e, done) => done() }),
  })
  const env = async (): Promise<Record<string, string>> => {
    const endpoints = stackEndpoints()
    return {
      ARGMAX_NATS_URL: endpoints.natsUrl,
      ARGMAX_POSTGRES_URL: endpoints.postgresUrl,
      ARGMAX_JWT_SECRET: secret,
      ARGMAX_HTTP_PORT: '0',
      ...(await spec.env?.()),
    }
  }
  // Without a loader of its own a service reads exactly the shell's settings.
  const loadConfig = spec.loadConfig ?? (loadShellConfig as (env: Env) => Config)
  const startIn = async (schema: string, metrics = async () => '# HELP up\n') =>
    spec.start({ config: loadConfig(await env()), logger: quietLogger, metrics, schema })

  describe(`${spec.service} service shell`, () => {
    it('ensures its stream, migrates its schema and serves health, readiness, metrics and auth', async () => {
      const { schema, pool } = await freshSchema(spec.service)
      const service = await startIn(schema)
      try {
        expect((await fetch(`${service.url}/healthz`)).status).toBe(200)
        const ready = await fetch(`${service.url}/readyz`)
        expect(ready.status).toBe(200)
        const { checks } = (await ready.json()) as { checks: Record<string, { ok: boolean }> }
        const expectedChecks = ['nats', 'postgres', ...(spec.readinessChecks ?? [])]
        expect(Object.keys(checks).sort()).toEqual(expectedChecks.sort())
        for (const name of expectedChecks) expect(checks[name]).toEqual({ ok: true })
        expect(await (await fetch(`${service.url}/metrics`)).text()).toContain('# HELP up')

        expect((await fetch(`${service.url}${spec.apiPath}`)).status).toBe(401)
        const token = await mintDevToken({ secret, subject: 'alice', roles: ['user'], ttl: 60 })
        const authorized = await fetch(`${service.url}${spec.apiPath}`, {
          headers: { authorization: `Bearer ${token}` },
        })
        expect(authorized.status).toBe(spec.authorizedStatus ?? 404)

        const jsm = await (await connectNats()).jetstreamManager()
        const { config: stream } = await jsm.streams.info(spec.stream)
        expect(stream.subjects).toEqual(spec.subjects)
        expect(stream).toMatchObject(spec.streamConfig ?? {})

        const { rows } = await pool.query(
          `select table_name from information_schema.tables where table_schema = $1`,
          [schema],
        )
        expect(rows.map((r: { table_name: string }) => r.table_name)).toContain(
          'projection_checkpoints',
        )
      } finally {
        await service.stop()
      }

      // Started again on the same schema: migrations already applied, nothing runs twice.
      const count = `select count(*)::int as n from "${schema}".kysely_migration`
      const { rows: before } = await pool.query(count)
      await (await startIn(schema, async () => '')).stop()
      expect((await pool.query(count)).rows).toEqual(before)
    })

    it('names every missing setting and exits 1', async () => {
      const child = spawn(process.execPath, launchArgs(spec.mainFile), {
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
        ...(spec.requiredSettings ?? []),
      ]) {
        expect(stderr).toContain(variable)
      }
    })

    it('runs as a process and shuts down cleanly on SIGTERM', async () => {
      const child = spawn(process.execPath, launchArgs(spec.mainFile), {
        env: { ...process.env, ...(await env()) },
      })
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      try {
        const url = await new Promise<string>((resolve, reject) => {
          const lines = createInterface({ input: child.stdout })
          lines.on('line', (line) => {
            const entry = JSON.parse(line) as { msg?: string; url?: string }
            if (entry.msg === `${spec.service} service ready` && entry.url) resolve(entry.url)
          })
          child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready`)))
        })
        expect((await fetch(`${url}/readyz`)).status).toBe(200)
        const metrics = await (await fetch(`${url}/metrics`)).text()
        for (const series of spec.metrics ?? []) expect(metrics).toContain(series)
        child.kill('SIGTERM')
        expect(await exited).toBe(0)
      } finally {
        child.kill('SIGKILL')
      }
    })
  })
}
