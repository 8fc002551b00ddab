/**
 * Text that PostgreSQL can store. Its `text` and `jsonb` refuse the character U+0000, and
 * `jsonb` refuses a lone UTF-16 surrogate (JSON.stringify writes one as `\udXXX`). Every event
 * is projected into PostgreSQL, and a projection stops at an event it cannot write: one such
 * string in one event would stop a read model for every user. So the API refuses such text at
 * the door (@argmax/http), and the event codec stores whatever still arrives (a trainer's log,
 * say) with U+FFFD in place of each such character, as decoders do with bytes they cannot read.
 */

/** Why PostgreSQL could not store `text`, in the words of a field issue, or undefined. */
export function unstorableTextReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain the character U+0000 (NUL)'
  if (!text.isWellFormed()) return 'must be well-formed Unicode (it holds a lone surrogate)'
  return undefined
}

/** `text` with U+FFFD in place of each U+0000 and each lone surrogate. */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').toWellFormed()
}

/**
 * Whether JSON text from JSON.stringify may hold unstorable text: it writes U+0000 as `\u0000`
 * and a lone surrogate as `\ud800`–`\udfff` (a paired one as the character itself). A
 * backslash written as `\\` before such letters is a false alarm, settled by the slow path.
 */
export function mayHoldUnstorableText(json: string): boolean {
  return json.includes('\\u0000') || LONE_SURROGATE_ESCAPE.test(json)
}

const LONE_SURROGATE_ESCAPE = /\\ud[89a-f]/

/** A JSON.stringify replacer that makes every string and key storable. */
export function storableJson(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return storableText(value)
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value)
    if (keys.some((key) => unstorableTextReason(key) !== undefined)) {
      return Object.fromEntries(
        Object.entries(value).map(([key, child]) => [storableText(key), child]),
      )
    }
  }
  return value
}
