import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { MAX_COLUMNS, validateAndProfile } from '../../src/validation/index.ts'
import { chunked, expectFailure, sha256Hex, validate } from './validation-helpers.ts'

const GOOD_CSV = 'id,name,score\n1,ann,3.5\n2,bo,4\n3,cy,5\n'

describe('validateAndProfile rejects', () => {
  it('a wrong checksum, naming both digests', async () => {
    const bytes = Buffer.from(GOOD_CSV)
    const result = expectFailure(
      await validateAndProfile(chunked(bytes, 8), {
        format: 'csv',
        declaredSize: bytes.length,
        declaredSha256: 'ab'.repeat(32),
      }),
    )
    expect(result.checksumMismatch).toBe(true)
    expect(result.sha256).toBe(sha256Hex(bytes))
    expect(result.errors).toEqual([
      {
        code: 'sha256_mismatch',
        message: `the file's SHA-256 is ${sha256Hex(bytes)} but ${'ab'.repeat(32)} was declared`,
      },
    ])
  })

  it('accepts the declared digest in upper case', async () => {
    const bytes = Buffer.from(GOOD_CSV)
    const result = await validateAndProfile(chunked(bytes, 8), {
      format: 'csv',
      declaredSize: bytes.length,
      declaredSha256: sha256Hex(bytes).toUpperCase(),
    })
    expect(result.ok).toBe(true)
  })

  it('a truncated upload, as a size mismatch', async () => {
    const bytes = Buffer.from(GOOD_CSV)
    const cut = bytes.subarray(0, 20)
    const result = expectFailure(
      await validateAndProfile(chunked(cut, 8), {
        format: 'csv',
        declaredSize: bytes.length,
        declaredSha256: sha256Hex(bytes),
      }),
    )
    expect(result.checksumMismatch).toBe(true)
    expect(result.size).toBe(20)
    expect(result.errors[0]).toEqual({
      code: 'size_mismatch',
      message: `the file has 20 bytes but ${bytes.length} were declared — the upload is truncated`,
    })
    expect(result.errors[1]!.code).toBe('sha256_mismatch')
  })

  it('ragged rows, with the line and both field counts, and carries on to the next ones', async () => {
    const csv = 'a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n'
    const result = expectFailure(await validate(csv, 'csv'))
    expect(result.checksumMismatch).toBe(false)
    expect(result.errors).toEqual([
      { code: 'ragged_row', row: 3, message: 'line 3 has 2 fields, the header has 3' },
      { code: 'ragged_row', row: 5, message: 'line 5 has 4 fields, the header has 3' },
    ])
  })

  it('stops at maxErrors', async () => {
    const csv = 'a,b\n' + '1\n'.repeat(100)
    const result = expectFailure(await validate(csv, 'csv', { maxErrors: 5 }))
    expect(result.errors).toHaveLength(5)
    expect(result.errors.map((e) => e.row)).toEqual([2, 3, 4, 5, 6])
  })

  it.each([
    ['a closing quote followed by text', 'id,name\n1,ok\n2,"bad"x\n3,fine\n', 3, 'name'],
    ['a quote inside an unquoted field', 'id,name\n1,ok\n2,ab"c\n3,"d"\n', 3, 'name'],
    ['a quote never closed', 'id,name\n1,ok\n2,"open\n3,more\n', 3, 'name'],
    ['a quote opened across lines then broken', 'id,name\n1,"x\ny"z\n', 2, 'name'],
  ])('broken quoting (%s) with the line of the record', async (_case, csv, row, column) => {
    const result = expectFailure(await validate(csv, 'csv', { chunkSize: 4 }))
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toMatchObject({ code: 'invalid_quoting', row })
    expect(result.errors[0]!.column).toBe(column)
    expect(result.errors[0]!.message).toContain(`line ${row}`)
  })

  it('invalid UTF-8, naming line, column and file offset, and reports later lines too', async () => {
    const head = Buffer.from('id,name,city\n1,ann,Oslo\n2,')
    const bytes = Buffer.concat([
      head,
      Buffer.from([0x62, 0xff, 0x6f]),
      Buffer.from(',Lima\n3,"c'),
      Buffer.from([0xe9]),
      Buffer.from('",Rome\n4,d,'),
      Buffer.from([0xe2, 0x82]),
      Buffer.from('\n'),
    ])
    const result = expectFailure(await validate(bytes, 'csv', { chunkSize: 5 }))
    expect(result.errors).toEqual([
      {
        code: 'invalid_utf8',
        row: 3,
        column: 'name',
        message: `line 3 is not valid UTF-8: byte 0xff at file offset ${head.length + 1}`,
      },
      expect.objectContaining({ code: 'invalid_utf8', row: 4, column: 'name' }),
      expect.objectContaining({ code: 'invalid_utf8', row: 5, column: 'city' }),
    ])
  })

  it('a NUL byte (valid UTF-8, but not text), naming line, column and file offset', async () => {
    const head = 'id,name\n1,ann\n2,'
    const bytes = Buffer.from(`${head}b\u0000o\n3,"c\u0000"\n4,dee\n`)
    const result = expectFailure(await validate(bytes, 'csv', { chunkSize: 5 }))
    expect(result.errors).toEqual([
      {
        code: 'nul_character',
        row: 3,
        column: 'name',
        message: `line 3 holds a NUL byte (0x00) at file offset ${head.length + 1}, which is not text`,
      },
      expect.objectContaining({ code: 'nul_character', row: 4, column: 'name' }),
    ])
  })

  it('a NUL byte in the CSV header', async () => {
    const result = expectFailure(await validate('a\u0000b,c\n1,2\n', 'csv'))
    expect(result.errors[0]).toMatchObject({ code: 'nul_character', row: 1 })
  })

  it('accepts multi-byte characters split across chunks', async () => {
    const csv = 'name,note\nZoë,日本語\n"Ünïcødé, quoted",🙂\n'
    const result = await validate(csv, 'csv', { chunkSize: 1 })
    expect(result.ok).toBe(true)
  })

  it.each([
    ['csv', ''],
    ['jsonl', ''],
    ['csv', '\n\n'],
  ] as const)('an empty %s file', async (format, content) => {
    const result = expectFailure(await validate(content, format))
    expect(result.errors).toEqual([expect.objectContaining({ code: 'empty_file' })])
  })

  it.each(['id,name\n', 'id,name', 'id,name\r\n\r\n'])(
    'a header without rows (%j)',
    async (csv) => {
      const result = expectFailure(await validate(csv, 'csv'))
      expect(result.errors).toEqual([
        { code: 'no_rows', message: 'the file has a header but no rows' },
      ])
    },
  )

  it('a JSON Lines file of blank lines', async () => {
    const result = expectFailure(await validate('\n  \n', 'jsonl'))
    expect(result.errors).toEqual([{ code: 'no_rows', message: 'the file has no rows' }])
  })

  it('duplicate and empty header names, naming the column', async () => {
    const result = expectFailure(await validate('id,name,,name, \n1,a,b,c,d\n', 'csv'))
    expect(result.errors).toEqual([
      { code: 'empty_column_name', row: 1, message: 'header field 3 has no name' },
      {
        code: 'duplicate_column',
        row: 1,
        column: 'name',
        message: 'column "name" appears twice in the header (fields 2 and 4)',
      },
      { code: 'empty_column_name', row: 1, message: 'header field 5 has no name' },
    ])
  })

  it('more columns than supported, in a CSV header or as JSON keys', async () => {
    const names = Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => `c${i}`)
    const csv = expectFailure(await validate(`${names.join(',')}\n${names.join(',')}\n`, 'csv'))
    expect(csv.errors).toEqual([expect.objectContaining({ code: 'too_many_columns', row: 1 })])

    const lines = names.map((name, i) => JSON.stringify({ [name]: i }))
    const jsonl = expectFailure(await validate(lines.join('\n'), 'jsonl'))
    expect(jsonl.errors).toEqual([
      expect.objectContaining({ code: 'too_many_columns', row: MAX_COLUMNS + 1, column: 'c2000' }),
    ])
  })

  it('lone CR line endings', async () => {
    const result = expectFailure(await validate('a,b\r1,2\r3,4\r', 'csv'))
    expect(result.errors[0]).toMatchObject({ code: 'unsupported_line_ending', row: 1 })
  })

  it.each([
    ['csv', (huge: string) => `a\n${huge}\n`],
    ['jsonl', (huge: string) => `{"a":1}\n{"a":"${huge}"}\n`],
  ] as const)('a %s record longer than the limit instead of buffering it', async (format, make) => {
    const huge = 'x'.repeat(17 * 1024 * 1024)
    const result = expectFailure(await validate(make(huge), format))
    expect(result.errors).toEqual([expect.objectContaining({ code: 'record_too_large', row: 2 })])
  })

  it('bad JSON and non-object lines in JSON Lines, each with its line', async () => {
    const jsonl = '{"a":1}\n{"a":\n[1,2]\n"text"\nnull\n{"a":2}\n'
    const result = expectFailure(await validate(jsonl, 'jsonl'))
    expect(result.errors.map((e) => [e.code, e.row])).toEqual([
      ['invalid_json', 2],
      ['not_an_object', 3],
      ['not_an_object', 4],
      ['not_an_object', 5],
    ])
    expect(result.errors[1]!.message).toBe('line 3 is an array, each line must be a JSON object')
  })

  it('U+0000 or a lone surrogate in a JSON Lines key or string value', async () => {
    const lines = [
      '{"a":"x","b":"\\\\u0000 is only a backslash"}',
      '{"a":"x\\u0000y"}',
      '{"a\\u0000":1}',
      '{"a":"\u0000"}',
      '{"a":"\\ud800 alone"}',
      '{"a":"\\ud83d\\ude00 is a pair"}',
    ]
    const result = expectFailure(await validate(lines.join('\n'), 'jsonl'))
    expect(result.errors).toEqual([
      {
        code: 'nul_character',
        row: 2,
        column: 'a',
        message: 'line 2 holds the character U+0000 (NUL) in the value of "a", which is not text',
      },
      {
        code: 'nul_character',
        row: 3,
        message: 'line 3 holds the character U+0000 (NUL) in a key, which is not text',
      },
      expect.objectContaining({ code: 'invalid_json', row: 4 }),
      {
        code: 'lone_surrogate',
        row: 5,
        column: 'a',
        message: 'line 5 holds a lone surrogate in the value of "a", which is not text',
      },
    ])
  })

  it('invalid UTF-8 in JSON Lines', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"a":"x"}\n{"a":"'),
      Buffer.from([0xc3]),
      Buffer.from('"}\n'),
    ])
    const result = expectFailure(await validate(bytes, 'jsonl'))
    expect(result.errors).toEqual([expect.objectContaining({ code: 'invalid_utf8', row: 2 })])
  })
})

