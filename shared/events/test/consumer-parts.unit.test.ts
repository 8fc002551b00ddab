import { ValidationError } from '@argmax/errors'
import { describe, expect, it } from 'vitest'
import { claimDeliveries, ClaimLapsedError } from '../src/consumer/claim.ts'
import { resolveSettings, retryDelayAfter } from '../src/consumer/consumer-settings.ts'
import { decodeEnvelope, describeError, encodeEnvelope, parkedId } from '../src/index.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('retry delays', () => {
  it('waits the n-th delay after the n-th delivery failed, the last one repeating', () => {
    const delays = [10, 20, 30]
    expect([1, 2, 3, 4, 9].map((count) => retryDelayAfter(count, delays))).toEqual([
      10, 20, 30, 30, 30,
    ])
  })
})

describe('consumer settings', () => {
  const base = { nc: undefined as never, stream: 'S', durable: 'd' }
  it('defaults to capped deliveries and a 30 s ack wait', () => {
    expect(resolveSettings(base)).toMatchObject({
      ackWaitMs: 30_000,
      maxDeliver: 5,
      maxAckPending: 1_000,
      retryDelaysMs: [1_000, 5_000, 30_000, 120_000],
      stopMode: 'finish',
    })
  })
  it('names the option it refuses', () => {
    expect(() => resolveSettings({ ...base, maxDeliver: 0 })).toThrow(ValidationError)
    expect(() => resolveSettings({ ...base, ackWaitMs: 10 })).toThrow(/ackWaitMs: must be/)
    expect(() => resolveSettings({ ...base, retryDelaysMs: [5, -1] })).toThrow(/retryDelaysMs\[1\]/)
    expect(() => resolveSettings({ ...base, stream: 'a b' })).toThrow(/stream: "a b"/)
  })
})

describe('claims', () => {
  it('says "working" only after progress, and lapses after an ack wait without any', async () => {
    let beats = 0
    const claim = claimDeliveries([{ working: () => beats++ }], 90)
    let lapsed = false
    void claim.lapsed.then(() => (lapsed = true))
    for (let i = 0; i < 10; i++) {
      claim.progress()
      await sleep(30)
    }
    expect(beats).toBeGreaterThan(0)
    expect(lapsed).toBe(false)
    const beatsBeforeHang = beats
    await claim.lapsed
    expect(beats).toBe(beatsBeforeHang)
    expect(claim.signal.reason).toBeInstanceOf(ClaimLapsedError)
    claim.release()
  })

  it('never lapses once released', async () => {
    const claim = claimDeliveries([{ working: () => undefined }], 30)
    claim.release()
    await sleep(100)
    expect(claim.isLapsed()).toBe(false)
    expect(claim.signal.aborted).toBe(false)
  })
})

describe('envelopes and parked entries', () => {
  it('tells an envelope from other JSON', () => {
    const envelope = {
      id: 'e1',
      type: 'Made',
      schemaVersion: 1,
      stream: 'S',
      subject: 's.a.b',
      occurredAt: '2026-12-01T00:00:00.000Z',
      actor: 'system:test',
      correlationId: 'e1',
      causationId: null,
      data: { i: 1 },
    }
    expect(decodeEnvelope(encodeEnvelope(envelope), 7)).toEqual({ ...envelope, sequence: 7 })
    const text = (value: string) => new TextEncoder().encode(value)
    expect(() => decodeEnvelope(text('[1,2]'), 3)).toThrow(/message 3 is not an event envelope/)
    expect(() => decodeEnvelope(text('null'), 3)).toThrow(/not an event envelope/)
    expect(() =>
      decodeEnvelope(text('{"id":"x","type":"T","schemaVersion":"1","data":1}'), 3),
    ).toThrow(/not an event envelope/)
    expect(() => decodeEnvelope(text('{'), 3)).toThrow(SyntaxError)
  })

  it('keeps an error small: its message and the head of its stack', () => {
    const error = new Error('x'.repeat(10_000))
    const described = describeError(error)
    expect(described.message.length).toBeLessThanOrEqual(4_001)
    expect(described.stack!.split('\n').length).toBeLessThanOrEqual(8)
    expect(describeError('plain')).toEqual({ message: 'plain', stack: null })
    expect(parkedId('DATASET', 'dataset-validator', 42)).toBe('DATASET.dataset-validator.42')
  })
})
