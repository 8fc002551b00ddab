/**
 * Consumer benchmark: the batch mode of our durable consumer (`startBatchConsumer`: decode,
 * upcast, trace links, a claim per batch, ack after the handler resolved) against a raw
 * nats.js pull `consume()` of the same durable kind that decodes each message and acks it —
 * what a hand-written sink would do. Both hand their messages to a handler that only counts,
 * so the figure is the consumer's own cost, the ceiling of a sink built on it. A diagnostic
 * third variant is the one-at-a-time `startConsumer` (fetch one, handle, ack), to show why
 * sinks use the batch mode.
 *
 *   npx tsx bench/consumer.bench.ts [--events 100000] [--batch 1000] [--runs 3] [--single-events 3000]
 *
 * Prints a table on stderr and ends with ONE line of JSON on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { AckPolicy, connect, nanos } from 'nats'
import {
  PREDICTION_LOG_SCHEMA_VERSION,
  predictionLogRow,
  type PredictionLogRecord,
} from '@argmax/contracts'
import {
  encodeEnvelope,
  ensureStreams,
  newEventId,
  silentConsumerLogger,
  startBatchConsumer,
  startConsumer,
  subjectOf,
} from '@argmax/events'
import { freePort, startNats } from '@argmax/stack'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    'single-events': { type: 'string', default: '3000' },
  },
})
const total = Number(values.events)
const batch = Number(values.batch)
const runs = Number(values.runs)
const singleEvents = Math.min(total, Number(values['single-events']))
const STREAM = 'BENCH'

const dataDir = mkdtempSync(join(tmpdir(), 'argmax-bench-consumer-'))
const nats = await startNats({ dataDir, port: await freePort(), monitorPort: await freePort() })
const nc = await connect({ servers: nats.url })
const jsm = await nc.jetstreamManager()

/** A one-row prediction log record (`PredictionLogged`): what the inference sink moves. */
async function publishEvents(): Promise<void> {
  await ensureStreams(jsm, [{ name: STREAM, subjects: ['bench.>'], retention: 'limits' }])
  const js = nc.jetstream()
  for (let start = 0; start < total; start += 512) {
    const acks = []
    for (let i = start; i < Math.min(total, start + 512); i++) {
      const subject = subjectOf('bench', 'prediction', `p${i % 1000}`)
      const id = newEventId()
      const body = encodeEnvelope({
        id,
        type: 'PredictionLogged',
        schemaVersion: PREDICTION_LOG_SCHEMA_VERSION,
        stream: STREAM,
        subject,
        occurredAt: new Date().toISOString(),
        actor: 'system:bench',
        correlationId: id,
        causationId: null,
        data: {
          requestId: id,
          time: new Date().toISOString(),
          model: 'movies',
          version: 3,
          variant: 'stable',
          releaseSequence: 7,
          caller: 'bench-user',
          protocol: 'grpc',
          status: 'success',
          latencyMs: 1.7,
          rowOffset: 0,
          rows: [
            predictionLogRow(
              `p-${id}`,
              { budget: 1e6 + i, runtime: 110, genre: 'Drama' },
              { rating: 6.4 },
            ),
          ],
        } satisfies PredictionLogRecord,
      })
      acks.push(js.publish(subject, body, { msgID: id }))
    }
    await Promise.all(acks)
  }
}

let durables = 0
const durableName = (kind: string) => `${kind}-${durables++}`

async function timed(count: number, run: (done: () => void) => Promise<() => Promise<void>>) {
  let finish: () => void = () => undefined
  const finished = new Promise<void>((resolve) => (finish = resolve))
  const started = process.hrtime.bigint()
  const stop = await run(finish)
  await finished
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  await stop()
  return Math.round(count / seconds)
}

/** Raw: a pull consume with the same buffer size, JSON-decoding and acking each message. */
function raw(): Promise<number> {
  return timed(total, async (done) => {
    const durable = durableName('raw')
    await jsm.consumers.add(STREAM, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(30_000),
      max_deliver: 5,
      max_ack_pending: 4 * batch,
    })
    const consumer = await nc.jetstream().consumers.get(STREAM, durable)
    const messages = await consumer.consume({ max_messages: batch })
    let seen = 0
    const loop = (async () => {
      for await (const message of messages) {
        JSON.parse(new TextDecoder().decode(message.data))
        message.ack()
        if (++seen === total) done()
      }
    })()
    return async () => {
      await messages.close()
      await loop
    }
  })
}

function ours(): Promise<number> {
  return timed(total, async (done) => {
    let seen = 0
    const consumer = await startBatchConsumer({
      nc,
      stream: STREAM,
      durable: durableName('batch'),
      maxBatch: batch,
      log: silentConsumerLogger,
      handleBatch: async (events) => {
        seen += events.length
        if (seen >= total) done()
      },
    })
    return () => consumer.stop()
  })
}

function single(): Promise<number> {
  return timed(singleEvents, async (done) => {
    let seen = 0
    const consumer = await startConsumer({
      nc,
      stream: STREAM,
      durable: durableName('single'),
      log: silentConsumerLogger,
      handler: async () => {
        if (++seen === singleEvents) done()
      },
    })
    return () => consumer.stop()
  })
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

try {
  await publishEvents()
  // One untimed pass of each warms the JIT, the connection and the stream's cache.
  await raw()
  await ours()
  const results = { raw: [] as number[], ours: [] as number[] }
  for (let i = 0; i < runs; i++) {
    results.raw.push(await raw())
    results.ours.push(await ours())
  }
  const singlePerS = await single()
  const rawPerS = median(results.raw)
  const oursPerS = median(results.ours)
  console.error(`events ${total}, batch ${batch}, median of ${runs} alternating runs`)
  console.error(`raw consume + decode + ack   ${rawPerS}/s   (runs ${results.raw.join(', ')})`)
  console.error(`startBatchConsumer           ${oursPerS}/s   (runs ${results.ours.join(', ')})`)
  console.error(`startConsumer, one at a time ${singlePerS}/s   (${singleEvents} events, 1 run)`)
  console.log(
    JSON.stringify({
      bench: 'consumer',
      events: total,
      batch,
      raw_consume_per_s: rawPerS,
      batch_consumer_per_s: oursPerS,
      ratio: Number((oursPerS / rawPerS).toFixed(3)),
      single_consumer_per_s: singlePerS,
    }),
  )
} finally {
  await nc.close()
  await nats.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
