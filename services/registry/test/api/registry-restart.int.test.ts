import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { eventually, launchArgs, stackEndpoints } from '@argmax/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { modelSubject } from '../../src/streams.ts'
import { TRAINING_FOLLOWER_DURABLE } from '../../src/workers/training-follower.ts'
import { startAckDroppingProxy, type AckDroppingProxy } from '../support/ack-dropping-proxy.ts'
import {
  devTokens,
  fakeRun,
  freshSetup,
  publishRun,
  registryEnv,
  type Setup,
} from '../support/harness.ts'

const registryMain = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))

interface RegistryProcess {
  child: ChildProcess
  lines: string[]
  exited: Promise<unknown>
  /** Resolves with the URL it serves once ready. */
  ready: Promise<string>
}

/** The registry as its own process, started the way a deployment starts it. */
function startRegistryProcess(setup: Setup, env: Record<string, string> = {}): RegistryProcess {
  const child = spawn(process.execPath, launchArgs(registryMain), {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...registryEnv(setup),
      // Short: what the killed process held goes back to JetStream soon.
      ARGMAX_REGISTRY_TRAINING_ACK_WAIT_SECONDS: '4',
      ...env,
    },
  })
  const lines: string[] = []
  let buffered = ''
  let resolveReady!: (url: string) => void
  const ready = new Promise<string>((resolve) => (resolveReady = resolve))
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const complete = buffered.split('\n')
    buffered = complete.pop()!
    for (const line of complete) {
      lines.push(line)
      if (line.includes('registry service ready')) resolveReady(JSON.parse(line).url as string)
    }
  })
  child.stderr!.on('data', (chunk: Buffer) => lines.push(chunk.toString()))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return { child, lines, exited, ready }
}

async function registeredRuns(
  setup: Setup,
  model: string,
): Promise<Array<{ version: number; runId: string }>> {
  // The registry creates its stream when it starts: until then, nothing is registered.
  const events = await setup.store.load(modelSubject(setup.names, model)).catch(() => [])
  return events
    .filter((e) => e.type === 'ModelVersionRegistered')
    .map((e) => {
      const data = e.data as { version: number; source: { runId: string } }
      return { version: data.version, runId: data.source.runId }
    })
}

/** Every run exactly once, numbered 1…n without gaps. */
function expectExactlyOnce(
  registered: Array<{ version: number; runId: string }>,
  runIds: string[],
) {
  expect(registered.map((r) => r.version)).toEqual(runIds.map((_, i) => i + 1))
  expect([...registered.map((r) => r.runId)].sort()).toEqual([...runIds].sort())
}

describe('the registry killed in the middle of registering runs', () => {
  let setup: Setup
  const processes: RegistryProcess[] = []
  let proxy: AckDroppingProxy | undefined
  beforeAll(async () => {
    setup = await freshSetup()
  })
  const killAll = async () => {
    for (const { child, exited } of processes) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    }
  }
  // A test that failed half-way leaves no process behind to take the next test's work.
  beforeEach(killAll)
  afterAll(async () => {
    await killAll()
    await proxy?.close()
  })

  it(
    'killed after appending versions but before acknowledging them: restarted, every run is still one version',
    { timeout: 180_000 },
    async () => {
      const runs = await Promise.all(
        Array.from({ length: 8 }, () => fakeRun(setup, { model: 'unacked', ownerId: 'alice' })),
      )
      for (const run of runs) await publishRun(setup, run)
      const runIds = runs.map((r) => r.succeeded.runId)

      // Through a proxy that swallows its acknowledgements: it appends, JetStream never hears.
      proxy = await startAckDroppingProxy(stackEndpoints().natsUrl)
      const first = startRegistryProcess(setup, { ARGMAX_NATS_URL: proxy.url })
      processes.push(first)
      await eventually(
        async () =>
          (await registeredRuns(setup, 'unacked')).length === runs.length ? true : undefined,
        60_000,
        'every run appended by the first process',
      )
      expect(proxy.dropped).toBeGreaterThan(0)
      first.child.kill('SIGKILL')
      await first.exited

      // Every message it handled goes back to JetStream; the next process gets them all again.
      const second = startRegistryProcess(setup)
      processes.push(second)
      const url = await second.ready
      const jsm = await setup.nc.jetstreamManager()
      await eventually(
        async () => {
          const info = await jsm.consumers.info(setup.training.stream, TRAINING_FOLLOWER_DURABLE)
          // Deliveries beyond the stream's messages are redeliveries.
          const redelivered = info.delivered.consumer_seq > info.delivered.stream_seq
          return info.num_ack_pending === 0 && info.num_pending === 0 && redelivered
            ? info
            : undefined
        },
        60_000,
        'the redeliveries to be handled',
      )
      const repeated = second.lines.filter((l) => l.includes('run already decided')).length
      expect(repeated).toBeGreaterThanOrEqual(1)
      expectExactlyOnce(await registeredRuns(setup, 'unacked'), runIds)

      const tokens = await devTokens(setup.secret)
      const listed = (await (
        await fetch(`${url}/v1/models/unacked/versions`, {
          headers: { authorization: `Bearer ${tokens.alice}` },
        })
      ).json()) as { items: Array<{ version: number }> }
      expect(listed.items.map((v) => v.version)).toEqual(runIds.map((_, i) => runIds.length - i))
      second.child.kill('SIGTERM')
      await second.exited
    },
  )

  it(
    'killed at any point of a backlog: restarted, every run is one version, numbered without gaps',
    { timeout: 180_000 },
    async () => {
      const runs = await Promise.all(
        Array.from({ length: 30 }, () => fakeRun(setup, { model: 'backlog', ownerId: 'alice' })),
      )
      for (const run of runs) await publishRun(setup, run)
      const runIds = runs.map((r) => r.succeeded.runId)

      const first = startRegistryProcess(setup)
      processes.push(first)
      await eventually(
        async () =>
          first.lines.filter((l) => l.includes('"registering the run"') && l.includes('backlog'))
            .length >= 5
            ? true
            : undefined,
        60_000,
        'the first process to be registering',
      )
      first.child.kill('SIGKILL')
      await first.exited
      const before = (await registeredRuns(setup, 'backlog')).length
      expect(before).toBeLessThan(runs.length)

      const second = startRegistryProcess(setup)
      processes.push(second)
      await eventually(
        async () =>
          (await registeredRuns(setup, 'backlog')).length >= runs.length ? true : undefined,
        120_000,
        'every run registered',
      )
      // Nothing more arrives once the backlog and any redelivery are handled.
      const jsm = await setup.nc.jetstreamManager()
      await eventually(
        async () => {
          const info = await jsm.consumers.info(setup.training.stream, TRAINING_FOLLOWER_DURABLE)
          return info.num_ack_pending === 0 && info.num_pending === 0 ? info : undefined
        },
        60_000,
        'the backlog handled',
      )
      expectExactlyOnce(await registeredRuns(setup, 'backlog'), runIds)
      second.child.kill('SIGTERM')
      await second.exited
    },
  )
})
