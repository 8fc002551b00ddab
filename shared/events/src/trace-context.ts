import {
  context,
  propagation,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api'
import { headers as natsHeaders, type MsgHdrs } from 'nats'

// Module-level so that every append does not allocate a fresh setter/getter pair.
const headerSetter: TextMapSetter<MsgHdrs> = {
  set: (carrier, key, value) => carrier.set(key, value),
}
const headerGetter: TextMapGetter<MsgHdrs> = {
  get: (carrier, key) => carrier.get(key) || undefined,
  keys: (carrier) => carrier.keys(),
}

/** Writes the active W3C trace context (`traceparent`, `tracestate`) into NATS headers. */
export function injectTraceContext(target: MsgHdrs, from: Context = context.active()): void {
  propagation.inject(from, target, headerSetter)
}

/** The context a message was published in, so a consumer's spans continue its trace. */
export function extractTraceContext(source: MsgHdrs | undefined): Context {
  if (!source) return context.active()
  return propagation.extract(context.active(), source, headerGetter)
}

export function newHeaders(): MsgHdrs {
  return natsHeaders()
}
