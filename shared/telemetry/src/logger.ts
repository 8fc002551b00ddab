import { isSpanContextValid, trace } from '@opentelemetry/api'
import { pino, type DestinationStream, type Logger, type LoggerOptions as PinoOptions } from 'pino'

export type { Logger } from 'pino'

export interface LoggerOptions {
  service: string
  level?: string
  /** Defaults to stdout; tests pass a stream to read the lines back. */
  destination?: DestinationStream
}

/** Fields of the active span, so a log line can be joined with its trace. */
export function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan()
  if (!span) return {}
  const context = span.spanContext()
  if (!isSpanContextValid(context)) return {}
  return {
    trace_id: context.traceId,
    span_id: context.spanId,
    trace_flags: `0${context.traceFlags.toString(16)}`,
  }
}

/**
 * JSON lines to stdout: ISO time, level as a word, the service name, and trace_id/span_id
 * of the span active when the line was written. Credentials are redacted wherever a request
 * or a config object gets logged.
 */
export function createLogger(options: LoggerOptions): Logger {
  const settings: PinoOptions = {
    level: options.level ?? 'info',
    base: { service: options.service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: traceFields,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        '*.password',
        '*.secret',
        '*.secretAccessKey',
      ],
      censor: '[redacted]',
    },
  }
  // pino's default destination buffers stdout writes and flushes them when the process exits.
  return options.destination ? pino(settings, options.destination) : pino(settings)
}
