import { UnavailableError } from '@argmax/errors'
import { DynamicBatcher, type BatcherTimer, type BatchReport } from '../batching/dynamic-batcher.ts'
import type { ModelSession } from '../onnx/onnx-session.ts'
import type { VersionConfig } from '../repository/load-config.ts'
import { concatRows, sliceRows } from '../tensors/rows.ts'
import type { Tensor } from '../tensors/tensor.ts'
import { isBatchable, type PreparedInputs } from './prepare-inputs.ts'

export interface ServedVersionOptions {
  name: string
  version: string
  config: VersionConfig
  session: ModelSession
  onBatch?(report: BatchReport): void
  now?: () => number
  timer?: BatcherTimer
}

interface BatchItem {
  tensors: Tensor[]
  rows: number
}

/**
 * A loaded model version: its signature, its ONNX Runtime session and the dynamic batcher in
 * front of it. Requests reach it already checked (`prepareInputs`), so a batch only merges
 * valid requests and one bad request never fails the others. A version whose signature has a
 * fixed first dimension cannot merge rows and runs each request alone.
 */
export class ServedVersion {
  readonly name: string
  readonly version: string
  readonly config: VersionConfig
  /** Whether requests are merged (batchable signature and maxBatchSize > 0). */
  readonly batching: boolean
  private readonly batcher: DynamicBatcher<BatchItem, Tensor[]>

  constructor(private readonly options: ServedVersionOptions) {
    this.name = options.name
    this.version = options.version
    this.config = options.config
    this.batching = isBatchable(options.config.signature) && options.config.maxBatchSize > 0
    this.batcher = new DynamicBatcher<BatchItem, Tensor[]>({
      maxBatchSize: this.batching ? options.config.maxBatchSize : 0,
      maxQueueDelayMs: options.config.maxQueueDelayMicroseconds / 1000,
      maxConcurrentRuns: options.config.instanceCount,
      rows: (item) => item.rows,
      // Rows merge only when every input agrees past the first dimension.
      key: (item) => item.tensors.map((tensor) => tensor.shape.slice(1).join(',')).join('|'),
      run: (items) => this.run(items),
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.timer ? { timer: options.timer } : {}),
      closedError: () =>
        new UnavailableError(`version ${this.version} of model ${this.name} is being unloaded`),
    })
  }

  /** Every output of the signature for this request's rows. */
  infer(prepared: PreparedInputs): Promise<Tensor[]> {
    return this.batcher.submit({ tensors: prepared.tensors, rows: prepared.rows })
  }

  /** Finishes what is queued and in flight, then frees the session. */
  async close(): Promise<void> {
    await this.batcher.close()
    await this.options.session.release()
  }

  private async run(items: BatchItem[]): Promise<Tensor[][]> {
    if (items.length === 1) return [await this.options.session.run(items[0]!.tensors)]
    const inputs = items[0]!.tensors.map((_, i) =>
      concatRows(items.map((item) => item.tensors[i]!)),
    )
    const outputs = await this.options.session.run(inputs)
    const rows = items.reduce((sum, item) => sum + item.rows, 0)
    for (const output of outputs) {
      if (output.shape[0] !== rows) {
        throw new Error(
          `output '${output.name}' has ${output.shape[0]} rows for a batch of ${rows}: the model does not answer row by row`,
        )
      }
    }
    let offset = 0
    return items.map((item) => {
      const own = outputs.map((output) => sliceRows(output, offset, item.rows))
      offset += item.rows
      return own
    })
  }
}
