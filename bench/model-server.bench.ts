/**
 * Model server benchmark: our model server serving a small tabular ONNX model (2 FP32 columns →
 * LinearRegressor) against a bare grpc-js v2 server that answers the same shapes without any
 * work (no auth, no checks, no model), both as child processes, called by the same grpc-js
 * client at `--concurrency` requests in flight, one row per request with raw tensors as
 * tritonclient sends them. Ours runs with dynamic batching off, on (no queue delay: the
 * default), and on with a 500 µs queue delay — three versions of the same artifact side by side.
 * Rounds alternate the variants after an untimed warm-up of each; the median round's
 * throughput, the latencies of all rounds, the server's CPU per request and the mean rows per
 * model run (from the model server's own /metrics) are reported; each ratio is the median over
 * rounds of ours against the echo round just before it.
 *
 *   npx tsx bench/model-server.bench.ts [--requests 10000] [--concurrency 64] [--rounds 7]
 *
 * Prints a table on stderr and ends with ONE line of JSON on stdout.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import * as grpc from '@grpc/grpc-js'
import { generateDevSecret, mintDevToken } from '@argmax/auth'
import { createV2Client, type V2Client } from '@argmax/inference-service/model-server'
import { LINEAR_SIGNATURE, linearExpected, writeTestModels } from '@argmax/testkit/onnx-models'
import { loadInferenceService } from '@argmax/proto'
import { freePort, launchArgs, s3Credentials, startS3 } from '@argmax/stack'
import { createS3Client, ensureBucket } from '@argmax/storage'

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '7' },
    'serve-echo': { type: 'boolean', default: false },
  },
})

/** The baseline: v2 ModelInfer answered with an output of the right shape, nothing else. */
async function serveEcho(): Promise<void> {
  const server = new grpc.Server()
  server.addService(loadInferenceService(), {
    ModelInfer(
      call: grpc.ServerUnaryCall<
        { model_name: string; model_version: string; id: string; inputs: { shape: string[] }[] },
        unknown
      >,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      const rows = Number(call.request.inputs[0]?.shape[0] ?? 0)
      callback(null, {
        model_name: call.request.model_name,
        model_version: call.request.model_version,
        id: call.request.id,
        outputs: [{ name: 'y', datatype: 'FP32', shape: [rows, 1] }],
        raw_output_contents: [Buffer.alloc(rows * 4)],
      })
    },
  })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  )
  console.log(JSON.stringify({ msg: 'echo listening', grpc: `127.0.0.1:${port}` }))
  process.once('SIGTERM', () => server.forceShutdown())
}

interface Listening {
  child: ChildProcess
  grpc: string
  url?: string
}

function startChild(args: string[], env: NodeJS.ProcessEnv, ready: string): Promise<Listening> {
  // BENCH_CPU_PROF=<dir>: each server process writes a V8 CPU profile there.
  const profile = process.env['BENCH_CPU_PROF']
  const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []
  // BENCH_NODE_FLAGS: more flags for every server process (e.g. `--max-semi-space-size=32`).
  flags.push(...(process.env['BENCH_NODE_FLAGS']?.split(' ').filter(Boolean) ?? []))
  const [entry, ...rest] = args
  const child = spawn(process.execPath, [...flags, ...launchArgs(entry!), ...rest], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; grpc?: string; url?: string }
        if (entry.msg === ready && entry.grpc) resolve({ child, grpc: entry.grpc, ...entry })
      } catch {
        // not a log line
      }
    })
    child.once('exit', (code) =>
      reject(new Error(`${args[0]} exited with ${code} before it was ready`)),
    )
  })
}

interface Round {
  perS: number
  latenciesMs: number[]
  /** CPU the server process spent per request (user + system). */
  serverCpuUs: number
}

/** User + system CPU of a process so far, in µs (from /proc: moves far less with load than rates). */
function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1_000_000) / CLOCK_TICKS
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100

