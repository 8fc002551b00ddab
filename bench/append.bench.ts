/**
 * Append benchmark: our `append` (envelope, UUIDv7 id, trace headers, expected last subject
 * sequence) against a raw acknowledged `js.publish` of the same payloads, sequential and with
 * 64 appends in flight, against one nats-server started here. A third, diagnostic variant
 * (raw publish carrying the same expectation) shows how much of the gap is the server's check.
 *
 *   npx tsx bench/append.bench.ts [--events 5000] [--aggregates 100]
 *
 * Prints the tables on stderr and ends with ONE line of JSON on stdout.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
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

/**
 * Raw: pre-encoded body, a msgID for dedup, an ack; no envelope, no headers, no expectation.
 * Driven like ours (one append at a time per aggregate, through the same harness), so the
 * two differ only in what each append does.
 */
async function raw(inflight: number): Promise<Measure> {
  const context = await freshContext()
  const js = nc.jetstream()
  const body = rawBody(context)
  return timedPerAggregate(inflight, async (i, aggregate) => {
    const ack = await js.publish(subjectOf(context, 'run', `r${aggregate}`), body, {
      msgID: `raw-${i}`,
    })
    return ack.seq
  })
}

/**
 * Diagnostic: raw plus the same expected-last-subject-sequence check as ours, so the table
 * separates what our client code costs from what the server's check costs.
 */
async function rawExpecting(inflight: number): Promise<Measure> {
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
async function ours(inflight: number): Promise<Measure> {
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
): Promise<Measure> {
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

interface Measure {
  perS: number
  /** Client process + nats-server CPU per append: far less sensitive to a busy machine. */
  cpuUsPerOp: number
}

/** nats-server's user+system CPU so far, in µs (Linux /proc; NaN elsewhere). */
function serverCpuUs(): number {
  try {
    const fields = readFileSync(`/proc/${nats.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicksPerSecond
  } catch {
    return Number.NaN
  }
}
const clockTicksPerSecond = 100

async function timed(inflight: number, op: (i: number) => Promise<void>): Promise<Measure> {
  let next = 0
  const serverBefore = serverCpuUs()
  const clientBefore = process.cpuUsage()
  const started = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < total) await op(next++)
    }),
  )
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const client = process.cpuUsage(clientBefore)
  const cpuUs = client.user + client.system + (serverCpuUs() - serverBefore)
  return { perS: Math.round(total / seconds), cpuUsPerOp: Math.round(cpuUs / total) }
}

const ROUNDS = 7

/** Alternates the variants so machine noise hits them alike; reports the median of each. */
async function compare(inflight: number) {
  const variants = { raw, rawExpecting, ours }
  const runs = { raw: [] as Measure[], rawExpecting: [] as Measure[], ours: [] as Measure[] }
  // Warm up every path (JIT, connections, stream creation) before measuring.
  for (const run of Object.values(variants)) await run(inflight)
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, run] of Object.entries(variants)) {
      runs[name as keyof typeof runs].push(await run(inflight))
    }
  }
  const perS = (name: keyof typeof runs) => median(runs[name].map((m) => m.perS))
  const cpu = (name: keyof typeof runs) => median(runs[name].map((m) => m.cpuUsPerOp))
  return {
    raw_per_s: perS('raw'),
    ours_per_s: perS('ours'),
    ratio: Number((perS('ours') / perS('raw')).toFixed(3)),
    raw_expect_per_s: perS('rawExpecting'),
    ratio_vs_raw_expect: Number((perS('ours') / perS('rawExpecting')).toFixed(3)),
    raw_cpu_us_per_op: cpu('raw'),
    raw_expect_cpu_us_per_op: cpu('rawExpecting'),
    ours_cpu_us_per_op: cpu('ours'),
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

try {
  const sequential = await compare(1)
  const inflight64 = await compare(64)
  console.error(
    `append benchmark: ${total} events over ${aggregates} aggregates, median of ${ROUNDS} rounds`,
  )
  const table = (label: string, headings: string[], pick: (r: typeof sequential) => number[]) => {
    console.error(`${label.padEnd(14)}${headings.map((h) => h.padStart(14)).join('')}`)
    for (const [name, r] of Object.entries({ sequential, inflight64 })) {
      console.error(
        `  ${name.padEnd(12)}${pick(r)
          .map((c) => String(c).padStart(14))
          .join('')}`,
      )
    }
  }
  table('appends/s', ['raw', 'raw+expect', 'ours', 'ours/raw', 'ours/raw+exp'], (r) => [
    r.raw_per_s,
    r.raw_expect_per_s,
    r.ours_per_s,
    r.ratio,
    r.ratio_vs_raw_expect,
  ])
  // Client plus nats-server CPU per append: the cost, whatever else the machine is doing.
  table('CPU µs/append', ['raw', 'raw+expect', 'ours'], (r) => [
    r.raw_cpu_us_per_op,
    r.raw_expect_cpu_us_per_op,
    r.ours_cpu_us_per_op,
  ])
  console.log(JSON.stringify({ bench: 'append', events: total, sequential, inflight64 }))
} finally {
  await nc.close()
  await nats.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
