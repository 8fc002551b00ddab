import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { writeHashed } from '../src/s3rver-read-after-write.ts'

describe("writeHashed, which the local S3 endpoint's writes go through", () => {
  it('answer only once the file has taken every byte, however slowly it writes', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(16 * 1024, i))
    let written = 0
    // A disk slower than the request: each chunk takes a few milliseconds to land.
    const slowFile = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, done) {
        setTimeout(() => {
          written += chunk.length
          done()
        }, 2)
      },
    })
    const dir = mkdtempSync(join(tmpdir(), 'argmax-s3-write-'))
    try {
      const result = await writeHashed(Readable.from(chunks), join(dir, 'a/object'), () => slowFile)
      const whole = Buffer.concat(chunks)
      expect(written).toBe(whole.length)
      expect(result).toEqual({
        size: whole.length,
        md5: createHash('md5').update(whole).digest('hex'),
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
