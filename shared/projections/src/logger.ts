/** The slice of a pino-style logger the runner needs; a service passes its own. */
export interface ProjectionLogger {
  info(fields: Record<string, unknown>, message: string): void
  error(fields: Record<string, unknown>, message: string): void
}

/** One JSON line per entry on stderr: what a service gets before it wires its telemetry. */
export const jsonLineLogger: ProjectionLogger = {
  info: (fields, message) => writeLine('info', fields, message),
  error: (fields, message) => writeLine('error', fields, message),
}

function writeLine(level: string, fields: Record<string, unknown>, message: string): void {
  const serialised = Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [
      key,
      value instanceof Error ? { name: value.name, message: value.message } : value,
    ]),
  )
  process.stderr.write(
    `${JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...serialised })}\n`,
  )
}

/** For tests and callers that want silence. */
export const silentLogger: ProjectionLogger = { info: () => undefined, error: () => undefined }
