import { createHmac } from 'node:crypto'
import {
  analyticsMigrations,
  createAnalyticsClient,
  migrateAnalytics,
  type AnalyticsClient,
} from '@argmax/analytics'
import {
  startServiceShell,
  type RunningService,
  type ServiceDefinition,
  type ServiceStartOptions,
  type ShellS3,
} from '@argmax/service'
import { predictionIdKey } from '@argmax/contracts'
import type { NatsConnection } from 'nats'
import { registerFeedbackApi } from './api/index.ts'
import type { FeedbackDeps } from './application/dependencies.ts'
import { openLabelIdempotency, type LabelIdempotency } from './application/label-idempotency.ts'
import { createStoredJson } from './application/signatures.ts'
import { createTrainingProfiles } from './application/training-profiles.ts'
import type { FeedbackConfig } from './config.ts'
import { feedbackMigrations } from './migrations/index.ts'
import { feedbackProjectionsOf } from './projections/feedback.projections.ts'
import type { FeedbackDatabase } from './projections/tables.ts'
import { feedbackStreams } from './streams.ts'
import { startFeedbackSink } from './workers/feedback-sink.ts'
import type { DeferredConsumer, RunningConsumer } from '@argmax/events'
import { metrics, type Meter } from '@opentelemetry/api'
import { startDefaultMonitors } from './workers/default-monitors.ts'
import { startMonitorEvaluator, type MonitorEvaluator } from './workers/monitor-evaluator.ts'
import { startRetrainTrigger, startWebhookNotifier } from './workers/monitor-reactions.ts'
import { createQualityGauges, type QualityGauges } from './workers/quality-gauges.ts'
import { scheduleFeedbackRetention } from './workers/feedback-retention.ts'
import { startMaterializer } from './workers/materializer.ts'
import { startImporter } from './workers/importer.ts'
import { startEventsSink, type EventsSink } from './workers/events-sink.ts'

export interface FeedbackServiceOptions extends ServiceStartOptions<FeedbackConfig> {
  /** How long a query waits for `minPosition` before answering 503 (default 10 s). */
  readYourWritesTimeoutMs?: number
  /** Where the quality gauges are reported (default: the global meter, served on /metrics). */
  meter?: Meter
  /** Waits after the n-th failed webhook delivery (tests shorten them). */
  webhookRetryDelaysMs?: number[]
}

export type FeedbackWorkers = {
  /** FEEDBACK_LOG → ClickHouse; undefined where it runs as its own process. */
  sink: RunningConsumer | undefined
  /** Gauges and monitors, every evaluation interval (`tick()` runs a round now). */
  evaluator: MonitorEvaluator
  webhooks: RunningConsumer
  retrains: RunningConsumer
  defaultMonitors: DeferredConsumer
  /** Every context stream → `domain_events`; undefined where it runs apart. */
  events: EventsSink | undefined
  /** Feedback dataset snapshots. */
  materializer: RunningConsumer
  /** Label imports from dataset versions. */
  importer: RunningConsumer
  /** Archive-and-drop of old feedback days; undefined when turned off (interval 0). */
  retention: { stop(): Promise<void> } | undefined
}

export type RunningFeedbackService = RunningService<
  FeedbackDatabase,
  FeedbackDeps,
  FeedbackWorkers
> & {
  analytics: AnalyticsClient
  gauges: QualityGauges
}

/**
 * The feedback service, declared: its streams, bucket, schema, the projections of the registry,
 * its own events and the dataset versions its snapshots became, the use cases' dependencies,
 * the REST API (`/v1/feedback`, `/v1/quality`, `/v1/monitors`) and its workers.
 */
