import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { pipeHashed, sha256OfFile } from '../src/hashing.ts'

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')
const chunks = [Buffer.from('first '), Buffer.from('second '), Buffer.from('third')]
const whole = Buffer.concat(chunks)

function collector() {
  const written: Buffer[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk)
      done()
    },
  })
  return { sink, written: () => Buffer.concat(written) }
}

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))))

describe('pipeHashed', () => {
  it('passes every byte on, counted and hashed', async () => {
    const { sink, written } = collector()
    expect(await pipeHashed(Readable.from(chunks), sink)).toEqual({
      size: whole.byteLength,
      sha256: sha256(whole),
    })
    expect(written()).toEqual(whole)
  })

  it('fails with the given error once past the limit, without writing the chunk that passed it', async () => {
    const { sink, written } = collector()
    const limit = { maxBytes: 10, tooLarge: (size: number) => new Error(`${size} > 10`) }
    await expect(pipeHashed(Readable.from(chunks), sink, limit)).rejects.toThrow('13 > 10')
    expect(written()).toEqual(chunks[0])
  })
})

describe('sha256OfFile', () => {
  it("hashes a file's bytes and reports each chunk read", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'argmax-hashing-'))
    dirs.push(dir)
    await writeFile(join(dir, 'f'), whole)
    let reported = 0
    expect(await sha256OfFile(join(dir, 'f'), (bytes) => (reported += bytes))).toBe(sha256(whole))
    expect(reported).toBe(whole.byteLength)
  })
})
