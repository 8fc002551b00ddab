import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { listParked, silentConsumerLogger, type ConsumerLogger } from '@argmax/events'
import { createS3Client } from '@argmax/storage'
import { connectNats, stackEndpoints } from '@argmax/testkit'
import { v7 as uuidv7 } from 'uuid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UploadCompleted, UploadStarted } from '../../src/domain/index.ts'
import { versionSubject } from '../../src/streams.ts'
import { startValidator, type RunningValidator } from '../../src/workers/validation-consumer.ts'
import {
  MiB,
  createDatasetAs,
  sha256Hex,
  startHarness,
  uploadBytes,
  waitForOutcome,
  type Harness,
  type UploadedVersion,
} from '../support/harness.ts'

/**
 * An upload whose validation throws on every attempt: its events are written as a buggy or
 * foreign writer could have written them, with a format the validator does not know (the API
 * refuses it, so only a corrupt event can carry it).
 */
async function poisonUpload(h: Harness, datasetId: string): Promise<UploadedVersion> {
  const versionId = uuidv7()
  const objectKey = `datasets/${datasetId}/versions/${versionId}/data.csv`
  const bytes = Buffer.from('a,b\n1,2\n')
  await h.service.deps.s3.send(
    new PutObjectCommand({ Bucket: h.bucket, Key: objectKey, Body: bytes }),
  )
  const at = new Date().toISOString()
  const file = {
    versionId,
    datasetId,
    bucket: h.bucket,
    objectKey,
    format: 'no-such-format' as 'csv',
    size: bytes.length,
    sha256: sha256Hex(bytes),
    partCount: 1,
  }
  const started: UploadStarted = {
    type: 'UploadStarted',
    data: {
      ...file,
      ownerId: 'alice',
      fileName: 'poison.csv',
      partSize: 5 * MiB,
      s3UploadId: 'written-by-hand',
      startedAt: at,
    },
  }
  const completed: UploadCompleted = { type: 'UploadCompleted', data: { ...file, completedAt: at } }
  const { lastSequence } = await h.service.deps.store.append(
    versionSubject(h.names, versionId),
    [started, completed],
    { expectedLastSubjectSequence: 0, meta: { actor: 'alice' } },
  )
  return { versionId, position: lastSequence }
}

const goodCsv = (n: number) => Buffer.from(`id,x\n${n},1\n${n + 1},2\n`)

