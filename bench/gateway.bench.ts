/**
 * Inference gateway benchmark: what the gateway adds over calling the model server directly.
 * One model server and two gateway processes (prediction log `async` and `durable`) on their
 * own NATS, PostgreSQL, ClickHouse and S3 (`@argmax/stack`), the gateway following a release
 * written to its REGISTRY stream like the registry's; the ClickHouse sink is off in both, so
 * only the log's JetStream publish is measured. The same grpc-js client sends one-row v2
 * ModelInfer requests with raw tensors (what tritonclient sends) to:
 *
 * - **direct** — the model server, version pinned, an admin token (the baseline);
 * - **gateway_async** / **gateway_durable** — the gateway, by the model's release, a user token:
 *   authentication, the schema check, routing, prediction ids, the log record.
 *
 * At concurrency 1: p50 and p99 latency, and the gateway's added latency (p50 and p99 of the
 * gateway minus those of direct, from all rounds). At `--concurrency`: throughput, and each
 * gateway's throughput against direct (median over rounds of the ratio to the direct round just
 * before it) and durable against async, and the server CPU per request (model server, plus the
 * gateway on its path, from /proc). Rounds alternate the variants after an untimed warm-up.
 *
 *   npx tsx bench/gateway.bench.ts [--requests 2000] [--concurrency 64] [--rounds 5]
 *
 * Prints a table on stderr and ends with ONE line of JSON on stdout.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import { REGISTRY_EVENTS } from '@argmax/contracts'
import { createEventStore, ensureStreams } from '@argmax/events'
import { createV2Client, type V2Client } from '@argmax/inference-service/model-server'
import { LINEAR_SIGNATURE, linearExpected, writeTestModels } from '@argmax/testkit/onnx-models'
import { endpointsToEnv, startStack } from '@argmax/stack'
import { createS3Client, ensureBucket } from '@argmax/storage'
import { connect } from 'nats'

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '5' },
  },
})

const MODEL = 'movies'
const BUCKET = 'argmax-models'

interface Listening {
  child: ChildProcess
  grpc: string
}

function startChild(entry: string, env: NodeJS.ProcessEnv, ready: string): Promise<Listening> {
  // BENCH_CPU_PROF=<dir>: each server process writes a V8 CPU profile there when it exits.
  const profile = process.env['BENCH_CPU_PROF']
  const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', entry], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
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

interface Target {
  name: 'direct' | 'gateway_async' | 'gateway_durable'
  client: V2Client
  version: string
  /** The processes a request goes through: CPU per request is their sum. */
  pids: number[]
}

/** User + system CPU of a process so far, in µs (moves far less with the load than rates). */
function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuUs(pid), 0)

/** `total` one-row requests, `concurrency` in flight; requests per second and each latency. */
async function round(target: Target, total: number, concurrency: number) {
  const latenciesMs: number[] = new Array(total)
  let next = 0
  const cpuBefore = cpuOf(target.pids)
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const x = Buffer.from(new Float32Array([i % 100, 1]).buffer)
        const begin = performance.now()
        await target.client.call('ModelInfer', {
          model_name: MODEL,
          model_version: target.version,
          id: `r${i}-${Math.random()}`,
          inputs: [
            { name: 'x1', datatype: 'FP32', shape: [1] },
            { name: 'x2', datatype: 'FP32', shape: [1] },
          ],
          raw_input_contents: [x.subarray(0, 4), x.subarray(4, 8)],
        })
        latenciesMs[i] = performance.now() - begin
      }
    }),
  )
  const perS = total / ((performance.now() - started) / 1000)
  return { perS, latenciesMs, cpuUsPerReq: (cpuOf(target.pids) - cpuBefore) / total }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
