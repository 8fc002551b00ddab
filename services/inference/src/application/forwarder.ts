import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js'
import { UnavailableError, ValidationError } from '@argmax/errors'
import { decodeRaw, encodeRaw } from '../model-server/tensors/raw-codec.ts'
import { elementCount, type Tensor } from '../model-server/tensors/tensor.ts'
import type { ModelSignature } from '@argmax/contracts'
import { MergedCalls, type MergeSettings } from './merged-calls.ts'
import { isUnreachable, type Endpoint, type ModelServerPool } from './model-servers.ts'

export interface ForwardRequest {
  model: string
  version: number
  requestId: string
  /** Checked inputs, in the signature's order. */
  tensors: Tensor[]
  /** Output names to ask for (the signature's, in order). */
  outputs: string[]
  signature: ModelSignature
}

export interface ForwardStats {
  /** Calls retried on another endpoint. */
  retries: number
}

/**
 * Sends a checked request to a model server that holds the version and returns its outputs.
 * Tensors travel as `raw_input_contents` (what they were decoded from does not matter any
 * more). A call that fails because that server is down or lost the version (UNAVAILABLE,
 * NOT_FOUND, a dropped connection) is tried on the next server holding it — predictions have
 * no side effect on a model server, so a retry is safe even when the first one ran. The
 * endpoint's circuit is updated either way. What no server can answer is a 503.
 */
export class Forwarder {
  readonly stats: ForwardStats = { retries: 0 }
  private readonly merged: MergedCalls

  constructor(
    private readonly pool: ModelServerPool,
    private readonly timeoutMs: number,
    merge: MergeSettings = { maxRows: 0, inFlight: 1 },
  ) {
    this.merged = new MergedCalls(merge, (request) => this.send(request))
  }

  /** The request's outputs; under load, concurrent requests of its version share one call. */
  infer(request: ForwardRequest): Promise<Tensor[]> {
    return this.merged.infer(request)
  }

  private async send(request: ForwardRequest): Promise<Tensor[]> {
    const endpoints = this.pool.readyEndpoints(request.model, request.version)
    const message = {
      model_name: request.model,
      model_version: String(request.version),
      id: request.requestId,
      inputs: request.tensors.map((tensor) => ({
        name: tensor.name,
        datatype: tensor.datatype,
        shape: tensor.shape,
      })),
      outputs: request.outputs.map((name) => ({ name })),
      raw_input_contents: request.tensors.map((tensor) => encodeRaw(tensor.data)),
    }
    let lastError: ServiceError | undefined
    for (const [attempt, endpoint] of endpoints.entries()) {
      if (attempt > 0) this.stats.retries++
      try {
        const answer = await this.pool.call<ModelInferAnswer>(
          endpoint,
          'ModelInfer',
          message,
          this.timeoutMs,
        )
        return decodeAnswer(answer, request.signature)
      } catch (error) {
        const failure = error as ServiceError
        if (!isRetryable(failure)) throw translate(failure, endpoint)
        this.pool.reportFailure(endpoint, request.model, request.version, failure)
        lastError = failure
      }
    }
    throw new UnavailableError(
      `no model server could answer for version ${request.version} of model ${request.model}` +
        (lastError ? ` (last: ${lastError.details || lastError.message})` : ''),
      { dependency: 'model-server', retryAfterSeconds: 1 },
    )
  }
}

interface ModelInferAnswer {
  outputs: { name: string; datatype: string; shape: (string | number)[] }[]
  raw_output_contents: Uint8Array[]
}

function decodeAnswer(answer: ModelInferAnswer, signature: ModelSignature): Tensor[] {
  return answer.outputs.map((output, i) => {
    const spec = signature.outputs.find((s) => s.name === output.name)
    if (!spec || spec.datatype !== output.datatype) {
      throw new UnavailableError(
        `the model server answered output ${output.name} as ${output.datatype}, not as the signature says`,
        { dependency: 'model-server' },
      )
    }
    const shape = output.shape.map(Number)
    return {
      name: output.name,
      datatype: spec.datatype,
      shape,
      data: decodeRaw(
        output.name,
        spec.datatype,
        elementCount(shape),
        answer.raw_output_contents[i]!,
      ),
    }
  })
}

function isRetryable(error: ServiceError): boolean {
  return (
    error.code === grpcStatus.UNAVAILABLE ||
    error.code === grpcStatus.NOT_FOUND ||
    isUnreachable(error)
  )
}

/**
 * A model server's refusal the gateway cannot route around. The gateway checked the request
 * against the same signature, so INVALID_ARGUMENT here means the two disagree; it is still the
 * request's problem and says so. Anything else is the model server failing: a 503 naming it.
 */
function translate(error: ServiceError, endpoint: Endpoint): Error {
  if (error.code === grpcStatus.INVALID_ARGUMENT) {
    return new ValidationError(`the model server refused the request: ${error.details}`)
  }
  if (error.code === grpcStatus.DEADLINE_EXCEEDED) {
    return new UnavailableError(`the model server at ${endpoint.address} did not answer in time`, {
      dependency: 'model-server',
    })
  }
  return new UnavailableError(
    `the model server at ${endpoint.address} failed: ${error.details || error.message}`,
    { dependency: 'model-server' },
  )
}
