/** JSON schemas of the dataset API: fastify validates every request and names a bad field. */

/** Ids end up in NATS subjects and S3 keys: no dots, slashes or wildcards. */
export const idSchema = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } as const

export const datasetParams = {
  type: 'object',
  required: ['datasetId'],
  properties: { datasetId: idSchema },
} as const

export const uploadParams = {
  type: 'object',
  required: ['datasetId', 'uploadId'],
  properties: { datasetId: idSchema, uploadId: idSchema },
} as const

export const partParams = {
  type: 'object',
  required: ['datasetId', 'uploadId', 'partNumber'],
  properties: {
    datasetId: idSchema,
    uploadId: idSchema,
    partNumber: { type: 'integer', minimum: 1, maximum: 10_000 },
  },
} as const

export const versionParams = {
  type: 'object',
  required: ['datasetId', 'versionId'],
  properties: { datasetId: idSchema, versionId: idSchema },
} as const

/** Read-your-writes: wait until the read model has applied this stream position. */
export const minPositionQuery = {
  minPosition: { type: 'integer', minimum: 0, description: 'wait for this stream position' },
} as const

const tags = { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 63 } } as const

export const createDatasetBody = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string', maxLength: 10_000 },
    tags,
  },
} as const

export const updateDatasetBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: createDatasetBody.properties,
} as const

export const listDatasetsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 200 },
    tag: { type: 'string', maxLength: 63 },
    cursor: { type: 'string', maxLength: 200 },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    ...minPositionQuery,
  },
} as const

export const startUploadBody = {
  type: 'object',
  required: ['fileName', 'size', 'sha256', 'format'],
  additionalProperties: false,
  properties: {
    fileName: { type: 'string', minLength: 1, maxLength: 1024 },
    // No maximum here: a size over 2 GiB is answered 413, not 400 (see planUpload).
    size: { type: 'integer', minimum: 0 },
    sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
    format: { type: 'string', enum: ['csv', 'jsonl'] },
    partSize: { type: 'integer', minimum: 5 * 1024 * 1024, maximum: 5 * 1024 * 1024 * 1024 },
  },
} as const

export const presignPartsBody = {
  type: 'object',
  required: ['partNumbers'],
  additionalProperties: false,
  properties: {
    partNumbers: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: { type: 'integer', minimum: 1, maximum: 10_000 },
    },
  },
} as const

const partList = {
  type: 'array',
  minItems: 1,
  maxItems: 10_000,
  items: {
    type: 'object',
    required: ['partNumber', 'etag'],
    additionalProperties: false,
    properties: {
      partNumber: { type: 'integer', minimum: 1, maximum: 10_000 },
      etag: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
} as const

export const recordPartsBody = {
  type: 'object',
  required: ['parts'],
  additionalProperties: false,
  properties: { parts: partList },
} as const

export const recordPartBody = {
  type: 'object',
  required: ['etag'],
  additionalProperties: false,
  properties: { etag: { type: 'string', minLength: 1, maxLength: 200 } },
} as const

export const completeUploadBody = recordPartsBody

export const listVersionsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: {
      type: 'string',
      enum: ['UPLOADING', 'VALIDATING', 'VALIDATED', 'REJECTED', 'ABORTED'],
    },
    ...minPositionQuery,
  },
} as const

export const versionQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ...minPositionQuery },
} as const
