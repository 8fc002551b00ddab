import { status } from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import {
  IdempotencyKeyReusedError,
  UnavailableError,
  classifyInfrastructureError,
  markDependency,
  toGrpcStatus,
  toProblem,
} from '../src/index.ts'

/** Errors shaped as the libraries make them (the int tests provoke the real ones). */
const socketError = (code: string) =>
  Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), {
    code,
    errno: -111,
    syscall: 'connect',
  })
const pgError = (code: string) =>
  Object.assign(new Error('server says no'), { code, severity: 'FATAL', name: 'error' })
const natsError = (code: string) => Object.assign(new Error(code), { name: 'NatsError', code })
const awsError = (name: string, httpStatusCode?: number, extra: object = {}) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode, attempts: 3 }, ...extra })

describe('the refusal of a reused Idempotency-Key', () => {
  it('is 422 naming the header, and FAILED_PRECONDITION over gRPC', () => {
    const error = new IdempotencyKeyReusedError('header/idempotency-key', 'request body')
    expect(toProblem(error)).toMatchObject({
      status: 422,
      title: 'Unprocessable Content',
      type: 'https://argmax.dev/problems/idempotency-key-reused',
      errors: [{ field: 'header/idempotency-key' }],
    })
    const grpc = toGrpcStatus(error)
    expect(grpc.code).toBe(status.FAILED_PRECONDITION)
    expect(grpc.metadata?.get('argmax-field')).toEqual([
      'header/idempotency-key: was already used for a different request body',
    ])
  })
})

describe('classifyInfrastructureError', () => {
  it('knows PostgreSQL by its SQLSTATE classes 08, 53 and 57P', () => {
    for (const code of ['08006', '53300', '57P01', '57P03']) {
      expect(classifyInfrastructureError(pgError(code)), code).toEqual({
        dependency: 'postgres',
        reason: `SQLSTATE ${code}`,
      })
    }
    // A constraint violation or a syntax error is not the infrastructure's.
    for (const code of ['23505', '42601', '28P01']) {
      expect(classifyInfrastructureError(pgError(code)), code).toBeUndefined()
    }
  })

  it('knows NATS timeouts, closed connections, no responders and JetStream 503', () => {
    for (const code of ['TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_DRAINING', '503']) {
      expect(classifyInfrastructureError(natsError(code))?.dependency, code).toBe('nats')
    }
    const apiError = Object.assign(natsError('10008'), { api_error: { code: 503 } })
    expect(classifyInfrastructureError(apiError)?.dependency).toBe('nats')
    expect(classifyInfrastructureError(natsError('BAD_SUBJECT'))).toBeUndefined()
  })

  it('knows the AWS SDK by $metadata: network errors, timeouts, 5xx and throttling', () => {
    expect(
      classifyInfrastructureError(Object.assign(socketError('ECONNREFUSED'), { $metadata: {} })),
    ).toEqual({ dependency: 's3', reason: 'connection refused' })
    expect(classifyInfrastructureError(awsError('TimeoutError'))?.reason).toBe('timed out')
    expect(classifyInfrastructureError(awsError('InternalError', 500))?.reason).toBe('answered 500')
    expect(classifyInfrastructureError(awsError('SlowDown', 503))?.dependency).toBe('s3')
    expect(classifyInfrastructureError(awsError('NoSuchKey', 404))).toBeUndefined()
    expect(classifyInfrastructureError(awsError('AccessDenied', 403))).toBeUndefined()
  })

  it('names the dependency an adapter marked, and leaves bugs alone', () => {
    expect(
      classifyInfrastructureError(markDependency(socketError('ECONNREFUSED'), 'postgres')),
    ).toEqual({ dependency: 'postgres', reason: 'connection refused' })
    expect(
      classifyInfrastructureError(
        markDependency(new Error('Connection terminated unexpectedly'), 'postgres'),
      ),
    ).toEqual({ dependency: 'postgres', reason: 'connection lost' })
    expect(classifyInfrastructureError(socketError('ECONNRESET'))).toEqual({
      dependency: undefined,
      reason: 'connection lost',
    })
    expect(
      classifyInfrastructureError(new TypeError('cannot read properties of undefined')),
    ).toBeUndefined()
    expect(
      classifyInfrastructureError(new Error('Connection terminated unexpectedly')),
    ).toBeUndefined()
  })
})

describe('mapping infrastructure failures', () => {
  it('answers 503 naming the dependency, with Retry-After, never the library message', () => {
    const problem = toProblem(markDependency(socketError('ECONNREFUSED'), 'postgres'))
    expect(problem).toMatchObject({
      status: 503,
      dependency: 'postgres',
      retryAfterSeconds: 2,
      detail: 'postgres is unavailable (connection refused); retry later',
    })
    expect(JSON.stringify(problem)).not.toContain('127.0.0.1')
    const grpc = toGrpcStatus(natsError('TIMEOUT'))
    expect(grpc.code).toBe(status.UNAVAILABLE)
    expect(grpc.metadata?.get('retry-after')).toEqual(['2'])
  })

  it('keeps a bug a bare 500 and an UnavailableError of our own as it is', () => {
    expect(toProblem(new TypeError('x is undefined'))).toMatchObject({
      status: 500,
      detail: 'an unexpected error occurred',
    })
    expect(
      toProblem(new UnavailableError('the catalog is behind', { retryAfterSeconds: 1 })),
    ).toMatchObject({ status: 503, retryAfterSeconds: 1 })
  })
})
