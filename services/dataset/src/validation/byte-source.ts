import type { Readable } from 'node:stream'

export type ByteSource = AsyncIterable<Uint8Array> | Readable

function asBuffer(chunk: Uint8Array | string): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  // A stream with an encoding set yields strings; its bytes are what we must hash.
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8')
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

/**
 * The source's chunks as Buffers (without copying), ending early when `signal` aborts: the
 * pending read is abandoned, the source is closed (a Readable is destroyed by its iterator's
 * `return`) and the loop rejects with the signal's reason.
 */
export async function* bufferChunks(
  source: ByteSource,
  signal?: AbortSignal,
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
      const next = signal ? await Promise.race([iterator.next(), aborted]) : await iterator.next()
      if (next.done) {
        finished = true
        return
      }
      yield asBuffer(next.value)
      signal?.throwIfAborted()
    }
  } finally {
    signal?.removeEventListener('abort', onAbort)
    // Not awaited: after an abort a read may still be pending, and closing must not wait on it.
    if (!finished) iterator.return?.()?.catch(() => {})
  }
}
