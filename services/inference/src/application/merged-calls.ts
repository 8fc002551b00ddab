import { UnavailableError, ValidationError } from '@argmax/errors'
import { DynamicBatcher } from '../model-server/batching/dynamic-batcher.ts'
import { isBatchable } from '../model-server/serving/prepare-inputs.ts'
import { concatRows, sliceRows } from '../model-server/tensors/rows.ts'
import type { Tensor } from '../model-server/tensors/tensor.ts'
import type { ForwardRequest } from './forwarder.ts'

export interface MergeSettings {
  /** Most rows one merged call carries; 0 sends every request on its own. */
  maxRows: number
  /** Calls in flight per version; requests arriving while all are busy merge into the next. */
  inFlight: number
}

/**
 * Concurrent requests for one version, merged into one model-server call — the gateway's side
 * of dynamic batching. A gRPC call costs the gateway more CPU than anything else it does for a
 * one-row request (a client stream, metadata, framing, a wake-up of the model server), so under
 * load many requests share one call and each gets its own rows back. Nothing waits for company:
 * a request is sent at once while fewer than `inFlight` calls of its version are out, so an
 * idle gateway adds no latency (Triton's `max_queue_delay` of 0).
 *
 * Only requests whose inputs agree past the first dimension and that ask for the same outputs
 * merge, and only for versions whose every input and output is batched by its first dimension.
 * A merged call the model server refuses as invalid is sent again request by request, so the
 * request that broke it fails alone; an outage fails them all at once (each would wait for the
 * same dead server in turn).
 */
export class MergedCalls {
  private readonly batchers = new Map<string, DynamicBatcher<ForwardRequest, Tensor[]>>()

  constructor(
    private readonly settings: MergeSettings,
    private readonly send: (request: ForwardRequest) => Promise<Tensor[]>,
  ) {}

  infer(request: ForwardRequest): Promise<Tensor[]> {
    if (this.settings.maxRows === 0 || !isBatchable(request.signature)) return this.send(request)
    const key = `${request.model}\u0000${request.version}`
    let batcher = this.batchers.get(key)
    if (!batcher) {
      batcher = this.batcherFor(key)
      this.batchers.set(key, batcher)
    }
    return batcher.submit(request)
  }

  private batcherFor(key: string): DynamicBatcher<ForwardRequest, Tensor[]> {
    const batcher: DynamicBatcher<ForwardRequest, Tensor[]> = new DynamicBatcher({
      maxBatchSize: this.settings.maxRows,
      maxQueueDelayMs: 0,
      maxConcurrentRuns: this.settings.inFlight,
      rows: rowsOf,
      key: (request) =>
        request.tensors.map((tensor) => tensor.shape.slice(1).join(',')).join('|') +
        '\u0000' +
        request.outputs.join('\u0000'),
      run: (requests) => this.run(requests),
      retryAlone: (error) => error instanceof ValidationError,
      // Versions come and go with releases: nothing is kept for one that has no work.
      onIdle: () => {
        if (this.batchers.get(key) === batcher) this.batchers.delete(key)
      },
    })
    return batcher
  }

  private async run(requests: ForwardRequest[]): Promise<Tensor[][]> {
    const first = requests[0]!
    if (requests.length === 1) return [await this.send(first)]
    const outputs = await this.send({
      ...first,
      tensors: first.tensors.map((_, i) => concatRows(requests.map((r) => r.tensors[i]!))),
    })
    const rows = requests.reduce((sum, request) => sum + rowsOf(request), 0)
    for (const output of outputs) {
      if (output.shape[0] !== rows) {
        throw new UnavailableError(
          `the model server answered ${output.shape[0]} rows of output ${output.name} for ${rows} merged rows: version ${first.version} of model ${first.model} does not answer row by row`,
          { dependency: 'model-server' },
        )
      }
    }
    let offset = 0
    return requests.map((request) => {
      const rows = rowsOf(request)
      const own = outputs.map((output) => sliceRows(output, offset, rows))
      offset += rows
      return own
    })
  }
}

function rowsOf(request: ForwardRequest): number {
  return request.tensors[0]?.shape[0] ?? 1
}
