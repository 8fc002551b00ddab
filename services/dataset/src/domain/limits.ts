/** The largest file a user may upload: 2 GiB, as the product promises. */
export const MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024

export const DATASET_FORMATS = ['csv', 'jsonl'] as const
export type DatasetFormat = (typeof DATASET_FORMATS)[number]

export const MAX_NAME_LENGTH = 200
export const MAX_DESCRIPTION_LENGTH = 10_000
export const MAX_TAGS = 20
/** Tags are filterable labels, so they stay simple: `team:vision`, `v1.2`, `pii-free`. */
export const TAG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,62}$/

/** Purge datasets whose soft delete is older than this (overridable by configuration). */
export const DEFAULT_RETENTION_DAYS = 90