export function feedbackService(
  config: FeedbackConfig,
  analytics: AnalyticsClient,
  gauges: QualityGauges,
  options: Pick<FeedbackServiceOptions, 'readYourWritesTimeoutMs' | 'webhookRetryDelaysMs'> = {},
): ServiceDefinition<FeedbackDatabase, FeedbackDeps, FeedbackWorkers, ShellS3> {
  const settings = config.feedback
  const names = settings.names
  const timeoutMs = options.readYourWritesTimeoutMs ?? 10_000
  return {
    service: 'feedback',
    description:
      'Ground truth, live quality and drift, monitors, retrain triggers, feedback datasets',
    streams: feedbackStreams(names),
    readinessStream: names.feedback.stream,
    migrations: feedbackMigrations,
    schema: settings.schema,
    s3: { settings: config.s3, bucket: settings.bucket },
    projections: feedbackProjectionsOf(names),
    readYourWritesTimeoutMs: timeoutMs,
    readiness: () => ({ clickhouse: () => analytics.version() }),
    dependencies: (parts) => {
      const storedJson = createStoredJson(parts.s3)
      return {
        store: parts.store,
        nc: parts.nc,
        names,
        db: parts.db,
        analytics,
        s3: parts.s3,
        bucket: parts.bucket,
        now: parts.now,
        newId: parts.newId,
        storedJson,
        profiles: createTrainingProfiles({ store: parts.store, names, storedJson }),
        idempotency: lazyIdempotency(parts.nc, {
          bucket: settings.idempotencyBucket,
          ttlMs: settings.idempotencyTtlMs,
          replicas: config.nats.streamReplicas,
        }),
        predictionIdSecret: predictionIdKey(settings.predictionIdSecret),
        webhookSecret:
          settings.webhookSecret ??
          createHmac('sha256', settings.predictionIdSecret)
            .update('argmax.feedback.webhooks')
            .digest('hex'),
        retentionDays: settings.retentionDays,
        maxLabels: settings.maxLabels,
        waitForFeedback: async (position) => {
          await parts.projections.feedback!.waitFor(position, timeoutMs)
        },
      }
    },
    api: (app, deps) => registerFeedbackApi(app, deps),
    workers: {
      sink: (deps, parts) =>
        settings.sink.mode === 'embedded'
          ? startFeedbackSink({
              nc: parts.nc,
              analytics: deps.analytics,
              names,
              maxBatch: settings.sink.maxBatch,
              maxWaitMs: settings.sink.maxWaitMs,
              ackWaitMs: settings.sink.ackWaitMs,
              log: parts.logger,
              parkingReplicas: config.nats.streamReplicas,
            })
          : undefined,
      evaluator: (deps, parts) =>
        startMonitorEvaluator(deps, {
          intervalMs: settings.evaluationIntervalMs,
          gaugeWindow: settings.gaugeWindow,
          gauges,
          logger: parts.logger,
        }),
      webhooks: (deps, parts) =>
        startWebhookNotifier(deps, {
          nc: parts.nc,
          timeoutMs: settings.webhook.timeoutMs,
          maxDeliver: settings.webhook.maxDeliver,
          ...(options.webhookRetryDelaysMs ? { retryDelaysMs: options.webhookRetryDelaysMs } : {}),
          log: parts.logger,
          parkingReplicas: config.nats.streamReplicas,
        }),
      retrains: (deps, parts) =>
        startRetrainTrigger(deps, {
          nc: parts.nc,
          log: parts.logger,
          parkingReplicas: config.nats.streamReplicas,
        }),
      events: (deps, parts) =>
        settings.eventsSink === 'embedded'
          ? startEventsSink({
              nc: parts.nc,
              analytics: deps.analytics,
              streams: [names.dataset, names.training, names.registry, names.feedback],
              log: parts.logger,
              logger: parts.logger,
              parkingReplicas: config.nats.streamReplicas,
            })
          : undefined,
      materializer: (deps, parts) =>
        startMaterializer(deps, {
          nc: parts.nc,
          log: parts.logger,
          parkingReplicas: config.nats.streamReplicas,
        }),
      importer: (deps, parts) =>
        startImporter(deps, {
          nc: parts.nc,
          log: parts.logger,
          parkingReplicas: config.nats.streamReplicas,
        }),
      retention: (deps, parts) =>
        settings.retentionIntervalMs > 0
          ? scheduleFeedbackRetention({
              client: deps.analytics,
              s3: deps.s3,
              bucket: deps.bucket,
              retentionDays: settings.retentionDays,
              now: deps.now,
              intervalMs: settings.retentionIntervalMs,
              logger: parts.logger,
            })
          : undefined,
      defaultMonitors: (deps, parts) =>
        startDefaultMonitors(deps, {
          nc: parts.nc,
          log: parts.logger,
          logger: parts.logger,
          parkingReplicas: config.nats.streamReplicas,
        }),
    },
  }
}

/** The key-value bucket is opened on the first keyed request, not at start-up. */
function lazyIdempotency(
  nc: NatsConnection,
  options: { bucket: string; ttlMs: number; replicas: number },
): LabelIdempotency {
  let opened: Promise<LabelIdempotency> | undefined
  const open = () => {
    opened ??= openLabelIdempotency(nc, options).catch((error: unknown) => {
      opened = undefined
      throw error
    })
    return opened
  }
  return {
    claim: async (...args) => (await open()).claim(...args),
    markPublished: async (...args) => (await open()).markPublished(...args),
  }
}

/**
 * Starts the service: the ClickHouse tables and views first (every process that writes ClickHouse
 * runs the platform's analytics migrations), then the shell.
 */
export async function startFeedbackService(
  options: FeedbackServiceOptions,
): Promise<RunningFeedbackService> {
  const { config } = options
  const analytics = createAnalyticsClient(config.clickhouse, {
    database: config.analytics.database,
    requestTimeoutMs: config.feedback.queryTimeoutMs,
  })
  const gauges = createQualityGauges(options.meter ?? metrics.getMeter('@argmax/feedback-service'))
  try {
    await migrateAnalytics(analytics, analyticsMigrations)
    const running = await startServiceShell(
      feedbackService(config, analytics, gauges, options),
      options,
    )
    return {
      ...running,
      analytics,
      gauges,
      stop: async () => {
        await running.stop()
        await analytics.close()
      },
    }
  } catch (error) {
    await analytics.close()
    throw error
  }
}
