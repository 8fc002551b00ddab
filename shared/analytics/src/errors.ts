import { ArgmaxError, UnavailableError, markDependency, unavailableFrom } from '@argmax/errors'

/**
 * ClickHouse failures in the platform's vocabulary. The HTTP client reports a refused or
 * dropped connection with the socket's code (marked here as `clickhouse`, so it answers 503
 * naming it); the server's own errors arrive as `Code: N, e.displayText() = …` — 18.16 sends
 * no `X-ClickHouse-Exception-Code` the client could parse — and those that mean "not now"
 * (overload, timeouts, a table that is read-only for a while) are UnavailableError too.
 * Everything else (a bad query, a row that does not parse) is a bug or bad data, left as is.
 */

/** Server error codes that a later retry can succeed on. */
const TRANSIENT_CODES = new Set([
  159, // TIMEOUT_EXCEEDED
  164, // READONLY (e.g. a replica that lost its keeper session)
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  252, // TOO_MANY_PARTS
  319, // UNKNOWN_STATUS_OF_INSERT
  394, // QUERY_WAS_CANCELLED
  425, // SYSTEM_ERROR
  999, // KEEPER_EXCEPTION
])

/** The server's error code in a ClickHouse error message, if there is one. */
export function clickhouseErrorCode(error: unknown): number | undefined {
  const message = error instanceof Error ? error.message : undefined
  const match = message ? /Code: (\d+)/.exec(message) : null
  if (match) return Number(match[1])
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : undefined
}

/** Whether a failed ClickHouse call may succeed when tried again later. */
export function isClickhouseUnavailable(error: unknown): boolean {
  return analyticsError(error) instanceof UnavailableError
}

/**
 * The error to throw for a failed ClickHouse call: UnavailableError (503, dependency
 * `clickhouse`) for failures that mean "not now", the original error otherwise.
 */
export function analyticsError(error: unknown): unknown {
  if (error instanceof ArgmaxError) return error
  markDependency(error, 'clickhouse')
  const unavailable = unavailableFrom(error)
  if (unavailable) return unavailable
  const code = clickhouseErrorCode(error)
  const message = error instanceof Error ? error.message : String(error)
  if (
    (code !== undefined && TRANSIENT_CODES.has(code)) ||
    // The client's own request timeout, and a server gone between answer chunks.
    /^Timeout error/i.test(message) ||
    /socket hang up/i.test(message)
  ) {
    return new UnavailableError(
      `clickhouse is unavailable (${code === undefined ? 'no answer' : `code ${code}`}); retry later`,
      { dependency: 'clickhouse' },
    )
  }
  return error
}
