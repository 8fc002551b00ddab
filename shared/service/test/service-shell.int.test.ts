import { Writable } from 'node:stream'
import { generateDevSecret } from '@argmax/auth'
import { createEventStore, type RecordedEvent } from '@argmax/events'
import {
  aggregateCountsProjection,
  exampleMigrations,
  truncateAggregateCounts,
  type ExampleDB,
} from '@argmax/projections/example'
import { createLogger } from '@argmax/telemetry'
import { connectNats, freshSchema, stackEndpoints, uniqueName } from '@argmax/testkit'
import { describe, expect, it, vi } from 'vitest'
import { startServiceShell, type ServiceDefinition } from '../src/index.ts'

const quiet = createLogger({
  service: 'shell-test',
  destination: new Writable({ write: (_c, _e, done) => done() }),
})

interface ReadyzBody {
  detail?: string
  checks: Record<string, { ok: boolean; error?: string; details?: Record<string, unknown> }>
}

/** A service declared with one projection whose handler can be broken and fixed. */
async function flakyService() {
  const stream = uniqueName('SHELL').toUpperCase()
  const root = stream.toLowerCase()
  const { schema } = await freshSchema('shell')
  const endpoints = stackEndpoints()
  const state = { brokenAt: 0, order: [] as string[] }
  const definition: ServiceDefinition<
    ExampleDB,
    { label: string },
    { recorder: { stop(): Promise<void> } }
  > = {
    service: 'shell-test',
    description: 'a service with one projection',
    streams: (replicas) => [
      { name: stream, subjects: [`${root}.>`], retention: 'limits', replicas },
    ],
    readinessStream: stream,
    migrations: exampleMigrations,
    projections: {
      counts: {
        stream,
        truncate: truncateAggregateCounts,
        projection: {
          ...aggregateCountsProjection,
          async applyBatch(trx, events: readonly RecordedEvent[]) {
            if (events.some((event) => event.sequence === state.brokenAt)) {
              throw new Error('handler bug')
            }
            await aggregateCountsProjection.applyBatch(trx, events)
          },
        },
        retry: { minDelayMs: 20, maxDelayMs: 100 },
      },
    },
    readYourWritesTimeoutMs: 5_000,
    dependencies: () => ({ label: 'deps' }),
    workers: {
      // Records what is still up when it is stopped: workers go first.
      recorder: (deps, parts) => ({
        async stop() {
          state.order.push(`${deps.label}: counts ${parts.projections['counts']!.status().state}`)
        },
      }),
    },
  }
  const service = await startServiceShell(definition, {
    config: {
      nats: { url: endpoints.natsUrl, streamReplicas: 1 },
      postgres: { url: endpoints.postgresUrl },
      auth: { mode: 'hs256', secret: generateDevSecret() },
      http: { host: '127.0.0.1', port: 0 },
    },
    logger: quiet,
    schema,
    nc: await connectNats(),
    listen: false,
  })
  const store = createEventStore({ nc: service.nc })
  const add = async (id: string) =>
    (
      await store.append(`${root}.item.${id}`, [{ type: 'ItemAdded', data: {} }], {
        expectedLastSubjectSequence: 'any',
        meta: { actor: 'system:test' },
      })
    ).lastSequence
  const readyz = async () => {
    const response = await service.app.inject({ method: 'GET', url: '/readyz' })
    return { status: response.statusCode, body: JSON.parse(response.body) as ReadyzBody }
  }
  return { service, state, add, readyz, stream }
}

describe('the service shell', () => {
  it('reports a failing projection in /readyz by name, position, sequence and error, and is ready again once it passes', async () => {
    const { service, state, add, readyz, stream } = await flakyService()
    try {
      const first = await add('a')
      await service.waitForPosition(first)
      expect((await readyz()).status).toBe(200)

      state.brokenAt = first + 1
      const poison = await add('b')
      await vi.waitFor(async () => expect((await readyz()).status).toBe(503), { timeout: 10_000 })
      const { body } = await readyz()
      expect(body.checks['counts']).toMatchObject({
        ok: false,
        details: {
          projection: 'aggregate_counts',
          stream,
          position: first,
          failingSequence: poison,
          eventType: 'ItemAdded',
          error: 'handler bug',
        },
      })
      expect(body.checks['counts']?.error).toContain(`sequence ${poison} (ItemAdded): handler bug`)
      expect(body.detail).toContain('counts (')
      // Read-your-writes answers 503 at once, naming the failure.
      await expect(service.waitForPosition(poison)).rejects.toMatchObject({
        kind: 'unavailable',
        message: expect.stringContaining('handler bug'),
      })

      state.brokenAt = 0
      await vi.waitFor(async () => expect((await readyz()).status).toBe(200), { timeout: 10_000 })
      await service.waitForPosition(poison)
    } finally {
      await service.stop()
    }
    // Workers stop before the projections.
    expect(state.order).toEqual(['deps: counts running'])
  })
})
