import type { Readable } from 'node:stream'

export type ByteSource = AsyncIterable<Uint8Array> | Readable

/** The source gave no bytes for `idleMs` while a read was waiting: a hung connection. */
export class ReadTimeoutError extends Error {
  constructor(readonly idleMs: number) {
    super(`no bytes arrived for ${idleMs} ms: the read is abandoned`)
    this.name = 'ReadTimeoutError'
  }
}

export interface ReadWatch {
  /**
   * Fail a read that waits longer than this for the source's next chunk. Only time spent
   * waiting on the source counts: a pause because the caller is busy with earlier bytes (its
   * own backpressure) never trips it.
   */
  idleTimeoutMs?: number | undefined
  /** Told after every chunk actually read: what a consumer reports as progress. */
  onBytes?: ((bytes: number) => void) | undefined
}

function asBuffer(chunk: Uint8Array | string): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  // A stream with an encoding set yields strings; its bytes are what we must hash.
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8')
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

function withIdleTimeout<T>(read: Promise<T>, idleMs: number | undefined): Promise<T> {
  if (!idleMs) return read
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReadTimeoutError(idleMs)), idleMs)
  })
  return Promise.race([read, timeout]).finally(() => clearTimeout(timer))
}

/**
 * The source's chunks as Buffers (without copying), ending early when `signal` aborts or a
 * read waits longer than `watch.idleTimeoutMs`: the pending read is abandoned, the source is
 * closed (a Readable is destroyed by its iterator's `return`) and the loop rejects with the
 * signal's reason or a ReadTimeoutError.
 */
export async function* bufferChunks(
  source: ByteSource,
  signal?: AbortSignal,
  watch: ReadWatch = {},
): AsyncGenerator<Buffer, void, undefined> {
  signal?.throwIfAborted()
  const iterator = (source as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]()
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal?.reason)
  })
  aborted.catch(() => {})
  signal?.addEventListener('abort', onAbort, { once: true })
  let finished = false
  try {
    for (;;) {
      const read = withIdleTimeout(iterator.next(), watch.idleTimeoutMs)
      const next = signal ? await Promise.race([read, aborted]) : await read
      if (next.done) {
        finished = true
        return
      }
      const chunk = asBuffer(next.value)
      watch.onBytes?.(chunk.length)
      yield chunk
      signal?.throwIfAborted()
    }
  } finally {
    signal?.removeEventListener('abort', onAbort)
    // Not awaited: after an abort a read may still be pending, and closing must not wait on it.
    if (!finished) iterator.return?.()?.catch(() => {})
  }
}
