import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, startNats, type RunningPart } from '@argmax/stack'
import { connect } from 'nats'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createEventStore,
  discardParked,
  ensureStreams,
  listParked,
  silentConsumerLogger,
  startConsumer,
  subjectOf,
} from '../src/index.ts'
import { meta, waitFor } from './support.ts'

// A NATS server of its own, since this test restarts it under a running consumer.
describe('the durable consumer across a NATS restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'argmax-consumer-restart-'))
  let nats: RunningPart | undefined
  afterAll(async () => {
    await nats?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('keeps pulling after the server went away and came back', async () => {
    const ports = { port: await freePort(), monitorPort: await freePort() }
    nats = await startNats({ dataDir, ...ports })
    const nc = await connect({
      servers: nats.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    })
    try {
      await ensureStreams(await nc.jetstreamManager(), [
        { name: 'RESTART', subjects: ['restart.>'], retention: 'limits' },
      ])
      const store = createEventStore({ nc })
      const append = (id: string) =>
        store.append(subjectOf('restart', 'thing', id), [{ type: 'Made', data: { id } }], {
          expectedLastSubjectSequence: 'any',
          meta,
        })
      // A server no consumer ever ran on has no PARKED bucket: nothing to list, nothing created.
      expect(await listParked(nc)).toEqual([])
      await expect(discardParked(nc, 'RESTART.survivor.1')).rejects.toThrow(/not found/)
      // A monitoring stream that already captures every advisory would swallow ours: refused,
      // with the reason, rather than parking silently nowhere.
      const jsm = await nc.jetstreamManager()
      await jsm.streams.add({ name: 'ALL_ADVISORIES', subjects: ['$JS.EVENT.ADVISORY.>'] })
      await expect(
        startConsumer({
          nc,
          stream: 'RESTART',
          durable: 'survivor',
          log: silentConsumerLogger,
          handler: async () => undefined,
        }),
      ).rejects.toThrow(
        /another stream already captures \$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES/,
      )
      await jsm.streams.delete('ALL_ADVISORIES')

      const seen: string[] = []
      const consumer = await startConsumer({
        nc,
        stream: 'RESTART',
        durable: 'survivor',
        idlePullMs: 1_000,
        log: silentConsumerLogger,
        handler: async (event) => void seen.push((event.data as { id: string }).id),
      })
      await append('before')
      await waitFor(() => seen.length === 1)

      const reconnected = (async () => {
        for await (const status of nc.status()) if (status.type === 'reconnect') return
      })()
      await nats.stop()
      // Long enough for several pulls to fail while the server is away.
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      nats = await startNats({ dataDir, ...ports })

      await reconnected
      await append('after')
      await waitFor(() => seen.length === 2, 30_000, 'the event appended after the restart')
      await consumer.stop()
      expect(seen).toEqual(['before', 'after'])
    } finally {
      await nc.close()
    }
  })
})
