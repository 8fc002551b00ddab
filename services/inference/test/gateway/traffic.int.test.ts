import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PredictionLogRecord } from '@argmax/contracts'
import { LINEAR_SIGNATURE, linearExpected, writeTestModels } from '@argmax/testkit/onnx-models'
import { startGatewayHarness, type GatewayHarness } from './support/gateway-harness.ts'
import { loggedRecords } from '../../src/application/prediction-log.ts'

/**
 * Routing by release: the linear test model with intercept v answers 2·x1 + 3·x2 + v, so every
 * answer says which version computed it, independently of what the gateway reports.
 */
let h: GatewayHarness

beforeAll(async () => {
  const models = await writeTestModels([1, 2, 3])
  h = await startGatewayHarness()
  for (const version of [1, 2, 3]) {
    await h.registry.registerVersion(
      'movies',
      version,
      models.linear.get(version)!.bytes,
      LINEAR_SIGNATURE,
    )
  }
  await h.registry.release('movies', { stable: 1 })
  await h.waitServing('movies')
})
afterAll(() => h?.stop())

interface Answer {
  status: number
  version: number | undefined
  computedBy: number | undefined
}

/** One :predict of x1 = 0, x2 = 0: the answer is the intercept, i.e. the version. */
async function predict(requestId: string): Promise<Answer> {
  const answer = await h.rest<{ version: number; predictions: number[] }>(
    'POST',
    '/v1/models/movies:predict',
    h.tokens.alice,
    { instances: [{ x1: 0, x2: 0 }] },
    { 'x-request-id': requestId },
  )
  return {
    status: answer.status,
    version: answer.body.version,
    computedBy: answer.body.predictions?.[0],
  }
}

