// Composition root of the training service: configuration, telemetry, wiring, signals.
import { exitOnConfigError } from '@argmax/config'
import { createLogger, startTelemetry } from '@argmax/telemetry'
import { loadTrainingConfig } from './config.ts'
import { startTrainingService } from './service.ts'

const config = exitOnConfigError(() => loadTrainingConfig())
const telemetry = startTelemetry({ serviceName: 'training' })
const logger = createLogger({ service: 'training' })

try {
  const service = await startTrainingService({ config, logger, metrics: telemetry.metricsText })
  logger.info({ url: service.url }, 'training service ready')
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
  logger.fatal({ err: error }, 'training service failed to start')
  await telemetry.shutdown()
  process.exit(1)
}
