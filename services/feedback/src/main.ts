// Composition root of the feedback service: configuration, telemetry, wiring, signals.
import { exitOnConfigError } from '@argmax/config'
import { createLogger, startTelemetry } from '@argmax/telemetry'
import { loadFeedbackConfig } from './config.ts'
import { startFeedbackService } from './service.ts'

const config = exitOnConfigError(() => loadFeedbackConfig())
const telemetry = startTelemetry({ serviceName: 'feedback' })
const logger = createLogger({ service: 'feedback' })

try {
  const service = await startFeedbackService({ config, logger, metrics: telemetry.metricsText })
  logger.info({ url: service.url }, 'feedback service ready')
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
  logger.fatal({ err: error }, 'feedback service failed to start')
  await telemetry.shutdown()
  process.exit(1)
}
