import { describe, expect, it } from 'vitest'
import { validateAndProfile } from '../../src/validation/index.ts'
import type {
  ValidationFormat,
  ValidationOptions,
  ValidationResult,
} from '../../src/validation/index.ts'
import { BatchCutter, type Batch } from '../../src/validation/batches/batch-cutter.ts'
import { BatchProfiling } from '../../src/validation/batches/batch-profiling.ts'
import { chunked, expectFailure, expectOk, seededRandom, sha256Hex } from './validation-helpers.ts'

function validateIn(
  content: string,
  format: ValidationFormat,
  options: Partial<ValidationOptions> & { chunkSize?: number } = {},
): Promise<ValidationResult> {
  const bytes = Buffer.from(content, 'utf8')
  return validateAndProfile(chunked(bytes, options.chunkSize ?? 97), {
    format,
    declaredSize: bytes.length,
    declaredSha256: sha256Hex(bytes),
    ...options,
  })
}

/** A CSV whose columns change type part-way, with quoted fields holding newlines and commas. */
function mixedCsv(rows: number): string {
  const random = seededRandom(7)
  const lines = ['id,amount,city,flag,when,code']
  for (let i = 1; i <= rows; i++) {
    const amount = i === 700 ? '12.75' : String(Math.floor(random() * 1000))
    const city = i % 13 === 0 ? `"Port ${i % 5},\nNorth"` : ['Oslo', 'Lima', 'Pune'][i % 3]!
    const flag = i % 4 === 0 ? '' : i % 2 === 0 ? 'true' : 'false'
    const when = `2024-0${(i % 9) + 1}-1${i % 10}`
    const code = i === 1500 ? 'n/a' : String(i % 50)
    lines.push(`${i},${amount},${city},${flag},${when},${code}`)
  }
  return lines.join('\n') + '\n'
}

function mixedJsonl(rows: number): string {
  const lines: string[] = []
  for (let i = 1; i <= rows; i++) {
    const row: Record<string, unknown> = { id: i, score: i === 900 ? 1.5 : i % 17 }
    if (i > 1200) row['late'] = `v${i % 3}`
    lines.push(JSON.stringify(row))
  }
  return lines.join('\n') + '\n'
}

/**
 * What may not change between one pass and joined batches: all but float rounding, and the
 * frequent values of a column that widened to text late (one pass counts them from the
 * widening row on, batches only from where each batch saw text: lower bounds either way).
 */
function comparable(result: Extract<ValidationResult, { ok: true }>) {
  return {
    rowCount: result.rowCount,
    schema: result.schema,
    columns: result.profile.columns.map((c) => ({
      name: c.name,
      type: c.type,
      count: c.count,
      nulls: c.nulls,
      distinct: c.distinct,
      topValues: c.type === 'string' && widenedLate(result, c.name) ? 'lower bounds' : c.topValues,
      timestamp: c.timestamp,
      min: c.numeric?.min,
      max: c.numeric?.max,
      binned: c.numeric?.histogram.reduce((sum, bin) => sum + bin.count, 0),
    })),
  }
}

function widenedLate(result: Extract<ValidationResult, { ok: true }>, name: string): boolean {
  return result.schema.find((c) => c.name === name)!.widenings.some((w) => w.to === 'string')
}

describe('validation in batches', () => {
  it.each([
    ['csv', mixedCsv(3000)],
    ['jsonl', mixedJsonl(3000)],
  ] as const)(
    'gives a %s profile equal to one pass: types, widenings, counts, sketches',
    async (format, content) => {
      const onePass = expectOk(await validateIn(content, format))
      const batched = expectOk(await validateIn(content, format, { batchBytes: 2000, workers: 0 }))
      expect(comparable(batched)).toEqual(comparable(onePass))
      // Widenings (compared in the schema above) happen at the same rows across batches.
      expect(onePass.schema.filter((c) => c.widenings.length > 0).length).toBeGreaterThan(0)
      for (const [i, column] of batched.profile.columns.entries()) {
        const one = onePass.profile.columns[i]!
        if (one.numeric === undefined) continue
        expect(column.numeric!.mean).toBeCloseTo(one.numeric.mean, 9)
        expect(column.numeric!.std!).toBeCloseTo(one.numeric.std!, 9)
      }
    },
  )

  it('gives the same result byte for byte whatever the number of workers or the chunking', async () => {
    const content = mixedCsv(3000)
    const inline = await validateIn(content, 'csv', { batchBytes: 4000, workers: 0 })
    const pooled = await validateIn(content, 'csv', {
      batchBytes: 4000,
      workers: 2,
      chunkSize: 1031,
    })
    expect(JSON.stringify(pooled)).toBe(JSON.stringify(inline))
  })

  it('reports issues across batches in file order, and stops after broken quoting', async () => {
    const lines = ['a,b']
    for (let i = 2; i <= 400; i++) {
      if (i === 50 || i === 250) lines.push('1,2,3')
      else if (i === 300) lines.push('1,x"y')
      else lines.push(`${i},${i}`)
    }
    lines.push('7')
    const content = lines.join('\n') + '\n'
    const onePass = expectFailure(await validateIn(content, 'csv'))
    const batched = expectFailure(await validateIn(content, 'csv', { batchBytes: 300, workers: 2 }))
    expect(batched.errors).toEqual(onePass.errors)
    expect(batched.errors.map((e) => [e.code, e.row])).toEqual([
      ['ragged_row', 50],
      ['ragged_row', 250],
      ['invalid_quoting', 300],
    ])
    const capped = expectFailure(
      await validateIn(content, 'csv', { batchBytes: 300, workers: 0, maxErrors: 1 }),
    )
    expect(capped.errors.map((e) => e.row)).toEqual([50])
  })

  it('says a CSV of only a header and blank lines has no rows, batched or not', async () => {
    const content = 'a,b\n' + '\n'.repeat(5000)
    for (const batchBytes of [100, 1 << 20]) {
      const result = expectFailure(await validateIn(content, 'csv', { batchBytes, workers: 0 }))
      expect(result.errors).toEqual([expect.objectContaining({ code: 'no_rows' })])
    }
  })
})

