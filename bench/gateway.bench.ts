/**
 * Inference gateway benchmark: what the gateway adds over calling the model server directly,
 * what the prediction log costs, and how fast the sink writes it to ClickHouse. One model
 * server and three gateway processes on their own NATS, PostgreSQL, ClickHouse and S3
 * (`@argmax/stack`), the gateways following a release written to their REGISTRY stream like
 * the registry's; the ClickHouse sink is off in all of them, so only the log's JetStream publish
 * is measured. The same grpc-js client sends one-row v2 ModelInfer requests with raw tensors
 * (what tritonclient sends) to:
 *
 * - **direct** — the model server, version pinned, an admin token (the baseline);
 * - **gateway_off** — the gateway with a prediction log that discards its records (a seam of
 *   `startInferenceService`; records are still built, nothing reaches JetStream): the baseline
 *   of what logging costs;
 * - **gateway_async** / **gateway_durable** — the gateway, by the model's release, a user token:
 *   authentication, the schema check, routing, prediction ids, the log record;
 * - with `BENCH_GATEWAY_BEFORE=<checkout of another commit>`, **gateway_durable_before** — that
 *   checkout's gateway, durable: before/after a change in one run.
 *
 * At concurrency 1, the targets taking turns request by request (so each one's latencies come
 * from the same moments of a noisy machine): p50 and p99 latency, and the gateway's added
 * latency (p50 and p99 of the gateway minus those of direct, from all rounds). At
 * `--concurrency`: throughput, each gateway's throughput against direct and durable against
 * logging off (median over rounds of the ratio to the round just before it, or of the same
 * round), and the server CPU per request (model server, plus the gateway on its path, from
 * /proc). Rounds alternate the variants after an untimed warm-up.
 *
 * Then the sink: `--sink-rows` one-row records (what the gateway logs for a one-row request)
 * published to a fresh log stream one per message (the sink's worst case: a quiet gateway's
 * log) and to another grouped as a busy gateway's log groups them, their ClickHouse rows
 * inserted straight into a copy of the table in batches of the sink's size (the baseline: the
 * sink's own TabSeparated text, made beforehand, one `@clickhouse/client` insert per batch
 * through `@argmax/analytics`), then `sink-main.ts` started on each stream; its rows/s is
 * counted from the first row in ClickHouse to the last, and every row must then be there
 * exactly once.
 *
 *   npx tsx bench/gateway.bench.ts [--requests 2000] [--concurrency 64] [--rounds 5] [--sink-rows 200000]
 *     [--sink-only | --no-sink]
 *
 * Prints a table on stderr and ends with ONE line of JSON on stdout.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import {
  createWriteStream,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs'
import http2 from 'node:http2'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import {
  analyticsMigrations,
  createAnalyticsClient,
  migrateAnalytics,
  type AnalyticsClient,
} from '@argmax/analytics'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import {
  PREDICTION_LOG_SCHEMA_VERSION,
  predictionLogRow,
  REGISTRY_EVENTS,
  type PredictionLogRecord,
} from '@argmax/contracts'
import { createEventStore, encodeEnvelope, ensureStreams, newEventId } from '@argmax/events'
import {
  createPredictionLog,
  INFERENCE_STREAM_NAMES,
  inferenceStreams,
  loadInferenceConfig,
  PREDICTION_COLUMNS,
  PREDICTION_LOGGED,
  predictionChunks,
  startInferenceService,
  type InferenceStreamNames,
  type PredictionLog,
} from '@argmax/inference-service'
import { createV2Client, type V2Client } from '@argmax/inference-service/model-server'
import { LINEAR_SIGNATURE, linearExpected, writeTestModels } from '@argmax/testkit/onnx-models'
import { runServiceProcess } from '@argmax/service'
import { endpointsToEnv, launchArgs, startStack, type StackEndpoints } from '@argmax/stack'
import { createS3Client, ensureBucket } from '@argmax/storage'
import { connect, type NatsConnection } from 'nats'
import * as grpc from '@grpc/grpc-js'
import { INFERENCE_SERVICE_NAME, loadInferenceService } from '@argmax/proto'

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '5' },
    'sink-rows': { type: 'string', default: '200000' },
    'serve-gateway-without-log': { type: 'boolean', default: false },
    'serve-bare-proxy': { type: 'boolean', default: false },
    'serve-bytes-proxy': { type: 'boolean', default: false },
    'serve-h2-proxy': { type: 'boolean', default: false },
    /** Only the sink part (for working on the sink). */
    'sink-only': { type: 'boolean', default: false },
    /** Everything but the sink part (for working on the gateway): no `sink` in the JSON. */
    'no-sink': { type: 'boolean', default: false },
    /** Which gateways run (for working on one): the figures of the others are null. */
    gateways: { type: 'string', default: 'off,async,durable' },
  },
})

/**
 * The prediction log of `gateway_off`: takes every record and keeps none. Durable's path without
 * JetStream: the gateway builds each request's records before answering, as in durable mode.
 */
const discardingLog: PredictionLog = {
  mode: 'durable',
  record: async () => undefined,
  afterAnswer: () => undefined,
  background: () => undefined,
  stats: () => ({ buffered: 0, inFlight: 0, published: 0, dropped: 0, failedPublishes: 0 }),
  stop: async () => undefined,
}

