import type { VersionIssue } from './version.events.ts'

/**
 * Every event must fit one NATS message by construction, whatever a client uploads. NATS's
 * `max_payload` defaults to 1 MiB and covers the headers too. The budget:
 *
 * - `data` ≤ MAX_EVENT_DATA_BYTES (512 KiB): each event type's worst case stays under it (see
 *   the constants below and `test/domain/event-bounds.unit.test.ts`), and the decider refuses
 *   to write a validation outcome over it (`outcome_too_large`);
 * - the envelope's other fields: ids (UUIDs), names, a time, and the actor — a JWT subject,
 *   bounded by the HTTP header that carried the token (Node: 16 KiB): under 17 KiB together;
 * - headers: `Nats-Msg-Id`, the expected sequence and the W3C trace context (`tracestate` is
 *   at most 512 characters): under 1 KiB.
 *
 * So an event takes at most ~530 KiB: half the limit is left as margin.
 */
export const NATS_MAX_PAYLOAD_BYTES = 1024 * 1024
export const MAX_EVENT_DATA_BYTES = 512 * 1024

/** A schema up to this size travels inline in VersionValidated; a larger one is stored. */
export const MAX_INLINE_SCHEMA_BYTES = 256 * 1024

/**
 * A rejection keeps its first issues, each cut to these lengths: names and messages come from
 * the file (a column name may be megabytes long). In JSON one character takes at most 6 bytes
 * (`\u001f`), so an issue takes at most ~7.8 KB and the list ~390 KB.
 */
export const MAX_RECORDED_ISSUES = 50
export const MAX_ISSUE_CODE_CHARS = 64
export const MAX_ISSUE_COLUMN_CHARS = 200
export const MAX_ISSUE_MESSAGE_CHARS = 1000

/**
 * Parts recorded per UploadPartsRecorded: an ETag is at most 200 characters (the API's limit,
 * checked again by the decider), so a part takes at most ~1.25 KB and an event ~250 KB. A
 * request recording more parts writes several events.
 */
export const MAX_PARTS_PER_EVENT = 200
export const MAX_ETAG_CHARS = 200

const encoder = new TextEncoder()

/** Bytes `value` takes as JSON in UTF-8, as the event codec writes it. */
export function jsonByteLength(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).length
}

/** `text` cut to `max` characters (never inside a surrogate pair), with `…` when cut. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text
  let end = max - 1
  const last = text.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end--
  return `${text.slice(0, end)}…`
}

/** The issues a rejection records: the first MAX_RECORDED_ISSUES, each field cut to its length. */
export function boundIssues(issues: readonly VersionIssue[]): VersionIssue[] {
  return issues.slice(0, MAX_RECORDED_ISSUES).map((issue) => ({
    ...(issue.row !== undefined ? { row: issue.row } : {}),
    ...(issue.column !== undefined
      ? { column: cutText(issue.column, MAX_ISSUE_COLUMN_CHARS) }
      : {}),
    code: cutText(issue.code, MAX_ISSUE_CODE_CHARS),
    message: cutText(issue.message, MAX_ISSUE_MESSAGE_CHARS),
  }))
}
