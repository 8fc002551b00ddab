import { status } from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import {
  ConcurrencyError,
  ForbiddenError,
  IllegalStateError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  UnauthenticatedError,
  UnavailableError,
  ValidationError,
  toGrpcStatus,
  toProblem,
} from '../src/index.ts'

describe('the error vocabulary', () => {
  it.each([
    [new ValidationError('bad'), 400, status.INVALID_ARGUMENT],
    [new UnauthenticatedError('no token'), 401, status.UNAUTHENTICATED],
    [new ForbiddenError('not yours'), 403, status.PERMISSION_DENIED],
    [new NotFoundError('dataset', 'd1'), 404, status.NOT_FOUND],
    [new IllegalStateError('deleted'), 409, status.FAILED_PRECONDITION],
    [new ConcurrencyError('dataset.dataset.d1', 3), 409, status.ABORTED],
    [new PayloadTooLargeError('body', 10, 11), 413, status.RESOURCE_EXHAUSTED],
    [new RateLimitedError('slow down', 30), 429, status.RESOURCE_EXHAUSTED],
    [new UnavailableError('nats down'), 503, status.UNAVAILABLE],
  ])('maps %s once to HTTP and once to gRPC', (error, httpStatus, grpcCode) => {
    const problem = toProblem(error, '/v1/x')
    expect(problem).toMatchObject({ status: httpStatus, detail: error.message, instance: '/v1/x' })
    expect(problem.type).toBe(`https://argmax.dev/problems/${error.kind.replaceAll('_', '-')}`)
    expect(toGrpcStatus(error)).toMatchObject({ code: grpcCode, details: error.message })
  })

  it('names the offending field in both mappings', () => {
    const error = ValidationError.field('/inputs/0/datatype', 'must be FP32')
    expect(error.message).toBe('/inputs/0/datatype: must be FP32')
    expect(toProblem(error).errors).toEqual([
      { field: '/inputs/0/datatype', message: 'must be FP32' },
    ])
    expect(toGrpcStatus(error).metadata?.get('argmax-field')).toEqual([
      '/inputs/0/datatype: must be FP32',
    ])
  })

  it('percent-encodes what is not printable ASCII in field metadata, as grpc-message is', () => {
    const error = ValidationError.of([
      { field: 'inputs/Título', message: 'shape [-1] must hold whole numbers ≥ 0 (100%)' },
      { field: 'inputs/x', message: 'a lone \ud800' },
    ])
    const values = toGrpcStatus(error).metadata!.get('argmax-field') as string[]
    expect(values).toEqual([
      'inputs/T%C3%ADtulo: shape [-1] must hold whole numbers %E2%89%A5 0 (100%25)',
      'inputs/x: a lone %EF%BF%BD',
    ])
    expect(decodeURIComponent(values[0]!)).toBe(
      'inputs/Título: shape [-1] must hold whole numbers ≥ 0 (100%)',
    )
  })

  it('carries Retry-After and the details of an error', () => {
    const limited = new RateLimitedError('quota', 42)
    expect(toProblem(limited)).toMatchObject({ retryAfterSeconds: 42 })
    expect(toGrpcStatus(limited).metadata?.get('retry-after')).toEqual(['42'])
    expect(toProblem(new PayloadTooLargeError('body', 10, 11))).toMatchObject({
      field: 'body',
      limit: 10,
      actual: 11,
    })
  })

  it('answers anything else as an internal error without leaking its message', () => {
    const secret = new Error('password=hunter2 at db:5432')
    expect(toProblem(secret)).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'an unexpected error occurred',
    })
    expect(toGrpcStatus(secret)).toEqual({
      code: status.INTERNAL,
      details: 'an unexpected error occurred',
    })
  })
})
