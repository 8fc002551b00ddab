import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createAnalyticsClient, type AnalyticsClient } from '@argmax/analytics'
import {
  clickhouseCredentials,
  clickhouseDatabase,
  freePort,
  startClickhouse,
  type RunningPart,
} from '@argmax/stack'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LINEAR_SIGNATURE, writeTestModels } from '@argmax/testkit/onnx-models'
import { startGatewayHarness, type GatewayHarness } from './support/gateway-harness.ts'
import type { ServiceProcess } from './support/service-process.ts'
import { spawnSink } from './support/sink-process.ts'

/**
 * The exactly-once promise under the failures it is for: a private ClickHouse (SIGKILLed and
 * down for 5 s mid-test) and the sink as its own process (SIGKILLed mid-batch), while the gateway
 * keeps answering in durable mode. Afterwards every prediction id a caller got with a 2xx is in
 * ClickHouse exactly once, as the analyst sees it.
 *
 * Outages of seconds: 5 s spans several of the sink's retries (0.5 s doubling), and the sink's
 * ack wait is 10 s here (60 s by default) so that the killed sink's batch comes back within the
 * test rather than a minute later; 10 s is still above the 5 s backoff step, so a batch waiting
 * for ClickHouse keeps its claim as it does with the default.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'argmax-sink-outage-'))
let httpPort: number
let tcpPort: number
let clickhouse: RunningPart
let h: GatewayHarness
let reader: AnalyticsClient
let sink: ServiceProcess | undefined

beforeAll(async () => {
  httpPort = await freePort()
  tcpPort = await freePort()
  // What does not depend on each other starts side by side (each kept as it starts, for
  // afterAll to stop): the private ClickHouse and the gateway, then the sink process (seconds
  // of start-up) while the gateway loads its model.
  const [, models] = await Promise.all([
    startClickhouse({ dataDir, httpPort, tcpPort }).then((started) => (clickhouse = started)),
    writeTestModels([1]),
    startGatewayHarness({ sink: false }).then((started) => (h = started)),
  ])
  await Promise.all([
    startSink().then((started) => (sink = started)),
    (async () => {
      await h.registry.registerVersion('movies', 1, models.linear.get(1)!.bytes, LINEAR_SIGNATURE)
      await h.registry.release('movies', { stable: 1 })
      await h.waitServing('movies')
    })(),
  ])
  reader = createAnalyticsClient(
    {
      url: `http://127.0.0.1:${httpPort}`,
      user: clickhouseCredentials.writer.user,
      password: clickhouseCredentials.writer.password,
    },
    { database: clickhouseDatabase },
  )
}, 180_000)

afterAll(async () => {
  await sink?.kill('SIGKILL')
  await h?.stop()
  await reader?.close()
  await clickhouse?.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

function startSink(): Promise<ServiceProcess> {
  return spawnSink({
    clickhouse: {
      url: `http://127.0.0.1:${httpPort}`,
      user: clickhouseCredentials.writer.user,
      password: clickhouseCredentials.writer.password,
      database: clickhouseDatabase,
    },
    bucket: h.bucket,
    names: h.names,
    env: {
      // Small batches, so a kill lands between an INSERT and its acks often.
      ARGMAX_INFERENCE_SINK_MAX_BATCH: '200',
      ARGMAX_INFERENCE_SINK_MAX_WAIT_MS: '20',
      ARGMAX_INFERENCE_SINK_ACK_WAIT_SECONDS: '10',
    },
  })
}

async function rowsInClickhouse(): Promise<number> {
  const [row] = await reader.query<{ n: string }>('SELECT count() AS n FROM predictions')
  return Number(row?.n ?? 0)
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

describe('the sink killed mid-batch and ClickHouse killed for 5 s, under load', () => {
  it('leaves every 2xx prediction id in ClickHouse exactly once', async () => {
    const answered: string[] = []
    let failed = 0
    let stopped = false
    const traffic = Promise.all(
      Array.from({ length: 6 }, async () => {
        while (!stopped) {
          const answer = await h.rest<{ predictionIds: string[] }>(
            'POST',
            '/v1/models/movies:predict',
            h.tokens.alice,
            {
              instances: [
                { x1: 1, x2: 2 },
                { x1: 3, x2: 4 },
              ],
            },
            { 'x-request-id': randomUUID() },
          )
          if (answer.status === 200) answered.push(...answer.body.predictionIds)
          else failed++
        }
      }),
    )

    // The sink writes; kill it while it does, and start another.
    await waitUntil(async () => (await rowsInClickhouse()) > 500, 60_000)
    await sink!.kill('SIGKILL')
    // Its replacement takes seconds to start: the stream fills meanwhile.
    sink = await startSink()

    // ClickHouse dies and stays away for 5 s while requests keep coming and the sink keeps
    // consuming (killed rather than stopped: an INSERT in flight may be taken without its answer).
    await waitUntil(async () => (await rowsInClickhouse()) > 2_000, 60_000)
    process.kill(clickhouse.pid, 'SIGKILL')
    await clickhouse.exited
    await new Promise((resolve) => setTimeout(resolve, 5_000))
    clickhouse = await startClickhouse({ dataDir, httpPort, tcpPort })
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    stopped = true
    await traffic

    expect(failed).toBe(0)
    const expected = new Set(answered)
    expect(expected.size).toBe(answered.length)
    await waitUntil(async () => {
      const [row] = await reader.query<{ n: string }>('SELECT count() AS n FROM inference_log')
      return Number(row?.n) >= expected.size
    }, 120_000)

    // As the analyst, with clickhouse-client: each id once, none missing, none extra.
    const { stdout } = await promisify(execFile)(
      'clickhouse-client',
      [
        '--port',
        String(tcpPort),
        '--user',
        clickhouseCredentials.analyst.user,
        '--password',
        clickhouseCredentials.analyst.password,
        '--database',
        clickhouseDatabase,
        '--query',
        "SELECT prediction_id, count() FROM inference_log WHERE status = 'success' GROUP BY prediction_id FORMAT TabSeparated",
      ],
      { maxBuffer: 64 << 20 },
    )
    const counts = new Map(
      stdout
        .trim()
        .split('\n')
        .map((line) => line.split('\t') as [string, string]),
    )
    expect(counts.size).toBe(expected.size)
    for (const id of expected) expect(counts.get(id), id).toBe('1')
    // Redeliveries did happen: the raw table holds some rows twice until its parts merge.
    const [raw] = await reader.query<{ n: string }>(
      "SELECT count() AS n FROM predictions WHERE status = 'success'",
    )
    expect(Number(raw!.n)).toBeGreaterThanOrEqual(expected.size)
  }, 300_000)
})
