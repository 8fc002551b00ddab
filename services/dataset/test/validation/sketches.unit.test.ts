import { describe, expect, it } from 'vitest'
import { widenType } from '../../src/validation/infer/column-type.ts'
import { classifyText } from '../../src/validation/infer/text-kind.ts'
import { parseIsoTimestamp } from '../../src/validation/infer/timestamp.ts'
import { StreamingHistogram } from '../../src/validation/profile/histogram.ts'
import { hashString, HyperLogLog } from '../../src/validation/profile/hyperloglog.ts'
import { TopValues } from '../../src/validation/profile/top-values.ts'
import { RunningMoments } from '../../src/validation/profile/welford.ts'
import { firstInvalidUtf8Offset } from '../../src/validation/utf8.ts'
import { seededRandom } from './validation-helpers.ts'

describe('classifyText', () => {
  const kind = (s: string) => classifyText(s, { value: 0 })
  it.each([
    ['0', 'integer'],
    ['-42', 'integer'],
    ['+7', 'integer'],
    ['007', 'integer'],
    ['9007199254740993', 'float'],
    ['1.5', 'float'],
    ['-.5', 'float'],
    ['1.', 'float'],
    ['1e5', 'float'],
    ['2.5E-3', 'float'],
    ['true', 'boolean'],
    ['FALSE', 'boolean'],
    ['2024-02-29', 'timestamp'],
    ['2024-02-29T23:59:59.123+05:30', 'timestamp'],
    ['2024-02-29 23:59', 'timestamp'],
    ['2023-02-29', 'string'],
    ['2024-13-01', 'string'],
    ['2024-01-01T25:00', 'string'],
    ['Infinity', 'string'],
    ['NaN', 'string'],
    ['0x1F', 'string'],
    ['1,5', 'string'],
    [' 12', 'string'],
    ['12 ', 'string'],
    ['1e', 'string'],
    ['-', 'string'],
    ['.', 'string'],
    ['1e999', 'string'],
    ['yes', 'string'],
  ])('%j is %s', (s, expected) => {
    expect(kind(s)).toBe(expected)
  })

  it('parses numbers to exactly the double Number() gives, fast path or not', () => {
    const random = seededRandom(5)
    const out = { value: 0 }
    for (let i = 0; i < 20_000; i++) {
      const digits = String(Math.floor(random() * 10 ** Math.floor(random() * 18)))
      const point = Math.floor(random() * (digits.length + 1))
      let s = random() < 0.5 ? digits : `${digits.slice(0, point)}.${digits.slice(point)}`
      if (s === '.') s = '0.5'
      if (random() < 0.3) s += `e${Math.floor(random() * 60) - 30}`
      if (random() < 0.3) s = `-${s}`
      const kind = classifyText(s, out)
      expect(kind === 'integer' || kind === 'float', s).toBe(true)
      expect(Object.is(out.value, Number(s)), s).toBe(true)
    }
  })

  it('reads a cell in place without looking past its end', () => {
    const out = { value: 0 }
    const line = '12,2024-01-01T10:00:0,3.5e,true'
    expect(classifyText(line, out, 0, 2)).toBe('integer')
    expect(out.value).toBe(12)
    expect(classifyText(line, out, 3, 21)).toBe('string')
    expect(classifyText(line, out, 22, 26)).toBe('string')
    expect(classifyText(line, out, 22, 25)).toBe('float')
    expect(classifyText(line, out, 27, 31)).toBe('boolean')
  })

  it('hands back the parsed value', () => {
    const out = { value: 0 }
    classifyText('-12.25', out)
    expect(out.value).toBe(-12.25)
    classifyText('TRUE', out)
    expect(out.value).toBe(1)
  })
})

describe('parseIsoTimestamp', () => {
  it.each([
    '2024-01-01',
    '1970-01-01T00:00:00Z',
    '2000-02-29T12:34:56.789Z',
    '1999-12-31T23:59:59-08:00',
    '2024-06-30T10:00:00+0200',
    '0099-05-01',
    '1601-01-01T00:00:00Z',
  ])('agrees with Date.parse on %s', (s) => {
    const expected = s === '0099-05-01' ? Date.parse('0099-05-01T00:00:00Z') : Date.parse(s)
    expect(parseIsoTimestamp(s)).toBe(expected)
  })

  it('reads a time without offset as UTC and keeps milliseconds only', () => {
    expect(parseIsoTimestamp('2024-01-02 03:04:05.6789')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 678))
  })
})

