import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { httpStatusOfS3Error, isNotFound, pipeHashed, sha256OfFile } from '@argmax/storage'
import { formatArtifactUri, type ArtifactLocation } from './artifact-uri.ts'
import { sleep as realSleep, withRetries, type RetryPolicy } from './retry.ts'

/**
 * Model artifacts on local disk, keyed by their SHA-256: a version whose artifact is already
 * here (an earlier load, a restart, another version with the same bytes) loads without touching
 * S3. Every file is hashed before it is used — downloaded bytes and cached ones alike — so a
 * corrupted download or cache entry can never reach ONNX Runtime. Downloads stream to a
 * temporary file and are renamed into place only once verified; transient S3 failures are
 * retried with backoff; the least recently used files are evicted past `maxCacheBytes`.
 */

/** The artifact's bytes do not hash to the SHA-256 the load asked for. */
export class ArtifactIntegrityError extends Error {
  constructor(uri: string, expected: string, actual: string, size: number) {
    super(`${uri} has SHA-256 ${actual} (${size} bytes), not the expected ${expected}`)
    this.name = 'ArtifactIntegrityError'
  }
}

/** The artifact cannot be had: absent, forbidden, or larger than allowed. Not retried. */
export class ArtifactUnavailableError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ArtifactUnavailableError'
  }
}

export interface ArtifactLease {
  /** The verified local file. */
  path: string
  /** The file may be evicted again once the caller has read it. */
  release(): void
}

export interface ArtifactCacheOptions {
  s3: S3Client
  directory: string
  maxCacheBytes: number
  maxArtifactBytes: number
  retry: RetryPolicy
  sleep?: (ms: number) => Promise<void>
  log?: (fields: Record<string, unknown>, message: string) => void
  /** Called once per download from S3 (tests count them). */
  onDownload?: (location: ArtifactLocation) => void
}

const CACHED_FILE = /^([0-9a-f]{64})\.onnx$/
const PARTIAL_PREFIX = '.partial-'

export interface ArtifactCache {
  /**
   * A verified local copy of the artifact, downloaded unless a verified copy is cached. Callers
   * asking for the same SHA-256 at once share one download.
   */
  fetch(location: ArtifactLocation, sha256: string): Promise<ArtifactLease>
}

export async function createArtifactCache(options: ArtifactCacheOptions): Promise<ArtifactCache> {
  await mkdir(options.directory, { recursive: true })
  // Partial downloads of a process that was killed are never completed: remove them.
  for (const name of await readdir(options.directory)) {
    if (name.startsWith(PARTIAL_PREFIX)) await rm(join(options.directory, name), { force: true })
  }
  const sleep = options.sleep ?? realSleep
  const inFlight = new Map<string, Promise<void>>()
  const leases = new Map<string, number>()
  const pathOf = (sha256: string) => join(options.directory, `${sha256}.onnx`)

  const lease = (sha256: string): ArtifactLease => {
    leases.set(sha256, (leases.get(sha256) ?? 0) + 1)
    let released = false
    return {
      path: pathOf(sha256),
      release() {
        if (released) return
        released = true
        const left = (leases.get(sha256) ?? 1) - 1
        if (left > 0) leases.set(sha256, left)
        else leases.delete(sha256)
      },
    }
  }

  const cachedAndValid = async (sha256: string): Promise<boolean> => {
    const path = pathOf(sha256)
    const size = await stat(path).then(
      (stats) => stats.size,
      () => undefined,
    )
    if (size === undefined) return false
    const actual = await sha256OfFile(path)
    if (actual === sha256) {
      const now = new Date()
      await utimes(path, now, now)
      return true
    }
    options.log?.({ sha256, actual }, 'cached artifact is corrupt; downloading it again')
    await rm(path, { force: true })
    return false
  }

  const download = async (location: ArtifactLocation, sha256: string) => {
    const uri = formatArtifactUri(location)
    await withRetries(
      async () => {
        options.onDownload?.(location)
        const partial = join(options.directory, `${PARTIAL_PREFIX}${sha256}-${randomUUID()}`)
        try {
          const { sha256: actual, size } = await downloadTo(options, location, partial)
          if (actual !== sha256) throw new ArtifactIntegrityError(uri, sha256, actual, size)
          await rename(partial, pathOf(sha256))
        } finally {
          await rm(partial, { force: true })
        }
      },
      {
        ...options.retry,
        sleep,
        retryable: (error) =>
          !(error instanceof ArtifactIntegrityError || error instanceof ArtifactUnavailableError),
        onRetry: (error, attempt, delayMs) =>
          options.log?.(
            { uri, attempt, delayMs, err: error },
            'artifact download failed; trying again',
          ),
      },
    )
    await evict(options.directory, options.maxCacheBytes, new Set([sha256, ...leases.keys()]))
  }

  return {
    async fetch(location, sha256) {
      // One download per artifact however many versions ask for it at once.
      let pending = inFlight.get(sha256)
      if (!pending) {
        pending = (async () => {
          if (!(await cachedAndValid(sha256))) await download(location, sha256)
        })().finally(() => inFlight.delete(sha256))
        inFlight.set(sha256, pending)
      }
      await pending
      return lease(sha256)
    },
  }
}

async function downloadTo(
  options: ArtifactCacheOptions,
  location: ArtifactLocation,
  path: string,
): Promise<{ sha256: string; size: number }> {
  const uri = formatArtifactUri(location)
  let response
  try {
    response = await options.s3.send(
      new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
    )
  } catch (error) {
    if (isNotFound(error)) throw new ArtifactUnavailableError(`${uri} does not exist`)
    const status = httpStatusOfS3Error(error)
    if (status === 403 || status === 401) {
      throw new ArtifactUnavailableError(`${uri} cannot be read: access denied`)
    }
    throw error
  }
  const declared = response.ContentLength
  if (declared !== undefined && declared > options.maxArtifactBytes) {
    ;(response.Body as Readable | undefined)?.destroy()
    throw new ArtifactUnavailableError(
      `${uri} is ${declared} bytes; the model server accepts artifacts up to ${options.maxArtifactBytes}`,
    )
  }
  const maxBytes = options.maxArtifactBytes
  return pipeHashed(response.Body as Readable, createWriteStream(path), {
    maxBytes,
    tooLarge: () =>
      new ArtifactUnavailableError(
        `${uri} exceeds the model server's artifact limit of ${maxBytes} bytes`,
      ),
  })
}

/** Removes the least recently used artifacts until the cache fits, sparing those in use. */
async function evict(directory: string, maxBytes: number, keep: Set<string>): Promise<void> {
  const files: { path: string; size: number; usedAt: number; sha256: string }[] = []
  for (const name of await readdir(directory)) {
    const match = CACHED_FILE.exec(name)
    if (!match) continue
    const path = join(directory, name)
    const stats = await stat(path).catch(() => undefined)
    if (stats) files.push({ path, size: stats.size, usedAt: stats.mtimeMs, sha256: match[1]! })
  }
  let total = files.reduce((sum, file) => sum + file.size, 0)
  files.sort((a, b) => a.usedAt - b.usedAt)
  for (const file of files) {
    if (total <= maxBytes) break
    if (keep.has(file.sha256)) continue
    await rm(file.path, { force: true })
    total -= file.size
  }
}
