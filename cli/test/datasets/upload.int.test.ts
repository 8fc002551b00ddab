import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
// The dataset service in this process, on a real port, against the test kit's servers.
import {
  sha256Hex,
  startHarness,
  type Harness,
} from '../../../services/dataset/test/support/harness.ts'
import { createDatasetClient, type DatasetClient } from '@argmax/dataset-service/client'
import {
  downloadVersion,
  registerDatasetCommands,
  uploadFile,
  waitForOutcome,
} from '../../src/datasets/index.ts'

const MiB = 1024 * 1024

/** ~12 MiB of CSV by default: three parts of 5 MiB (the last one short). */
function writeCsv(path: string, atLeast = 12 * MiB): { bytes: Buffer; rows: number } {
  const lines = ['id,amount,kind']
  let size = 0
  let id = 0
  while (size < atLeast) {
    const line = `${id},${(id % 1000) / 4},${id % 2 === 0 ? 'even' : 'odd'}`
    lines.push(line)
    size += line.length + 1
    id++
  }
  const bytes = Buffer.from(lines.join('\n') + '\n')
  writeFileSync(path, bytes)
  return { bytes, rows: id }
}

describe('argmax datasets upload against the service', () => {
  let h: Harness
  let api: DatasetClient
  let dir: string
  beforeAll(async () => {
    h = await startHarness({ listen: true })
    api = createDatasetClient({ baseUrl: h.service.url!, token: h.tokens.alice })
    dir = mkdtempSync(join(tmpdir(), 'argmax-cli-upload-'))
  })
  afterAll(async () => {
    await h.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('resumes an interrupted upload from the recorded parts and downloads the same bytes', async () => {
    const { id: datasetId } = await api.createDataset({ body: { name: 'resumable' } })
    const path = join(dir, 'amounts.csv')
    const { bytes, rows } = writeCsv(path)

    // First attempt: interrupted once the first part is stored.
    const controller = new AbortController()
    let uploadId = ''
    await expect(
      uploadFile({
        api,
        datasetId,
        filePath: path,
        partSize: 5 * MiB,
        concurrency: 1,
        signal: controller.signal,
        onStart: (upload) => (uploadId = upload.uploadId),
        onProgress: (p) => {
          if (p.phase === 'uploading' && p.bytes >= 5 * MiB) controller.abort(new Error('Ctrl-C'))
        },
      }),
    ).rejects.toThrow()
    // The part reported just before the interruption reaches the service.
    for (let attempt = 0; attempt < 100; attempt++) {
      if ((await api.getUpload({ params: { datasetId, uploadId } })).parts.length > 0) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect((await api.getUpload({ params: { datasetId, uploadId } })).parts.length).toBeGreaterThan(
      0,
    )

    // Second attempt: finds the unfinished upload of the same file and sends only the rest.
    const result = await uploadFile({ api, datasetId, filePath: path, concurrency: 4 })
    expect(result.uploadId).toBe(uploadId)
    expect(result.resumedParts).toBeGreaterThan(0)
    expect(result.partCount).toBe(3)
    expect(result.sha256).toBe(sha256Hex(bytes))

    const version = await waitForOutcome(api, datasetId, result.versionId, result.position, {
      timeoutMs: 60_000,
    })
    expect(version.status).toBe('VALIDATED')
    expect(version.rowCount).toBe(rows)

    const saved = await downloadVersion({
      api,
      datasetId,
      versionId: result.versionId,
      outputPath: join(dir, 'downloaded.csv'),
    })
    expect(saved.sha256).toBe(sha256Hex(bytes))
  })

  it('finishes a slow upload with short-lived part URLs, asking for them as it goes', async () => {
    // Part URLs that live 3 s, and an upload that takes 1.5 s per part: URLs handed out at the
    // start would have expired long before the last parts. (The client asks again 2 s before a
    // URL's end, at least: 3 s leave its PUTs the same second of slack as a longer lifetime.)
    const short = await startHarness({ listen: true, presignExpirySeconds: 3 })
    try {
      const plain = createDatasetClient({ baseUrl: short.service.url!, token: short.tokens.alice })
      const presigned: number[][] = []
      const counting: DatasetClient = {
        ...plain,
        presignParts: (request) => {
          presigned.push(request.body.partNumbers)
          return plain.presignParts(request)
        },
      }
      const { id: datasetId } = await plain.createDataset({ body: { name: 'slow' } })
      const path = join(dir, 'slow.csv')
      const { bytes } = writeCsv(path, 22 * MiB) // five parts of 5 MiB
      const puts: number[] = []
      const throttled: typeof fetch = async (url, init) => {
        const response = await fetch(url, init)
        if (init?.method === 'PUT') {
          puts.push(response.status)
          await new Promise((resolve) => setTimeout(resolve, 1_500))
        }
        return response
      }
      const result = await uploadFile({
        api: counting,
        datasetId,
        filePath: path,
        partSize: 5 * MiB,
        concurrency: 1,
        fetchImpl: throttled,
      })
      expect(result.partCount).toBe(5)
      // Every PUT went out with a URL still valid: none was refused as expired (403).
      expect(puts).toEqual([200, 200, 200, 200, 200])
      expect(presigned.length, JSON.stringify(presigned)).toBeGreaterThan(1)
      const version = await waitForOutcome(counting, datasetId, result.versionId, result.position, {
        timeoutMs: 60_000,
      })
      expect(version.status).toBe('VALIDATED')
      expect(version.sha256).toBe(sha256Hex(bytes))
    } finally {
      await short.stop()
    }
  })

  it('prints JSON for scripts', async () => {
    const ctx = { apiUrl: h.service.url!, token: h.tokens.alice, json: false }
    const program = new Command().exitOverride()
    registerDatasetCommands(program, ctx)
    const printed: string[] = []
    const log = vi
      .spyOn(console, 'log')
      .mockImplementation((line: string) => void printed.push(line))
    try {
      await program.parseAsync([
        'node',
        'argmax',
        'datasets',
        'create',
        'scripted',
        '--tag',
        'ci',
        '--json',
      ])
      const created = JSON.parse(printed.pop()!) as { id: string; dataset: { tags: string[] } }
      expect(created.dataset.tags).toEqual(['ci'])
      await program.parseAsync(['node', 'argmax', 'datasets', 'list', '--tag', 'ci', '--json'])
      const listed = JSON.parse(printed.pop()!) as { items: Array<{ id: string }> }
      expect(listed.items.map((d) => d.id)).toEqual([created.id])
      await program.parseAsync(['node', 'argmax', 'datasets', 'delete', created.id, '--json'])
      expect(JSON.parse(printed.pop()!)).toMatchObject({ id: created.id })
    } finally {
      log.mockRestore()
    }
  })
})
