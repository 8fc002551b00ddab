import type { ModelSignature, TensorDatatype } from '@argmax/contracts'
import { instancesToInputs, outputRows, recordFromCsv, type Instance } from './api/instances.ts'
import { createV2Client, type V2Client } from './model-server/api/v2-client.ts'
import { decodeRaw, encodeRaw } from './model-server/tensors/raw-codec.ts'
import { elementCount } from './model-server/tensors/tensor.ts'

/**
 * Record-shaped predictions over the gateway's gRPC port (`@argmax/inference-service/grpc-client`),
 * for the CLI and scripts: reads the model's metadata once, turns records into one v2 tensor
 * per input (missing values as the `:predict` route treats them), sends raw tensors as
 * tritonclient does, and reads the answer and its prediction ids (`parameters.prediction_ids`).
 */
export interface PredictionRow {
  row: number
  prediction: unknown
  predictionId: string
  outputs: Record<string, unknown>
}

export interface PredictionClient {
  /**
   * `fromCsv`: the records are CSV rows, every value text, read as batch predictions read CSV
   * (`recordFromCsv`: the model's inputs only, typed by its signature).
   */
  predict(
    model: string,
    records: readonly Instance[],
    options?: { version?: string; firstRow?: number; fromCsv?: boolean },
  ): Promise<{ version: string; rows: PredictionRow[] }>
  close(): void
}

interface MetadataAnswer {
  inputs: { name: string; datatype: string; shape: (string | number)[] }[]
  outputs: { name: string; datatype: string; shape: (string | number)[] }[]
}

interface InferAnswer {
  model_version: string
  outputs: { name: string; datatype: string; shape: (string | number)[] }[]
  raw_output_contents: Uint8Array[]
  parameters: Record<string, { string_param?: string }>
}

export function createPredictionClient(
  address: string,
  token: string | undefined,
  timeoutMs = 60_000,
): PredictionClient {
  const client: V2Client = createV2Client(address, {
    ...(token ? { token } : {}),
    channelOptions: {
      'grpc.max_receive_message_length': 64 << 20,
      'grpc.max_send_message_length': 64 << 20,
    },
  })
  const signatures = new Map<string, ModelSignature>()
  const signatureOf = async (model: string, version: string) => {
    const key = `${model}@${version}`
    const known = signatures.get(key)
    if (known) return known
    const metadata = await client.call<MetadataAnswer>(
      'ModelMetadata',
      { name: model, version },
      { timeoutMs },
    )
    const spec = (t: MetadataAnswer['inputs'][number]) => ({
      name: t.name,
      datatype: t.datatype as TensorDatatype,
      shape: t.shape.map(Number),
      // Nullability is the gateway's to check: the client sends what it was given.
      nullable: true,
    })
    const signature: ModelSignature = {
      task: 'regression',
      inputs: metadata.inputs.map(spec),
      outputs: metadata.outputs.map(spec),
    }
    signatures.set(key, signature)
    return signature
  }
  return {
    async predict(model, records, options = {}) {
      const version = options.version ?? ''
      const signature = await signatureOf(model, version)
      const fromCsv = options.fromCsv ? recordFromCsv(signature) : undefined
      const inputs = instancesToInputs(
        signature,
        fromCsv ? records.map((record) => fromCsv(record as Record<string, string>)) : records,
      )
      const tensors = inputs.map((input) => {
        const count = elementCount(input.shape.map(Number))
        return { input, data: input.values(input.datatype as TensorDatatype, count) }
      })
      const answer = await client.call<InferAnswer>(
        'ModelInfer',
        {
          model_name: model,
          model_version: version,
          inputs: tensors.map(({ input }) => ({
            name: input.name,
            datatype: input.datatype,
            shape: input.shape,
          })),
          raw_input_contents: tensors.map(({ data }) => encodeRaw(data)),
        },
        { timeoutMs },
      )
      const outputs = answer.outputs.map((output, i) => {
        const shape = output.shape.map(Number)
        return {
          name: output.name,
          datatype: output.datatype as TensorDatatype,
          shape,
          data: decodeRaw(
            output.name,
            output.datatype as TensorDatatype,
            elementCount(shape),
            answer.raw_output_contents[i]!,
          ),
        }
      })
      const ids = (answer.parameters['prediction_ids']?.string_param ?? '').split(',')
      const main =
        outputs.find((o) => o.name === 'predictions') ??
        outputs.find((o) => o.name === 'label') ??
        outputs[0]
      const mainRows = main ? outputRows(main) : []
      const perOutput = outputs.map((o) => [o.name, outputRows(o)] as const)
      return {
        version: answer.model_version,
        rows: records.map((_, i) => ({
          row: (options.firstRow ?? 0) + i,
          prediction: mainRows[i] ?? null,
          predictionId: ids[i] ?? '',
          outputs: Object.fromEntries(perOutput.map(([name, values]) => [name, values[i]])),
        })),
      }
    },
    close: () => client.close(),
  }
}
