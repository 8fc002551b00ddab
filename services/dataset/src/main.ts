// Composition root of the dataset service: configuration, telemetry, wiring, signals.
import { exitOnConfigError } from '@argmax/config'
import { createLogger, startTelemetry } from '@argmax/telemetry'
import { loadDatasetConfig } from './config.ts'
import { startDatasetService } from './service.ts'

const config = exitOnConfigError(() => loadDatasetConfig())
const telemetry = startTelemetry({ serviceName: 'dataset' })
const logger = createLogger({ service: 'dataset' })

try {
  const service = await startDatasetService({ config, logger, metrics: telemetry.metricsText })
  logger.info(
    { url: service.url, validator: config.dataset.validator, bucket: config.dataset.bucket },
    'dataset service ready',
  )
  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down')
    service
      .stop()
      .then(() => telemetry.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'unclean shutdown')
          process.exit(1)
        },
      )
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
} catch (error) {
  logger.fatal({ err: error }, 'dataset service failed to start')
  await telemetry.shutdown()
  process.exit(1)
}
