/**
 * Append benchmark: our `append` (envelope, UUIDv7 id, trace headers, expected last subject
 * sequence) against a raw acknowledged `js.publish` of the same payloads, sequential and with
 * 64 appends in flight, against one nats-server started here. A third, diagnostic variant
 * (raw publish carrying the same expectation) shows how much of the gap is the server's check.
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

/** The same bytes as one of our envelopes, encoded once up front for the raw variants. */
function rawBody(context: string): Uint8Array {
  return encodeEnvelope({
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
}

/** Raw: pre-encoded body, a msgID for dedup, an ack; no envelope, no headers, no expectation. */
async function raw(inflight: number): Promise<number> {
  const context = await freshContext()
  const js = nc.jetstream()
  const body = rawBody(context)
  return timed(inflight, async (i) => {
    await js.publish(subjectOf(context, 'run', `r${i % aggregates}`), body, { msgID: `raw-${i}` })
  })
}

/**
 * Diagnostic: raw plus the same expected-last-subject-sequence check as ours, so the table
 * separates what our client code costs from what the server's check costs.
 */
async function rawExpecting(inflight: number): Promise<number> {
  const context = await freshContext()
  const js = nc.jetstream()
  const body = rawBody(context)
  return timedPerAggregate(inflight, async (i, aggregate, last) => {
    const ack = await js.publish(subjectOf(context, 'run', `r${aggregate}`), body, {
      msgID: `raw-${i}`,
      expect: { lastSubjectSequence: last },
    })
    return ack.seq
  })
}

/** Ours: each aggregate's appends expect its previous sequence, as command handlers do. */
async function ours(inflight: number): Promise<number> {
  const context = await freshContext()
  const store: EventStore = createEventStore({ nc })
  return timedPerAggregate(inflight, async (_i, aggregate, last) => {
    const { lastSequence } = await store.append(
      subjectOf(context, 'run', `r${aggregate}`),
      [{ type: 'RunProgressed', data: payload }],
      { expectedLastSubjectSequence: last, meta: { actor: 'system:bench' } },
    )
    return lastSequence
  })
}

/**
 * Appends round-robin over the aggregates, tracking each one's last sequence. With several in
 * flight, appends to one aggregate wait for each other: each expects the previous one's
 * sequence (that is what optimistic concurrency means).
 */
function timedPerAggregate(
  inflight: number,
  op: (i: number, aggregate: number, last: number) => Promise<number>,
): Promise<number> {
  const last = new Array<number>(aggregates).fill(0)
  const chains = new Array<Promise<unknown>>(aggregates).fill(Promise.resolve())
  return timed(inflight, async (i) => {
    const aggregate = i % aggregates
    const append = chains[aggregate]!.then(async () => {
      last[aggregate] = await op(i, aggregate, last[aggregate]!)
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

/** Alternates the variants so machine noise hits them alike; reports the median of each. */
async function compare(inflight: number) {
  const variants = { raw, rawExpecting, ours }
  const runs = { raw: [] as number[], rawExpecting: [] as number[], ours: [] as number[] }
  // Warm up every path (JIT, connections, stream creation) before measuring.
  for (const run of Object.values(variants)) await run(inflight)
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, run] of Object.entries(variants)) {
      runs[name as keyof typeof runs].push(await run(inflight))
    }
  }
  const rawPerS = median(runs.raw)
  const rawExpectPerS = median(runs.rawExpecting)
  const oursPerS = median(runs.ours)
  return {
    raw_per_s: rawPerS,
    ours_per_s: oursPerS,
    ratio: Number((oursPerS / rawPerS).toFixed(3)),
    raw_expect_per_s: rawExpectPerS,
    ratio_vs_raw_expect: Number((oursPerS / rawExpectPerS).toFixed(3)),
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
  console.log(
    '               raw publish/s  raw+expect/s  ours append/s  ours/raw  ours/raw+expect',
  )
  for (const [name, r] of Object.entries({ sequential, inflight64 })) {
    const cells = [r.raw_per_s, r.raw_expect_per_s, r.ours_per_s, r.ratio, r.ratio_vs_raw_expect]
    const widths = [13, 13, 14, 9, 16]
    console.log(
      `  ${name.padEnd(12)}${cells.map((c, k) => String(c).padStart(widths[k]!)).join(' ')}`,
    )
  }
  console.log(JSON.stringify({ bench: 'append', events: total, sequential, inflight64 }))
} finally {
  await nc.close()
  await nats.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
