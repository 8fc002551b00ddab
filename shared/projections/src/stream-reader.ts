import { NotFoundError } from '@argmax/errors'
import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from 'nats'
import pRetry from 'p-retry'
import type { StoredMessage } from './batch-plan.ts'

export interface StreamReaderOptions {
  js: JetStreamClient
  stream: string
  /** The first stream sequence to deliver (checkpoint + 1). */
  startSequence: number
  /** Messages asked for per pull. */
  fetchSize: number
  /** Stop pulling while this many messages wait to be applied: bounds memory on a long replay. */
  maxBuffered: number
  /** How long one pull waits on an idle stream before the next is sent. */
  idlePullMs: number
  /**
   * Work done on each message as it arrives (decoding), kept in `prepared`. It runs while the
   * previous batch is in PostgreSQL, so the decoding overlaps the database work instead of
   * following it. Must not throw.
   */
  prepare?: (message: StoredMessage) => unknown
}

/** A message plus how many were left after it when it was delivered (0: it was the last). */
export interface ReadMessage extends StoredMessage {
  pending: number
  prepared?: unknown
}

/**
 * Reads a stream in order from a start sequence into a bounded buffer, through an ordered
 * consumer created for this run (no acks: the projection's checkpoint lives in Postgres, and the
 * ordered consumer re-creates itself at the right sequence after a gap or a reconnect).
 * Each pull is a `fetch`, so at most `maxBuffered + fetchSize` messages are held, and messages
 * are handed over as they arrive rather than when a pull completes.
 */
export class StreamReader {
  private readonly buffer: ReadMessage[] = []
  private failure: Error | undefined
  private stopped = false
  private current: ConsumerMessages | undefined
  private wakeTaker: (() => void) | undefined
  private wakePuller: (() => void) | undefined
  private readonly loop: Promise<void>

  private constructor(
    private readonly consumer: Consumer,
    private readonly options: StreamReaderOptions,
  ) {
    this.loop = this.pullLoop()
  }

  static async open(options: StreamReaderOptions): Promise<StreamReader> {
    let consumer: Consumer
    try {
      consumer = await options.js.consumers.get(options.stream, {
        opt_start_seq: options.startSequence,
      })
    } catch (error) {
      if (isStreamNotFound(error)) throw new NotFoundError('stream', options.stream)
      throw error
    }
    return new StreamReader(consumer, options)
  }

  /** Up to `max` buffered messages (waiting for at least one); [] once stopped. */
  async take(max: number): Promise<ReadMessage[]> {
    for (;;) {
      if (this.stopped) return []
      if (this.buffer.length > 0) break
      if (this.failure) throw this.failure
      await new Promise<void>((resolve) => (this.wakeTaker = resolve))
    }
    const taken = this.buffer.splice(0, max)
    this.wake('puller')
    return taken
  }

  /** True when nothing is buffered: with `pending === 0` on the last message, caught up. */
  isDrained(): boolean {
    return this.buffer.length === 0
  }

  /** Ends the current pull at once, waits for the loop to finish and deletes the consumer. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true
      this.current?.stop()
      this.wake('taker')
      this.wake('puller')
    }
    await this.loop
    await this.consumer.delete().catch(() => undefined)
  }

  private async pullLoop(): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.buffer.length >= this.options.maxBuffered) {
          await new Promise<void>((resolve) => (this.wakePuller = resolve))
          continue
        }
        // A pull can fail while NATS reconnects: worth a few retries (0.1 s doubling to 1.6 s)
        // before the runner is told; a missing stream is not.
        await pRetry(() => this.pull(), {
          retries: 5,
          minTimeout: 100,
          factor: 2,
          shouldRetry: ({ error }) => !this.stopped && !isStreamNotFound(error),
        })
      }
    } catch (error) {
      if (this.stopped) return
      this.failure = isStreamNotFound(error)
        ? new NotFoundError('stream', this.options.stream)
        : (error as Error)
      this.wake('taker')
    }
  }

  private async pull(): Promise<void> {
    try {
      const messages = await this.consumer.fetch({
        max_messages: this.options.fetchSize,
        expires: this.options.idlePullMs,
      })
      this.current = messages
      // stop() may have run while the pull was being set up.
      if (this.stopped) messages.stop()
      for await (const message of messages) {
        const read = toReadMessage(message)
        if (this.options.prepare) read.prepared = this.options.prepare(read)
        this.buffer.push(read)
        this.wake('taker')
      }
    } finally {
      this.current = undefined
    }
  }

  private wake(who: 'taker' | 'puller'): void {
    const wake = who === 'taker' ? this.wakeTaker : this.wakePuller
    if (who === 'taker') this.wakeTaker = undefined
    else this.wakePuller = undefined
    wake?.()
  }
}

function toReadMessage(message: JsMsg): ReadMessage {
  return {
    sequence: message.seq,
    subject: message.subject,
    data: message.data,
    pending: message.info.pending,
  }
}

function isStreamNotFound(error: unknown): boolean {
  const apiError = (error as { api_error?: { err_code?: number } }).api_error
  return apiError?.err_code === 10059 || (error as Error)?.message === 'stream not found'
}
