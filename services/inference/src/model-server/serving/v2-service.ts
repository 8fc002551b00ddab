import type { TensorSpec } from '@argmax/contracts'
import { UnavailableError, ValidationError } from '@argmax/errors'
import type { ModelServerMetrics } from '../metrics.ts'
import {
  configParameter,
  onlyParameters,
  parseModelName,
  versionParameter,
  type BatchingDefaults,
  type RepositoryParameters,
} from '../repository/load-config.ts'
import type { IndexEntry, ModelRepository } from '../repository/model-repository.ts'
import type { InferCall, InferResult } from './infer-call.ts'
import { ONNX_PLATFORM, tritonModelConfig, type TritonModelConfig } from './model-config.ts'
import { prepareInputs, requestedOutputs } from './prepare-inputs.ts'
import type { ServedVersion } from './served-version.ts'

export interface ServerInfo {
  name: string
  version: string
  extensions: string[]
}

export interface TensorMetadata {
  name: string
  datatype: string
  shape: number[]
}

export interface ModelMetadata {
  name: string
  versions: string[]
  platform: string
  inputs: TensorMetadata[]
  outputs: TensorMetadata[]
}

export interface V2ServiceOptions {
  repository: ModelRepository
  metrics: ModelServerMetrics
  info: ServerInfo
  batchingDefaults: BatchingDefaults
  /** Milliseconds on a monotonic clock, for latencies. */
  now(): number
}

const tensorMetadata = (spec: TensorSpec): TensorMetadata => ({
  name: spec.name,
  datatype: spec.datatype,
  shape: spec.shape,
})

/** A model's v2 metadata: its versions, and inputs and outputs from a version's signature. */
export function modelMetadata(
  name: string,
  versions: readonly (string | number)[],
  signature: { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] },
): ModelMetadata {
  return {
    name,
    versions: versions.map(String),
    platform: ONNX_PLATFORM,
    inputs: signature.inputs.map(tensorMetadata),
    outputs: signature.outputs.map(tensorMetadata),
  }
}

/**
 * The v2 protocol's operations, free of any transport: the gRPC handlers and the REST routes
 * both translate to and from these, so the two forms answer alike.
 */
export class V2Service {
  private stopping = false

  constructor(private readonly options: V2ServiceOptions) {}

  /** Ready to serve inference: started and not shutting down. */
  get ready(): boolean {
    return !this.stopping
  }

  /** From now on the server reports not ready, so load balancers drain it. */
  markStopping(): void {
    this.stopping = true
  }

  serverMetadata(): ServerInfo {
    return this.options.info
  }

  /**
   * Whether a version (or, without one, any version) of the model serves. Unknown → NotFound; a
   * version that failed to load → UNAVAILABLE with the reason; one still loading → false.
   */
  modelReady(name: string, version: string): boolean {
    const { ready, entry } = this.options.repository.ready(name, version)
    if (entry?.state === 'UNAVAILABLE') {
      throw new UnavailableError(
        `version ${version} of model ${name} failed to load: ${entry.reason}`,
      )
    }
    return ready
  }

  /** Metadata of the named version, or of the highest ready one; its inputs/outputs are its signature's. */
  modelMetadata(name: string, version: string): ModelMetadata {
    const served = this.options.repository.resolve(name, version)
    return modelMetadata(name, this.options.repository.readyVersions(name), served.config.signature)
  }

  /** Triton's configuration of the named version, or of the highest ready one (model-config.ts). */
  modelConfig(name: string, version: string): TritonModelConfig {
    return tritonModelConfig(name, this.options.repository.resolve(name, version).config.signature)
  }

  async infer(call: InferCall): Promise<InferResult> {
    const started = this.options.now()
    let served: ServedVersion | undefined
    try {
      served = this.options.repository.resolve(call.modelName, call.modelVersion)
      const { signature } = served.config
      const wanted = requestedOutputs(signature, call.outputs)
      const outputs = await served.infer(prepareInputs(signature, call.inputs))
      const result: InferResult = {
        modelName: served.name,
        modelVersion: served.version,
        id: call.id,
        outputs: wanted.map((index) => outputs[index]!),
      }
      this.record(served, 'success', started)
      return result
    } catch (error) {
      this.record(served, 'error', started)
      throw error
    }
  }

  /** RepositoryModelLoad: `parameters.version` and `parameters.config` (see load-config.ts). */
  async load(name: string, parameters: RepositoryParameters): Promise<void> {
    parseModelName(name)
    onlyParameters(parameters, ['version', 'config'])
    const version = versionParameter(parameters)
    if (version === undefined) {
      throw ValidationError.field('parameters/version', 'is required: the version to load')
    }
    const config = configParameter(parameters, this.options.batchingDefaults)
    await this.options.repository.load(name, version, config)
  }

  /**
   * RepositoryModelUnload: one version with `parameters.version`, else every version. Triton's
   * `unload_dependents` (tritonclient sends it) is taken and changes nothing: no version here
   * depends on another.
   */
  async unload(name: string, parameters: RepositoryParameters): Promise<void> {
    parseModelName(name)
    onlyParameters(parameters, ['version', 'unload_dependents'])
    await this.options.repository.unload(name, versionParameter(parameters))
  }

  index(readyOnly: boolean): IndexEntry[] {
    return this.options.repository.index(readyOnly)
  }

  private record(served: ServedVersion | undefined, status: 'success' | 'error', started: number) {
    this.options.metrics.inference(
      served?.name ?? '',
      served?.version ?? '',
      status,
      (this.options.now() - started) / 1000,
    )
  }
}
