// Composition root of the registry service: configuration, telemetry, wiring, signals.
import { exitOnConfigError } from '@argmax/config'
import { createLogger, startTelemetry } from '@argmax/telemetry'
import { loadRegistryConfig } from './config.ts'
import { startRegistryService } from './service.ts'

const config = exitOnConfigError(() => loadRegistryConfig())
const telemetry = startTelemetry({ serviceName: 'registry' })
const logger = createLogger({ service: 'registry' })

try {
  const service = await startRegistryService({ config, logger, metrics: telemetry.metricsText })
  logger.info({ url: service.url }, 'registry service ready')
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
  logger.fatal({ err: error }, 'registry service failed to start')
  await telemetry.shutdown()
  process.exit(1)
}
