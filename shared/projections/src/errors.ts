import { UnavailableError } from '@argmax/errors'

/** A read-your-writes wait gave up: the projection is behind (or stopped). Maps to 503. */
export class ProjectionTimeoutError extends UnavailableError {
  constructor(
    readonly projection: string,
    readonly sequence: number,
    readonly position: number,
    readonly timeoutMs: number,
  ) {
    super(
      `projection ${projection} did not reach sequence ${sequence} within ${timeoutMs} ms ` +
        `(its checkpoint is at ${position})`,
      { projection, sequence, position, timeoutMs },
    )
  }
}

/**
 * Why a projection is stuck: a handler (or the decoding of a stored event) failed, or its
 * stream or database could not be reached. Everything before `sequence` is committed; the
 * runner retries from there until the event goes through.
 */
export class ProjectionFailedError extends Error {
  constructor(
    readonly projection: string,
    readonly stream: string,
    /** The stream sequence of the event that failed; undefined when reading the stream failed. */
    readonly sequence: number | undefined,
    readonly eventType: string | undefined,
    cause: unknown,
  ) {
    const where =
      sequence === undefined
        ? `reading stream ${stream}`
        : `at ${stream} sequence ${sequence}${eventType ? ` (${eventType})` : ''}`
    super(`projection ${projection} failed ${where}: ${messageOf(cause)}`, { cause })
    this.name = 'ProjectionFailedError'
  }
}

/** A projection was stopped while someone waited for it to reach a sequence. */
export class ProjectionStoppedError extends UnavailableError {
  constructor(projection: string, sequence: number, position: number) {
    super(`projection ${projection} stopped at ${position} before reaching sequence ${sequence}`, {
      projection,
      sequence,
      position,
    })
  }
}

/**
 * A wait for a sequence while the projection is stuck on a failure (and retrying): answered at
 * once rather than after the wait's timeout, naming what it is stuck on.
 */
export class ProjectionFailingError extends UnavailableError {
  constructor(
    projection: string,
    sequence: number,
    position: number,
    failure: ProjectionFailedError,
  ) {
    super(
      `projection ${projection} is at ${position} and cannot reach sequence ${sequence} yet: ` +
        `${failure.message} (retrying)`,
      {
        projection,
        sequence,
        position,
        ...(failure.sequence !== undefined ? { failingSequence: failure.sequence } : {}),
      },
    )
    this.cause = failure
  }
}

/** A schema migration failed: names it, keeps the database error as the cause. */
export class MigrationFailedError extends Error {
  constructor(
    readonly schema: string,
    readonly migration: string | undefined,
    cause: unknown,
  ) {
    super(
      migration
        ? `migration ${migration} failed in schema ${schema}: ${messageOf(cause)}`
        : `migrating schema ${schema} failed: ${messageOf(cause)}`,
      { cause },
    )
    this.name = 'MigrationFailedError'
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