describe('BatchCutter', () => {
  function cutSync(content: string, quoted: boolean, target: number, chunk: number) {
    const bytes = Buffer.from(content)
    const cutter = new BatchCutter(quoted, target)
    const batches: Batch[] = []
    for (let i = 0; i < bytes.length; i += chunk)
      batches.push(...cutter.push(bytes.subarray(i, i + chunk)))
    batches.push(...cutter.end())
    return { batches }
  }

  it('cuts only between records, never inside quotes, wherever the chunks end', () => {
    const content = 'name,"note\nwith newline"\n' + 'x,"a\nb"\n'.repeat(40) + 'last,1\n'
    const expected = cutSync(content, true, 30, 1 << 20)
    for (const chunk of [1, 3, 7, 64]) {
      const { batches } = cutSync(content, true, 30, chunk)
      expect(batches.map((b) => [b.firstLine, b.offset, b.bytes.toString()])).toEqual(
        expected.batches.map((b) => [b.firstLine, b.offset, b.bytes.toString()]),
      )
      // Every batch after the first carries the header record, which has a quoted newline.
      expect(batches[0]!.header).toBeNull()
      for (const batch of batches.slice(1)) {
        expect(batch.header?.toString()).toBe('name,"note\nwith newline"\n')
      }
    }
    const { batches } = expected
    expect(batches.length).toBeGreaterThan(5)
    expect(batches.map((b) => b.bytes.toString()).join('')).toBe(content)
    for (const batch of batches.slice(1))
      expect(batch.bytes.toString()).toMatch(/^(x,"a\nb"\n)+(last,1\n)?$/)
    // Lines counted through the quoted newlines.
    expect(batches[1]!.firstLine).toBe(3 + 2 * ((batches[0]!.bytes.length - 25) / 8))
  })

  it('gives one empty batch for an empty file, and gives up on a record without end', () => {
    expect(cutSync('', true, 10, 5).batches).toEqual([
      { index: 0, bytes: Buffer.alloc(0), firstLine: 1, offset: 0, header: null },
    ])
    const open = 'a\n"' + 'y'.repeat(17 * 1024 * 1024)
    const { batches } = cutSync(open, true, 10, 1 << 20)
    expect(batches).toHaveLength(1)
    expect(batches[0]!.bytes.length).toBeLessThan(open.length)
  })
})

describe('BatchProfiling', () => {
  it('settles the batches in flight before it stops its workers, so a late result cannot crash the process', async () => {
    const uncaught: unknown[] = []
    const record = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', record)
    try {
      const cutter = new BatchCutter(true, 1 << 20)
      const batches = [...cutter.push(Buffer.from('a,b\n' + '1,2\n'.repeat(1 << 20)))]
      const profiling = new BatchProfiling('csv', 20, 1)
      await profiling.add(batches[0]!)
      // Batches 0 and 1 go to the one worker; this returns once batch 0's result is joined,
      // still inside the callback that delivered that result.
      await profiling.add(batches[1]!)
      // Block that callback while the worker finishes batch 1 and posts its result, as a busy
      // process would: it is then queued behind the result being handled. Closing here (an
      // abort noticed while joining) must not leave that queued result without its task.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_000)
      await profiling.close()
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('uncaughtException', record)
    }
    expect(uncaught).toEqual([])
  })
})