/** `total` one-row requests, `concurrency` in flight on one channel; latency per request. */
async function round(
  client: V2Client,
  serverPid: number,
  version: string,
  total: number,
  concurrency: number,
): Promise<Round> {
  const latenciesMs: number[] = new Array(total)
  let next = 0
  const cpuBefore = cpuUs(serverPid)
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const x = Buffer.from(new Float32Array([i % 100, 1]).buffer)
        const begin = performance.now()
        await client.call('ModelInfer', {
          model_name: 'linear',
          model_version: version,
          id: String(i),
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
  return { perS, latenciesMs, serverCpuUs: (cpuUs(serverPid) - cpuBefore) / total }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

const round2 = (value: number) => Math.round(value * 100) / 100

async function main(): Promise<void> {
  const total = Number(values.requests)
  const concurrency = Number(values.concurrency)
  const rounds = Number(values.rounds)
  const dataDir = mkdtempSync(join(tmpdir(), 'argmax-bench-model-server-'))
  const children: ChildProcess[] = []
  const s3Server = await startS3({ dataDir, port: await freePort() })
  try {
    const s3Settings = { endpoint: s3Server.url!, ...s3Credentials, forcePathStyle: true }
    const s3 = createS3Client(s3Settings)
    await ensureBucket(s3, 'models')
    const models = await writeTestModels([0.5])
    const artifact = models.linear.get(0.5)!
    await s3.send(
      new PutObjectCommand({ Bucket: 'models', Key: 'linear/model.onnx', Body: artifact.bytes }),
    )
    s3.destroy()

    const secret = generateDevSecret()
    const ours = await startChild(
      [fileURLToPath(new URL('../services/inference/src/model-server-main.ts', import.meta.url))],
      {
        ...process.env,
        ARGMAX_S3_ENDPOINT: s3Settings.endpoint,
        ARGMAX_S3_ACCESS_KEY_ID: s3Settings.accessKeyId,
        ARGMAX_S3_SECRET_ACCESS_KEY: s3Settings.secretAccessKey,
        ARGMAX_S3_FORCE_PATH_STYLE: 'true',
        ARGMAX_JWT_SECRET: secret,
        ARGMAX_HTTP_PORT: '0',
        ARGMAX_MODEL_SERVER_GRPC_PORT: '0',
        ARGMAX_MODEL_SERVER_CACHE_DIR: join(dataDir, 'model-cache'),
      },
      'model server listening',
    )
    children.push(ours.child)
    const echo = await startChild(
      [fileURLToPath(import.meta.url), '--serve-echo'],
      process.env,
      'echo listening',
    )
    children.push(echo.child)

    const token = await mintDevToken({ secret, subject: 'bench', roles: ['admin'], ttl: 3600 })
    const oursClient = createV2Client(ours.grpc, { token })
    const echoClient = createV2Client(echo.grpc, { token })
    const variants = [
      { name: 'echo', client: echoClient, pid: echo.child.pid!, version: '1', batching: undefined },
      {
        name: 'batching_off',
        client: oursClient,
        pid: ours.child.pid!,
        version: '1',
        batching: { maxBatchSize: 0 },
      },
      {
        name: 'batching_on',
        client: oursClient,
        pid: ours.child.pid!,
        version: '2',
        batching: { maxBatchSize: 64, maxQueueDelayMicroseconds: 0 },
      },
      {
        name: 'batching_on_delay_500us',
        client: oursClient,
        pid: ours.child.pid!,
        version: '3',
        batching: { maxBatchSize: 64, maxQueueDelayMicroseconds: 500 },
      },
    ] as const
    for (const variant of variants) {
      if (!variant.batching) continue
      await oursClient.call('RepositoryModelLoad', {
        model_name: 'linear',
        parameters: {
          version: { string_param: variant.version },
          config: {
            string_param: JSON.stringify({
              artifactUri: 's3://models/linear/model.onnx',
              sha256: artifact.sha256,
              signature: LINEAR_SIGNATURE,
              dynamicBatching: variant.batching,
            }),
          },
        },
      })
    }
    // Ours answers the model's prediction, not a stand-in.
    const check = await oursClient.call<{ raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: 'linear',
      inputs: [
        { name: 'x1', datatype: 'FP32', shape: [1] },
        { name: 'x2', datatype: 'FP32', shape: [1] },
      ],
      raw_input_contents: [
        Buffer.from(new Float32Array([4]).buffer),
        Buffer.from(new Float32Array([1]).buffer),
      ],
    })
    if (Buffer.from(check.raw_output_contents[0]!).readFloatLE(0) !== linearExpected(4, 1, 0.5)) {
      throw new Error('the model server answered a wrong prediction')
    }

    for (const variant of variants) {
      await round(variant.client, variant.pid, variant.version, Math.min(total, 4000), concurrency)
    }
    const results = new Map<string, Round[]>(variants.map((variant) => [variant.name, []]))
    for (let r = 0; r < rounds; r++) {
      for (const variant of variants) {
        const measured = await round(
          variant.client,
          variant.pid,
          variant.version,
          total,
          concurrency,
        )
        results.get(variant.name)!.push(measured)
        console.error(
          `round ${r + 1} ${variant.name}: ${Math.round(measured.perS)}/s, server CPU ${Math.round(measured.serverCpuUs)} µs/request`,
        )
      }
    }

    // Mean rows per model run, per version, from the model server's Prometheus metrics.
    const metrics = await (await fetch(`${ours.url}/metrics`)).text()
    const meanRows = (version: string) => {
      const value = (suffix: string) =>
        Number(
          new RegExp(
            `model_server_batch_size_${suffix}\\{model_name="linear",version="${version}"[^}]*\\} (\\S+)`,
          ).exec(metrics)?.[1],
        )
      return round2(value('sum') / value('count'))
    }

    const summary: Record<
      string,
      {
        per_s: number
        p50_ms: number
        p99_ms: number
        server_cpu_us_per_req: number
        mean_batch_rows?: number
      }
    > = {}
    for (const variant of variants) {
      const measured = results.get(variant.name)!
      const perS = measured.map((m) => m.perS).sort((a, b) => a - b)[
        Math.floor(measured.length / 2)
      ]!
      const latencies = measured.flatMap((m) => m.latenciesMs).sort((a, b) => a - b)
      summary[variant.name] = {
        per_s: Math.round(perS),
        p50_ms: round2(percentile(latencies, 50)),
        p99_ms: round2(percentile(latencies, 99)),
        server_cpu_us_per_req: Math.round(
          measured.map((m) => m.serverCpuUs).sort((a, b) => a - b)[
            Math.floor(measured.length / 2)
          ]!,
        ),
        ...(variant.batching ? { mean_batch_rows: meanRows(variant.version) } : {}),
      }
    }
    console.error(
      `\n${concurrency} in flight, ${total} one-row requests per round, median of ${rounds} rounds`,
    )
    console.error(
      'variant                   req/s    p50 ms   p99 ms   server CPU µs/req   rows/run',
    )
    for (const [name, s] of Object.entries(summary)) {
      console.error(
        `${name.padEnd(24)} ${String(s.per_s).padStart(6)}  ${s.p50_ms.toFixed(2).padStart(7)}  ${s.p99_ms
          .toFixed(2)
          .padStart(
            7,
          )}   ${String(s.server_cpu_us_per_req).padStart(17)}   ${s.mean_batch_rows ?? '—'}`,
      )
    }
    // Each round of ours against the echo round just before it: neighbours in time share the
    // machine's load, so the median of these ratios moves less than a ratio of medians.
    const pairedRatio = (name: string) => {
      const echoRounds = results.get('echo')!
      const ratios = results
        .get(name)!
        .map((measured, i) => measured.perS / echoRounds[i]!.perS)
        .sort((a, b) => a - b)
      return round2(ratios[Math.floor(ratios.length / 2)]!)
    }
    console.log(
      JSON.stringify({
        bench: 'model-server',
        requests: total,
        concurrency,
        rounds,
        ...summary,
        ratio: pairedRatio('batching_on'),
        ratio_batching_off: pairedRatio('batching_off'),
        ratio_batching_on_delay_500us: pairedRatio('batching_on_delay_500us'),
      }),
    )
    oursClient.close()
    echoClient.close()
  } finally {
    for (const child of children) {
      child.kill('SIGTERM')
      await new Promise((resolve) =>
        child.exitCode !== null ? resolve(null) : child.once('exit', resolve),
      )
    }
    await s3Server.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (values['serve-echo']) await serveEcho()
else await main()
