import * as ort from 'onnxruntime-node'
import type { ModelSignature, TensorSpec } from '@argmax/contracts'
import { ONNX_TYPE_OF } from '@argmax/contracts'
import { datatypeOfOrtType } from '../tensors/datatypes.ts'
import type { Tensor, TensorData } from '../tensors/tensor.ts'

export type ExecutionProvider = 'cpu' | 'cuda'

export interface SessionSettings {
  executionProvider: ExecutionProvider
  /** CUDA device ordinal, when the provider is `cuda`. */
  cudaDeviceId: number
  /** Threads ONNX Runtime uses inside one operator (1 suits small tabular models best). */
  intraOpThreads: number
}

/** One ONNX model opened by ONNX Runtime, speaking in v2 tensors. */
export interface ModelSession {
  /** Runs the model on inputs (in the signature's order); answers the signature's outputs. */
  run(inputs: readonly Tensor[]): Promise<Tensor[]>
  release(): Promise<void>
}

function sessionOptions(settings: SessionSettings): ort.InferenceSession.SessionOptions {
  return {
    // No silent fallback: a model server configured for CUDA must not quietly run on the CPU.
    executionProviders:
      settings.executionProvider === 'cuda'
        ? [{ name: 'cuda', deviceId: settings.cudaDeviceId }]
        : ['cpu'],
    intraOpNumThreads: settings.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  }
}

/** Opens a model file; rejects when ONNX Runtime cannot load it or the provider cannot start. */
export async function openModel(
  source: string | Uint8Array,
  settings: SessionSettings,
): Promise<ort.InferenceSession> {
  return typeof source === 'string'
    ? ort.InferenceSession.create(source, sessionOptions(settings))
    : ort.InferenceSession.create(source, sessionOptions(settings))
}

/**
 * Why a model does not match its signature (a name missing from the graph, a datatype the graph
 * does not take or give), or undefined when it does. Checked at load, so a mismatch is a load
 * failure with a reason rather than an error on every request.
 */
export function signatureMismatch(
  session: ort.InferenceSession,
  signature: ModelSignature,
): string | undefined {
  const problems: string[] = []
  const check = (
    kind: 'input' | 'output',
    specs: readonly TensorSpec[],
    metadata: readonly ort.InferenceSession.ValueMetadata[],
  ) => {
    const byName = new Map(metadata.map((entry) => [entry.name, entry]))
    for (const spec of specs) {
      const entry = byName.get(spec.name)
      if (!entry) {
        problems.push(
          `the model has no ${kind} '${spec.name}' (its ${kind}s: ${[...byName.keys()].join(', ')})`,
        )
      } else if (entry.isTensor && entry.type !== ONNX_TYPE_OF[spec.datatype]) {
        problems.push(
          `${kind} '${spec.name}' is ${spec.datatype} in the signature but ${entry.type} in the model`,
        )
      } else if (entry.isTensor && entry.shape.length !== spec.shape.length) {
        problems.push(
          `${kind} '${spec.name}' has ${spec.shape.length} dimensions in the signature but ${entry.shape.length} in the model`,
        )
      }
    }
  }
  check('input', signature.inputs, session.inputMetadata)
  check('output', signature.outputs, session.outputMetadata)
  const served = new Set(signature.inputs.map((spec) => spec.name))
  const unfed = session.inputNames.filter((name) => !served.has(name))
  if (unfed.length > 0) problems.push(`the model also needs inputs ${unfed.join(', ')}`)
  return problems.length > 0 ? problems.join('; ') : undefined
}

/** Wraps an open session to run v2 tensors in and out, fetching the signature's outputs. */
export function modelSession(
  session: ort.InferenceSession,
  signature: ModelSignature,
): ModelSession {
  const inputNames = signature.inputs.map((spec) => spec.name)
  const outputNames = signature.outputs.map((spec) => spec.name)
  return {
    async run(inputs) {
      const feeds: Record<string, ort.Tensor> = {}
      inputs.forEach((tensor, i) => {
        feeds[inputNames[i]!] = new ort.Tensor(
          ONNX_TYPE_OF[tensor.datatype] as 'float32',
          tensor.data as Float32Array,
          tensor.shape,
        )
      })
      const results = await session.run(feeds, outputNames)
      return outputNames.map((name) => {
        const result = results[name]!
        const datatype = datatypeOfOrtType(result.type)
        if (!datatype) throw new Error(`output '${name}' is ${result.type}, which v2 cannot carry`)
        return { name, datatype, shape: result.dims.map(Number), data: result.data as TensorData }
      })
    },
    release: () => session.release(),
  }
}