/** `--serve-gateway-without-log`: this file as the gateway's main.ts, with the log discarded. */
async function serveGatewayWithoutLog(): Promise<void> {
  await runServiceProcess({
    service: 'inference',
    loadConfig: () => loadInferenceConfig(),
    start: (options) => startInferenceService({ ...options, predictionLog: () => discardingLog }),
  })
}

/**
 * `--serve-bare-proxy`: the floor of any grpc-js gateway — a grpc-js server whose ModelInfer
 * hands each request as decoded to a grpc-js client of the model server (version pinned, the
 * service token, the gateway's channel options) and answers what comes back. No authentication,
 * check, routing, id or log: what is left of the gateway's added latency is grpc-js's.
 */
async function serveBareProxy(): Promise<void> {
  const upstream = createV2Client(process.env['BENCH_PROXY_UPSTREAM']!, {
    token: process.env['BENCH_PROXY_TOKEN']!,
    channelOptions: { 'grpc.enable_channelz': 0 },
  })
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 })
  server.addService(loadInferenceService(), {
    ModelInfer: (
      call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      upstream
        .call('ModelInfer', { ...call.request, model_version: '1' }, { timeoutMs: 30_000 })
        .then(
          (answer) => callback(null, answer),
          (error: grpc.ServiceError) => callback(error),
        )
    },
  })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  )
  console.log(JSON.stringify({ msg: 'bare proxy listening', grpc: `127.0.0.1:${port}` }))
  process.once('SIGTERM', () => server.forceShutdown())
}

/**
 * `--serve-bytes-proxy`: a bare proxy that does not even decode — ModelInfer's request bytes go
 * to the model server as they came (with the version appended: protobuf's last field wins)
 * and its answer's bytes back. What it adds is the hop alone: two HTTP/2 streams and the
 * wake-ups of a process in the path.
 */
async function serveBytesProxy(): Promise<void> {
  const path = `/${INFERENCE_SERVICE_NAME}/ModelInfer`
  const asIs = (bytes: Buffer) => bytes
  const version1 = Buffer.from([(2 << 3) | 2, 1, 0x31]) // field 2 (model_version) = "1"
  const upstream = new grpc.Client(
    process.env['BENCH_PROXY_UPSTREAM']!,
    grpc.credentials.createInsecure(),
    { 'grpc.enable_channelz': 0 },
  )
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 })
  const definition = {
    ModelInfer: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: asIs,
      requestDeserialize: asIs,
      responseSerialize: asIs,
      responseDeserialize: asIs,
    },
  } satisfies grpc.ServiceDefinition
  server.addService(definition, {
    ModelInfer: (
      call: grpc.ServerUnaryCall<Buffer, Buffer>,
      callback: grpc.sendUnaryData<Buffer>,
    ) => {
      const metadata = new grpc.Metadata()
      metadata.set('authorization', `Bearer ${process.env['BENCH_PROXY_TOKEN']!}`)
      upstream.makeUnaryRequest(
        path,
        asIs,
        asIs,
        Buffer.concat([call.request, version1]),
        metadata,
        { deadline: Date.now() + 30_000 },
        (error, answer) => (error ? callback(error) : callback(null, answer!)),
      )
    },
  })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  )
  console.log(JSON.stringify({ msg: 'bytes proxy listening', grpc: `127.0.0.1:${port}` }))
  process.once('SIGTERM', () => server.forceShutdown())
}

/**
 * `--serve-h2-proxy`: the floor of any gateway written for Node — no grpc-js at all. A
 * `node:http2` server hands each stream's frames to one `node:http2` session with the model
 * server (the request's one gRPC message re-framed with the version appended, the service
 * token in place of the caller's) and passes the answer's headers, bytes and trailers back.
 */