const median = (samples: number[]) =>
  [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!
const round3 = (value: number) => Math.round(value * 1000) / 1000

async function main(): Promise<void> {
  const total = Number(values.requests)
  const concurrency = Number(values.concurrency)
  const rounds = Number(values.rounds)
  const dataDir = mkdtempSync(join(tmpdir(), 'argmax-bench-gateway-'))
  const children: ChildProcess[] = []
  const stack = await startStack({ dataDir, ephemeral: true })
  try {
    const endpoints = stack.endpoints
    const secret = generateDevSecret()
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
    const gateways: Record<'async' | 'durable', Listening> = {} as never
    for (const mode of ['async', 'durable'] as const) {
      gateways[mode] = await startChild(
        fileURLToPath(new URL('../services/inference/src/main.ts', import.meta.url)),
        {
          ...common,
          ARGMAX_PREDICTION_ID_SECRET: generateDevSecret(),
          ARGMAX_INFERENCE_GRPC_PORT: '0',
          ARGMAX_MODEL_SERVERS: modelServer.grpc,
          ARGMAX_INFERENCE_LOG_MODE: mode,
          ARGMAX_INFERENCE_SINK: 'off',
          // Both gateways share the stack: their own schema and log subjects.
          ARGMAX_INFERENCE_SCHEMA: `inference_${mode}`,
          ARGMAX_INFERENCE_LOG_STREAM: `INFERENCE_LOG_${mode.toUpperCase()}`,
          ARGMAX_INFERENCE_LOG_SUBJECT_PREFIX: `inference${mode}.log`,
          ARGMAX_INFERENCE_STREAM: `INFERENCE_${mode.toUpperCase()}`,
          ARGMAX_INFERENCE_SUBJECT_PREFIX: `inference${mode}.batch`,
        },
        'inference gateway gRPC listening',
      )
      children.push(gateways[mode].child)
    }

    const admin = await mintDevToken({ secret, subject: 'bench', roles: ['admin'], ttl: 3600 })
    const user = await mintDevToken({ secret, subject: 'bench-user', roles: ['user'], ttl: 3600 })
    const targets: Target[] = [
      {
        name: 'direct',
        client: createV2Client(modelServer.grpc, { token: admin }),
        version: '1',
        pids: [modelServer.child.pid!],
      },
      {
        name: 'gateway_async',
        client: createV2Client(gateways.async.grpc, { token: user }),
        version: '',
        pids: [gateways.async.child.pid!, modelServer.child.pid!],
      },
      {
        name: 'gateway_durable',
        client: createV2Client(gateways.durable.grpc, { token: user }),
        version: '',
        pids: [gateways.durable.child.pid!, modelServer.child.pid!],
      },
    ]
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

    const results = {
      c1: new Map<string, Awaited<ReturnType<typeof round>>[]>(),
      cN: new Map<string, Awaited<ReturnType<typeof round>>[]>(),
    }
    for (const target of targets) {
      await round(target, Math.min(total, 1000), 1)
      await round(target, Math.min(total, 2000), concurrency)
      results.c1.set(target.name, [])
      results.cN.set(target.name, [])
    }
    for (let r = 0; r < rounds; r++) {
      for (const target of targets) {
        const one = await round(target, total, 1)
        const many = await round(target, total * 2, concurrency)
        results.c1.get(target.name)!.push(one)
        results.cN.get(target.name)!.push(many)
        console.error(
          `round ${r + 1} ${target.name}: c1 ${Math.round(one.perS)}/s, c${concurrency} ${Math.round(many.perS)}/s, ${Math.round(many.cpuUsPerReq)} µs CPU/request`,
        )
      }
    }

    const summary: Record<
      string,
      { p50_ms: number; p99_ms: number; per_s: number; cpu_us_per_req: number }
    > = {}
    for (const target of targets) {
      const latencies = results.c1
        .get(target.name)!
        .flatMap((m) => m.latenciesMs)
        .sort((a, b) => a - b)
      summary[target.name] = {
        p50_ms: round3(percentile(latencies, 50)),
        p99_ms: round3(percentile(latencies, 99)),
        per_s: Math.round(median(results.cN.get(target.name)!.map((m) => m.perS))),
        // Server side: the model server's, plus the gateway's where it is in the path.
        cpu_us_per_req: Math.round(median(results.cN.get(target.name)!.map((m) => m.cpuUsPerReq))),
      }
    }
    // Paired with the round just before: neighbours in time share the machine's load.
    const paired = (name: string, base: string) =>
      round3(median(results.cN.get(name)!.map((m, i) => m.perS / results.cN.get(base)![i]!.perS)))
    const added = (name: string, p: 'p50_ms' | 'p99_ms') =>
      round3(summary[name]![p] - summary['direct']![p])
    console.error(
      `\none-row requests; latency at concurrency 1 (${total} × ${rounds} rounds), throughput at ${concurrency} (median round)`,
    )
    console.error('target            p50 ms   p99 ms   req/s   server CPU µs/req')
    for (const [name, s] of Object.entries(summary)) {
      console.error(
        `${name.padEnd(16)} ${s.p50_ms.toFixed(3).padStart(7)}  ${s.p99_ms.toFixed(3).padStart(7)}  ${String(s.per_s).padStart(6)}   ${String(s.cpu_us_per_req).padStart(6)}`,
      )
    }
    console.log(
      JSON.stringify({
        bench: 'gateway',
        requests: total,
        concurrency,
        rounds,
        ...summary,
        added_p50_ms_async: added('gateway_async', 'p50_ms'),
        added_p99_ms_async: added('gateway_async', 'p99_ms'),
        added_p50_ms_durable: added('gateway_durable', 'p50_ms'),
        added_p99_ms_durable: added('gateway_durable', 'p99_ms'),
        ratio_async: paired('gateway_async', 'direct'),
        ratio_durable: paired('gateway_durable', 'direct'),
        ratio_durable_vs_async: paired('gateway_durable', 'gateway_async'),
      }),
    )
    for (const target of targets) target.client.close()
  } finally {
    for (const child of children) {
      child.kill('SIGTERM')
      await new Promise((resolve) =>
        child.exitCode !== null ? resolve(null) : child.once('exit', resolve),
      )
    }
    await stack.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
