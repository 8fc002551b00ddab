import { SpanKind, SpanStatusCode, trace, type Context, type Link } from '@opentelemetry/api'
import type { JsMsg, MsgHdrs } from 'nats'
import { decodeEnvelope } from '../codec.ts'
import type { RecordedEvent } from '../envelope.ts'
import { extractTraceContext } from '../trace-context.ts'
import type { Upcaster } from '../upcasting.ts'

/** A message as the consumer sees it, whether pulled from a consumer or loaded for a replay. */
export interface RawDelivery {
  data: Uint8Array
  headers: MsgHdrs | undefined
  sequence: number
  subject: string
}

export function rawOf(message: JsMsg): RawDelivery {
  return {
    data: message.data,
    // Decoded when first read (nats.js parses a message's headers on access): only the trace
    // context reads them, and a batch links to at most 128 of its messages' traces.
    get headers() {
      return message.headers
    },
    sequence: message.seq,
    subject: message.subject,
  }
}

export type DecodedEvent = { ok: true; event: RecordedEvent; trace: Context }

export type Decoded =
  { ok: true; event: RecordedEvent; trace: Context } | { ok: false; error: unknown }

/** Envelope check, upcasting and the publisher's trace context; any failure is a poison. */
export function decodeDelivery(raw: RawDelivery, upcast: Upcaster): Decoded {
  try {
    const event = upcast(decodeEnvelope(raw.data, raw.sequence))
    return {
      ok: true,
      event,
      // Only when read (see rawOf).
      get trace() {
        return extractTraceContext(raw.headers)
      },
    }
  } catch (error) {
    return { ok: false, error }
  }
}

const tracer = trace.getTracer('@argmax/events')

/**
 * Runs `work` in a consumer span that continues the publisher's trace (`parent`), or, for a
 * batch, links to each event's trace. Without an OpenTelemetry SDK this costs next to nothing.
 */
export function inConsumerSpan<T>(
  name: string,
  parent: Context,
  attributes: Record<string, string | number | boolean>,
  work: () => Promise<T>,
  links: Link[] = [],
): Promise<T> {
  return tracer.startActiveSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes, links },
    parent,
    async (span) => {
      try {
        return await work()
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error))
        span.setStatus({ code: SpanStatusCode.ERROR })
        throw error
      } finally {
        span.end()
      }
    },
  )
}

export function linkTo(context: Context): Link | undefined {
  const spanContext = trace.getSpanContext(context)
  return spanContext ? { context: spanContext } : undefined
}
