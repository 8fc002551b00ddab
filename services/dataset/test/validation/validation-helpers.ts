import { createHash } from 'node:crypto'
import { validateAndProfile } from '../../src/validation/index.ts'
import type { ValidationFormat, ValidationResult } from '../../src/validation/index.ts'

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** The bytes as a stream of chunks of `chunkSize` bytes (to cross every boundary). */
export async function* chunked(bytes: Uint8Array, chunkSize: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize)
}

/** Validates `content` as uploaded honestly: size and SHA-256 declared from the bytes. */
export function validate(
  content: string | Uint8Array,
  format: ValidationFormat,
  options: { chunkSize?: number; maxErrors?: number } = {},
): Promise<ValidationResult> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content
  return validateAndProfile(chunked(bytes, options.chunkSize ?? 64 * 1024), {
    format,
    declaredSize: bytes.length,
    declaredSha256: sha256Hex(bytes),
    ...(options.maxErrors !== undefined ? { maxErrors: options.maxErrors } : {}),
  })
}

/** Narrows a result to a success, failing the test with its errors otherwise. */
export function expectOk(result: ValidationResult): Extract<ValidationResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected VALIDATED, got ${JSON.stringify(result.errors)}`)
  return result
}

export function expectFailure(result: ValidationResult): Extract<ValidationResult, { ok: false }> {
  if (result.ok) throw new Error('expected a rejection, got VALIDATED')
  return result
}

/** A small seeded PRNG (mulberry32) so generated inputs are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
