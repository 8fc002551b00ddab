// The validator as its own process: scale it apart from the API (ARGMAX_DATASET_VALIDATOR=off
// there). It needs NATS and S3 only; outcomes are events, so it never touches Postgres.
import { exitOnConfigError } from '@argmax/config'
import { createEventStore, ensureStreams } from '@argmax/events'
import { createS3Client } from '@argmax/storage'
import { createLogger, startTelemetry } from '@argmax/telemetry'
import { connect } from 'nats'
import { loadValidatorConfig } from './config.ts'
import { datasetStreamSpec } from './stream-spec.ts'
import { DATASET_STREAM_NAMES, type StreamNames } from './streams.ts'
import { startValidator } from './worker/validation-consumer.ts'

const config = exitOnConfigError(() => loadValidatorConfig())
const telemetry = startTelemetry({ serviceName: 'dataset-validator', prometheus: false })
const logger = createLogger({ service: 'dataset-validator' })
// Tests run the validator against a stream of their own.
const names: StreamNames = {
  stream: process.env['ARGMAX_DATASET_STREAM'] ?? DATASET_STREAM_NAMES.stream,
  root: process.env['ARGMAX_DATASET_SUBJECT_ROOT'] ?? DATASET_STREAM_NAMES.root,
}

try {
  const nc = await connect({
    servers: config.nats.url,
    name: 'dataset-validator',
    maxReconnectAttempts: -1,
  })
  await ensureStreams(await nc.jetstreamManager(), [
    datasetStreamSpec(names, config.nats.streamReplicas),
  ])
  const s3 = createS3Client(config.s3)
  const now = () => new Date()
  const validator = await startValidator({
    nc,
    deps: { store: createEventStore({ nc, now }), names, s3, now },
    ackWaitMs: config.dataset.validatorAckWaitMs,
    workers: config.dataset.validatorWorkers,
    log: (fields, message) => logger.info(fields, message),
  })
  logger.info({ stream: names.stream }, 'dataset validator ready')
  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down')
    validator
      .stop()
      .then(() => nc.drain())
      .then(() => telemetry.shutdown())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      )
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
} catch (error) {
  logger.fatal({ err: error }, 'dataset validator failed to start')
  await telemetry.shutdown()
  process.exit(1)
}
