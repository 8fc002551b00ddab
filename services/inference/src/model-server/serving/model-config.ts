import type { ModelSignature, TensorDatatype, TensorSpec } from '@argmax/contracts'

/** Triton's platform name for ONNX models, what v2 clients expect in model metadata. */
export const ONNX_PLATFORM = 'onnxruntime_onnx'

/** Triton's `DataType` for each v2 datatype (BYTES is Triton's TYPE_STRING). */
const TRITON_DATA_TYPE: Record<TensorDatatype, string> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
}

export interface TritonTensorConfig {
  name: string
  data_type: string
  dims: number[]
}

/** The fields of Triton's `ModelConfig` that describe what a client sends and gets. */
export interface TritonModelConfig {
  name: string
  platform: string
  backend: string
  max_batch_size: number
  input: TritonTensorConfig[]
  output: TritonTensorConfig[]
}

const tensorConfig = (spec: TensorSpec): TritonTensorConfig => ({
  name: spec.name,
  data_type: TRITON_DATA_TYPE[spec.datatype],
  dims: [...spec.shape],
})

/**
 * A version's configuration as Triton reports it (`GET /v2/models/{name}/config`, gRPC
 * `ModelConfig`), for the clients that read it: tritonclient's `get_model_config`,
 * perf_analyzer, pytriton. It says what a request must look like, in Triton's terms.
 *
 * `max_batch_size` is 0 and `dims` are the signature's whole shapes, rows dimension (-1)
 * included. Triton's other form, `max_batch_size > 0`, leaves the rows dimension out of `dims`;
 * a per-row input (`[-1]`) would then have to be `dims: [1]` with `reshape: { shape: [] }`, and
 * clients would send `[N, 1]`, a shape the signature does not take. The rows are still batched
 * here: the model server merges concurrent requests on their first dimension by itself
 * (dynamic batching), which a client does not see.
 */
export function tritonModelConfig(name: string, signature: ModelSignature): TritonModelConfig {
  return {
    name,
    platform: ONNX_PLATFORM,
    backend: 'onnxruntime',
    max_batch_size: 0,
    input: signature.inputs.map(tensorConfig),
    output: signature.outputs.map(tensorConfig),
  }
}
