import { ValidationError } from '@argmax/errors'
import { ALIAS_PATTERN } from './limits.ts'

/** A version named in a path: its number (`3`) or an alias (`champion`, `challenger`). */
export type VersionRef = { kind: 'number'; version: number } | { kind: 'alias'; alias: string }

export const VERSION_REF_PATTERN = '^([1-9][0-9]{0,9}|[a-z][a-z0-9-]{0,62})$'

export function parseVersionRef(text: string, field = 'version'): VersionRef {
  if (/^[1-9][0-9]{0,9}$/.test(text)) {
    const version = Number(text)
    if (Number.isSafeInteger(version)) return { kind: 'number', version }
  }
  if (ALIAS_PATTERN.test(text)) return { kind: 'alias', alias: text }
  throw ValidationError.field(field, 'must be a version number (1, 2, …) or an alias')
}

/**
 * The number a reference names in a model's current state: `champion` is the release's stable
 * version, `latest` the newest live one, other aliases as set. Undefined when it names none.
 */
export function resolveVersionRef(
  ref: VersionRef,
  model: { aliases: Record<string, number>; latest: number | undefined },
  releaseStable: number | undefined,
): number | undefined {
  if (ref.kind === 'number') return ref.version
  if (ref.alias === 'champion') return releaseStable
  if (ref.alias === 'latest') return model.latest
  return model.aliases[ref.alias]
}
