import pg from 'pg'
import { CHECKPOINT_CHANNEL } from './checkpoints.table.ts'
import type { ProjectionLogger } from './logger.ts'

export interface CheckpointNotice {
  name: string
  stream: string
  position: number
}

/** Called with each committed checkpoint of this schema, or `lost` when notices may be missed. */
export type CheckpointSubscriber = (notice: CheckpointNotice | 'lost') => void

// Long enough that a burst of read-your-writes waits shares one connection.
const IDLE_CLOSE_MS = 10_000

/**
 * One LISTEN connection per database handle, opened on the first wait and closed when nobody has
 * waited for a while. It is a dedicated client rather than a pooled one: a LISTEN must stay on
 * one session, and it must not take a slot the projections need.
 */
export class CheckpointListener {
  private client: pg.Client | undefined
  private connecting: Promise<pg.Client> | undefined
  private readonly subscribers = new Set<CheckpointSubscriber>()
  private idleTimer: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly schema: string,
    private readonly log: ProjectionLogger,
  ) {}

  /** Resolves once LISTEN is active; returns the unsubscribe function. */
  async subscribe(subscriber: CheckpointSubscriber): Promise<() => void> {
    if (this.closed) throw new Error('the database handle was destroyed')
    clearTimeout(this.idleTimer)
    this.subscribers.add(subscriber)
    try {
      await this.connect()
    } catch (error) {
      this.unsubscribe(subscriber)
      throw error
    }
    return () => this.unsubscribe(subscriber)
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.idleTimer)
    this.subscribers.clear()
    await this.disconnect()
  }

  private unsubscribe(subscriber: CheckpointSubscriber): void {
    this.subscribers.delete(subscriber)
    if (this.subscribers.size === 0 && !this.closed) {
      clearTimeout(this.idleTimer)
      this.idleTimer = setTimeout(() => void this.disconnect(), IDLE_CLOSE_MS)
      this.idleTimer.unref()
    }
  }

  private connect(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client)
    this.connecting ??= this.open().finally(() => (this.connecting = undefined))
    return this.connecting
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client(this.config)
    client.on('notification', (message) => this.dispatch(message.payload))
    client.on('error', (error) => {
      this.log.error({ err: error, schema: this.schema }, 'checkpoint listener connection failed')
      if (this.client === client) this.client = undefined
      client.end().catch(() => undefined)
      for (const subscriber of this.subscribers) subscriber('lost')
    })
    await client.connect()
    try {
      await client.query(`listen ${CHECKPOINT_CHANNEL}`)
    } catch (error) {
      await client.end().catch(() => undefined)
      throw error
    }
    if (this.closed) {
      await client.end()
      throw new Error('the database handle was destroyed')
    }
    this.client = client
    return client
  }

  private async disconnect(): Promise<void> {
    const client = this.client ?? (await this.connecting?.catch(() => undefined))
    this.client = undefined
    await client?.end().catch(() => undefined)
  }

  private dispatch(payload: string | undefined): void {
    const notice = parseNotice(payload)
    if (!notice || notice.schema !== this.schema) return
    const { name, stream, position } = notice
    for (const subscriber of this.subscribers) subscriber({ name, stream, position })
  }
}

function parseNotice(payload: string | undefined): (CheckpointNotice & { schema: string }) | null {
  if (!payload) return null
  try {
    const value = JSON.parse(payload) as Record<string, unknown>
    if (
      typeof value.schema === 'string' &&
      typeof value.name === 'string' &&
      typeof value.stream === 'string' &&
      typeof value.position === 'number'
    ) {
      return {
        schema: value.schema,
        name: value.name,
        stream: value.stream,
        position: value.position,
      }
    }
  } catch {
    // Someone else NOTIFYing on our channel with garbage: not ours to act on.
  }
  return null
}

const listeners = new WeakMap<object, CheckpointListener>()

/** Remembers which listener serves a Kysely instance made by createDatabase. */
export function registerCheckpointListener(db: object, listener: CheckpointListener): void {
  listeners.set(db, listener)
}

export function checkpointListenerFor(db: object): CheckpointListener | undefined {
  return listeners.get(db)
}
