import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { issuePredictionId, predictionIdKey, verifyPredictionId } from '../src/prediction-id.ts'

const secret = 'a-secret-of-at-least-thirty-two-characters'
const fields = { issuedAt: new Date('2026-12-01T10:00:00.123Z'), model: 'movies', version: 7 }

describe('prediction ids', () => {
  it('round-trips the model, version and issue time', () => {
    const id = issuePredictionId(secret, fields, randomBytes(8))
    expect(verifyPredictionId(secret, id)).toEqual({ ok: true, fields })
  })

  it('are the same whether signed with the secret or with its key object', () => {
    const random = randomBytes(8)
    const key = predictionIdKey(secret)
    const id = issuePredictionId(secret, fields, random)
    expect(issuePredictionId(key, fields, random)).toBe(id)
    expect(verifyPredictionId(key, id)).toEqual({ ok: true, fields })
    expect(
      verifyPredictionId(predictionIdKey('another-secret-of-thirty-two-characters!'), id),
    ).toEqual({
      ok: false,
      reason: 'forged',
    })
  })

  it('differ for the same model, version and time', () => {
    const a = issuePredictionId(secret, fields, randomBytes(8))
    const b = issuePredictionId(secret, fields, randomBytes(8))
    expect(a).not.toBe(b)
  })

  it('refuses an id signed with another secret, or with a changed payload', () => {
    const id = issuePredictionId(secret, fields, randomBytes(8))
    expect(verifyPredictionId('another-secret-of-thirty-two-characters!', id)).toEqual({
      ok: false,
      reason: 'forged',
    })
    const other = issuePredictionId(secret, { ...fields, version: 8 }, randomBytes(8))
    const spliced = `${other.slice(0, other.lastIndexOf('.'))}${id.slice(id.lastIndexOf('.'))}`
    expect(verifyPredictionId(secret, spliced)).toEqual({ ok: false, reason: 'forged' })
  })

  it('has one spelling: junk after the signature or other spare bits in its last character are malformed', () => {
    const id = issuePredictionId(secret, fields, randomBytes(8))
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const spare = id.slice(0, -1) + alphabet[alphabet.indexOf(id.at(-1)!) ^ 1]
    for (const variant of [`${id}"`, `${id}!!`, `${id}=`, spare]) {
      expect(verifyPredictionId(secret, variant)).toEqual({ ok: false, reason: 'malformed' })
    }
  })

  it('calls anything else malformed', () => {
    for (const id of ['', 'p1_', 'p1_abc', 'x1_abc.def', `p1_${'a'.repeat(600)}.b`]) {
      expect(verifyPredictionId(secret, id)).toEqual({ ok: false, reason: 'malformed' })
    }
  })
})
