import { objectExists } from '@argmax/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createDatasetAs,
  sha256Hex,
  startHarness,
  uploadBytes,
  waitForOutcome,
  type Harness,
} from '../support/harness.ts'

describe('bad files end REJECTED with a specific reason', () => {
  let h: Harness
  let datasetId: string
  beforeAll(async () => {
    h = await startHarness()
    datasetId = await createDatasetAs(h, h.tokens.alice, 'bad-files')
  })
  afterAll(() => h.stop())

  async function rejected(bytes: Buffer, options: Parameters<typeof uploadBytes>[4] = {}) {
    const { versionId, position } = await uploadBytes(h, h.tokens.alice, datasetId, bytes, options)
    const version = await waitForOutcome(h, h.tokens.alice, datasetId, versionId, position)
    expect(version.status).toBe('REJECTED')
    return { version, versionId }
  }

  it('a wrong checksum — and the object is removed', async () => {
    const bytes = Buffer.from('a,b\n1,2\n')
    const { version, versionId } = await rejected(bytes, { declaredSha256: sha256Hex('other') })
    expect(version.errors.map((e) => e.code)).toContain('sha256_mismatch')
    expect(version.checksumMismatch).toBe(true)
    const upload = await h.service.deps.store.load(`${h.names.root}.version.${versionId}`)
    const started = upload.find((e) => e.type === 'UploadStarted')!.data as { objectKey: string }
    expect(
      await objectExists(h.service.deps.s3, { bucket: h.bucket, key: started.objectKey }),
    ).toBe(false)
  })

  it('a truncated upload (fewer bytes than declared)', async () => {
    const full = Buffer.from('a,b\n1,2\n3,4\n')
    const { version } = await rejected(full.subarray(0, 8), {
      declaredSize: full.length,
      declaredSha256: sha256Hex(full),
    })
    expect(version.errors.map((e) => e.code)).toContain('size_mismatch')
  })

  it('ragged CSV rows, naming the row', async () => {
    const { version } = await rejected(Buffer.from('a,b\n1,2\n3,4,5\n'))
    expect(version.errors[0]).toMatchObject({ code: 'ragged_row', row: 3 })
  })

  it('broken quoting, naming the row', async () => {
    const { version } = await rejected(Buffer.from('a,b\n1,"2\n3,4\n'))
    expect(version.errors[0]).toMatchObject({ code: 'invalid_quoting' })
    expect(version.errors[0]!.row).toBeGreaterThanOrEqual(2)
  })

  it('invalid UTF-8, naming the row', async () => {
    const bytes = Buffer.concat([
      Buffer.from('a,b\n1,2\n3,'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('\n'),
    ])
    const { version } = await rejected(bytes)
    expect(version.errors[0]).toMatchObject({ code: 'invalid_utf8', row: 3 })
  })

  it('an empty file', async () => {
    const { version } = await rejected(Buffer.alloc(0))
    expect(version.errors[0]!.code).toBe('empty_file')
  })

  it('a header without rows', async () => {
    const { version } = await rejected(Buffer.from('a,b,c\n'))
    expect(version.errors[0]!.code).toBe('no_rows')
  })

  it('a JSON Lines file with a broken line', async () => {
    const { version } = await rejected(Buffer.from('{"a":1}\n{"a":\n'), {
      format: 'jsonl',
      fileName: 'x.jsonl',
    })
    expect(version.errors[0]).toMatchObject({ code: 'invalid_json', row: 2 })
  })

  // PostgreSQL stores no U+0000 in text or jsonb: a version or a command that carried one into
  // an event would stop the catalog's projection at that event, for every user.
  it('a NUL byte, and the catalog goes on answering', async () => {
    const csv = await rejected(Buffer.from('a\u0000b,c\n1,2\n'))
    expect(csv.version.errors[0]).toMatchObject({ code: 'nul_character', row: 1 })
    // The second line's parse error quotes it, NUL and all: the store writes U+FFFD instead.
    const jsonl = await rejected(Buffer.from('{"a":"x\\u0000"}\n{"b":\u0000}\n'), {
      format: 'jsonl',
      fileName: 'x.jsonl',
    })
    expect(jsonl.version.errors[0]).toMatchObject({ code: 'nul_character', row: 1, column: 'a' })
    expect(jsonl.version.errors[1]).toMatchObject({ code: 'invalid_json', row: 2 })
    expect(await createDatasetAs(h, h.tokens.alice, 'after-nul')).toBeTruthy()
  })

  it('refuses U+0000 in a request, naming the field', async () => {
    const created = await h.call<{ issues: unknown[] }>('POST', '/v1/datasets', h.tokens.alice, {
      name: 'fine',
      description: 'a\u0000b',
    })
    expect(created.status).toBe(400)
    expect(created.body.issues).toEqual([
      { field: '/description', message: 'must not contain the character U+0000 (NUL)' },
    ])
    const listed = await h.call<{ items: unknown[] }>(
      'GET',
      '/v1/datasets?name=fine',
      h.tokens.alice,
    )
    expect(listed.body.items).toEqual([])
    const searched = await h.call('GET', '/v1/datasets?name=x%00', h.tokens.alice)
    expect(searched.status).toBe(400)
  })
})