describe('widenType', () => {
  it.each([
    [null, 'integer', 'integer'],
    ['integer', 'float', 'float'],
    ['float', 'integer', 'float'],
    ['integer', 'boolean', 'string'],
    ['timestamp', 'integer', 'string'],
    ['boolean', 'boolean', 'boolean'],
    ['string', 'integer', 'string'],
  ] as const)('%s + %s → %s', (a, b, expected) => {
    expect(widenType(a, b)).toBe(expected)
  })
})

describe('RunningMoments', () => {
  it('matches the two-pass mean and sample std on shifted data', () => {
    const random = seededRandom(3)
    const values = Array.from({ length: 10_000 }, () => 1e9 + random())
    const moments = new RunningMoments()
    values.forEach((v) => moments.add(v))
    const mean = values.reduce((a, b) => a + b, 0) / values.length
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)
    expect(moments.mean).toBeCloseTo(mean, 4)
    expect(moments.sampleStd()).toBeCloseTo(Math.sqrt(variance), 6)
  })

  it('has no sample std below two values', () => {
    const moments = new RunningMoments()
    moments.add(5)
    expect(moments.sampleStd()).toBeNull()
  })
})

describe('StreamingHistogram', () => {
  it('uses equal bins from min to max while every value fits its buffer', () => {
    const h = new StreamingHistogram(4, 100)
    ;[0, 1, 2, 3, 4, 5, 6, 7, 8].forEach((v) => h.add(v))
    expect(h.bins()).toEqual([
      { lower: 0, upper: 2, count: 2 },
      { lower: 2, upper: 4, count: 2 },
      { lower: 4, upper: 6, count: 2 },
      { lower: 6, upper: 8, count: 3 },
    ])
  })

  it('keeps exact counts on its power-of-two grid past the buffer, whatever the order', () => {
    const random = seededRandom(11)
    // Drifting and widening values force the window to move and to double many times.
    const values = Array.from({ length: 50_000 }, (_, i) => (random() - 0.3) * i * 10)
    const h = new StreamingHistogram(20, 64)
    values.forEach((v) => h.add(v))
    const bins = h.bins()
    expect(bins.length).toBeGreaterThanOrEqual(10)
    expect(bins.length).toBeLessThanOrEqual(20)
    for (const bin of bins) {
      const inBin = values.filter((v) => v >= bin.lower && v < bin.upper).length
      expect(inBin).toBe(bin.count)
    }
    expect(bins.reduce((a, b) => a + b.count, 0)).toBe(values.length)
    expect(bins[0]!.lower).toBeLessThanOrEqual(Math.min(...values))
    expect(bins.at(-1)!.upper).toBeGreaterThan(Math.max(...values))
  })

  it('puts a constant column in one bin', () => {
    const h = new StreamingHistogram()
    for (let i = 0; i < 5000; i++) h.add(42)
    const bins = h.bins()
    expect(bins).toHaveLength(1)
    expect(bins[0]!.count).toBe(5000)
    expect(bins[0]!.lower).toBeLessThanOrEqual(42)
    expect(bins[0]!.upper).toBeGreaterThan(42)
  })
})

describe('HyperLogLog', () => {
  it.each([10, 1000, 100_000, 1_000_000])('estimates %i distinct values within 3 %%', (n) => {
    const hll = new HyperLogLog()
    for (let i = 0; i < n; i++) hll.addString(`user-${i}`)
    // Duplicates change nothing.
    for (let i = 0; i < Math.min(n, 1000); i++) hll.addString(`user-${i}`)
    const estimate = hll.estimate()
    expect(Math.abs(estimate - n) / n).toBeLessThan(0.03)
  })

  it('counts numbers by value', () => {
    const hll = new HyperLogLog()
    ;[1, 1.0, 1, 0, -0, 2].forEach((x) => hll.addNumber(x))
    expect(hll.estimate()).toBe(3)
  })

  it('hashes strings deterministically', () => {
    expect(hashString('abc')).toBe(hashString('abc'))
    expect(hashString('abc')).not.toBe(hashString('abd'))
  })
})

