// The feedback sinks as their own process: labels from FEEDBACK_LOG and every context stream's
// domain events into ClickHouse (ARGMAX_FEEDBACK_SINK=off / ARGMAX_FEEDBACK_EVENTS_SINK=off on
// the API processes then). NATS and ClickHouse only.
import { analyticsMigrations, createAnalyticsClient, migrateAnalytics } from '@argmax/analytics'
import { runServiceProcess, startWorkerShell } from '@argmax/service'
import { loadSinkConfig } from './config.ts'
import { feedbackStreams } from './streams.ts'
import { startEventsSink } from './workers/events-sink.ts'
import { startFeedbackSink } from './workers/feedback-sink.ts'

await runServiceProcess({
  service: 'feedback-sink',
  loadConfig: () => loadSinkConfig(),
  servesMetrics: false,
  describe: (config) => ({
    labels: config.sinks.sink.mode,
    domainEvents: config.sinks.eventsSink,
    clickhouseDatabase: config.analytics.database,
  }),
  start: async ({ config, logger }) => {
    const { names } = config.sinks
    const analytics = createAnalyticsClient(config.clickhouse, {
      database: config.analytics.database,
    })
    await migrateAnalytics(analytics, analyticsMigrations)
    const running = await startWorkerShell(
      {
        service: 'feedback-sink',
        streams: feedbackStreams(names),
        dependencies: () => ({ analytics }),
        workers: {
          labels: (deps, parts) =>
            config.sinks.sink.mode === 'embedded'
              ? startFeedbackSink({
                  nc: parts.nc,
                  analytics: deps.analytics,
                  names,
                  maxBatch: config.sinks.sink.maxBatch,
                  maxWaitMs: config.sinks.sink.maxWaitMs,
                  ackWaitMs: config.sinks.sink.ackWaitMs,
                  log: logger,
                  parkingReplicas: config.nats.streamReplicas,
                })
              : undefined,
          events: (deps, parts) =>
            config.sinks.eventsSink === 'embedded'
              ? startEventsSink({
                  nc: parts.nc,
                  analytics: deps.analytics,
                  streams: [names.dataset, names.training, names.registry, names.feedback],
                  log: logger,
                  logger,
                  parkingReplicas: config.nats.streamReplicas,
                })
              : undefined,
        },
      },
      { config, logger },
    )
    return {
      url: undefined,
      stop: async () => {
        await running.stop()
        await analytics.close()
      },
    }
  },
})
