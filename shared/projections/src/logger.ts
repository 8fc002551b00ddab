/**
 * The slice of a pino logger the projections need: a service passes its own (`createLogger`
 * of @argmax/telemetry), so the lines carry its service name and trace ids.
 */
export interface ProjectionLogger {
  info(fields: Record<string, unknown>, message: string): void
  warn(fields: Record<string, unknown>, message: string): void
  error(fields: Record<string, unknown>, message: string): void
}

/** For tests and tools that want no output. */
export const silentLogger: ProjectionLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
}