describe('TopValues', () => {
  const add = (top: TopValues, v: string) => top.add(v, 0, v.length, hashString(v))

  it('counts exactly with fewer distinct values than counters', () => {
    const top = new TopValues(8)
    'a b a c b a d'.split(' ').forEach((v) => add(top, v))
    expect(top.top(3)).toEqual([
      { value: 'a', count: 3 },
      { value: 'b', count: 2 },
      { value: 'c', count: 1 },
    ])
  })

  it('keeps the heavy hitters among many unique values, with lower-bound counts', () => {
    const top = new TopValues(16)
    const truth = new Map<string, number>()
    for (let i = 0; i < 20_000; i++) {
      const v = i % 5 === 0 ? 'hot' : i % 7 === 0 ? 'warm' : `id-${i}`
      truth.set(v, (truth.get(v) ?? 0) + 1)
      add(top, v)
    }
    const result = top.top(10)
    expect(result.map((t) => t.value)).toEqual(['hot', 'warm'])
    for (const { value, count } of result) {
      expect(count).toBeLessThanOrEqual(truth.get(value)!)
      expect(count).toBeGreaterThanOrEqual(truth.get(value)! - 20_000 / 17)
    }
  })
})

describe('firstInvalidUtf8Offset', () => {
  it.each([
    [[0x61, 0x62], -1],
    [[0xc3, 0xa9], -1],
    [[0xf0, 0x9f, 0x99, 0x82], -1],
    [[0x61, 0xff], 1],
    [[0xc0, 0xaf], 0],
    [[0xed, 0xa0, 0x80], 0],
    [[0x61, 0xe2, 0x82], 1],
    [[0xf4, 0x90, 0x80, 0x80], 0],
  ])('%j → %i', (bytes, expected) => {
    expect(firstInvalidUtf8Offset(Uint8Array.from(bytes))).toBe(expected)
  })
})

describe('merging the sketches of two parts of a column', () => {
  const random = seededRandom(11)
  const left = Array.from({ length: 5000 }, () => random() * 1000 - 200)
  const right = Array.from({ length: 3000 }, () => random() * 1e6)

  it('RunningMoments gives what one pass over both gives', () => {
    const whole = new RunningMoments()
    const a = new RunningMoments()
    const b = new RunningMoments()
    for (const x of left) {
      whole.add(x)
      a.add(x)
    }
    for (const x of right) {
      whole.add(x)
      b.add(x)
    }
    a.merge(b)
    expect(a.count).toBe(whole.count)
    expect([a.min, a.max]).toEqual([whole.min, whole.max])
    expect(a.mean).toBeCloseTo(whole.mean, 6)
    expect(a.sampleStd()!).toBeCloseTo(whole.sampleStd()!, 6)
  })

  it.each([
    ['grid into grid', left, right],
    ['kept values into grid', left, right.slice(0, 100)],
    ['grid into kept values', left.slice(0, 100), right],
  ])('StreamingHistogram (%s) loses no count and bins every value', (_, first, second) => {
    const a = new StreamingHistogram()
    const b = new StreamingHistogram()
    for (const x of first) a.add(x)
    for (const x of second) b.add(x)
    a.merge(b)
    const bins = a.bins()
    expect(bins.reduce((sum, bin) => sum + bin.count, 0)).toBe(first.length + second.length)
    for (const x of [...first, ...second]) {
      expect(bins.some((bin) => bin.lower <= x && x <= bin.upper)).toBe(true)
    }
  })

  it('HyperLogLog counts the union: the same registers as one sketch of both', () => {
    const whole = new HyperLogLog()
    const a = new HyperLogLog()
    const b = new HyperLogLog()
    for (let i = 0; i < 20_000; i++) {
      whole.addNumber(i)
      a.addNumber(i)
    }
    for (let i = 10_000; i < 50_000; i++) {
      whole.addNumber(i)
      b.addNumber(i)
    }
    a.merge(b)
    expect(a.estimate()).toBe(whole.estimate())
  })

  it('TopValues adds counts exactly while there are few values, and keeps the heavy ones', () => {
    const add = (top: TopValues, value: string, times: number) => {
      for (let i = 0; i < times; i++) top.add(value, 0, value.length, hashString(value))
    }
    const a = new TopValues(4)
    const b = new TopValues(4)
    add(a, 'x', 5)
    add(a, 'y', 2)
    add(b, 'x', 3)
    add(b, 'z', 4)
    a.merge(b)
    expect(a.top()).toEqual([
      { value: 'x', count: 8 },
      { value: 'z', count: 4 },
      { value: 'y', count: 2 },
    ])
    const many = new TopValues(4)
    add(many, 'heavy', 50)
    for (let i = 0; i < 20; i++) add(many, `rare${i}`, 1)
    a.merge(many)
    expect(a.top()[0]).toMatchObject({ value: 'heavy' })
    expect(a.top()[0]!.count).toBeGreaterThan(50 - (8 + 4 + 2 + 70) / 5)
  })
})
