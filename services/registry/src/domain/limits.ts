import { MODEL_NAME_PATTERN } from '@argmax/contracts'

export { MODEL_NAME_PATTERN }

/**
 * Aliases name versions in paths (`/versions/challenger`) next to numbers, so they start with a
 * letter: `3` is always version 3.
 */
export const ALIAS_PATTERN = /^[a-z][a-z0-9-]{0,62}$/
/**
 * Aliases the registry computes and nobody sets: `champion` is the release's stable version
 * (it moves only with the release), `latest` the newest version not deleted.
 */
export const RESERVED_ALIASES = ['champion', 'latest'] as const
export type ReservedAlias = (typeof RESERVED_ALIASES)[number]

export function isReservedAlias(alias: string): alias is ReservedAlias {
  return (RESERVED_ALIASES as readonly string[]).includes(alias)
}

/** Soft-deleted models and versions are purged after this long (overridable by configuration). */
export const DEFAULT_RETENTION_DAYS = 90

/** An annotation's text; its structured `data` is bounded by MAX_ANNOTATION_DATA_BYTES. */
export const MAX_ANNOTATION_TEXT = 10_000
export const MAX_ANNOTATION_DATA_BYTES = 64 * 1024
/**
 * Parameters and metrics a version carries inline in its event. A run's parameters larger
 * than this are left out (its `reproducibility.json` artifact has them all), so every
 * registration event stays far below NATS's 1 MiB payload limit.
 */
export const MAX_INLINE_PARAMS_BYTES = 64 * 1024
export const MAX_METRICS = 200

/** The largest ONNX file accepted by the manual upload (overridable by configuration). */
export const DEFAULT_MAX_MODEL_BYTES = 2 * 1024 * 1024 * 1024
/** The largest `schema.json` (signature) read back from storage. */
export const MAX_SIGNATURE_BYTES = 8 * 1024 * 1024
