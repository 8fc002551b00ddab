// The prediction-log sink as its own process (ARGMAX_INFERENCE_SINK=off in the gateways): NATS,
// S3 (archives) and ClickHouse only. Several may run: they share the durable consumer.
import { runServiceProcess, startWorkerShell } from '@argmax/service'
import { loadSinkConfig } from './config.ts'
import { inferenceStreams } from './streams.ts'
import { startAnalyticsSink } from './workers/analytics-sink.ts'

await runServiceProcess({
  service: 'inference-sink',
  loadConfig: () => loadSinkConfig(),
  servesMetrics: false,
  describe: (config) => ({
    stream: config.sink.names.log.stream,
    database: config.analytics.database,
  }),
  start: ({ config, logger }) =>
    startWorkerShell(
      {
        service: 'inference-sink',
        streams: inferenceStreams(config.sink.names),
        s3: { settings: config.s3, bucket: config.sink.bucket },
        dependencies: () => undefined,
        workers: {
          sink: (_deps, parts) =>
            startAnalyticsSink({
              nc: parts.nc,
              s3: parts.s3,
              clickhouse: config.clickhouse,
              database: config.analytics.database,
              settings: config.sink,
              now: parts.now,
              logger,
              parkingReplicas: config.nats.streamReplicas,
            }),
        },
      },
      { config, logger },
    ),
})
