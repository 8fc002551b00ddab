import type { Logger } from '@argmax/telemetry'

/** The workers' `log` option: info lines on the service's logger. */
export function infoLog(logger: Logger) {
  return (fields: Record<string, unknown>, message: string) => logger.info(fields, message)
}
