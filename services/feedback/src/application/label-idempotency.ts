import { createHash } from 'node:crypto'
import { IdempotencyKeyReusedError } from '@argmax/errors'
import { IDEMPOTENCY_KEY_FIELD } from '@argmax/events'
import { StorageType, type KV, type NatsConnection } from 'nats'

/**
 * `Idempotency-Key`s of label requests. Labels go to a log stream, not to an aggregate whose
 * creation event could hold the request's hash, so the key is remembered in a JetStream
 * key-value bucket for `ttlMs`: the first request stores its hash, its request id and its
 * receipt time (create-if-absent, so concurrent retries agree on one); a retry with the same
 * body gets them back and republishes the same receipts — same label ids, same revisions, so
 * nothing changes in ClickHouse, and a correction sent in between keeps winning — and a retry
 * with another body is refused with 422.
 */
export interface KeyedRequest {
  requestId: string
  receivedAt: Date
  requestHash: string
  published: boolean
}

export interface LabelIdempotency {
  /** The request already made under this key, or this one recorded as the first. */
  claim(
    caller: string,
    key: string,
    fresh: KeyedRequest,
  ): Promise<{ request: KeyedRequest; repeated: boolean }>
  markPublished(caller: string, key: string, request: KeyedRequest): Promise<void>
}

export async function openLabelIdempotency(
  nc: NatsConnection,
  options: { bucket: string; ttlMs: number; replicas: number },
): Promise<LabelIdempotency> {
  const kv: KV = await nc.jetstream().views.kv(options.bucket, {
    history: 1,
    ttl: options.ttlMs,
    replicas: options.replicas,
    storage: StorageType.File,
  })
  const entryKey = (caller: string, key: string) =>
    createHash('sha256')
      .update(JSON.stringify([caller, key]))
      .digest('hex')
  const encode = (request: KeyedRequest) =>
    JSON.stringify({ ...request, receivedAt: request.receivedAt.toISOString() })
  const decode = (text: string): KeyedRequest => {
    const stored = JSON.parse(text) as Omit<KeyedRequest, 'receivedAt'> & { receivedAt: string }
    return { ...stored, receivedAt: new Date(stored.receivedAt) }
  }

  return {
    async claim(caller, key, fresh) {
      const id = entryKey(caller, key)
      for (let attempt = 0; attempt < 5; attempt++) {
        const existing = await kv.get(id)
        if (existing && existing.operation === 'PUT') {
          const request = decode(existing.string())
          if (request.requestHash !== fresh.requestHash) {
            throw new IdempotencyKeyReusedError(IDEMPOTENCY_KEY_FIELD, 'request body')
          }
          return { request, repeated: true }
        }
        try {
          await kv.create(id, encode(fresh))
          return { request: fresh, repeated: false }
        } catch (error) {
          // Another request with this key got there first: read what it stored.
          if (!/wrong last sequence|key exists/i.test((error as Error).message)) throw error
        }
      }
      throw new Error(`idempotency key entry ${id} keeps changing`)
    },
    async markPublished(caller, key, request) {
      await kv.put(entryKey(caller, key), encode({ ...request, published: true }))
    },
  }
}
