import { exitOnConfigError } from '@argmax/config'
import { createLogger, startTelemetry, type Logger } from '@argmax/telemetry'

export interface ServiceProcessOptions<
  Config,
  Running extends { url?: string | undefined; stop(): Promise<void> },
> {
  service: string
  loadConfig: () => Config
  start: (options: {
    config: Config
    logger: Logger
    metrics: () => Promise<string>
  }) => Promise<Running>
  /** Extra fields for the "ready" log line. */
  describe?: (config: Config) => Record<string, unknown>
  /** False for a process without an HTTP server: no Prometheus registry is kept for it. */
  servesMetrics?: boolean
}

/**
 * The life of a service process: configuration first (a bad variable is named and the process
 * exits 1), telemetry before anything else runs, then the service; SIGTERM/SIGINT stop it and
 * flush telemetry; a start failure is logged and exits 1.
 */
export async function runServiceProcess<
  Config,
  Running extends { url?: string | undefined; stop(): Promise<void> },
>({
  service,
  loadConfig,
  start,
  describe = () => ({}),
  servesMetrics = true,
}: ServiceProcessOptions<Config, Running>): Promise<void> {
  const config = exitOnConfigError(loadConfig)
  const telemetry = startTelemetry({ serviceName: service, prometheus: servesMetrics })
  const logger: Logger = createLogger({ service })
  try {
    const running = await start({ config, logger, metrics: telemetry.metricsText })
    logger.info({ url: running.url, ...describe(config) }, `${service} service ready`)
    const shutdown = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down')
      running
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
    logger.fatal({ err: error }, `${service} service failed to start`)
    await telemetry.shutdown()
    process.exit(1)
  }
}
