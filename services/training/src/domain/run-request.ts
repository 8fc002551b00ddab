import { MODEL_NAME_PATTERN, type ModelTask } from '@argmax/contracts'
import { ValidationError, type FieldIssue } from '@argmax/errors'
import { resolveTrainerParams } from './trainer-params.ts'
import type {
  BuiltinTrainerName,
  DatasetRef,
  Priority,
  RunResources,
  TrainerSpec,
} from './run.types.ts'

/** A column of a dataset version's schema, as the dataset context's validator inferred it. */
export interface SchemaColumn {
  name: string
  type: 'integer' | 'float' | 'boolean' | 'timestamp' | 'string'
  nullable: boolean
}

/** What a user asks for (the API body, already checked for shape by its JSON schema). */
export interface RunRequest {
  model: string
  datasetVersionId: string
  extraDatasetVersionIds?: string[]
  target: string
  features?: string[]
  task?: ModelTask
  trainer: BuiltinTrainerName | 'custom'
  image?: string
  command?: string[]
  params?: Record<string, unknown>
  priority?: Priority
  resources?: Partial<RunResources>
  timeoutSeconds?: number
  seed?: number
  checkpointEvery?: number
}

/** The names the built-in trainers give their outputs; a feature column cannot be one. */
export const RESERVED_COLUMN_NAMES = ['predictions', 'label', 'probabilities']

export const DEFAULT_RESOURCES: RunResources = { cpu: 1, memoryMb: 2048, gpus: 0 }

export interface PlannedRun {
  task: ModelTask
  trainer: TrainerSpec
  target: string
  features: string[]
  featuresGiven: boolean
  params: Record<string, unknown>
  resources: RunResources
  seed: number
  checkpointEvery?: number
}

/**
 * Checks a request against the dataset version it names — the target and features exist and
 * suit the task (inferred from the target's type when absent), the trainer's parameters are
 * known and in range — and resolves the defaults. Every refusal names its field.
 */
export function planRun(request: RunRequest, schema: SchemaColumn[]): PlannedRun {
  const issues: FieldIssue[] = []
  const fail = (field: string, message: string) => {
    throw new ValidationError(`${field}: ${message}`, [...issues, { field, message }])
  }
  if (!MODEL_NAME_PATTERN.test(request.model)) {
    fail(
      '/model',
      `'${request.model}' is not a model name: lower-case letters, digits and '-', starting with a letter or digit, at most 63 characters`,
    )
  }
  const columns = new Map(schema.map((c) => [c.name, c]))
  const listed = () => {
    const names = schema.map((c) => `'${c.name}'`)
    return names.length > 20
      ? `${names.slice(0, 20).join(', ')} and ${names.length - 20} more`
      : names.join(', ')
  }
  const target = columns.get(request.target)
  if (!target) {
    return fail(
      '/target',
      `column '${request.target}' is not in the dataset version (columns: ${listed()})`,
    )
  }
  const numeric = target.type === 'integer' || target.type === 'float'
  if (target.type === 'timestamp') {
    fail(
      '/target',
      `column '${target.name}' holds timestamps: the target must be numbers, strings or booleans`,
    )
  }
  const task: ModelTask = request.task ?? (numeric ? 'regression' : 'classification')
  if (task === 'regression' && !numeric) {
    fail(
      '/task',
      `target column '${target.name}' holds ${target.type} values: regression needs numbers (set task to classification?)`,
    )
  }
  if (task === 'classification' && target.type === 'float') {
    fail(
      '/task',
      `target column '${target.name}' holds float values: classification needs labels (strings, booleans or integers)`,
    )
  }

  let features: string[]
  const featuresGiven = request.features !== undefined
  if (request.features !== undefined) {
    features = request.features
    if (features.length === 0) fail('/features', 'must name at least one column (or be left out)')
    const seen = new Set<string>()
    features.forEach((name, i) => {
      const column = columns.get(name)
      if (!column)
        fail(
          `/features/${i}`,
          `column '${name}' is not in the dataset version (columns: ${listed()})`,
        )
      if (name === target.name) fail(`/features/${i}`, `'${name}' is the target column`)
      if (seen.has(name)) fail(`/features/${i}`, `'${name}' is named twice`)
      seen.add(name)
      if (column!.type === 'timestamp' && request.trainer !== 'custom') {
        fail(
          `/features/${i}`,
          `column '${name}' holds timestamps, which the built-in trainers do not take`,
        )
      }
    })
  } else {
    features = schema
      .filter(
        (c) => c.name !== target.name && (c.type !== 'timestamp' || request.trainer === 'custom'),
      )
      .map((c) => c.name)
    if (features.length === 0)
      fail('/features', 'the dataset has no usable feature column besides the target')
  }
  if (request.trainer !== 'custom') {
    features.forEach((name, i) => {
      if (RESERVED_COLUMN_NAMES.includes(name)) {
        fail(
          featuresGiven ? `/features/${i}` : '/features',
          `a feature column is named '${name}', the name of a model output: rename the column or leave it out of features`,
        )
      }
    })
  }

  let trainer: TrainerSpec
  let params: Record<string, unknown> = request.params ?? {}
  if (request.trainer === 'custom') {
    if (!request.image) fail('/image', 'a custom trainer needs the container image to run')
    if (!request.command || request.command.length === 0) {
      fail('/command', 'a custom trainer needs the command to run in its image')
    }
    trainer = { kind: 'image', image: request.image!, command: request.command! }
  } else {
    if (request.image !== undefined)
      fail('/image', `only a custom trainer takes an image, not ${request.trainer}`)
    if (request.command !== undefined) {
      fail('/command', `only a custom trainer takes a command, not ${request.trainer}`)
    }
    trainer = { kind: 'builtin', name: request.trainer }
    // Throws naming /params/<name>; what is kept is what the user gave (the trainer fills defaults).
    resolveTrainerParams(request.trainer, task, params)
    params = { ...params }
  }

  const resources: RunResources = {
    cpu: request.resources?.cpu ?? DEFAULT_RESOURCES.cpu,
    memoryMb: request.resources?.memoryMb ?? DEFAULT_RESOURCES.memoryMb,
    gpus: request.resources?.gpus ?? DEFAULT_RESOURCES.gpus,
    ...(request.resources?.gpuProfile !== undefined
      ? { gpuProfile: request.resources.gpuProfile }
      : {}),
  }
  if (resources.gpuProfile !== undefined && resources.gpus === 0) {
    fail('/resources/gpuProfile', 'a GPU profile needs resources.gpus ≥ 1')
  }
  return {
    task,
    trainer,
    target: target.name,
    features,
    featuresGiven,
    params,
    resources,
    seed: request.seed ?? 0,
    ...(request.checkpointEvery !== undefined ? { checkpointEvery: request.checkpointEvery } : {}),
  }
}

/** A version that can be trained on, or why not. */
export function datasetRefOf(version: {
  versionId: string
  datasetId: string
  sha256: string
  size: number
  format: string
  bucket: string
  objectKey: string
}): DatasetRef {
  return {
    datasetId: version.datasetId,
    versionId: version.versionId,
    sha256: version.sha256,
    size: version.size,
    format: version.format === 'jsonl' ? 'jsonl' : 'csv',
    bucket: version.bucket,
    objectKey: version.objectKey,
  }
}
