/**
 * Append benchmark: our `append` (envelope, UUIDv7 id, trace headers, expected last subject
 * sequence) against a raw acknowledged `js.publish` of the same payloads, sequential and with
 * 64 appends in flight, against one nats-server started here.
 *
 *   npx tsx bench/append.bench.ts [--events 5000] [--aggregates 100]
 *
 * Ends with ONE line of JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { connect } from 'nats'
import {
  createEventStore,
  encodeEnvelope,
  ensureStreams,
  newEventId,
  subjectOf,
  type EventStore,
} from '@argmax/events'
import { freePort, startNats } from '@argmax/stack'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    aggregates: { type: 'string', default: '100' },
  },
})
const total = Number(values.events)
const aggregates = Number(values.aggregates)
const payload = { runId: '0190a5c8-0000-7000-8000-000000000001', status: 'RUNNING', progress: 0.42 }

const dataDir = mkdtempSync(join(tmpdir(), 'argmax-bench-append-'))
const nats = await startNats({ dataDir, port: await freePort(), monitorPort: await freePort() })
const nc = await connect({ servers: nats.url })

let round = 0
async function freshContext(): Promise<string> {
  const context = `bench${round++}`
  const jsm = await nc.jetstreamManager()
  await ensureStreams(jsm, [
    { name: context.toUpperCase(), subjects: [`${context}.>`], retention: 'limits' },
  ])
  return context
}

/**
 * Raw: the same bytes as one of our envelopes, encoded once up front, a msgID for dedup, an
 * ack; no envelope building, no trace headers, no expectation.
 */
async function raw(inflight: number): Promise<number> {
  const context = await freshContext()
  const js = nc.jetstream()
  const body = encodeEnvelope({
    id: newEventId(),
    type: 'RunProgressed',
    schemaVersion: 1,
    stream: context.toUpperCase(),
    subject: subjectOf(context, 'run', 'r0'),
    occurredAt: new Date().toISOString(),
    actor: 'system:bench',
    correlationId: newEventId(),
    causationId: null,
    data: payload,
  })
  return timed(inflight, async (i) => {
    await js.publish(subjectOf(context, 'run', `r${i % aggregates}`), body, { msgID: `raw-${i}` })
  })
}

/** Ours: each aggregate's appends expect its previous sequence, as command handlers do. */
async function ours(inflight: number): Promise<number> {
  const context = await freshContext()
  const store: EventStore = createEventStore({ nc })
  const last = new Array<number>(aggregates).fill(0)
  // With several appends in flight, appends to one aggregate must wait for each other: the
  // expectation is the previous append's sequence (that is what optimistic concurrency means).
  const chains = new Array<Promise<unknown>>(aggregates).fill(Promise.resolve())
  return timed(inflight, async (i) => {
    const aggregate = i % aggregates
    const append = chains[aggregate]!.then(async () => {
      const { lastSequence } = await store.append(
        subjectOf(context, 'run', `r${aggregate}`),
        [{ type: 'RunProgressed', data: payload }],
        { expectedLastSubjectSequence: last[aggregate]!, meta: { actor: 'system:bench' } },
      )
      last[aggregate] = lastSequence
    })
    chains[aggregate] = append
    await append
  })
}

async function timed(inflight: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0
  const started = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < total) await op(next++)
    }),
  )
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return Math.round(total / seconds)
}

const ROUNDS = 7

/** Alternates the two so machine noise hits both alike; reports the median of each. */
async function compare(inflight: number) {
  // Warm up both paths (JIT, connections, stream creation) before measuring.
  await raw(inflight)
  await ours(inflight)
  const rawRuns: number[] = []
  const oursRuns: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    rawRuns.push(await raw(inflight))
    oursRuns.push(await ours(inflight))
  }
  const rawPerS = median(rawRuns)
  const oursPerS = median(oursRuns)
  return {
    raw_per_s: rawPerS,
    ours_per_s: oursPerS,
    ratio: Number((oursPerS / rawPerS).toFixed(3)),
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

try {
  const sequential = await compare(1)
  const inflight64 = await compare(64)
  console.log(
    `append benchmark: ${total} events over ${aggregates} aggregates, median of ${ROUNDS} rounds`,
  )
  console.log(`                 raw js.publish/s   ours append/s   ratio`)
  for (const [name, r] of Object.entries({ sequential, inflight64 })) {
    console.log(
      `  ${name.padEnd(12)} ${String(r.raw_per_s).padStart(16)} ${String(r.ours_per_s).padStart(15)}   ${r.ratio}`,
    )
  }
  console.log(JSON.stringify({ bench: 'append', events: total, sequential, inflight64 }))
} finally {
  await nc.close()
  await nats.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