async function serveH2Proxy(): Promise<void> {
  const upstream = http2.connect(`http://${process.env['BENCH_PROXY_UPSTREAM']!}`)
  const authorization = `Bearer ${process.env['BENCH_PROXY_TOKEN']!}`
  const version1 = Buffer.from([(2 << 3) | 2, 1, 0x31]) // field 2 (model_version) = "1"
  const server = http2.createServer()
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => {
      // One unary message: a 5-byte prefix (flag, big-endian length), then the protobuf bytes.
      const message = Buffer.concat([Buffer.concat(chunks).subarray(5), version1])
      const prefix = Buffer.alloc(5)
      prefix.writeUInt32BE(message.length, 1)
      const call = upstream.request({
        ':method': 'POST',
        ':path': headers[':path'],
        'content-type': 'application/grpc',
        te: 'trailers',
        authorization,
      })
      call.end(Buffer.concat([prefix, message]))
      call.on('response', (answer) => {
        const { ':status': status, ...rest } = answer
        stream.respond({ ':status': status, ...rest }, { waitForTrailers: true })
      })
      let trailers: http2.OutgoingHttpHeaders = {}
      call.on('trailers', (received) => (trailers = received))
      call.on('data', (chunk: Buffer) => stream.write(chunk))
      call.on('end', () => {
        stream.once('wantTrailers', () => stream.sendTrailers(trailers))
        stream.end()
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  console.log(JSON.stringify({ msg: 'h2 proxy listening', grpc: `127.0.0.1:${port}` }))
  process.once('SIGTERM', () => {
    upstream.close()
    server.close()
  })
}

const MODEL = 'movies'
const BUCKET = 'argmax-models'

interface Listening {
  child: ChildProcess
  grpc: string
}

function startChild(
  entry: string,
  env: NodeJS.ProcessEnv,
  ready: string,
  args: string[] = [],
): Promise<Listening> {
  // BENCH_CPU_PROF=<dir>: each server process writes a V8 CPU profile there when it exits.
  const profile = process.env['BENCH_CPU_PROF']
  const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []
  // BENCH_NODE_FLAGS: more flags for every server process (e.g. `--log-deopt --logfile=…`).
  flags.push(...(process.env['BENCH_NODE_FLAGS']?.split(' ').filter(Boolean) ?? []))
  const child = spawn(process.execPath, [...flags, ...launchArgs(entry), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  // BENCH_SERVER_LOG=<prefix>: each server process's stdout (its log, `--trace-gc`…) is also
  // kept in `<prefix>-<pid>.log`.
  const logTo = process.env['BENCH_SERVER_LOG']
  const kept = logTo ? createWriteStream(`${logTo}-${child.pid}.log`) : undefined
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      kept?.write(`${line}\n`)
      try {
        const logged = JSON.parse(line) as { msg?: string; grpc?: string }
        if (logged.msg === ready && logged.grpc) resolve({ child, grpc: logged.grpc })
      } catch {
        // not a log line
      }
    })
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code} before ready`)))
  })
}

type TargetName =
  | 'direct'
  | 'gateway_off'
  | 'gateway_async'
  | 'gateway_durable'
  | 'gateway_async_before'
  | 'gateway_durable_before'
  | 'bare_proxy'
  | 'bytes_proxy'
  | 'h2_proxy'

interface Target {
  name: TargetName
  client: V2Client
  version: string
  /** The processes a request goes through: CPU per request is their sum. */
  pids: number[]
  /** The gateway's prediction log stream, where it publishes one. */
  logStream?: string
}

/** User + system CPU of a process so far, in µs (moves far less with the load than rates). */
function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuUs(pid), 0)
/** `BENCH_THREAD_CPU=1`: each round's CPU per request by thread (`pid:tid:name`), on stderr. */
function threadCpu(pids: number[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const pid of pids) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()
        const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')
        out.set(
          `${pid}:${tid}:${comm}`,
          ((Number(f[11]) + Number(f[12])) * 1_000_000) / CLOCK_TICKS,
        )
      } catch {
        // the thread ended between the listing and the read
      }
    }
  }
  return out
}

/** One one-row ModelInfer request, raw tensors as tritonclient sends them. */
function oneRowRequest(target: Target, i: number) {
  const x = Buffer.from(new Float32Array([i % 100, 1]).buffer)
  return target.client.call('ModelInfer', {
    model_name: MODEL,
    model_version: target.version,
    id: `r${i}-${Math.random()}`,
    inputs: [
      { name: 'x1', datatype: 'FP32', shape: [1] },
      { name: 'x2', datatype: 'FP32', shape: [1] },
    ],
    raw_input_contents: [x.subarray(0, 4), x.subarray(4, 8)],
  })
}

/**
 * Throughput and server CPU per request of one target at `concurrency` requests in flight, and
 * nats-server's CPU per request over the same round (what JetStream's side of a log costs).
 */
async function round(target: Target, total: number, concurrency: number, natsPid: number) {
  let next = 0
  const cpuBefore = cpuOf(target.pids)
  const natsBefore = cpuUs(natsPid)
  const threadsBefore = process.env['BENCH_THREAD_CPU'] ? threadCpu(target.pids) : undefined
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) await oneRowRequest(target, i)
    }),
  )
  const perS = total / ((performance.now() - started) / 1000)
  if (threadsBefore) {
    const after = threadCpu(target.pids)
    const parts = [...after]
      .map(([k, v]) => [k, (v - (threadsBefore.get(k) ?? 0)) / total] as const)
      .filter(([, v]) => v > 0)
    console.error(
      `threads ${target.name} c${concurrency}: ${parts.map(([k, v]) => `${k}=${Math.round(v)}`).join(' ')}`,
    )
  }
  return {
    perS,
    cpuUsPerReq: (cpuOf(target.pids) - cpuBefore) / total,
    natsCpuUsPerReq: (cpuUs(natsPid) - natsBefore) / total,
  }
}

/**
 * Latency at concurrency 1, the targets taking turns request by request: each target's
 * latencies then come from the same moments of the machine's load, so the differences between
 * them hold even when the absolute figures drift between runs.
 */
async function latencyRound(targets: readonly Target[], total: number) {
  const latenciesMs = new Map(targets.map((target) => [target.name, new Array<number>(total)]))
  for (let i = 0; i < total; i++) {
    for (const target of targets) {
      const begin = performance.now()
      await oneRowRequest(target, i)
      latenciesMs.get(target.name)![i] = performance.now() - begin
    }
  }
  return latenciesMs
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
const median = (samples: number[]) =>
  [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!
const round3 = (value: number) => Math.round(value * 1000) / 1000

async function main(): Promise<void> {
  const loadBefore = round3(loadavg()[0]!)
  const total = Number(values.requests)
  const concurrency = Number(values.concurrency)
  const rounds = Number(values.rounds)
  const dataDir = mkdtempSync(join(tmpdir(), 'argmax-bench-gateway-'))
  const children: ChildProcess[] = []
  const stack = await startStack({ dataDir, ephemeral: true })
  try {
    const endpoints = stack.endpoints
    const secret = generateDevSecret()
    if (values['sink-only']) {
      const env = { ...process.env, ...endpointsToEnv(endpoints), ARGMAX_STREAM_REPLICAS: '1' }
      const sink = await benchSink(endpoints, env, Number(values['sink-rows']))
      console.log(JSON.stringify({ bench: 'gateway', load_before: loadBefore, sink }))
      return
    }
    const s3 = createS3Client({ ...endpoints.s3, forcePathStyle: true })
    await ensureBucket(s3, BUCKET)
    const artifact = (await writeTestModels([0.5])).linear.get(0.5)!
    const put = async (key: string, bytes: Uint8Array) => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }))
      const sha256 = createHash('sha256').update(bytes).digest('hex')
      return { uri: `s3://${BUCKET}/${key}`, sha256, size: bytes.byteLength }
    }
    const stored = await put(`models/${MODEL}/1/model.onnx`, artifact.bytes)
    const schema = await put(
      `models/${MODEL}/1/schema.json`,
      Buffer.from(JSON.stringify(LINEAR_SIGNATURE)),
    )
    s3.destroy()

    // The registry's events, as the registry publishes them.
    const nc = await connect({ servers: endpoints.natsUrl })
    await ensureStreams(await nc.jetstreamManager(), [
      { name: 'REGISTRY', subjects: ['registry.>'], retention: 'limits' },
    ])
    const store = createEventStore({ nc })
    const append = (subject: string, type: string, data: unknown) =>
      store.append(subject, [{ type, data }], {
        expectedLastSubjectSequence: 'any',
        meta: { actor: 'system:registry' },
      })
    const now = new Date().toISOString()
    await append(`registry.model.${MODEL}`, REGISTRY_EVENTS.modelCreated, {
      model: MODEL,
      ownerId: 'bench',
      task: 'regression',
      description: '',
      tags: [],
      origin: 'user',
      createdAt: now,
    })
    await append(`registry.model.${MODEL}`, REGISTRY_EVENTS.versionRegistered, {
      model: MODEL,
      version: 1,
      ownerId: 'bench',
      task: 'regression',
      artifact: stored,
      signature: schema,
      metrics: {},
      source: { kind: 'upload' },
      lineage: {},
      registeredAt: now,
    })
    await append(`registry.release.${MODEL}`, REGISTRY_EVENTS.releaseChanged, {
      model: MODEL,
      release: { stable: 1 },
      previous: null,
      reason: 'bench',
      changedAt: now,
    })
    await nc.drain()

    const common = {
      ...process.env,
      ...endpointsToEnv(endpoints),
      ARGMAX_AUTH_MODE: 'hs256',
      ARGMAX_JWT_SECRET: secret,
      ARGMAX_HTTP_HOST: '127.0.0.1',
      ARGMAX_HTTP_PORT: '0',
      ARGMAX_STREAM_REPLICAS: '1',
    }
    const modelServer = await startChild(
      fileURLToPath(new URL('../services/inference/src/model-server-main.ts', import.meta.url)),
      {
        ...common,
        ARGMAX_MODEL_SERVER_GRPC_PORT: '0',
        ARGMAX_MODEL_SERVER_CACHE_DIR: join(dataDir, 'model-cache'),
      },
      'model server listening',
    )
    children.push(modelServer.child)
    const gatewayEnv = (name: string, mode: 'async' | 'durable') => ({
      ...common,
      ARGMAX_PREDICTION_ID_SECRET: generateDevSecret(),
      ARGMAX_INFERENCE_GRPC_PORT: '0',
      ARGMAX_MODEL_SERVERS: modelServer.grpc,
      ARGMAX_INFERENCE_LOG_MODE: mode,
      ARGMAX_INFERENCE_SINK: 'off',
      // The gateways share the stack: their own schema and log subjects.
      ARGMAX_INFERENCE_SCHEMA: `inference_${name}`,
      ARGMAX_INFERENCE_LOG_STREAM: `INFERENCE_LOG_${name.toUpperCase()}`,
      ARGMAX_INFERENCE_LOG_SUBJECT_PREFIX: `inference${name}.log`,
      ARGMAX_INFERENCE_STREAM: `INFERENCE_${name.toUpperCase()}`,
      ARGMAX_INFERENCE_SUBJECT_PREFIX: `inference${name}.batch`,
    })
    const admin = await mintDevToken({ secret, subject: 'bench', roles: ['admin'], ttl: 3600 })
    const user = await mintDevToken({ secret, subject: 'bench-user', roles: ['user'], ttl: 3600 })
    const ourMain = fileURLToPath(new URL('../services/inference/src/main.ts', import.meta.url))
    const gatewaySpecs: Array<{
      name: Exclude<TargetName, 'direct'>
      entry: string
      ready?: string
      args?: string[]
      env: NodeJS.ProcessEnv
    }> = [
      {
        name: 'gateway_off',
        entry: fileURLToPath(import.meta.url),
        args: ['--serve-gateway-without-log'],
        env: gatewayEnv('off', 'durable'),
      },
      { name: 'gateway_async', entry: ourMain, env: gatewayEnv('async', 'async') },
      { name: 'gateway_durable', entry: ourMain, env: gatewayEnv('durable', 'durable') },
    ]
    // The proxies, each only when named: `proxy` (decodes, re-encodes), `bytes` (passes bytes)
    // and `h2` (passes frames, no grpc-js).
    for (const [choice, kind] of [
      ['proxy', 'bare'],
      ['bytes', 'bytes'],
      ['h2', 'h2'],
    ] as const) {
      if (!values.gateways.split(',').includes(choice)) continue
      gatewaySpecs.push({
        name: `${kind}_proxy`,
        entry: fileURLToPath(import.meta.url),
        args: [`--serve-${kind}-proxy`],
        ready: `${kind} proxy listening`,
        env: { ...common, BENCH_PROXY_UPSTREAM: modelServer.grpc, BENCH_PROXY_TOKEN: admin },
      })
    }
    const chosen = new Set(values.gateways.split(',').map((name) => `gateway_${name.trim()}`))
    chosen.add('bare_proxy')
    chosen.add('bytes_proxy')
    chosen.add('h2_proxy')
    gatewaySpecs.splice(0, gatewaySpecs.length, ...gatewaySpecs.filter((g) => chosen.has(g.name)))
    const before = process.env['BENCH_GATEWAY_BEFORE']
    if (before) {
      gatewaySpecs.push({
        name: 'gateway_async_before',
        entry: join(before, 'services/inference/src/main.ts'),
        env: gatewayEnv('asyncbefore', 'async'),
      })
      gatewaySpecs.push({
        name: 'gateway_durable_before',
        entry: join(before, 'services/inference/src/main.ts'),
        env: gatewayEnv('before', 'durable'),
      })
    }
    const targets: Target[] = [
      {
        name: 'direct',
        client: createV2Client(modelServer.grpc, { token: admin }),
        version: '1',
        pids: [modelServer.child.pid!],
      },
    ]
    for (const spec of gatewaySpecs) {
      const gateway = await startChild(
        spec.entry,
        spec.env,
        spec.ready ?? 'inference gateway gRPC listening',
        spec.args,
      )
      children.push(gateway.child)
      const logStream = spec.env['ARGMAX_INFERENCE_LOG_STREAM']
      targets.push({
        name: spec.name,
        client: createV2Client(gateway.grpc, { token: user }),
        version: '',
        pids: [gateway.child.pid!, modelServer.child.pid!],
        ...(logStream && spec.name !== 'gateway_off' ? { logStream } : {}),
      })
    }
    // The gateways load the release on the model server ahead of traffic: wait for it, then
    // check every target answers the model's prediction, not a stand-in.
    for (const target of targets) {
      const deadline = Date.now() + 60_000
      for (;;) {
        try {
          const check = await target.client.call<{ raw_output_contents: Buffer[] }>('ModelInfer', {
            model_name: MODEL,
            model_version: target.version,
            inputs: [
              { name: 'x1', datatype: 'FP32', shape: [1] },
              { name: 'x2', datatype: 'FP32', shape: [1] },
            ],
            raw_input_contents: [
              Buffer.from(new Float32Array([4]).buffer),
              Buffer.from(new Float32Array([1]).buffer),
            ],
          })
          const y = Buffer.from(check.raw_output_contents[0]!).readFloatLE(0)
          if (y !== linearExpected(4, 1, 0.5)) throw new Error(`${target.name} answered ${y}`)
          break
        } catch (error) {
          if (Date.now() > deadline) throw error
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
      }
    }

    const latencies = new Map(targets.map((target) => [target.name, [] as number[]]))
    const throughput = new Map(
      targets.map((target) => [target.name, [] as Awaited<ReturnType<typeof round>>[]]),
    )
    // Messages a gateway's log published per request at `--concurrency` (group commit: the
    // fewer, the less each request pays for JetStream). Async's last ones may land after its
    // round: a close count, durable's exact.
    const logNc = await connect({ servers: endpoints.natsUrl })
    const jsm = await logNc.jetstreamManager()
    const logMessages = async (target: Target) =>
      target.logStream ? (await jsm.streams.info(target.logStream)).state.messages : 0
    const messagesPerRequest = new Map<string, number[]>()
    await latencyRound(targets, Math.min(total, 500))
    const natsPid = stack.parts.find((part) => part.name === 'nats')!.pid
    for (const target of targets) await round(target, Math.min(total, 2000), concurrency, natsPid)
    for (let r = 0; r < rounds; r++) {
      for (const [name, sample] of await latencyRound(targets, total)) {
        latencies.get(name)!.push(...sample)
      }
      for (const target of targets) {
        const logged = await logMessages(target)
        const many = await round(target, total * 2, concurrency, natsPid)
        throughput.get(target.name)!.push(many)
        let perRequest = ''
        if (target.logStream) {
          const ratio = ((await logMessages(target)) - logged) / (total * 2)
          messagesPerRequest.set(target.name, [
            ...(messagesPerRequest.get(target.name) ?? []),
            ratio,
          ])
          perRequest = `, ${ratio.toFixed(3)} log messages/request`
        }
        console.error(
          `round ${r + 1} ${target.name}: c${concurrency} ${Math.round(many.perS)}/s, ${Math.round(many.cpuUsPerReq)} µs CPU/request, nats-server ${Math.round(many.natsCpuUsPerReq)}${perRequest}`,
        )
      }
    }
    for (const target of targets) target.client.close()
    await logNc.close()

    const summary: Record<
      string,
      {
        p50_ms: number
        p99_ms: number
        per_s: number
        cpu_us_per_req: number
        nats_cpu_us_per_req: number
        log_messages_per_req?: number
      }
    > = {}
    for (const target of targets) {
      const sorted = latencies.get(target.name)!.sort((a, b) => a - b)
      summary[target.name] = {
        p50_ms: round3(percentile(sorted, 50)),
        p99_ms: round3(percentile(sorted, 99)),
        per_s: Math.round(median(throughput.get(target.name)!.map((m) => m.perS))),
        // Server side: the model server's, plus the gateway's where it is in the path.
        cpu_us_per_req: Math.round(median(throughput.get(target.name)!.map((m) => m.cpuUsPerReq))),
        nats_cpu_us_per_req: Math.round(
          median(throughput.get(target.name)!.map((m) => m.natsCpuUsPerReq)),
        ),
        ...(messagesPerRequest.has(target.name)
          ? { log_messages_per_req: round3(median(messagesPerRequest.get(target.name)!)) }
          : {}),
      }
    }
    // Paired within a round: neighbours in time share the machine's load.
    const paired = (name: TargetName, base: TargetName) =>
      throughput.has(name) && throughput.has(base)
        ? round3(
            median(throughput.get(name)!.map((m, i) => m.perS / throughput.get(base)![i]!.perS)),
          )
        : null
    const added = (name: TargetName, p: 'p50_ms' | 'p99_ms') =>
      summary[name] ? round3(summary[name][p] - summary['direct']![p]) : null
    console.error(
      `\none-row requests; latency at concurrency 1 (${total} × ${rounds} rounds), throughput at ${concurrency} (median round)`,
    )
    console.error(
      'target                   p50 ms   p99 ms   req/s   server CPU µs/req   nats-server µs/req',
    )
    for (const [name, s] of Object.entries(summary)) {
      console.error(
        `${name.padEnd(23)} ${s.p50_ms.toFixed(3).padStart(7)}  ${s.p99_ms.toFixed(3).padStart(7)}  ${String(s.per_s).padStart(6)}   ${String(s.cpu_us_per_req).padStart(6)}              ${String(s.nats_cpu_us_per_req).padStart(6)}`,
      )
    }

    // The gateway processes are done: the sink gets the machine.
    for (const child of children.splice(0)) await stopChild(child)
    const sink = values['no-sink']
      ? undefined
      : await benchSink(endpoints, common, Number(values['sink-rows']))

    console.log(
      JSON.stringify({
        bench: 'gateway',
        requests: total,
        concurrency,
        rounds,
        load_before: loadBefore,
        load_after: round3(loadavg()[0]!),
        ...summary,
        added_p50_ms_off: added('gateway_off', 'p50_ms'),
        added_p50_ms_async: added('gateway_async', 'p50_ms'),
        added_p99_ms_async: added('gateway_async', 'p99_ms'),
        added_p50_ms_durable: added('gateway_durable', 'p50_ms'),
        added_p99_ms_durable: added('gateway_durable', 'p99_ms'),
        ratio_off: paired('gateway_off', 'direct'),
        ratio_async: paired('gateway_async', 'direct'),
        ratio_durable: paired('gateway_durable', 'direct'),
        ratio_durable_vs_off: paired('gateway_durable', 'gateway_off'),
        ratio_async_vs_off: paired('gateway_async', 'gateway_off'),
        ratio_durable_vs_async: paired('gateway_durable', 'gateway_async'),
        ...(summary['bare_proxy']
          ? {
              added_p50_ms_proxy: added('bare_proxy', 'p50_ms'),
              added_p99_ms_proxy: added('bare_proxy', 'p99_ms'),
            }
          : {}),
        ...(summary['bytes_proxy']
          ? {
              added_p50_ms_bytes_proxy: added('bytes_proxy', 'p50_ms'),
              added_p99_ms_bytes_proxy: added('bytes_proxy', 'p99_ms'),
            }
          : {}),
        ...(summary['h2_proxy']
          ? {
              added_p50_ms_h2_proxy: added('h2_proxy', 'p50_ms'),
              added_p99_ms_h2_proxy: added('h2_proxy', 'p99_ms'),
            }
          : {}),
        ...(before
          ? {
              added_p50_ms_async_before: added('gateway_async_before', 'p50_ms'),
              added_p50_ms_durable_before: added('gateway_durable_before', 'p50_ms'),
              ratio_durable_vs_before: paired('gateway_durable', 'gateway_durable_before'),
              cpu_us_per_req_durable_vs_before: summary['gateway_durable']
                ? summary['gateway_durable'].cpu_us_per_req -
                  summary['gateway_durable_before']!.cpu_us_per_req
                : null,
            }
          : {}),
        ...(sink ? { sink } : {}),
      }),
    )
  } finally {
    for (const child of children) await stopChild(child)
    await stack.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  child.kill('SIGTERM')
  await new Promise((resolve) =>
    child.exitCode !== null ? resolve(null) : child.once('exit', resolve),
  )
}

/** A one-row request's log record, as the gateway writes it for the bench's model. */
function sinkRecord(model: string, i: number, time: string): PredictionLogRecord {
  return {
    requestId: `${model}-${i}`,
    time,
    model,
    version: 1,
    variant: 'stable',
    releaseSequence: 3,
    caller: 'bench-user',
    protocol: 'grpc',
    status: 'success',
    latencyMs: 1.25,
    rowOffset: 0,
    rows: [
      predictionLogRow(
        `p1_${randomBytes(24).toString('base64url')}`,
        { x1: i % 100, x2: 1 },
        { y: linearExpected(i % 100, 1, 0.5) },
      ),
    ],
  }
}

/**
 * The sink against a bare insert of the same rows. `rows` one-row records are published twice:
 * one per message (a quiet gateway's log: the sink's worst case), and grouped as a busy
 * gateway's log publishes them (the prediction log's own grouping, up to 64 KiB a message).
 * Their rows, as the sink's TabSeparated text made beforehand, are inserted straight into a
 * copy of the predictions table in the sink's batch size (the baseline: the insert alone), then
 * `sink-main.ts` runs on each stream in turn.
 */
async function benchSink(endpoints: StackEndpoints, env: NodeJS.ProcessEnv, rows: number) {
  const batch = 5_000 // the sink's default ARGMAX_INFERENCE_SINK_MAX_BATCH
  const namesOf = (name: string): InferenceStreamNames => ({
    ...INFERENCE_STREAM_NAMES,
    log: { stream: `INFERENCE_LOG_${name.toUpperCase()}`, subjectPrefix: `${name}.log` },
    batch: { stream: `INFERENCE_${name.toUpperCase()}`, subjectPrefix: `${name}.batch` },
  })
  const single = namesOf('sinksingle')
  const grouped = namesOf('sinkgrouped')
  const time = new Date().toISOString()
  const singleRecords = Array.from({ length: rows }, (_, i) => sinkRecord('single', i, time))
  const groupedRecords = Array.from({ length: rows }, (_, i) => sinkRecord('grouped', i, time))
  const nc = await connect({ servers: endpoints.natsUrl })
  const ch = createAnalyticsClient(
    {
      url: endpoints.clickhouseUrl,
      user: endpoints.clickhouseUser,
      password: endpoints.clickhousePassword,
    },
    { database: endpoints.clickhouseDatabase, requestTimeoutMs: 300_000 },
  )
  try {
    const jsm = await nc.jetstreamManager()
    await ensureStreams(jsm, [...inferenceStreams(single)(1), ...inferenceStreams(grouped)(1)])
    const ids = await fillOnePerMessage(nc, single, singleRecords)
    const log = createPredictionLog({
      js: nc.jetstream(),
      names: grouped,
      mode: 'async',
      bufferRecords: rows,
      log: { warn: (fields, message) => console.error(message, fields) },
    })
    log.background(groupedRecords)
    await log.stop(600_000)
    const groupedMessages = (await jsm.streams.info(grouped.log.stream)).state.messages
    await migrateAnalytics(ch, analyticsMigrations)
    await ch.command('CREATE TABLE bare_predictions AS predictions')

    // Baseline: the same rows as the sink writes them, one INSERT per sink-sized batch.
    const bareChunks = [
      ...predictionChunks(
        singleRecords.map((data, i) => ({ id: ids[i]!, type: PREDICTION_LOGGED, data })),
        batch,
      ),
    ]
    const bareStarted = performance.now()
    for (const chunk of bareChunks) {
      await ch.insertTabSeparated('bare_predictions', PREDICTION_COLUMNS, chunk.bytes)
    }
    const bareS = (performance.now() - bareStarted) / 1000
    if ((await countRows(ch, 'bare_predictions')) !== rows) throw new Error('baseline lost rows')
    const bare = rows / bareS

    const singleRun = await runSink(ch, env, single, 'single', rows)
    const groupedRun = await runSink(ch, env, grouped, 'grouped', rows)
    const singlePerS = singleRun.perS
    const groupedPerS = groupedRun.perS
    const result = {
      rows,
      batch,
      bare_insert_rows_per_s: Math.round(bare),
      rows_per_s_one_per_message: Math.round(singlePerS),
      ratio_one_per_message: round3(singlePerS / bare),
      sink_cpu_us_per_row_one_per_message: round3(singleRun.cpuUsPerRow),
      grouped_messages: groupedMessages,
      rows_per_s_grouped: Math.round(groupedPerS),
      ratio_grouped: round3(groupedPerS / bare),
      sink_cpu_us_per_row_grouped: round3(groupedRun.cpuUsPerRow),
    }
    console.error(
      `sink: ${rows} one-row records — bare insert ${result.bare_insert_rows_per_s} rows/s; sink ${result.rows_per_s_one_per_message} rows/s one per message (${result.ratio_one_per_message} ×, ${result.sink_cpu_us_per_row_one_per_message} µs CPU a row), ${result.rows_per_s_grouped} rows/s grouped in ${groupedMessages} messages (${result.ratio_grouped} ×, ${result.sink_cpu_us_per_row_grouped} µs CPU a row)`,
    )
    return result
  } finally {
    await ch.close()
    await nc.drain()
  }
}

/**
 * `sink-main.ts` on a filled stream: rows/s from its first row of `model` in ClickHouse to its
 * last (the process's start is not counted; NaN — null in the JSON — when every row came in
 * one insert); then every row must be there exactly once.
 */
async function runSink(
  ch: AnalyticsClient,
  env: NodeJS.ProcessEnv,
  names: InferenceStreamNames,
  model: string,
  rows: number,
): Promise<{ perS: number; cpuUsPerRow: number }> {
  // Progress is read from `system.parts` (free), not by counting the table: a count every 20 ms
  // over up to 200,000 rows took a good part of a core from the ClickHouse being measured. The
  // parts also hold a redelivered batch's rows twice (collapsed later by the table), so reaching
  // `rows` is confirmed by a count of distinct ids, and polling goes on until it agrees.
  const partRows = async () => {
    const [row] = await ch.query<{ n: string }>(
      `SELECT sum(rows) AS n FROM system.parts WHERE database = currentDatabase() AND table = 'predictions' AND active`,
    )
    return Number(row!.n)
  }
  const distinct = async () => {
    const [row] = await ch.query<{ n: string }>(
      `SELECT uniqExact(prediction_id) AS n FROM predictions WHERE model = '${model}'`,
    )
    return Number(row!.n)
  }
  const before = await partRows()
  const profile = process.env['BENCH_CPU_PROF']
  // BENCH_SINK_LOG=<prefix>: the sink's log lines go to `<prefix>-<model>.log`.
  const logTo = process.env['BENCH_SINK_LOG']
  const sinkProcess = spawn(
    process.execPath,
    [
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
      ...launchArgs(
        fileURLToPath(new URL('../services/inference/src/sink-main.ts', import.meta.url)),
      ),
    ],
    {
      env: {
        ...env,
        ARGMAX_INFERENCE_LOG_STREAM: names.log.stream,
        ARGMAX_INFERENCE_LOG_SUBJECT_PREFIX: names.log.subjectPrefix,
        ARGMAX_INFERENCE_STREAM: names.batch.stream,
        ARGMAX_INFERENCE_SUBJECT_PREFIX: names.batch.subjectPrefix,
        ARGMAX_INFERENCE_RETENTION_INTERVAL_SECONDS: '0',
      },
      stdio: ['ignore', logTo ? openSync(`${logTo}-${model}.log`, 'w') : 'ignore', 'inherit'],
    },
  )
  let first: { at: number; count: number; cpuUs: number } | undefined
  let last = { at: 0, cpuUs: 0 }
  const deadline = Date.now() + 600_000
  try {
    for (;;) {
      const n = (await partRows()) - before
      if (n > 0) first ??= { at: performance.now(), count: n, cpuUs: cpuUs(sinkProcess.pid!) }
      if (n >= rows && (await distinct()) >= rows) {
        last = { at: performance.now(), cpuUs: cpuUs(sinkProcess.pid!) }
        break
      }
      if (Date.now() > deadline || sinkProcess.exitCode !== null) {
        throw new Error(`the sink wrote ${n} of ${rows} rows`)
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  } finally {
    await stopChild(sinkProcess)
  }
  const [once] = await ch.query<{ n: string; ids: string }>(
    `SELECT count() AS n, uniqExact(prediction_id) AS ids FROM inference_log WHERE model = '${model}'`,
  )
  if (Number(once!.n) !== rows || Number(once!.ids) !== rows) {
    throw new Error(`inference_log holds ${once!.n} rows (${once!.ids} ids) for ${rows}`)
  }
  // Rows that all landed in one insert give no rate: too few for the sink's batch.
  if (first!.count >= rows) return { perS: Number.NaN, cpuUsPerRow: Number.NaN }
  const counted = rows - first!.count
  return {
    perS: counted / ((last.at - first!.at) / 1000),
    cpuUsPerRow: (last.cpuUs - first!.cpuUs) / counted,
  }
}

/** Publishes one envelope per record, as a gateway answering one request at a time does. */
async function fillOnePerMessage(
  nc: NatsConnection,
  names: InferenceStreamNames,
  records: PredictionLogRecord[],
): Promise<string[]> {
  const js = nc.jetstream()
  const ids = records.map(() => newEventId())
  let next = 0
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      for (let i = next++; i < records.length; i = next++) {
        const record = records[i]!
        const subject = `${names.log.subjectPrefix}.${record.model}`
        const bytes = encodeEnvelope({
          id: ids[i]!,
          type: PREDICTION_LOGGED,
          schemaVersion: PREDICTION_LOG_SCHEMA_VERSION,
          stream: names.log.stream,
          subject,
          occurredAt: record.time,
          actor: record.caller,
          correlationId: record.requestId,
          causationId: null,
          data: record,
        })
        await js.publish(subject, bytes, { msgID: ids[i]! })
      }
    }),
  )
  return ids
}

async function countRows(ch: AnalyticsClient, table: string): Promise<number> {
  const [row] = await ch.query<{ n: string }>(`SELECT count() AS n FROM ${table}`)
  return Number(row!.n)
}

if (values['serve-gateway-without-log']) await serveGatewayWithoutLog()
else if (values['serve-bare-proxy']) await serveBareProxy()
else if (values['serve-bytes-proxy']) await serveBytesProxy()
else if (values['serve-h2-proxy']) await serveH2Proxy()
else await main()
