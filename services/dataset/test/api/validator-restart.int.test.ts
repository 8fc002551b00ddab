import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { launchArgs, stackEndpoints } from '@argmax/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  MiB,
  createDatasetAs,
  startHarness,
  uploadThroughApi,
  waitForOutcome,
  type Harness,
} from '../support/harness.ts'

const validatorMain = fileURLToPath(new URL('../../src/validator-main.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))

/** The validator as its own process, started the way a deployment starts it. */
function startValidatorProcess(h: Harness): {
  child: ChildProcess
  lines: string[]
  exited: Promise<unknown>
} {
  const { natsUrl, s3 } = stackEndpoints()
  const child = spawn(process.execPath, launchArgs(validatorMain), {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ARGMAX_NATS_URL: natsUrl,
      ARGMAX_S3_ENDPOINT: s3.endpoint,
      ARGMAX_S3_REGION: s3.region,
      ARGMAX_S3_ACCESS_KEY_ID: s3.accessKeyId,
      ARGMAX_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      ARGMAX_S3_FORCE_PATH_STYLE: 'true',
      ARGMAX_DATASET_STREAM: h.names.stream,
      ARGMAX_DATASET_SUBJECT_ROOT: h.names.root,
      // Short, so the killed validator's claim lapses soon; not shorter, because a validator
      // reports progress only as it reads and profiles, and starting its worker threads on a
      // busy machine can take a few seconds in which it does neither.
      ARGMAX_DATASET_VALIDATOR_ACK_WAIT_SECONDS: '10',
    },
  })
  const lines: string[] = []
  let buffered = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const complete = buffered.split('\n')
    buffered = complete.pop()!
    lines.push(...complete)
  })
  child.stderr!.on('data', (chunk: Buffer) => lines.push(chunk.toString()))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return { child, lines, exited }
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function* csvParts(rows: number, partSize: number): Generator<Buffer> {
  let all = Buffer.from('id,x,y\n')
  for (let start = 0; start < rows; start += 20_000) {
    let text = ''
    for (let id = start; id < Math.min(rows, start + 20_000); id++)
      text += `${id},${id % 97},${id * 0.5}\n`
    all = Buffer.concat([all, Buffer.from(text)])
    while (all.length >= partSize) {
      yield all.subarray(0, partSize)
      all = all.subarray(partSize)
    }
  }
  if (all.length > 0) yield all
}

describe('the validator killed in the middle of a file', () => {
  let h: Harness
  const children: Array<{ child: ChildProcess; exited: Promise<unknown> }> = []
  beforeAll(async () => {
    h = await startHarness({ validator: 'off' })
  })
  afterAll(async () => {
    for (const { child, exited } of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    }
    await h.stop()
  })

  it(
    'is restarted and ends with the same VALIDATED version, once',
    { timeout: 180_000 },
    async () => {
      const rows = 4_000_000
      const partSize = 8 * MiB
      const hash = createHash('sha256')
      let size = 0
      for (const part of csvParts(rows, partSize)) {
        hash.update(part)
        size += part.length
      }
      const datasetId = await createDatasetAs(h, h.tokens.alice, 'restartable')
      const { versionId, position } = await uploadThroughApi(h, h.tokens.alice, datasetId, {
        fileName: 'big.csv',
        format: 'csv',
        size,
        sha256: hash.digest('hex'),
        partSize,
        parts: () => csvParts(rows, partSize),
      })

      const first = startValidatorProcess(h)
      children.push(first)
      await until(
        () => first.lines.some((l) => l.includes('"validating"')),
        'the first validator to start the file',
      )
      await new Promise((resolve) => setTimeout(resolve, 300))
      first.child.kill('SIGKILL')
      await first.exited

      // Killed mid-file: no outcome was written.
      const between = await h.call<{ status: string }>(
        'GET',
        `/v1/datasets/${datasetId}/versions/${versionId}?minPosition=${position}`,
        h.tokens.alice,
      )
      expect(between.body.status).toBe('VALIDATING')

      const second = startValidatorProcess(h)
      children.push(second)
      const version = await waitForOutcome(
        h,
        h.tokens.alice,
        datasetId,
        versionId,
        position,
        150_000,
      )
      expect(version.status).toBe('VALIDATED')
      expect(version.rowCount).toBe(rows)

      const events = await h.service.deps.store.load(`${h.names.root}.version.${versionId}`)
      expect(
        events.filter((e) => e.type === 'VersionValidated' || e.type === 'VersionRejected'),
      ).toHaveLength(1)
      second.child.kill('SIGTERM')
      await second.exited
    },
  )
})
