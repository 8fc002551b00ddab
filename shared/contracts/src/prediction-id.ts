import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto'

/**
 * Prediction ids the platform can verify without a lookup: every row the gateway answers gets
 * one, and feedback refuses labels for ids it did not issue or that are older than retention.
 *
 *   p1_<payload>.<signature>     (both base64url)
 *   payload   = issuedAt ms (8 bytes, big-endian) ‖ random (8 bytes) ‖ version (4 bytes) ‖ model (UTF-8)
 *   signature = HMAC-SHA256(secret, "p1_" + payload)[0..16)
 *
 * The model and version ride in the id so feedback can check a label against the version's
 * output schema; the time so an expired id is refused; the random part makes ids unique.
 */
const PREFIX = 'p1_'
const SIGNATURE_BYTES = 16

/** The shared secret as given, or as a key made once with `predictionIdKey` (faster per id). */
export type PredictionIdSecret = string | Buffer | KeyObject

/**
 * The secret as an HMAC key object: made once, it spares every signature the key's set-up
 * (converting and copying the secret), which shows when a request carries 10,000 ids.
 */
export function predictionIdKey(secret: string | Buffer): KeyObject {
  return createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret)
}

export interface PredictionIdFields {
  issuedAt: Date
  model: string
  version: number
}

export function issuePredictionId(
  secret: PredictionIdSecret,
  fields: PredictionIdFields,
  random: Buffer,
): string {
  if (random.length !== 8) throw new Error('a prediction id needs 8 random bytes')
  const model = Buffer.from(fields.model, 'utf8')
  const payload = Buffer.alloc(20 + model.length)
  payload.writeBigUInt64BE(BigInt(fields.issuedAt.getTime()), 0)
  random.copy(payload, 8)
  payload.writeUInt32BE(fields.version, 16)
  model.copy(payload, 20)
  const body = PREFIX + payload.toString('base64url')
  return `${body}.${sign(secret, body).toString('base64url')}`
}

export type PredictionIdCheck =
  { ok: true; fields: PredictionIdFields } | { ok: false; reason: 'malformed' | 'forged' }

/** Checks the signature (constant time) and decodes the fields; expiry is the caller's rule. */
export function verifyPredictionId(secret: PredictionIdSecret, id: string): PredictionIdCheck {
  const dot = id.lastIndexOf('.')
  if (!id.startsWith(PREFIX) || dot < 0 || id.length > 512)
    return { ok: false, reason: 'malformed' }
  const body = id.slice(0, dot)
  const signature = id.slice(dot + 1)
  const given = Buffer.from(signature, 'base64url')
  const payload = Buffer.from(body.slice(PREFIX.length), 'base64url')
  if (given.length !== SIGNATURE_BYTES || payload.length < 21)
    return { ok: false, reason: 'malformed' }
  // Base64 decoding skips characters outside its alphabet and ignores a last character's spare
  // bits: only the one spelling of the signature is the id, or one prediction could be labelled
  // under several ids (none of which joins its logged row, each escaping the others' corrections).
  if (given.toString('base64url') !== signature) return { ok: false, reason: 'malformed' }
  if (!timingSafeEqual(given, sign(secret, body))) return { ok: false, reason: 'forged' }
  return {
    ok: true,
    fields: {
      issuedAt: new Date(Number(payload.readBigUInt64BE(0))),
      version: payload.readUInt32BE(16),
      model: payload.subarray(20).toString('utf8'),
    },
  }
}

function sign(secret: PredictionIdSecret, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest().subarray(0, SIGNATURE_BYTES)
}
