import {
  clickhouseDate,
  clickhouseDateTime,
  insertInChunks,
  writeWhileUnavailable,
  type AnalyticsClient,
} from '@argmax/analytics'
import {
  type ConsumerLogger,
  type DeferredConsumer,
  type RecordedEvent,
  startBatchConsumer,
  whenStreamExists,
} from '@argmax/events'
import type { Logger } from '@argmax/telemetry'
import type { NatsConnection } from 'nats'
import type { StreamRef } from '../streams.ts'

export const EVENTS_SINK_DURABLE = 'analytics-domain-events-sink'

/** A domain event as `domain_events` stores it: the envelope, key fields, the data as JSON. */
export interface DomainEventRow {
  event_id: string
  stream: string
  context: string
  sequence: number
  subject: string
  type: string
  schema_version: number
  occurred_at: string
  occurred_ms: number
  date: string
  actor: string
  correlation_id: string
  causation_id: string
  aggregate_id: string
  model: string
  model_version: number | null
  dataset_id: string
  dataset_version_id: string
  run_id: string
  monitor_id: string
  data: string
}

const text = (value: unknown) => (typeof value === 'string' ? value : '')

/**
 * The key fields analysts filter on, from the payloads of every context (contract shapes and
 * each context's own events): the model and its version, the dataset and dataset version, the
 * training run, the monitor. Absent ones are empty (NULL for the version).
 */
export function domainEventRow(event: RecordedEvent): DomainEventRow {
  const data = (event.data ?? {}) as Record<string, unknown>
  const occurred = new Date(event.occurredAt)
  const tokens = event.subject.split('.')
  const context = tokens[0] ?? ''
  const lineage = (data.lineage ?? {}) as Record<string, unknown>
  const dataset = (data.dataset ?? {}) as Record<string, unknown>
  const observation = (data.observation ?? {}) as Record<string, unknown>
  const version = typeof data.version === 'number' ? data.version : observation.version
  const release = (data.release ?? null) as { stable?: unknown } | null
  return {
    event_id: event.id,
    stream: event.stream,
    context,
    sequence: event.sequence,
    subject: event.subject,
    type: event.type,
    schema_version: event.schemaVersion,
    occurred_at: clickhouseDateTime(occurred),
    occurred_ms: occurred.getUTCMilliseconds(),
    date: clickhouseDate(occurred),
    actor: event.actor,
    correlation_id: event.correlationId,
    causation_id: event.causationId ?? '',
    aggregate_id: tokens.slice(2).join('.'),
    model: text(data.model),
    model_version:
      typeof version === 'number'
        ? version
        : typeof release?.stable === 'number'
          ? release.stable
          : null,
    dataset_id: text(data.datasetId) || text(lineage.datasetId) || text(dataset.datasetId),
    dataset_version_id:
      (tokens[1] === 'version' ? text(data.versionId) : '') ||
      text(lineage.datasetVersionId) ||
      text(dataset.versionId),
    run_id: text(data.runId) || text(lineage.runId),
    monitor_id: text(data.monitorId),
    data: JSON.stringify(event.data ?? null),
  }
}

export interface EventsSink {
  streams: DeferredConsumer[]
  stop(): Promise<void>
}

/**
 * Every domain event of every context stream into ClickHouse's `domain_events_log` (read through
 * the `domain_events` view): one batch consumer per stream, each started once its stream exists,
 * rows keyed by (stream, sequence, event id) so a redelivered batch collapses — exactly once in
 * what analysts query.
 */
export function startEventsSink(options: {
  nc: NatsConnection
  analytics: AnalyticsClient
  streams: readonly StreamRef[]
  maxBatch?: number
  log?: ConsumerLogger
  logger?: Pick<Logger, 'info' | 'warn'>
  parkingReplicas?: number
}): EventsSink {
  const consumers = options.streams.map((stream) =>
    whenStreamExists(
      options.nc,
      stream.stream,
      () =>
        startBatchConsumer({
          nc: options.nc,
          stream: stream.stream,
          durable: EVENTS_SINK_DURABLE,
          maxBatch: options.maxBatch ?? 1_000,
          maxWaitMs: 200,
          maxDeliver: 10,
          parkingReplicas: options.parkingReplicas ?? 1,
          ...(options.log ? { log: options.log } : {}),
          async handleBatch(events, { progress, signal }) {
            const rows = events.map(domainEventRow)
            const deadline = Date.now() + 10 * 60_000
            const wait = {
              deadline,
              progress,
              signal,
              log: options.log,
              fields: { rows: rows.length },
            }
            await writeWhileUnavailable(wait, () =>
              insertInChunks(options.analytics, 'domain_events_log', rows),
            )
          },
        }),
      options.logger ? { logger: options.logger } : {},
    ),
  )
  return {
    streams: consumers,
    async stop() {
      await Promise.all(consumers.map((consumer) => consumer.stop()))
    },
  }
}
