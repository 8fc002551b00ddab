import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { freshBucket } from '@argmax/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ArtifactIntegrityError,
  createArtifactCache,
  type ArtifactLocation,
} from '../../src/model-server/index.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function setup(maxCacheBytes = 1_000_000) {
  const { bucket, s3 } = await freshBucket('artifacts')
  const directory = mkdtempSync(join(tmpdir(), 'argmax-artifacts-'))
  dirs.push(directory)
  const downloads: ArtifactLocation[] = []
  const cache = await createArtifactCache({
    s3,
    directory,
    maxCacheBytes,
    maxArtifactBytes: 10_000,
    retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
    onDownload: (location) => downloads.push(location),
  })
  const put = async (key: string, bytes: Buffer) => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }))
    return { location: { bucket, key }, sha256: createHash('sha256').update(bytes).digest('hex') }
  }
  return { cache, directory, downloads, put }
}

describe('the artifact cache', () => {
  it('downloads once, then serves the verified copy; a tampered copy is downloaded again', async () => {
    const { cache, directory, downloads, put } = await setup()
    const bytes = randomBytes(400)
    const { location, sha256 } = await put('a/model.onnx', bytes)
    const [first, second] = await Promise.all([
      cache.fetch(location, sha256),
      cache.fetch(location, sha256),
    ])
    expect(downloads).toHaveLength(1)
    expect(first.path).toBe(join(directory, `${sha256}.onnx`))
    expect(second.path).toBe(first.path)
    await cache.fetch(location, sha256)
    expect(downloads).toHaveLength(1)

    writeFileSync(first.path, randomBytes(400))
    await cache.fetch(location, sha256)
    expect(downloads).toHaveLength(2)
    expect(readdirSync(directory)).toEqual([`${sha256}.onnx`])
  })

  it('keeps nothing of a download whose hash does not match, and does not retry it', async () => {
    const { cache, directory, downloads, put } = await setup()
    const { location } = await put('b/model.onnx', randomBytes(300))
    await expect(cache.fetch(location, '0'.repeat(64))).rejects.toBeInstanceOf(
      ArtifactIntegrityError,
    )
    expect(downloads).toHaveLength(1)
    expect(readdirSync(directory)).toEqual([])
  })

  it('refuses an artifact larger than allowed from its declared length', async () => {
    const { cache, put } = await setup()
    const { location, sha256 } = await put('big/model.onnx', randomBytes(20_000))
    await expect(cache.fetch(location, sha256)).rejects.toThrow(
      `s3://${location.bucket}/big/model.onnx is 20000 bytes; the model server accepts artifacts up to 10000`,
    )
  })

  it('evicts the least recently used artifacts past its size, sparing those being read', async () => {
    const { cache, directory, put } = await setup(1_000)
    const a = await put('a', randomBytes(400))
    const b = await put('b', randomBytes(400))
    const c = await put('c', randomBytes(400))
    ;(await cache.fetch(a.location, a.sha256)).release()
    const held = await cache.fetch(b.location, b.sha256)
    // a is the oldest: it goes when c arrives (b is held, and newer anyway).
    utimesSync(join(directory, `${a.sha256}.onnx`), new Date(1_000), new Date(1_000))
    ;(await cache.fetch(c.location, c.sha256)).release()
    expect(existsSync(join(directory, `${a.sha256}.onnx`))).toBe(false)
    expect(existsSync(held.path)).toBe(true)
    expect(existsSync(join(directory, `${c.sha256}.onnx`))).toBe(true)
    held.release()
  })

  it('removes partial downloads left by a killed process when it starts', async () => {
    const { s3 } = await freshBucket('artifacts')
    const directory = mkdtempSync(join(tmpdir(), 'argmax-artifacts-'))
    dirs.push(directory)
    writeFileSync(join(directory, `.partial-${'e'.repeat(64)}-x`), 'half')
    await createArtifactCache({
      s3,
      directory,
      maxCacheBytes: 1_000,
      maxArtifactBytes: 1_000,
      retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 },
    })
    expect(readdirSync(directory)).toEqual([])
  })
})