/** `count` requests, `concurrency` at a time. */
async function load(count: number, concurrency: number, onAnswer: (answer: Answer) => void) {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++
        onAnswer(await predict(randomUUID()))
      }
    }),
  )
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('traffic follows the release', () => {
  it('splits 10,000 requests 90/10 within four standard deviations, each answer from the version it names', async () => {
    await h.registry.release('movies', { stable: 1, canary: { version: 2, percent: 10 } })
    await waitUntil(async () => {
      for (let i = 0; i < 50; i++) if ((await predict(randomUUID())).version === 2) return true
      return false
    })
    const counts = new Map<number, number>()
    let failures = 0
    await load(10_000, 16, (answer) => {
      if (answer.status !== 200) failures++
      expect(answer.computedBy).toBe(answer.version)
      counts.set(answer.version!, (counts.get(answer.version!) ?? 0) + 1)
    })
    expect(failures).toBe(0)
    const canary = counts.get(2) ?? 0
    expect(canary + (counts.get(1) ?? 0)).toBe(10_000)
    const sigma = Math.sqrt(10_000 * 0.1 * 0.9)
    expect(Math.abs(canary - 1_000), `canary answered ${canary}`).toBeLessThan(4 * sigma)
  })

  it('sends a retried request id to the same version', async () => {
    for (let i = 0; i < 50; i++) {
      const id = randomUUID()
      const first = await predict(id)
      for (let retry = 0; retry < 3; retry++)
        expect((await predict(id)).version).toBe(first.version)
    }
  })

  it('mirrors to the shadow version without its answers reaching the caller', async () => {
    const jsm = await h.nc.jetstreamManager()
    // Only the log records written from here on are read (the 10,000 above are not).
    const released = (await jsm.streams.info(h.names.log.stream)).state.last_seq
    await h.registry.release('movies', { stable: 1, shadow: 3 })
    // Wait until the shadow serves (its records appear), then look at what callers get.
    await waitUntil(async () => {
      await predict(randomUUID())
      return (await shadowRecords(released)).length > 0
    })
    const before = (await jsm.streams.info(h.names.log.stream)).state.last_seq
    const answers: Answer[] = []
    await load(200, 8, (answer) => answers.push(answer))
    expect(answers.every((a) => a.status === 200 && a.version === 1 && a.computedBy === 1)).toBe(
      true,
    )
    await waitUntil(async () => (await shadowRecords(before)).length === 200)
    const shadows = await shadowRecords(before)
    expect(
      shadows.every(
        (r) =>
          r.version === 3 &&
          r.rows[0]!.outputs === JSON.stringify({ y: linearExpected(0, 0, 3) }) &&
          r.rows[0]!.prediction === linearExpected(0, 0, 3),
      ),
    ).toBe(true)
    // Every mirrored request is one the caller got from the stable version, with other ids.
    const stable = (await records(before)).filter((r) => r.variant === 'stable')
    expect(new Set(shadows.map((r) => r.requestId))).toEqual(
      new Set(stable.map((r) => r.requestId)),
    )
    const stableIds = new Set(stable.map((r) => r.rows[0]!.predictionId))
    expect(shadows.some((r) => stableIds.has(r.rows[0]!.predictionId))).toBe(false)
  })

  it('moves traffic to a new release without a failed request, then unloads what nothing serves', async () => {
    await h.registry.release('movies', { stable: 1 })
    const seen = new Set<number>()
    let failures = 0
    let switched = false
    const running = (async () => {
      while (!switched) {
        await load(50, 8, (answer) => {
          if (answer.status !== 200) failures++
          else seen.add(answer.version!)
        })
      }
    })()
    await new Promise((resolve) => setTimeout(resolve, 300))
    await h.registry.release('movies', { stable: 2 })
    await waitUntil(async () => (await predict(randomUUID())).version === 2)
    // Keep the load on a while longer: nothing may fail as version 1 drains and unloads.
    await waitUntil(async () => !(await loaded()).includes('1'))
    switched = true
    await running
    expect(failures).toBe(0)
    expect(seen).toEqual(new Set([1, 2]))
    const after: Answer[] = []
    await load(100, 8, (answer) => after.push(answer))
    expect(after.every((a) => a.status === 200 && a.version === 2 && a.computedBy === 2)).toBe(true)
  })

  it('loads the challenger before any release routes to it, and lets it go once its rollout is rolled back', async () => {
    await waitUntil(async () => !(await loaded()).includes('3'))
    await h.registry.setAlias('movies', 'challenger', 3)
    // Loaded on the placement's own, without a request pinning it.
    await waitUntil(async () => (await loaded()).includes('3'))
    await waitUntil(
      async () =>
        (await h.rest('GET', '/v2/models/movies/versions/3/ready', h.tokens.alice)).status === 200,
    )
    const meanwhile: Answer[] = []
    await load(50, 8, (answer) => meanwhile.push(answer))
    expect(meanwhile.every((a) => a.status === 200 && a.version === 2)).toBe(true)

    // Its canary starts on the loaded model, then fails and is rolled back: not kept warm.
    await h.registry.release('movies', { stable: 2, canary: { version: 3, percent: 50 } })
    await waitUntil(async () => {
      for (let i = 0; i < 20; i++) if ((await predict(randomUUID())).version === 3) return true
      return false
    })
    await h.registry.rollBack('movies', 3)
    await h.registry.release('movies', { stable: 2 })
    await waitUntil(async () => !(await loaded()).includes('3'))
  })
})

async function records(afterSequence = 0): Promise<PredictionLogRecord[]> {
  const jsm = await h.nc.jetstreamManager()
  const info = await jsm.streams.info(h.names.log.stream)
  const out: PredictionLogRecord[] = []
  for (let seq = afterSequence + 1; seq <= info.state.last_seq; seq++) {
    const message = await jsm.streams.getMessage(h.names.log.stream, { seq })
    const envelope = JSON.parse(new TextDecoder().decode(message.data)) as {
      type: string
      data: unknown
    }
    // One record a message, or several (records that waited behind a publish go together).
    out.push(...loggedRecords(envelope.type, envelope.data))
  }
  return out
}

async function shadowRecords(afterSequence = 0) {
  return (await records(afterSequence)).filter(
    (r) => r.variant === 'shadow' && r.status === 'success',
  )
}

/** Versions of `movies` the model servers hold, across all of them. */
async function loaded(): Promise<string[]> {
  const versions = new Set<string>()
  for (const server of h.modelServers) {
    for (const entry of server.server.repository.index())
      if (entry.name === 'movies') versions.add(entry.version)
  }
  return [...versions]
}
