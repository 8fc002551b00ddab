import { z } from 'zod'
import type { ModelSignature } from '@argmax/contracts'
import { ValidationError, type FieldIssue } from '@argmax/errors'
import { parseArtifactUri, type ArtifactLocation } from '../artifacts/artifact-uri.ts'
import { modelSignatureSchema } from './model-signature.schema.ts'

/**
 * The repository convention between a gateway and the model servers. A model server serves
 * several versions of one model at once (a release's stable, canary and shadow), so a load
 * names the version and carries everything needed to serve it — the model server reads no
 * registry:
 *
 *   RepositoryModelLoad {
 *     model_name: "movies",
 *     parameters: {
 *       version: { string_param: "3" },
 *       config:  { string_param: '{"artifactUri":"s3://argmax-models/…/model.onnx",
 *                                  "sha256":"<64 hex>", "signature":{…ModelSignature…},
 *                                  "dynamicBatching":{"maxBatchSize":64,"maxQueueDelayMicroseconds":500},
 *                                  "instanceCount":1}' } } }
 *   RepositoryModelUnload { model_name: "movies", parameters: { version: { string_param: "3" } } }
 */

export const MAX_BATCH_SIZE_LIMIT = 65_536
export const MAX_QUEUE_DELAY_LIMIT_MICROSECONDS = 10_000_000
export const MAX_INSTANCE_COUNT = 64

export const dynamicBatchingSchema = z
  .object({
    /** Most rows per merged run; 0 turns batching off for the version. */
    maxBatchSize: z.number().int().min(0).max(MAX_BATCH_SIZE_LIMIT).optional(),
    /** How long a request may wait for a fuller batch. */
    maxQueueDelayMicroseconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_QUEUE_DELAY_LIMIT_MICROSECONDS)
      .optional(),
  })
  .strict()

export const loadConfigSchema = z
  .object({
    artifactUri: z
      .string()
      .refine((uri) => parseArtifactUri(uri) !== undefined, 'must be s3://<bucket>/<key>'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
    signature: modelSignatureSchema,
    dynamicBatching: dynamicBatchingSchema.optional(),
    /** Merged runs of this version in flight at once (Triton's instance count). */
    instanceCount: z.number().int().min(1).max(MAX_INSTANCE_COUNT).optional(),
  })
  .strict()

export type LoadConfigInput = z.input<typeof loadConfigSchema>

/** A load's config with the server's defaults applied. */
export interface VersionConfig {
  artifact: ArtifactLocation
  artifactUri: string
  sha256: string
  signature: ModelSignature
  maxBatchSize: number
  maxQueueDelayMicroseconds: number
  instanceCount: number
}

export interface BatchingDefaults {
  maxBatchSize: number
  maxQueueDelayMicroseconds: number
  instanceCount: number
}

/** A repository parameter as `@argmax/proto` decodes `ModelRepositoryParameter`. */
export interface RepositoryParameter {
  parameter_choice?: string
  bool_param?: boolean
  int64_param?: string | number
  string_param?: string
  bytes_param?: Uint8Array
}

export type RepositoryParameters = Record<string, RepositoryParameter | undefined>

const MODEL_NAME = /^[^/\s\p{Cc}][^/\p{Cc}]{0,199}$/u
const VERSION = /^[1-9][0-9]{0,14}$/

export function parseModelName(name: string, field = 'model_name'): string {
  if (!MODEL_NAME.test(name)) {
    throw ValidationError.field(
      field,
      name === ''
        ? 'is required'
        : 'must be 1–200 characters, not starting with a space, without "/" or control characters',
    )
  }
  return name
}

/** Versions are the registry's positive integers, as decimal strings. */
export function parseVersion(version: string, field: string): string {
  if (!VERSION.test(version)) {
    throw ValidationError.field(field, `must be a positive integer, got ${JSON.stringify(version)}`)
  }
  return version
}

function parameterText(parameter: RepositoryParameter): string | undefined {
  switch (parameter.parameter_choice) {
    case 'string_param':
      return parameter.string_param
    case 'int64_param':
      return String(parameter.int64_param)
    case 'bytes_param':
      return parameter.bytes_param ? Buffer.from(parameter.bytes_param).toString('utf8') : undefined
    default:
      return undefined
  }
}

/**
 * Refuses the parameters a load or unload does not take, naming each, rather than ignoring
 * them: a misspelt `version` would otherwise unload every version of the model.
 */
export function onlyParameters(parameters: RepositoryParameters, takes: readonly string[]): void {
  const unknown = Object.keys(parameters).filter((key) => !takes.includes(key))
  if (unknown.length === 0) return
  const issues = unknown.map((key) => ({
    field: `parameters/${key}`,
    message: `is not a parameter of this call (it takes ${takes.join(', ')})`,
  }))
  throw new ValidationError(
    issues.map((issue) => `${issue.field}: ${issue.message}`).join('; '),
    issues,
  )
}

/** `parameters.version` of a load or unload; undefined when absent (an unload of every version). */
export function versionParameter(parameters: RepositoryParameters): string | undefined {
  const parameter = parameters['version']
  if (parameter === undefined) return undefined
  const text = parameterText(parameter)
  if (text === undefined) {
    throw ValidationError.field('parameters/version', 'must be a string_param or int64_param')
  }
  return parseVersion(text, 'parameters/version')
}

/** Parses and checks `parameters.config`; every problem is named at once. */
export function configParameter(
  parameters: RepositoryParameters,
  defaults: BatchingDefaults,
): VersionConfig {
  const parameter = parameters['config']
  const text = parameter ? parameterText(parameter) : undefined
  if (text === undefined) {
    throw ValidationError.field(
      'parameters/config',
      'is required: a JSON object with artifactUri, sha256, signature and optionally dynamicBatching',
    )
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw ValidationError.field('parameters/config', `is not JSON: ${(error as Error).message}`)
  }
  return parseLoadConfig(json, defaults)
}

export function parseLoadConfig(json: unknown, defaults: BatchingDefaults): VersionConfig {
  const result = loadConfigSchema.safeParse(json)
  if (!result.success) {
    const issues: FieldIssue[] = result.error.issues.map((issue) => ({
      field: ['parameters/config', ...issue.path.map(String)].join('/'),
      message: issue.message,
    }))
    throw new ValidationError(
      `invalid load config: ${issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')}`,
      issues,
    )
  }
  const config = result.data
  return {
    artifact: parseArtifactUri(config.artifactUri)!,
    artifactUri: config.artifactUri,
    sha256: config.sha256,
    signature: config.signature,
    maxBatchSize: config.dynamicBatching?.maxBatchSize ?? defaults.maxBatchSize,
    maxQueueDelayMicroseconds:
      config.dynamicBatching?.maxQueueDelayMicroseconds ?? defaults.maxQueueDelayMicroseconds,
    instanceCount: config.instanceCount ?? defaults.instanceCount,
  }
}

/** Two loads ask for the same thing when their effective configs are equal. */
export function sameConfig(a: VersionConfig, b: VersionConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
