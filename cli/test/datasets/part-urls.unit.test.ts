import { describe, expect, it } from 'vitest'
import { createPartUrls } from '../../src/datasets/part-urls.ts'

function service(expiresInSeconds: number) {
  const asked: number[][] = []
  let signed = 0
  return {
    asked,
    presign: async (partNumbers: number[]) => {
      asked.push(partNumbers)
      signed++
      return {
        parts: partNumbers.map((partNumber) => ({ partNumber, url: `u${partNumber}-${signed}` })),
        expiresInSeconds,
      }
    },
  }
}

describe('part URLs', () => {
  it('asks for a batch when its first part is reached, and the next one half-way through', async () => {
    const api = service(900)
    const clock = { t: 0 }
    const urls = createPartUrls({
      presign: api.presign,
      parts: [2, 3, 5, 6, 7, 8, 9],
      batchSize: 3,
      now: () => clock.t,
    })
    expect(await urls.urlOf(2)).toBe('u2-1')
    expect(await urls.urlOf(3)).toBe('u3-1')
    expect(api.asked).toEqual([[2, 3, 5]])
    expect(await urls.urlOf(5)).toBe('u5-1')
    expect(api.asked).toEqual([
      [2, 3, 5],
      [6, 7, 8],
    ])
    expect(await urls.urlOf(6)).toBe('u6-2')
    await urls.urlOf(7)
    await urls.urlOf(8) // half-way through the second: the last batch
    expect(api.asked.at(-1)).toEqual([9])
    await urls.urlOf(9)
    expect(api.asked).toHaveLength(3)
  })

  it('asks again for URLs about to expire, once for all the parts waiting on them', async () => {
    const api = service(900)
    const clock = { t: 1_000 }
    const urls = createPartUrls({ presign: api.presign, parts: [1, 2, 3, 4], now: () => clock.t })
    expect(await urls.urlOf(1)).toBe('u1-1')
    // 900 s URLs are used for 840 s (a minute's margin) after they were asked for.
    clock.t += 839_000
    expect(await urls.urlOf(2)).toBe('u2-1')
    clock.t += 1_000
    const [third, fourth] = await Promise.all([urls.urlOf(3), urls.urlOf(4)])
    expect([third, fourth]).toEqual(['u3-2', 'u4-2'])
    expect(api.asked).toEqual([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ])
  })

  it('keeps at least 2 s of margin for short lifetimes', async () => {
    const api = service(4)
    const clock = { t: 0 }
    const urls = createPartUrls({ presign: api.presign, parts: [1, 2], now: () => clock.t })
    await urls.urlOf(1)
    clock.t = 1_999
    expect(await urls.urlOf(2)).toBe('u2-1')
    clock.t = 2_000
    expect(await urls.urlOf(2)).toBe('u2-2')
  })

  it('asks again after a failed request, and for one part after S3 refused its URL', async () => {
    let failures = 1
    const api = service(900)
    const urls = createPartUrls({
      presign: async (numbers) => {
        if (failures-- > 0) throw new Error('503')
        return api.presign(numbers)
      },
      parts: [1, 2],
    })
    await expect(urls.urlOf(1)).rejects.toThrow('503')
    expect(await urls.urlOf(1)).toBe('u1-1')
    expect(await urls.fresh(2)).toBe('u2-2')
    expect(api.asked.at(-1)).toEqual([2])
  })
})
