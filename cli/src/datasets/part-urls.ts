/** Parts whose URLs one request asks for: ~800 MiB of 8 MiB parts, a few seconds at full speed. */
export const PRESIGN_BATCH = 100

export interface PartUrls {
  /** A URL for the part that will still be valid when S3 receives the request. */
  urlOf(partNumber: number): Promise<string>
  /** A new URL for the part, after S3 refused the one it had (403). */
  fresh(partNumber: number): Promise<string>
}

type Presign = (
  partNumbers: number[],
) => Promise<{ parts: Array<{ partNumber: number; url: string }>; expiresInSeconds: number }>

interface Batch {
  urls: Map<number, string>
  /** On the `now` clock: after this, the batch's URLs are asked for again. */
  usableUntil: number
}

/**
 * Presigned part URLs, asked for in batches as the upload goes rather than all at its start:
 * a batch when its first part is reached (the next one from half-way through it), and again
 * when a batch's URLs are about to expire. URLs live about 15 minutes; a slow 2 GB upload lasts
 * longer, and an expired URL can fail a PUT in the middle of its body rather than with a clean
 * 403. The margin covers S3 truncating the signing time to the second and the request's way
 * there; time is measured from when the batch was asked for, on a monotonic clock, so neither
 * the client's wall clock nor its skew matter.
 */
export function createPartUrls(options: {
  presign: Presign
  /** The parts still to upload, in the order they will be sent. */
  parts: number[]
  batchSize?: number
  /** Milliseconds on a monotonic clock. */
  now?: () => number
}): PartUrls {
  const { presign, parts } = options
  const batchSize = options.batchSize ?? PRESIGN_BATCH
  const now = options.now ?? (() => performance.now())
  const indexOf = new Map(parts.map((partNumber, index) => [partNumber, index]))
  const batches = new Map<number, Promise<Batch>>()

  const load = (batch: number): Promise<Batch> => {
    const askedAt = now()
    const promise = presign(parts.slice(batch * batchSize, (batch + 1) * batchSize)).then(
      (answer) => ({
        urls: new Map(answer.parts.map((part) => [part.partNumber, part.url])),
        usableUntil: askedAt + answer.expiresInSeconds * 1000 - safetyMarginMs(answer),
      }),
    )
    batches.set(batch, promise)
    // A failed batch is asked for again on next use rather than poisoning every part.
    promise.catch(() => {
      if (batches.get(batch) === promise) batches.delete(batch)
    })
    return promise
  }

  const usable = async (batch: number): Promise<Batch> => {
    const pending = batches.get(batch)
    if (pending) {
      const loaded = await pending
      if (now() < loaded.usableUntil) return loaded
      // Expiring: the first part to notice asks again, the others wait for that answer.
      if (batches.get(batch) === pending) return load(batch)
      return usable(batch)
    }
    return load(batch)
  }

  return {
    async urlOf(partNumber) {
      const index = indexOf.get(partNumber)
      if (index === undefined) throw new Error(`part ${partNumber} is not one to upload`)
      const batch = Math.floor(index / batchSize)
      if ((index % batchSize) * 2 >= batchSize && !batches.has(batch + 1)) {
        if ((batch + 1) * batchSize < parts.length) void load(batch + 1).catch(() => {})
      }
      const url = (await usable(batch)).urls.get(partNumber)
      if (!url) throw new Error(`the service gave no URL for part ${partNumber}`)
      return url
    },
    async fresh(partNumber) {
      const answer = await presign([partNumber])
      const url = answer.parts[0]?.url
      if (!url) throw new Error(`the service gave no URL for part ${partNumber}`)
      return url
    },
  }
}

/** A quarter of the lifetime, at least 2 s and at most a minute. */
function safetyMarginMs(answer: { expiresInSeconds: number }): number {
  return Math.min(60_000, Math.max(2_000, (answer.expiresInSeconds * 1000) / 4))
}
