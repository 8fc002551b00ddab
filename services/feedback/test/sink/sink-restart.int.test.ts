import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { eventually, launchArgs, stackEndpoints } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { regressionSignature, startHarness, type Harness } from '../support/harness.ts'

const sinkMain = fileURLToPath(new URL('../../src/sink-main.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))
const LABELS = 100_000

/** The sinks as their own process, started the way a deployment starts them. */
function startSinkProcess(h: Harness): {
  child: ChildProcess
  exited: Promise<unknown>
  output: string[]
} {
  const endpoints = stackEndpoints()
  const child = spawn(process.execPath, launchArgs(sinkMain), {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ARGMAX_NATS_URL: endpoints.natsUrl,
      ARGMAX_CLICKHOUSE_URL: endpoints.clickhouseUrl,
      ARGMAX_CLICKHOUSE_USER: endpoints.clickhouseUser,
      ARGMAX_CLICKHOUSE_PASSWORD: endpoints.clickhousePassword,
      ARGMAX_CLICKHOUSE_DATABASE: h.config.analytics.database,
      ARGMAX_FEEDBACK_STREAM: h.names.feedback.stream,
      ARGMAX_FEEDBACK_SUBJECT_ROOT: h.names.feedback.root,
      ARGMAX_FEEDBACK_LOG_STREAM: h.names.log.stream,
      ARGMAX_FEEDBACK_LOG_SUBJECT_ROOT: h.names.log.root,
      // One record (~2,500 labels) a batch: many batches, so the kill lands in the middle.
      ARGMAX_FEEDBACK_SINK_MAX_BATCH: '1',
      ARGMAX_FEEDBACK_SINK_ACK_WAIT_SECONDS: '3',
      ARGMAX_FEEDBACK_EVENTS_SINK: 'off',
    },
  })
  const output: string[] = []
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()))
  return { child, exited: new Promise((resolve) => child.once('exit', resolve)), output }
}

describe('the feedback sink killed with SIGKILL mid-batch', () => {
  let h: Harness
  let sink: ReturnType<typeof startSinkProcess> | undefined
  const count = async (sql: string) =>
    Number((await h.service.analytics.query<{ n: string }>(sql))[0]!.n)

  beforeAll(async () => {
    h = await startHarness({ sink: 'off' })
    await h.registerModel({
      model: 'm',
      version: 1,
      ownerId: 'alice',
      task: 'regression',
      signature: regressionSignature([{ name: 'x', type: 'FP32' }]),
    })
    await h.settle()
    // Accepted = acknowledged by JetStream: every one must reach ClickHouse, once.
    for (let sent = 0; sent < LABELS; sent += 10_000) {
      const labels = Array.from({ length: 10_000 }, (_, i) => ({
        predictionId: h.predictionId('m', 1),
        value: sent + i,
      }))
      const answer = await h.call<{ accepted: number }>('POST', '/v1/feedback', h.tokens.alice, {
        labels,
      })
      expect(answer.body.accepted).toBe(10_000)
    }
  }, 120_000)
  afterAll(async () => {
    sink?.child.kill('SIGKILL')
    await h?.stop()
  })

  it('writes every accepted label to ClickHouse once after a restart', async () => {
    sink = startSinkProcess(h)
    // Killed as soon as it has written part of the labels.
    await eventually(
      async () => {
        const written = await count('SELECT count() AS n FROM feedback_receipts')
        return written > 0 ? written : undefined
      },
      60_000,
      'the first rows',
    )
    sink.child.kill('SIGKILL')
    await sink.exited
    const atKill = await count('SELECT count() AS n FROM feedback_receipts')
    expect(atKill).toBeLessThan(LABELS)

    sink = startSinkProcess(h)
    await eventually(
      async () =>
        (await count('SELECT count() AS n FROM feedback')) === LABELS ? true : undefined,
      120_000,
      `all ${LABELS} labels (${sink.output.join('').slice(-500)})`,
    )
    expect(await count('SELECT count() AS n FROM feedback_history')).toBe(LABELS)
    expect(await count('SELECT uniqExact(prediction_id) AS n FROM feedback')).toBe(LABELS)
    expect(await count('SELECT sum(value_number) AS n FROM feedback')).toBe(
      ((LABELS - 1) * LABELS) / 2,
    )
    sink.child.kill('SIGTERM')
    await sink.exited
  })
})
