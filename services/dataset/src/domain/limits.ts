/** The largest file a user may upload: 2 GiB, as the product promises. */
export const MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024

export const DATASET_FORMATS = ['csv', 'jsonl'] as const
export type DatasetFormat = (typeof DATASET_FORMATS)[number]

export const MAX_NAME_LENGTH = 200

/** Purge datasets whose soft delete is older than this (overridable by configuration). */
export const DEFAULT_RETENTION_DAYS = 90
