/**
 * A model's signature: the tensors it takes and gives, as the KServe v2 protocol names them.
 * Trainers write it next to `model.onnx` (`schema.json`), the registry records it on each
 * version, the inference gateway validates every request against it and model servers answer
 * `ModelMetadata` from it. Tabular models take one input per dataset column (raw values:
 * numbers and strings as in the dataset, missing values allowed where `nullable`), so the
 * preprocessing lives inside the ONNX graph and training and serving cannot skew.
 */

/** KServe v2 / Triton tensor datatypes. */
export const TENSOR_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const
export type TensorDatatype = (typeof TENSOR_DATATYPES)[number]

/**
 * The ONNX (and onnxruntime `Tensor.type`) element type of each v2 datatype; BYTES are ONNX
 * strings. Trainers' artifacts are checked, registered and served in these terms.
 */
export const ONNX_TYPE_OF = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
} as const satisfies Record<TensorDatatype, string>

export interface TensorSpec {
  /** The tensor's name in v2 requests and in the ONNX graph (a column name may contain spaces). */
  name: string
  datatype: TensorDatatype
  /** -1 for a variable dimension; the first dimension is the batch (rows). */
  shape: number[]
  /**
   * Missing values allowed: NaN (or JSON null) in a floating-point tensor. A non-nullable input
   * refuses them with a 400 naming the input and row.
   */
  nullable: boolean
  /** The dataset column an input comes from, or the column an output predicts. */
  column?: string
  /** For BYTES inputs of categorical columns: the categories seen in training (others are unknown). */
  categories?: string[]
}

export type ModelTask = 'regression' | 'classification'

export interface ModelSignature {
  task: ModelTask
  inputs: TensorSpec[]
  outputs: TensorSpec[]
  /** Classification: the class labels, in the order of the probability output's columns. */
  classes?: string[]
}
