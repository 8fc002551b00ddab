import { describe, expect, it } from 'vitest'
import { ReadTimeoutError, bufferChunks } from '../../src/validation/byte-source.ts'

/** Yields the given chunks, then never yields again (a hung connection) unless `end`. */
async function* source(chunks: string[], end: boolean): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield Buffer.from(chunk)
  if (!end) await new Promise(() => undefined)
}

describe('reading a byte source', () => {
  it('reports the bytes of every chunk it reads', async () => {
    const seen: number[] = []
    const chunks: string[] = []
    for await (const chunk of bufferChunks(source(['ab', 'cde'], true), undefined, {
      onBytes: (bytes) => seen.push(bytes),
    })) {
      chunks.push(chunk.toString())
    }
    expect(chunks).toEqual(['ab', 'cde'])
    expect(seen).toEqual([2, 3])
  })

  it('gives up on a read that waits longer than the idle timeout', async () => {
    const read: string[] = []
    const reading = (async () => {
      for await (const chunk of bufferChunks(source(['ab'], false), undefined, {
        idleTimeoutMs: 50,
      })) {
        read.push(chunk.toString())
      }
    })()
    await expect(reading).rejects.toBeInstanceOf(ReadTimeoutError)
    expect(read).toEqual(['ab'])
  })

  it('does not count the time the reader itself spends on a chunk', async () => {
    const chunks: string[] = []
    for await (const chunk of bufferChunks(source(['a', 'b'], true), undefined, {
      idleTimeoutMs: 30,
    })) {
      chunks.push(chunk.toString())
      // Busy with the chunk for longer than the timeout: our own backpressure, not a hang.
      await new Promise((resolve) => setTimeout(resolve, 90))
    }
    expect(chunks).toEqual(['a', 'b'])
  })
})
