import type { FastifyError, FastifyRequest } from 'fastify'
import { ArgmaxError, PayloadTooLargeError, ValidationError, type FieldIssue } from '@argmax/errors'
import { httpProblem } from './send-problem.ts'

type SchemaIssue = NonNullable<FastifyError['validation']>[number]

// Where the field sits, in the words a client uses; a body field is a bare JSON pointer.
const placeOf: Record<string, string> = {
  body: '',
  querystring: 'query',
  params: 'path',
  headers: 'header',
}

function fieldIssue(context: string | undefined, issue: SchemaIssue): FieldIssue {
  const params = issue.params as Record<string, unknown>
  let pointer = issue.instancePath
  let message = issue.message ?? 'is invalid'
  if (issue.keyword === 'required' && typeof params['missingProperty'] === 'string') {
    pointer = `${pointer}/${params['missingProperty']}`
    message = 'is required'
  } else if (
    issue.keyword === 'additionalProperties' &&
    typeof params['additionalProperty'] === 'string'
  ) {
    pointer = `${pointer}/${params['additionalProperty']}`
    message = 'is not allowed'
  }
  const place = placeOf[context ?? 'body'] ?? context ?? ''
  return { field: `${place}${pointer}` || '/', message }
}

/**
 * Translates what fastify itself throws (schema validation, body limits, content types) into
 * the platform's vocabulary, so one error handler answers every refusal the same way.
 * Returns an ArgmaxError or a ready problem, or the error unchanged when it is already ours or
 * is not a client error.
 */
export function fromFastifyError(
  error: unknown,
  request: FastifyRequest,
  bodyLimit: number,
): unknown {
  if (error instanceof ArgmaxError || typeof error !== 'object' || error === null) return error
  const fastifyError = error as FastifyError
  if (fastifyError.validation) {
    const issues = fastifyError.validation.map((issue) =>
      fieldIssue(fastifyError.validationContext, issue),
    )
    const summary = issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')
    return new ValidationError(`invalid request: ${summary}`, issues)
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const declared = Number(request.headers['content-length'])
      return Number.isFinite(declared) && declared > bodyLimit
        ? new PayloadTooLargeError('body', bodyLimit, declared)
        : httpProblem(413, `body exceeds the limit of ${bodyLimit} bytes`, request.url)
    }
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return ValidationError.field('body', fastifyError.message)
  }
  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return httpProblem(status, fastifyError.message, request.url)
  }
  return error
}
