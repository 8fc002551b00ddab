// Composition root of the inference service: configuration, telemetry, wiring, signals.
import { exitOnConfigError } from '@argmax/config'
import { createLogger, startTelemetry } from '@argmax/telemetry'
import { loadInferenceConfig } from './config.ts'
import { startInferenceService } from './service.ts'

const config = exitOnConfigError(() => loadInferenceConfig())
const telemetry = startTelemetry({ serviceName: 'inference' })
const logger = createLogger({ service: 'inference' })

try {
  const service = await startInferenceService({ config, logger, metrics: telemetry.metricsText })
  logger.info({ url: service.url }, 'inference service ready')
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
  logger.fatal({ err: error }, 'inference service failed to start')
  await telemetry.shutdown()
  process.exit(1)
}
