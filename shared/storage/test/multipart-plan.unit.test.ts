import { describe, expect, it } from 'vitest'
import {
  MAX_PARTS,
  MIN_PART_SIZE,
  defaultPartSize,
  partRange,
  planParts,
} from '../src/multipart-plan.ts'

const MiB = 1024 * 1024

describe('planParts', () => {
  it('splits a file into full parts and a remainder', () => {
    expect(planParts(20 * MiB + 1, 8 * MiB)).toEqual({ partSize: 8 * MiB, partCount: 3 })
  })

  it('gives an empty file one part', () => {
    expect(planParts(0, MIN_PART_SIZE)).toEqual({ partSize: MIN_PART_SIZE, partCount: 1 })
  })

  it('refuses parts below 5 MiB and plans over 10,000 parts', () => {
    expect(planParts(10 * MiB, MiB)).toEqual({ error: expect.stringContaining('at least') })
    expect(planParts(MAX_PARTS * 5 * MiB + 1, 5 * MiB)).toEqual({
      error: expect.stringContaining('10000'),
    })
  })

  it('refuses negative and fractional sizes', () => {
    expect(planParts(-1, 8 * MiB)).toHaveProperty('error')
    expect(planParts(1.5, 8 * MiB)).toHaveProperty('error')
  })
})

describe('defaultPartSize', () => {
  it('keeps 2 GiB within the part limit at the preferred size', () => {
    const size = 2 * 1024 * MiB
    const partSize = defaultPartSize(size)
    expect(partSize).toBe(8 * MiB)
    expect(planParts(size, partSize)).toEqual({ partSize, partCount: 256 })
  })

  it('grows the part size for files that would need more than 10,000 parts', () => {
    const size = 100 * 1024 * MiB
    const plan = planParts(size, defaultPartSize(size))
    expect(plan).not.toHaveProperty('error')
    expect((plan as { partCount: number }).partCount).toBeLessThanOrEqual(MAX_PARTS)
  })
})

describe('partRange', () => {
  it('gives each part its byte range, the last one short', () => {
    const plan = { partSize: 10, partCount: 3 }
    expect(partRange(plan, 25, 1)).toEqual({ start: 0, end: 10 })
    expect(partRange(plan, 25, 3)).toEqual({ start: 20, end: 25 })
    expect(() => partRange(plan, 25, 4)).toThrow(RangeError)
  })
})
