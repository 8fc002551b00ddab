import { context, propagation, type Context } from '@opentelemetry/api'
import { headers as natsHeaders, type MsgHdrs } from 'nats'

/** Writes the active W3C trace context (`traceparent`, `tracestate`) into NATS headers. */
export function injectTraceContext(target: MsgHdrs, from: Context = context.active()): void {
  propagation.inject(from, target, {
    set: (carrier, key, value) => carrier.set(key, value),
  })
}

/** The context a message was published in, so a consumer's spans continue its trace. */
export function extractTraceContext(source: MsgHdrs | undefined): Context {
  if (!source) return context.active()
  return propagation.extract(context.active(), source, {
    get: (carrier, key) => carrier.get(key) || undefined,
    keys: (carrier) => carrier.keys(),
  })
}

export function newHeaders(): MsgHdrs {
  return natsHeaders()
}
