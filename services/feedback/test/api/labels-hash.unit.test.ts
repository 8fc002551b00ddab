import { requestHash } from '@argmax/events'
import { describe, expect, it } from 'vitest'
import { labelsRequestHash } from '../../src/application/labels-hash.ts'

describe("a label request's hash", () => {
  it('is requestHash of the body, for every spelling the route admits', () => {
    const bodies: unknown[] = [
      { labels: [{ predictionId: 'p1_AAAB.sig', value: 3.5 }] },
      // Key order as sent does not matter; numbers spelt as the canonical form spells them.
      {
        labels: [
          { value: 1e21, predictionId: 'p1_a' },
          { predictionId: 'p1_b', value: -0 },
          { predictionId: 'p1_c', value: 0.1 + 0.2 },
          { predictionId: 'p1_d', value: 5e-7 },
          { predictionId: 'p1_e', value: 'class "quoted" \\ back\nslash' },
          { predictionId: 'p1_f', value: 'ünïcødé 😀 \u2028 \u0007' },
          { predictionId: 'p1_g space ~ del \u007f', value: ' !#[]~' },
        ],
      },
      // Other shapes take the generic path, with the same result.
      { predictionId: 'p1_single', value: 2 },
      { labels: [{ predictionId: 'p1_a', value: 1, extra: true }] },
      { labels: [] },
    ]
    for (const body of bodies) expect(labelsRequestHash(body)).toBe(requestHash(body))
  })

  it('refuses what requestHash refuses: a lone surrogate', () => {
    const body = { labels: [{ predictionId: 'p1_a', value: 'bad \ud800 text' }] }
    expect(() => labelsRequestHash(body)).toThrow(/canonicalised/)
    expect(labelsRequestHash({ labels: [{ predictionId: 'p1_a', value: 'pair 😀' }] })).toBe(
      requestHash({ labels: [{ predictionId: 'p1_a', value: 'pair 😀' }] }),
    )
  })
})