/** The threads of this process, as Linux counts them. */
function osThreads(): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1])
}

/**
 * A CSV that never ends, `rowsPerChunk` rows a chunk; the `abortAt`-th chunk of rows aborts
 * `controller`. `read` counts those chunks, `closed` says whether the source was closed.
 */
function endlessCsv(controller: AbortController, abortAt: number, rowsPerChunk: number) {
  const state = { read: 0, closed: false }
  async function* source(): AsyncGenerator<Uint8Array> {
    try {
      yield Buffer.from('a,b\n')
      for (;;) {
        state.read++
        if (state.read === abortAt) controller.abort(new Error('worker shutting down'))
        yield Buffer.from('1,2\n'.repeat(rowsPerChunk))
      }
    } finally {
      state.closed = true
    }
  }
  return { source: source(), state }
}

const UNCHECKED = { format: 'csv', declaredSize: 1, declaredSha256: '00' } as const

describe('validateAndProfile cancellation', () => {
  it('rejects with the abort reason and stops reading an endless source', async () => {
    const controller = new AbortController()
    const { source, state } = endlessCsv(controller, 50, 100)
    await expect(
      validateAndProfile(source, { ...UNCHECKED, signal: controller.signal }),
    ).rejects.toThrow('worker shutting down')
    expect(state.read).toBe(50)
    expect(state.closed).toBe(true)
  })

  it('stops its worker threads when aborted in the middle of a file of many batches', async () => {
    const controller = new AbortController()
    // libuv starts its thread pool on first use: start it now so it is counted before.
    await readFile('/proc/self/status')
    const threadsBefore = osThreads()
    const { source } = endlessCsv(controller, 200, 1000)
    await expect(
      validateAndProfile(source, {
        ...UNCHECKED,
        signal: controller.signal,
        batchBytes: 64 * 1024,
        workers: 2,
      }),
    ).rejects.toThrow('worker shutting down')
    // The pool is gone: its worker threads have exited.
    expect(osThreads()).toBeLessThanOrEqual(threadsBefore)
  })

  it('rejects at once with an already aborted signal', async () => {
    await expect(
      validateAndProfile(chunked(Buffer.from('a\n1\n'), 2), {
        format: 'csv',
        declaredSize: 4,
        declaredSha256: '00',
        signal: AbortSignal.abort(new Error('too late')),
      }),
    ).rejects.toThrow('too late')
  })
})