describe('the validator and poison messages', () => {
  let h: Harness
  let datasetId: string
  const validators: RunningValidator[] = []
  beforeAll(async () => {
    h = await startHarness({ validator: 'off' })
    datasetId = await createDatasetAs(h, h.tokens.alice, 'poison')
  })
  afterAll(async () => {
    for (const validator of validators) await validator.stop()
    await h.stop()
  })

  it(
    'validates good uploads while 16 failing ones wait for their retry; those end REJECTED and parked',
    { timeout: 120_000 },
    async () => {
      const poisons: UploadedVersion[] = []
      for (let i = 0; i < 16; i++) poisons.push(await poisonUpload(h, datasetId))
      const good: UploadedVersion[] = []
      for (let i = 0; i < 3; i++) {
        good.push(await uploadBytes(h, h.tokens.alice, datasetId, goodCsv(i * 10)))
      }
      const nc = await connectNats()
      const validator = await startValidator({
        nc,
        deps: h.service.deps,
        maxDeliver: 2,
        // Long enough that the good uploads, behind 16 poison messages in the stream, are
        // done before any poison message is tried a second time.
        retryDelaysMs: [15_000],
        workers: 0,
        logger: silentConsumerLogger,
      })
      validators.push(validator)

      for (const { versionId, position } of good) {
        const version = await waitForOutcome(h, h.tokens.alice, datasetId, versionId, position)
        expect(version.status).toBe('VALIDATED')
      }
      // Not one of the poison messages has used up its deliveries yet: none held the others up.
      expect((await listParked(nc, { stream: h.names.stream })).length).toBe(0)

      for (const { versionId, position } of poisons) {
        const version = await waitForOutcome(
          h,
          h.tokens.alice,
          datasetId,
          versionId,
          position,
          60_000,
        )
        expect(version.status).toBe('REJECTED')
        expect(version.errors).toHaveLength(1)
        expect(version.errors[0]!.code).toBe('internal_error')
        expect(version.errors[0]!.message).toMatch(/failed on every one of 2 attempts/)
      }
      const parked = await listParked(nc, { stream: h.names.stream })
      expect(parked).toHaveLength(16)
      for (const entry of parked) {
        expect(entry).toMatchObject({
          durable: 'dataset-validator',
          eventType: 'UploadCompleted',
          reason: 'handler_failed',
          deliveries: 2,
        })
        expect(entry.error.message).toMatch(/unknown format no-such-format/)
      }
      expect(validator.handled).toEqual({ validated: 3, rejected: 0, skipped: 0 })
      // Every message settled, the parked ones included: nothing waits on an ack or a retry.
      // Checked while the validator runs, as it also reads the rejections it has just written
      // (a message it gets as it stops goes back with a nak, which JetStream counts as pending).
      // Acks are one-way: the server applies them a moment after they were sent.
      const jsm = await nc.jetstreamManager()
      let info = await jsm.consumers.info(h.names.stream, 'dataset-validator')
      for (let i = 0; i < 100 && info.num_ack_pending + info.num_pending > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        info = await jsm.consumers.info(h.names.stream, 'dataset-validator')
      }
      expect(info).toMatchObject({ num_ack_pending: 0, num_pending: 0 })
      await validator.stop()
    },
  )

  it('abandons a hung S3 read after the read timeout and validates the file on the next attempt', async () => {
    const stalling = await stallingProxy(stackEndpoints().s3.endpoint!, 64 * 1024)
    try {
      // 2 MiB of rows: far more than the proxy lets through before it stalls.
      let csv = 'id,x\n'
      for (let i = 0; csv.length < 2 * MiB; i++) csv += `${i},${i % 7}\n`
      const upload = await uploadBytes(h, h.tokens.alice, datasetId, Buffer.from(csv))
      const warnings: Array<Record<string, unknown>> = []
      const logger: ConsumerLogger = {
        info: () => undefined,
        warn: (fields) => void warnings.push(fields),
        error: () => undefined,
      }
      const s3 = createS3Client({
        ...stackEndpoints().s3,
        endpoint: stalling.url,
        forcePathStyle: true,
      })
      const validator = await startValidator({
        nc: await connectNats(),
        deps: { ...h.service.deps, s3 },
        durable: 'validator-behind-a-stalling-proxy',
        readTimeoutMs: 1_000,
        retryDelaysMs: [100],
        workers: 0,
        logger,
      })
      validators.push(validator)
      const version = await waitForOutcome(
        h,
        h.tokens.alice,
        datasetId,
        upload.versionId,
        upload.position,
      )
      expect(version.status).toBe('VALIDATED')
      expect(stalling.stalled()).toBe(1)
      const failed = warnings.filter((fields) => fields['err'] !== undefined)
      expect(failed).toHaveLength(1)
      expect((failed[0]!['err'] as Error).name).toBe('ReadTimeoutError')
      await validator.stop()
      s3.destroy()
    } finally {
      await stalling.close()
    }
  })
})

/**
 * A TCP proxy in front of the real S3 server whose first connection to send more than
 * `stallAfter` bytes back stops forwarding mid-body and holds the socket open: a hung read.
 * Every later connection passes through untouched.
 */
async function stallingProxy(target: string, stallAfter: number) {
  const { hostname, port } = new URL(target)
  let stalledConnections = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(Number(port), hostname)
    sockets.add(client).add(upstream)
    client.pipe(upstream)
    const mayStall = stalledConnections === 0
    let sent = 0
    upstream.on('data', (chunk: Buffer) => {
      if (mayStall && stalledConnections === 0 && sent + chunk.length > stallAfter) {
        stalledConnections++
        client.write(chunk.subarray(0, stallAfter - sent))
        upstream.pause()
        upstream.removeAllListeners('data')
        return
      }
      sent += chunk.length
      client.write(chunk)
    })
    upstream.on('end', () => client.end())
    const close = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', close).on('close', close)
    upstream.on('error', close)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${address.port}`,
    stalled: () => stalledConnections,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
