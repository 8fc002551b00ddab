import { StorageType, type KV, type NatsConnection } from 'nats'

const WRONG_LAST_SEQUENCE = 10071

/**
 * Who schedules: one process at a time holds a lease, a key in a JetStream key-value bucket
 * updated with compare-and-set. The holder renews it every third of its time to live; a
 * holder that dies stops renewing and another process takes the lease once it has expired.
 * Two processes can never both hold it as far as the bucket is concerned; a holder cut off
 * from NATS stops scheduling as soon as its own copy of the lease runs out. Even then a second
 * scheduler could not start an attempt twice: attempt starts are decided on the run's events
 * with the expected sequence.
 */
export interface Lease {
  /** True while this process holds the lease (by its own clock, with a safety margin). */
  held(): boolean
  stop(): Promise<void>
}

interface LeaseValue {
  holder: string
  expiresAt: number
}

export async function startLease(options: {
  nc: NatsConnection
  bucket: string
  key: string
  holder: string
  ttlMs: number
  replicas: number
  onChange?: (held: boolean) => void
  log?: { warn(fields: object, message: string): void }
}): Promise<Lease> {
  const kv: KV = await options.nc.jetstream().views.kv(options.bucket, {
    history: 1,
    replicas: options.replicas,
    storage: StorageType.File,
  })
  const codec = new TextEncoder()
  let heldUntil = 0
  let stopped = false

  const value = (expiresAt: number) =>
    codec.encode(JSON.stringify({ holder: options.holder, expiresAt }))
  async function attempt(): Promise<void> {
    const now = Date.now()
    const expiresAt = now + options.ttlMs
    const wasHeld = heldUntil > now
    try {
      const entry = await kv.get(options.key)
      if (!entry || entry.operation !== 'PUT') {
        await kv.create(options.key, value(expiresAt))
      } else {
        const current = entry.json<LeaseValue>()
        if (current.holder !== options.holder && current.expiresAt > now) {
          heldUntil = 0
          if (wasHeld) options.onChange?.(false)
          return
        }
        await kv.update(options.key, value(expiresAt), entry.revision)
      }
      // Our copy ends a third early: renewals are due long before, and clocks drift.
      heldUntil = now + (options.ttlMs * 2) / 3
      if (!wasHeld) options.onChange?.(true)
    } catch (error) {
      const code = (error as { api_error?: { err_code?: number } }).api_error?.err_code
      if (code !== WRONG_LAST_SEQUENCE)
        options.log?.warn({ err: String(error) }, 'scheduler lease: renewal failed')
      if (heldUntil <= Date.now() && wasHeld) options.onChange?.(false)
    }
  }

  await attempt()
  const timer = setInterval(
    () => {
      if (!stopped) void attempt()
    },
    Math.max(100, Math.floor(options.ttlMs / 3)),
  )
  timer.unref()

  return {
    held: () => heldUntil > Date.now(),
    async stop() {
      stopped = true
      clearInterval(timer)
      if (heldUntil <= Date.now()) return
      heldUntil = 0
      // Hand it over at once rather than make the next holder wait for the expiry.
      try {
        const entry = await kv.get(options.key)
        if (
          entry &&
          entry.operation === 'PUT' &&
          entry.json<LeaseValue>().holder === options.holder
        ) {
          await kv.update(
            options.key,
            codec.encode(JSON.stringify({ holder: options.holder, expiresAt: 0 })),
            entry.revision,
          )
        }
      } catch {
        // It expires by itself.
      }
    },
  }
}
