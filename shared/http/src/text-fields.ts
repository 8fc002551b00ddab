import type { FieldIssue } from '@argmax/errors'
import { storableText, unstorableTextReason } from '@argmax/events'

/**
 * Where a parsed request part (body, query, path) holds text PostgreSQL cannot store (U+0000,
 * a lone surrogate) in a string or a key, as fields in the words of the other refusals
 * (`/description`, `query/name`, `path/datasetId`).
 *
 * A command accepted with such text would append an event whose text the store has to replace
 * (@argmax/events' storable-text.ts): the control plane refuses it at the door instead, naming
 * the field, before anything is decided or appended. The walk uses a stack of its own, so a
 * deeply nested body cannot overflow the call stack.
 */
export function unstorableTextIssues(value: unknown, place: string, limit = 20): FieldIssue[] {
  if (!holdsUnstorableText(value)) return []
  const issues: FieldIssue[] = []
  const pending: Array<{ value: unknown; pointer: string }> = [{ value, pointer: '' }]
  while (pending.length > 0 && issues.length < limit) {
    const { value: current, pointer } = pending.pop()!
    if (typeof current === 'string') {
      const reason = unstorableTextReason(current)
      if (reason !== undefined) issues.push({ field: fieldOf(place, pointer), message: reason })
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        pending.push({ value: current[i], pointer: `${pointer}/${i}` })
      }
    } else if (isPlainObject(current)) {
      const children: typeof pending = []
      let keyIssue: FieldIssue | undefined
      for (const [key, child] of Object.entries(current)) {
        const reason = unstorableTextReason(key)
        if (reason === undefined) {
          children.push({ value: child, pointer: `${pointer}/${escape(key)}` })
        } else {
          // The key is quoted as it would be stored (U+FFFD), so the client can find it.
          const message = `its key "${storableText(key)}" ${reason}`
          keyIssue ??= { field: fieldOf(place, pointer), message }
        }
      }
      if (keyIssue) issues.push(keyIssue)
      for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!)
    }
  }
  return issues
}

/**
 * The common case, answered without naming anything: no pointers built, nothing copied (a
 * 11 MiB batch of labels takes 13–30 ms here, against ~110 ms for the walk that names fields).
 */
function holdsUnstorableText(value: unknown): boolean {
  const pending: unknown[] = [value]
  while (pending.length > 0) {
    const current = pending.pop()
    if (typeof current === 'string') {
      if (unstorableTextReason(current) !== undefined) return true
    } else if (Array.isArray(current)) {
      for (const item of current) pending.push(item)
    } else if (isPlainObject(current)) {
      for (const key in current) {
        if (unstorableTextReason(key) !== undefined) return true
        pending.push(current[key])
      }
    }
  }
  return false
}

function fieldOf(place: string, pointer: string): string {
  return `${place}${pointer}` || '/'
}

/** RFC 6901: `~` and `/` in a key are written `~0` and `~1`. */
function escape(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1')
}

/**
 * Parsed JSON, or fastify's query and params objects (whose prototype is a bare object with a
 * null prototype); not a stream or a buffer, which are not text and may hold cycles.
 */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const prototype = Object.getPrototypeOf(value) as object | null
  return (
    prototype === null ||
    prototype === Object.prototype ||
    Object.getPrototypeOf(prototype) === null
  )
}
